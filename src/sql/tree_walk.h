// A walk over DuckDB's parse tree of one query that reaches every table reference and every
// expression, at any depth (FROM, joins, subqueries in any clause, CTEs, set operations, VALUES,
// PIVOT, DESCRIBE/SUMMARIZE, table function arguments), through their owning pointers so that a
// visitor may replace what it finds. It knows which CTE names are in scope where, because an
// unqualified name that matches one refers to the CTE, not to a table.
//
// Used by the rewrites that change a statement on its tree before it goes to DuckDB: PostgreSQL
// catalog compatibility (sql/pg_compat.h) and governance (governance/duckdb_enforcement.h).
// Thread-safety: a walker instance belongs to one thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "duckdb.hpp"
#include "duckdb/parser/query_node.hpp"
#include "duckdb/parser/statement/select_statement.hpp"

namespace lakerouter::sql {

class TreeWalker {
 public:
  virtual ~TreeWalker() = default;

  void walk(duckdb::SelectStatement& statement);
  void walk(duckdb::QueryNode& node);

 protected:
  TreeWalker() = default;
  TreeWalker(const TreeWalker&) = delete;
  TreeWalker& operator=(const TreeWalker&) = delete;

  // Called for each table reference before its children. Return true when the visitor replaced
  // or handled `ref` itself: its children are then not walked (a substitute is never walked).
  virtual bool visit_table(duckdb::unique_ptr<duckdb::TableRef>& /*ref*/) { return false; }
  // Called for each expression before its children; same contract as visit_table().
  virtual bool visit_expression(duckdb::unique_ptr<duckdb::ParsedExpression>& /*e*/) { return false; }
  // A table reference of a type the walk does not know (DuckDB may add some): visitors that must
  // see every table fail closed here.
  virtual void unknown_table(duckdb::TableRef& /*ref*/) {}

  // Whether an unqualified table name refers to a CTE where the walk is now (case-insensitive,
  // as DuckDB binds names).
  bool cte_in_scope(std::string_view name) const;

  void table(duckdb::unique_ptr<duckdb::TableRef>& ref);
  void expression(duckdb::unique_ptr<duckdb::ParsedExpression>& e);

 private:
  std::vector<std::string> ctes_;  // lower-case names in scope, innermost last
};

}  // namespace lakerouter::sql
