#include "sql/pg_compat.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <fmt/format.h>

#include "core/ascii.h"
#include "duckdb/parser/expression/list.hpp"
#include "duckdb/parser/parsed_expression_iterator.hpp"
#include "duckdb/parser/query_node/list.hpp"
#include "duckdb/parser/statement/select_statement.hpp"
#include "duckdb/parser/tableref/list.hpp"
#include "sql/duckdb_parse.h"
#include "sql/tree_walk.h"

namespace lakerouter::sql {

namespace {

struct FunctionMapping {
  std::string_view name;
  std::string_view value;  // the constant the call becomes
};

constexpr std::array kFunctions = {
    FunctionMapping{"pg_get_userbyid", "lakerouter"},
    FunctionMapping{"pg_encoding_to_char", "UTF8"},
};

// The query that stands in for `pg_catalog.<name>`. It names the original view itself, which the
// rewrite leaves alone because substitutes are not walked again.
std::string substitute_query(std::string_view table) {
  if (table == "pg_database") {
    // 6 is UTF8's number in PostgreSQL (pg_encoding_to_char above answers 'UTF8' for any).
    return "SELECT *, 10 AS datdba, 6 AS encoding, 'C' AS datcollate, 'C' AS datctype, "
           "CAST(NULL AS VARCHAR) AS daticulocale, 'c' AS datlocprovider, CAST(NULL AS VARCHAR[]) AS datacl "
           "FROM pg_catalog.pg_database";
  }
  if (table == "pg_class") {
    return fmt::format(
        "SELECT * REPLACE (CASE WHEN relkind = 'v' AND oid IN (SELECT view_oid FROM duckdb_views() "
        "WHERE comment = '{}') THEN 'r' ELSE relkind END AS relkind) FROM pg_catalog.pg_class",
        kLakeTableComment);
  }
  if (table == "pg_attribute") {
    // DuckDB's atttypid holds its own LogicalTypeId, which its pg_type does not list: JDBC's
    // getColumns joins the two and found nothing. Each id becomes the PostgreSQL OID pg_type has
    // (unsigned and 128-bit integers as numeric; nested and other types as varchar, their text).
    return "SELECT * REPLACE (CASE atttypid WHEN 10 THEN 16 WHEN 11 THEN 21 WHEN 12 THEN 21 WHEN 13 THEN 23 "
           "WHEN 14 THEN 20 WHEN 15 THEN 1082 WHEN 16 THEN 1083 WHEN 17 THEN 1114 WHEN 18 THEN 1114 "
           "WHEN 19 THEN 1114 WHEN 20 THEN 1114 WHEN 21 THEN 1700 WHEN 22 THEN 700 WHEN 23 THEN 701 "
           "WHEN 26 THEN 17 WHEN 27 THEN 1186 WHEN 28 THEN 21 WHEN 29 THEN 23 WHEN 30 THEN 20 WHEN 31 THEN 1700 "
           "WHEN 32 THEN 1184 WHEN 34 THEN 1266 WHEN 36 THEN 1560 WHEN 49 THEN 1700 WHEN 50 THEN 1700 "
           "WHEN 54 THEN 2950 ELSE 1043 END AS atttypid) FROM pg_catalog.pg_attribute";
  }
  return {};
}

bool is_pg_catalog_schema(const std::string& schema) { return ascii_lower(schema) == "pg_catalog"; }

// Functions DuckDB has outside pg_catalog: the `pg_catalog.` psql writes is dropped.
constexpr std::array<std::string_view, 1> kUnqualified = {"array_to_string"};

const FunctionMapping* mapped_function(const duckdb::FunctionExpression& fn) {
  if (fn.is_operator || !fn.catalog.empty() || (!fn.schema.empty() && !is_pg_catalog_schema(fn.schema))) return nullptr;
  const std::string name = ascii_lower(fn.function_name);
  const auto* it = std::find_if(kFunctions.begin(), kFunctions.end(), [&](const auto& m) { return m.name == name; });
  return it == kFunctions.end() ? nullptr : &*it;
}

// Whether `sql` spells `OPERATOR(pg_catalog.~)` at `offset`. DuckDB's parser keeps only the
// schema of a qualified operator, so the operator itself is read from the text the parser points at.
bool spells_regex_operator(std::string_view sql, size_t offset) {
  constexpr std::string_view kSpelled = "operator(pg_catalog.~)";
  size_t matched = 0;
  for (size_t i = offset; i < sql.size() && matched < kSpelled.size(); ++i) {
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(sql[i])));
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (c != kSpelled[matched]) return false;
    ++matched;
  }
  return matched == kSpelled.size();
}

class Rewriter final : public TreeWalker {
 public:
  explicit Rewriter(std::string_view sql) : sql_(sql) {}

  bool changed() const { return changed_; }

 private:
  bool visit_table(duckdb::unique_ptr<duckdb::TableRef>& ref) override {
    if (ref->type != duckdb::TableReferenceType::BASE_TABLE) return false;
    auto& base = ref->Cast<duckdb::BaseTableRef>();
    if (!base.catalog_name.empty() || !is_pg_catalog_schema(base.schema_name)) return false;
    const std::string name = ascii_lower(base.table_name);
    const std::string query = substitute_query(name);
    if (query.empty()) return false;
    duckdb::Parser parser;
    parser.ParseQuery(query);  // our own constant text: parses, or the tests fail
    auto select =
        duckdb::unique_ptr_cast<duckdb::SQLStatement, duckdb::SelectStatement>(std::move(parser.statements.front()));
    // Column references keep resolving: through the alias, or the table's own name.
    auto sub = duckdb::make_uniq<duckdb::SubqueryRef>(std::move(select), base.alias.empty() ? name : base.alias);
    sub->column_name_alias = base.column_name_alias;
    ref = std::move(sub);
    changed_ = true;
    return true;
  }

  bool visit_expression(duckdb::unique_ptr<duckdb::ParsedExpression>& e) override {
    if (e->GetExpressionClass() == duckdb::ExpressionClass::FUNCTION) {
      auto& fn = e->Cast<duckdb::FunctionExpression>();
      if (const auto* mapping = mapped_function(fn)) {
        auto constant = duckdb::make_uniq<duckdb::ConstantExpression>(duckdb::Value(std::string(mapping->value)));
        constant->alias = e->alias;
        e = std::move(constant);
        changed_ = true;
        return true;
      }
      if (fn.catalog.empty() && is_pg_catalog_schema(fn.schema) &&
          std::find(kUnqualified.begin(), kUnqualified.end(), ascii_lower(fn.function_name)) != kUnqualified.end()) {
        fn.schema.clear();
        changed_ = true;
      }
      // psql's name patterns: `name OPERATOR(pg_catalog.~) '^(nation)$'`, PostgreSQL's regex match.
      if (fn.is_operator && fn.children.size() == 2 && ascii_lower(fn.function_name) == "pg_catalog" &&
          fn.query_location.IsValid() && spells_regex_operator(sql_, fn.query_location.GetIndex())) {
        fn.function_name = "regexp_matches";
        fn.is_operator = false;
        changed_ = true;
      }
      return false;
    }
    if (e->GetExpressionClass() == duckdb::ExpressionClass::COLLATE) {
      // `COLLATE pg_catalog.default` (psql's patterns again): the default collation is no collation.
      auto& collate = e->Cast<duckdb::CollateExpression>();
      if (ascii_lower(collate.collation) == "pg_catalog.default") {
        auto child = std::move(collate.child);
        child->alias = e->alias;
        e = std::move(child);
        changed_ = true;
        expression(e);
        return true;
      }
    }
    return false;
  }

  std::string_view sql_;
  bool changed_ = false;
};

}  // namespace

bool needs_pg_compat(const QueryProfile& profile) {
  const bool function = std::any_of(kFunctions.begin(), kFunctions.end(), [&](const FunctionMapping& m) {
    return std::binary_search(profile.functions.begin(), profile.functions.end(), m.name);
  });
  return function || std::any_of(profile.tables.begin(), profile.tables.end(), [](const TableAccess& t) {
           return t.name.starts_with("pg_catalog.");  // psql's patterns may be in any of its queries
         });
}

Result<std::string> pg_compat_rewrite(std::string_view sql) {
  duckdb::Parser parser;
  if (Status s = internal::run_parser(sql, parser); !s.ok()) return s.error();
  if (parser.statements.size() != 1 || parser.statements.front()->type != duckdb::StatementType::SELECT_STATEMENT) {
    return std::string(sql);
  }
  try {
    Rewriter rewriter(sql);
    rewriter.walk(parser.statements.front()->Cast<duckdb::SelectStatement>());
    if (!rewriter.changed()) return std::string(sql);
    return parser.statements.front()->ToString();
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, fmt::format("cannot rewrite a catalog query for DuckDB: {}",
                                                   duckdb::ErrorData(e).RawMessage()));
  }
}

}  // namespace lakerouter::sql
