#include "governance/duckdb_enforcement.h"

#include <fmt/format.h>

#include "core/ascii.h"
#include "duckdb/parser/expression/list.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/query_node/select_node.hpp"
#include "duckdb/parser/tableref/list.hpp"
#include "sql/tree_walk.h"

namespace lakerouter::governance {

namespace {

using ExpressionPtr = duckdb::unique_ptr<duckdb::ParsedExpression>;

bool same_name(std::string_view a, std::string_view b) { return ascii_lower(a) == ascii_lower(b); }

// `current_user` (and its synonyms) in a policy expression: the session's user, as in Trino.
class CurrentUser final : public sql::TreeWalker {
 public:
  explicit CurrentUser(std::string_view user) : user_(user) {}
  using TreeWalker::expression;

 private:
  bool visit_expression(ExpressionPtr& e) override {
    std::string name;
    if (e->GetExpressionClass() == duckdb::ExpressionClass::COLUMN_REF) {
      const auto& ref = e->Cast<duckdb::ColumnRefExpression>();
      if (!ref.IsQualified()) name = ref.GetColumnName();
    } else if (e->GetExpressionClass() == duckdb::ExpressionClass::FUNCTION) {
      const auto& fn = e->Cast<duckdb::FunctionExpression>();
      if (fn.children.empty() && fn.schema.empty()) name = fn.function_name;
    }
    name = ascii_lower(name);
    if (name != "current_user" && name != "session_user" && name != "user") return false;
    auto constant = duckdb::make_uniq<duckdb::ConstantExpression>(duckdb::Value(user_));
    constant->alias = e->alias;
    e = std::move(constant);
    return true;
  }

  std::string user_;
};

// Builds the query that stands in for one governed table.
class Substitutes {
 public:
  Substitutes(std::span<const GovernedTable> tables, std::string_view user) : tables_(tables), user_(user) {}

  Result<duckdb::unique_ptr<duckdb::SelectNode>> make(const GovernedTable& t) const {
    auto node = duckdb::make_uniq<duckdb::SelectNode>();
    auto star = duckdb::make_uniq<duckdb::StarExpression>();
    for (const auto& column : t.access.denied_columns) star->exclude_list.insert(duckdb::QualifiedColumnName(column));
    for (const auto& mask : t.access.masks) {
      auto e = parse(mask.expression, fmt::format("the mask of {}.{}.{}", t.schema, t.table, mask.column));
      if (!e.ok()) return e.error();
      star->replace_list[mask.column] = std::move(*e);
    }
    node->select_list.push_back(std::move(star));
    auto base = duckdb::make_uniq<duckdb::BaseTableRef>();
    base->schema_name = t.schema;
    base->table_name = t.table;
    node->from_table = std::move(base);
    if (t.access.filter) {
      auto e = parse(*t.access.filter, fmt::format("the row filter of {}.{}", t.schema, t.table));
      if (!e.ok()) return e.error();
      node->where_clause = std::move(*e);
    }
    return node;
  }

  // The governed table a reference names, or null. Unqualified names match by table name (the
  // access check has refused ambiguous ones); a catalog, if written, is not trusted to tell
  // tables apart. Case-insensitive, as DuckDB binds names.
  Result<const GovernedTable*> find(std::string_view schema, std::string_view table) const {
    const GovernedTable* found = nullptr;
    for (const auto& t : tables_) {
      if (!same_name(t.table, table) || (!schema.empty() && !same_name(t.schema, schema))) continue;
      if (found) {
        return Error(ErrorCode::kPermissionDenied,
                     fmt::format("'{}' names more than one governed table; write schema.table", table));
      }
      found = &t;
    }
    return found;
  }

 private:
  Result<ExpressionPtr> parse(const std::string& text, const std::string& what) const {
    try {
      auto list = duckdb::Parser::ParseExpressionList(text);
      if (list.size() != 1) throw std::runtime_error("expected one expression");
      CurrentUser current_user(user_);
      current_user.expression(list.front());
      return std::move(list.front());
    } catch (const std::exception& e) {
      return Error(ErrorCode::kConfigError,
                   fmt::format("{} in the access policy is not a DuckDB expression ({}); fix the policy file",
                               what, duckdb::ErrorData(e).RawMessage()));
    }
  }

  std::span<const GovernedTable> tables_;
  std::string user_;
};

class Enforcer final : public sql::TreeWalker {
 public:
  explicit Enforcer(const Substitutes& substitutes) : substitutes_(substitutes) {}

  const std::optional<Error>& failure() const { return failure_; }

 private:
  bool visit_table(duckdb::unique_ptr<duckdb::TableRef>& ref) override {
    if (failure_) return true;
    if (ref->type == duckdb::TableReferenceType::BASE_TABLE) {
      auto& base = ref->Cast<duckdb::BaseTableRef>();
      if (base.catalog_name.empty() && base.schema_name.empty() && cte_in_scope(base.table_name)) return false;
      const GovernedTable* governed = lookup(base.schema_name, base.table_name);
      if (!governed) return false;
      if (base.at_clause) {
        return fail(ErrorCode::kNotSupported, fmt::format("time travel (AT ...) on {}.{} is not supported: it has "
                                                          "row filters or masks for this user",
                                                          governed->schema, governed->table));
      }
      auto node = substitutes_.make(*governed);
      if (!node.ok()) return fail(std::move(node).error());
      auto select = duckdb::make_uniq<duckdb::SelectStatement>();
      select->node = std::move(*node);
      // Column references keep resolving: through the alias, or the table's own name.
      auto sub = duckdb::make_uniq<duckdb::SubqueryRef>(std::move(select),
                                                        base.alias.empty() ? base.table_name : base.alias);
      sub->column_name_alias = std::move(base.column_name_alias);
      sub->sample = std::move(base.sample);
      ref = std::move(sub);
      return true;
    }
    if (ref->type == duckdb::TableReferenceType::SHOW_REF) {  // DESCRIBE / SUMMARIZE <table>
      auto& show = ref->Cast<duckdb::ShowRef>();
      if (show.table_name.empty() || show.query) return false;
      const GovernedTable* governed = lookup(show.schema_name, show.table_name);
      if (!governed) return false;
      auto node = substitutes_.make(*governed);
      if (!node.ok()) return fail(std::move(node).error());
      show.query = std::move(*node);
      show.table_name.clear();
      show.schema_name.clear();
      show.catalog_name.clear();
      return true;
    }
    return false;
  }

  void unknown_table(duckdb::TableRef& ref) override {
    fail(ErrorCode::kNotSupported,
         fmt::format("a table reference of kind {} cannot be checked against the access policy",
                     duckdb::EnumUtil::ToString(ref.type)));
  }

  const GovernedTable* lookup(const std::string& schema, const std::string& table) {
    auto found = substitutes_.find(schema, table);
    if (!found.ok()) {
      fail(std::move(found).error());
      return nullptr;
    }
    return *found;
  }

  bool fail(Error error) {
    if (!failure_) failure_ = std::move(error);
    return true;
  }
  bool fail(ErrorCode code, std::string message) { return fail(Error(code, std::move(message))); }

  const Substitutes& substitutes_;
  std::optional<Error> failure_;
};

class WithholdingStream final : public ResultStream {
 public:
  explicit WithholdingStream(std::unique_ptr<ResultStream> inner) : inner_(std::move(inner)) {}
  const ResultSchema& schema() const override { return inner_->schema(); }
  Result<bool> next(ResultBatch& batch) override {
    auto more = inner_->next(batch);
    if (!more.ok()) return withhold_details(std::move(more).error());
    return more;
  }
  void cancel(bool timed_out) override { inner_->cancel(timed_out); }
  std::optional<int64_t> rows_changed() const override { return inner_->rows_changed(); }

 private:
  std::unique_ptr<ResultStream> inner_;
};

}  // namespace

Result<std::string> enforce_on_duckdb(std::string_view sql, std::span<const GovernedTable> tables,
                                      std::string_view user) {
  duckdb::Parser parser;
  try {
    parser.ParseQuery(std::string(sql));
  } catch (const std::exception& e) {
    return Error(ErrorCode::kSyntaxError, duckdb::ErrorData(e).RawMessage());
  }
  if (parser.statements.size() != 1) {
    return Error(ErrorCode::kMultipleStatements, "one statement at a time over governed tables");
  }
  auto& statement = *parser.statements.front();
  if (statement.type != duckdb::StatementType::SELECT_STATEMENT) {
    return Error(ErrorCode::kNotSupported,
                 "DuckDB applies row filters and column masks to queries only; this statement reads a table "
                 "with policies for this user");
  }
  try {
    Substitutes substitutes(tables, user);
    Enforcer enforcer(substitutes);
    enforcer.walk(statement.Cast<duckdb::SelectStatement>());
    if (enforcer.failure()) return *enforcer.failure();
    return statement.ToString();
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal,
                 fmt::format("cannot apply the access policy to the statement: {}", duckdb::ErrorData(e).RawMessage()));
  }
}

Error withhold_details(Error error) {
  switch (error.code) {
    case ErrorCode::kSyntaxError:
    case ErrorCode::kUnknownTable:
    case ErrorCode::kUnknownObject:
    case ErrorCode::kBindError:
    case ErrorCode::kInvalidParameter:
    case ErrorCode::kNotSupported:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kQueryTimeout:
    case ErrorCode::kQueryCancelled:
    case ErrorCode::kOutOfMemory:
    case ErrorCode::kEngineUnavailable:
    case ErrorCode::kOverloaded:
      error.position.reset();
      return error;
    default:
      return Error(error.code,
                   fmt::format("the statement failed while reading a table with row filters or masks ({}); the "
                               "engine's message is withheld because it may quote values the policy hides",
                               error_code_name(error.code)));
  }
}

std::unique_ptr<ResultStream> withholding_details(std::unique_ptr<ResultStream> stream) {
  return std::make_unique<WithholdingStream>(std::move(stream));
}

}  // namespace lakerouter::governance
