// QueryProfile: what a statement is and what it touches, as the router needs to know it.
// Produced by sql::analyze() (sql/analyzer.h) from DuckDB's parse tree; a plain value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sql/parser.h"

namespace lakerouter::sql {

enum class JoinType : uint8_t { kInner, kLeft, kRight, kFull, kCross, kSemi, kAnti, kAsOf, kPositional, kOther };
std::string_view join_type_name(JoinType type);

enum class PredicateOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kBetween, kLike, kIsNull, kIsNotNull };
std::string_view predicate_op_name(PredicateOp op);

// A filter on one column of one table: `column op literal(s)`, from WHERE or ON conjuncts that
// compare a column with constants (parameters count as constants of unknown value).
struct Predicate {
  std::string column;              // lower-case, unqualified
  PredicateOp op = PredicateOp::kEq;
  std::vector<std::string> values;  // literal values as text; empty for IS [NOT] NULL and when any is a parameter or NULL
};

// Where the statement names a table in FROM/JOIN, so that another engine's catalog can be put in
// front of the name (sql/dialect.h): "tpch.orders" becomes "iceberg"."tpch".orders on Trino.
struct TableNameRef {
  uint32_t offset = 0;     // byte offset of the first name part in the statement text
  std::string first_part;  // that part as DuckDB parsed it (schema, or table when unqualified)
  int parts = 1;           // name parts written: 1 table, 2 schema.table, 3 catalog.schema.table
};

// A base table the statement reads or writes, after resolving CTE names and aliases.
struct TableAccess {
  std::string name;        // as written, lower-case, e.g. "tpch.lineitem" or "lineitem"
  bool read = false;
  bool written = false;
  int references = 0;  // times the statement names it (a self-join names it twice)
  // From every reference: with several references, a predicate may hold for only one of them.
  std::vector<Predicate> predicates;
  std::vector<TableNameRef> name_refs = {};  // FROM/JOIN references with a known position
};

// A GROUP BY item naming a select-list alias (`l_suppkey AS supplier_no ... GROUP BY supplier_no`):
// DuckDB and PostgreSQL accept it, Trino does not (sql/dialect.h rewrites it as an ordinal).
struct GroupAliasRef {
  uint32_t offset = 0;  // byte offset of the name in the statement text
  std::string name;     // as DuckDB parsed it
  int ordinal = 0;      // 1-based position of the aliased select-list item
};

// A call of a named function, where the text spells its name (sql/dialect.h renames some).
struct FunctionRef {
  uint32_t offset = 0;
  std::string name;  // lower-case
};

struct QueryProfile {
  StatementKind kind = StatementKind::kOther;  // of a script: see sql::analyze_script()
  int statement_count = 1;                     // more than 1: a script (sql::analyze_script())
  std::vector<TableAccess> tables;        // base tables, each once, in order of first mention
  std::vector<std::string> ctes;          // CTE names defined
  int join_count = 0;
  std::vector<JoinType> join_types;
  int aggregate_count = 0;                // aggregate function calls
  bool has_group_by = false;
  bool has_distinct = false;
  int window_count = 0;                   // window function calls
  int set_operation_count = 0;            // UNION / INTERSECT / EXCEPT
  int subquery_count = 0;                 // subqueries in FROM and in expressions
  int max_subquery_depth = 0;             // 0: no nesting
  bool has_order_by = false;
  std::optional<int64_t> limit;           // constant LIMIT, when present
  std::optional<int64_t> offset;
  std::vector<std::string> functions;     // scalar/aggregate/window functions, lower-case, sorted, unique
  std::vector<std::string> table_functions;  // e.g. read_parquet, range
  bool upsert = false;  // INSERT ... ON CONFLICT / INSERT OR REPLACE: may update rows too
  int literal_count = 0;
  int parameter_count = 0;
  std::optional<std::string> engine_hint;  // from a /*+ engine(name) */ comment
  std::string fingerprint;                 // see sql::fingerprint()
  double complexity = 0;      // see complexity_score() in analyzer.cpp and docs/routing.md
  std::vector<GroupAliasRef> group_alias_refs;
  std::vector<FunctionRef> function_refs;  // named function calls with a known position
  // DuckDB-only syntax the statement uses, as a person would name it ("QUALIFY", ":: cast"):
  // engines of other dialects cannot run it as written (sql/portability.h).
  std::vector<std::string> duckdb_syntax;
  // Whether it is a point lookup depends on the tables' key columns: see routing/, which
  // decides it from `tables[].predicates` and the catalog.

  bool has_join() const { return join_count > 0; }
  bool has_aggregate() const { return aggregate_count > 0 || has_group_by; }
  bool has_window() const { return window_count > 0; }
  bool is_read_only() const;
};

}  // namespace lakerouter::sql
