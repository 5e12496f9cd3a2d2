// The analyzer walks DuckDB's parse tree once. Scopes track which names are CTEs (so a CTE that
// shadows a table is not taken for the table) and which aliases stand for which base table (so
// that `o.o_orderkey = 1` becomes a predicate on the table behind `o`).
#include "sql/analyzer.h"

#include <algorithm>
#include <mutex>
#include <unordered_set>

#include <fmt/format.h>

#include "core/ascii.h"
#include "sql/duckdb_parse.h"
#include "duckdb/parser/expression/list.hpp"
#include "duckdb/parser/parsed_data/create_table_info.hpp"
#include "duckdb/parser/parsed_data/create_view_info.hpp"
#include "duckdb/parser/parsed_expression_iterator.hpp"
#include "duckdb/parser/query_node/list.hpp"
#include "duckdb/parser/statement/list.hpp"
#include "duckdb/parser/tableref/list.hpp"

namespace lakerouter::sql {
namespace {

using duckdb::ExpressionClass;
using duckdb::ExpressionType;
using duckdb::ParsedExpression;
using duckdb::QueryNode;
using duckdb::TableRef;

// Names visible at one level of the query: CTEs, and aliases of base tables (alias -> index
// into QueryProfile::tables, or -1 for a derived table).
struct Scope {
  const Scope* parent = nullptr;
  std::vector<std::string> ctes;
  std::vector<std::pair<std::string, int>> aliases;

  bool is_cte(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent) {
      if (std::find(s->ctes.begin(), s->ctes.end(), name) != s->ctes.end()) return true;
    }
    return false;
  }
  // The base table an alias (or bare table name) stands for in this query level.
  std::optional<int> table_for(const std::string& qualifier) const {
    for (const auto& [alias, index] : aliases) {
      if (alias == qualifier) return index >= 0 ? std::optional<int>(index) : std::nullopt;
    }
    return std::nullopt;
  }
  // The only base table of this level, when there is exactly one source.
  std::optional<int> sole_table() const {
    if (aliases.size() != 1 || aliases[0].second < 0) return std::nullopt;
    return aliases[0].second;
  }
};

// Walks the tree once, filling the profile and hashing the statement's structure (node kinds and
// names, constants masked) into the fingerprint.
class Walker {
 public:
  explicit Walker(QueryProfile& profile) : p_(profile) {}

  std::string fingerprint() const { return fmt::format("{:016x}", hash_); }

  void statement(duckdb::SQLStatement& stmt) {
    using duckdb::StatementType;
    mix(static_cast<uint64_t>(stmt.type));
    Scope root;
    switch (stmt.type) {
      case StatementType::SELECT_STATEMENT:
        query_node(*stmt.Cast<duckdb::SelectStatement>().node, root, 0);
        break;
      case StatementType::INSERT_STATEMENT: {
        auto& insert = stmt.Cast<duckdb::InsertStatement>();
        touch(qualified(insert.schema, insert.table), /*write=*/true);
        if (insert.on_conflict_info) p_.upsert = true;
        add_ctes(insert.cte_map, root);
        if (insert.select_statement) query_node(*insert.select_statement->node, root, 0);
        for (auto& e : insert.returning_list) expression(*e, root, 0);
        break;
      }
      case StatementType::UPDATE_STATEMENT: {
        auto& update = stmt.Cast<duckdb::UpdateStatement>();
        add_ctes(update.cte_map, root);
        Scope scope{&root, {}, {}};
        table_ref(*update.table, scope, 0, /*write=*/true);
        if (update.from_table) table_ref(*update.from_table, scope, 0);
        if (update.set_info) {
          if (update.set_info->condition) where(*update.set_info->condition, scope, 0);
          for (auto& e : update.set_info->expressions) expression(*e, scope, 0);
        }
        break;
      }
      case StatementType::DELETE_STATEMENT: {
        auto& del = stmt.Cast<duckdb::DeleteStatement>();
        add_ctes(del.cte_map, root);
        Scope scope{&root, {}, {}};
        table_ref(*del.table, scope, 0, /*write=*/true);
        for (auto& u : del.using_clauses) table_ref(*u, scope, 0);
        if (del.condition) where(*del.condition, scope, 0);
        break;
      }
      case StatementType::MERGE_INTO_STATEMENT: {
        auto& merge = stmt.Cast<duckdb::MergeIntoStatement>();
        add_ctes(merge.cte_map, root);
        Scope scope{&root, {}, {}};
        table_ref(*merge.target, scope, 0, /*write=*/true);
        table_ref(*merge.source, scope, 0);
        if (merge.join_condition) expression(*merge.join_condition, scope, 0);
        break;
      }
      case StatementType::COPY_STATEMENT: {
        auto& info = *stmt.Cast<duckdb::CopyStatement>().info;
        if (info.select_statement) {
          query_node(*info.select_statement, root, 0);
        } else if (!info.table.empty()) {
          touch(qualified(info.schema, info.table), /*write=*/info.is_from);
        }
        break;
      }
      case StatementType::CREATE_STATEMENT: {
        auto& info = *stmt.Cast<duckdb::CreateStatement>().info;
        if (info.type == duckdb::CatalogType::TABLE_ENTRY) {
          auto& table = info.Cast<duckdb::CreateTableInfo>();
          touch(qualified(table.schema, table.table), /*write=*/true);
          if (table.query) query_node(*table.query->node, root, 0);
        } else if (info.type == duckdb::CatalogType::VIEW_ENTRY) {
          auto& view = info.Cast<duckdb::CreateViewInfo>();
          if (view.query) query_node(*view.query->node, root, 0);
        }
        break;
      }
      case StatementType::DROP_STATEMENT: {  // the object changed, for privileges (governance)
        const auto& info = *stmt.Cast<duckdb::DropStatement>().info;
        if (info.type == duckdb::CatalogType::TABLE_ENTRY || info.type == duckdb::CatalogType::VIEW_ENTRY) {
          touch(qualified(info.schema, info.name), /*write=*/true);
        }
        break;
      }
      case StatementType::ALTER_STATEMENT: {
        const auto& info = *stmt.Cast<duckdb::AlterStatement>().info;
        if (info.GetCatalogType() == duckdb::CatalogType::TABLE_ENTRY ||
            info.GetCatalogType() == duckdb::CatalogType::VIEW_ENTRY) {
          touch(qualified(info.schema, info.name), /*write=*/true);
        }
        break;
      }
      case StatementType::EXPLAIN_STATEMENT:
        statement(*stmt.Cast<duckdb::ExplainStatement>().stmt);
        break;
      default:
        break;
    }
  }

 private:
  static std::string qualified(const std::string& schema, const std::string& table) {
    const bool has_schema = !schema.empty();  // DuckDB leaves it empty when not written
    return ascii_lower(has_schema ? schema + "." + table : table);
  }

  // FNV-1a over the structure: the fingerprint.
  void mix(uint64_t value) {
    for (int i = 0; i < 8; ++i) {
      hash_ ^= (value >> (8 * i)) & 0xff;
      hash_ *= 1099511628211ULL;
    }
  }
  void mix(std::string_view text) {
    for (unsigned char c : text) {
      hash_ ^= static_cast<unsigned char>(std::tolower(c));
      hash_ *= 1099511628211ULL;
    }
    mix(uint64_t{0x1f});  // separator
  }

  // Records a base table access; returns its index in p_.tables.
  int touch(const std::string& name, bool write) {
    mix(name);
    mix(uint64_t{write});
    for (size_t i = 0; i < p_.tables.size(); ++i) {
      if (p_.tables[i].name == name) {
        (write ? p_.tables[i].written : p_.tables[i].read) = true;
        ++p_.tables[i].references;
        return static_cast<int>(i);
      }
    }
    TableAccess access;
    access.name = name;
    access.references = 1;
    (write ? access.written : access.read) = true;
    p_.tables.push_back(std::move(access));
    return static_cast<int>(p_.tables.size() - 1);
  }

  void add_ctes(duckdb::CommonTableExpressionMap& map, Scope& scope) {
    // Names first: a CTE may refer to an earlier one, and a recursive one to itself.
    for (auto& [name, info] : map.map) {
      scope.ctes.push_back(ascii_lower(name));
      p_.ctes.push_back(ascii_lower(name));
    }
    for (auto& [name, info] : map.map) {
      if (info->query) query_node(*info->query->node, scope, 0);
    }
  }

  void query_node(QueryNode& node, const Scope& outer, int depth) {
    p_.max_subquery_depth = std::max(p_.max_subquery_depth, depth);
    mix(static_cast<uint64_t>(node.type));
    Scope scope{&outer, {}, {}};
    add_ctes(node.cte_map, scope);
    switch (node.type) {
      case duckdb::QueryNodeType::SELECT_NODE: {
        auto& select = node.Cast<duckdb::SelectNode>();
        mix(select.select_list.size());
        mix(uint64_t{select.where_clause != nullptr});
        mix(select.groups.group_expressions.size());
        if (select.from_table) table_ref(*select.from_table, scope, depth);
        for (auto& e : select.select_list) expression(*e, scope, depth);
        if (select.where_clause) where(*select.where_clause, scope, depth);
        if (!select.groups.group_expressions.empty() ||
            select.aggregate_handling == duckdb::AggregateHandling::FORCE_AGGREGATES) {  // GROUP BY ALL
          p_.has_group_by = true;
        }
        for (auto& e : select.groups.group_expressions) expression(*e, scope, depth);
        group_alias_refs(select);
        if (select.having) expression(*select.having, scope, depth);
        if (select.qualify) {
          add_unique(p_.duckdb_syntax, "QUALIFY");
          expression(*select.qualify, scope, depth);
        }
        if (select.aggregate_handling == duckdb::AggregateHandling::FORCE_AGGREGATES) {
          add_unique(p_.duckdb_syntax, "GROUP BY ALL");
        }
        if (select.sample) add_unique(p_.duckdb_syntax, "USING SAMPLE");
        break;
      }
      case duckdb::QueryNodeType::SET_OPERATION_NODE: {
        auto& setop = node.Cast<duckdb::SetOperationNode>();
        mix(static_cast<uint64_t>(setop.setop_type));
        mix(uint64_t{setop.setop_all});
        // DuckDB folds a chain (a UNION b UNION c) into one node with n children: n - 1 operations.
        if (setop.setop_type != duckdb::SetOperationType::NONE) {
          p_.set_operation_count += std::max<int>(1, static_cast<int>(setop.children.size()) - 1);
        }
        if (setop.setop_type == duckdb::SetOperationType::UNION && !setop.setop_all) p_.has_distinct = true;
        for (auto& child : setop.children) query_node(*child, scope, depth);
        break;
      }
      case duckdb::QueryNodeType::CTE_NODE: {
        auto& cte = node.Cast<duckdb::CTENode>();
        scope.ctes.push_back(ascii_lower(cte.ctename));
        p_.ctes.push_back(ascii_lower(cte.ctename));
        if (cte.query) query_node(*cte.query, scope, depth);
        if (cte.child) query_node(*cte.child, scope, depth);
        break;
      }
      case duckdb::QueryNodeType::RECURSIVE_CTE_NODE: {
        auto& cte = node.Cast<duckdb::RecursiveCTENode>();
        scope.ctes.push_back(ascii_lower(cte.ctename));
        ++p_.set_operation_count;  // the recursive step is a UNION of its two halves
        if (cte.left) query_node(*cte.left, scope, depth);
        if (cte.right) query_node(*cte.right, scope, depth);
        break;
      }
      default:
        break;
    }
    modifiers(node, scope, depth);
  }

  // GROUP BY items that are a bare name equal to a select-list alias of another expression.
  void group_alias_refs(const duckdb::SelectNode& select) {
    for (const auto& g : select.groups.group_expressions) {
      if (g->GetExpressionClass() != ExpressionClass::COLUMN_REF || !g->GetQueryLocation().IsValid()) continue;
      const auto& ref = g->Cast<duckdb::ColumnRefExpression>();
      if (ref.column_names.size() != 1) continue;
      const std::string name = ascii_lower(ref.column_names[0]);
      for (size_t i = 0; i < select.select_list.size(); ++i) {
        const auto& item = *select.select_list[i];
        if (ascii_lower(item.GetAlias()) != name) continue;
        const bool same_column = item.GetExpressionClass() == ExpressionClass::COLUMN_REF &&
                                 ascii_lower(item.Cast<duckdb::ColumnRefExpression>().GetColumnName()) == name;
        if (!same_column) {
          p_.group_alias_refs.push_back({static_cast<uint32_t>(g->GetQueryLocation().GetIndex()), ref.column_names[0],
                                         static_cast<int>(i + 1)});
        }
        break;
      }
    }
  }

  void modifiers(QueryNode& node, const Scope& scope, int depth) {
    for (auto& m : node.modifiers) {
      mix(static_cast<uint64_t>(m->type));
      switch (m->type) {
        case duckdb::ResultModifierType::ORDER_MODIFIER:
          p_.has_order_by = true;
          for (auto& order : m->Cast<duckdb::OrderModifier>().orders) {
            mix(static_cast<uint64_t>(order.type));
            expression(*order.expression, scope, depth);
          }
          break;
        case duckdb::ResultModifierType::DISTINCT_MODIFIER:
          p_.has_distinct = true;
          break;
        case duckdb::ResultModifierType::LIMIT_MODIFIER: {
          auto& limit = m->Cast<duckdb::LimitModifier>();
          if (depth == 0) {  // the statement's own LIMIT, not a subquery's
            p_.limit = constant_int(limit.limit.get());
            p_.offset = constant_int(limit.offset.get());
          }
          if (limit.limit) expression(*limit.limit, scope, depth);
          if (limit.offset) expression(*limit.offset, scope, depth);
          break;
        }
        default:
          break;
      }
    }
  }

  static std::optional<int64_t> constant_int(const ParsedExpression* e) {
    if (!e || e->GetExpressionClass() != ExpressionClass::CONSTANT) return std::nullopt;
    const auto& value = e->Cast<duckdb::ConstantExpression>().value;
    if (!value.type().IsIntegral() || value.IsNull()) return std::nullopt;
    return value.GetValue<int64_t>();
  }

  void table_ref(TableRef& ref, Scope& scope, int depth, bool write = false) {
    mix(static_cast<uint64_t>(ref.type));
    switch (ref.type) {
      case duckdb::TableReferenceType::BASE_TABLE: {
        auto& base = ref.Cast<duckdb::BaseTableRef>();
        const bool has_schema = !base.schema_name.empty();
        const std::string table = ascii_lower(base.table_name);
        const std::string alias = ref.alias.empty() ? table : ascii_lower(ref.alias);
        if (!has_schema && scope.is_cte(table)) {  // a CTE, not a table
          mix(table);
          scope.aliases.emplace_back(alias, -1);
          break;
        }
        int index = touch(qualified(base.schema_name, base.table_name), write);
        scope.aliases.emplace_back(alias, index);
        if (ref.query_location.IsValid()) {
          const int parts = 1 + int{has_schema} + int{!base.catalog_name.empty()};
          const std::string& first = !base.catalog_name.empty() ? base.catalog_name
                                     : has_schema                ? base.schema_name
                                                                 : base.table_name;
          p_.tables[static_cast<size_t>(index)].name_refs.push_back(
              {static_cast<uint32_t>(ref.query_location.GetIndex()), first, parts});
        }
        break;
      }
      case duckdb::TableReferenceType::JOIN: {
        auto& join = ref.Cast<duckdb::JoinRef>();
        table_ref(*join.left, scope, depth);  // left first: join types in the order written
        ++p_.join_count;
        p_.join_types.push_back(join_type(join));
        mix(static_cast<uint64_t>(p_.join_types.back()));
        table_ref(*join.right, scope, depth);
        if (join.condition) where(*join.condition, scope, depth);
        break;
      }
      case duckdb::TableReferenceType::SUBQUERY: {
        ++p_.subquery_count;
        query_node(*ref.Cast<duckdb::SubqueryRef>().subquery->node, scope, depth + 1);
        scope.aliases.emplace_back(ascii_lower(ref.alias), -1);
        break;
      }
      case duckdb::TableReferenceType::TABLE_FUNCTION: {
        auto& fn = ref.Cast<duckdb::TableFunctionRef>();
        if (fn.function && fn.function->GetExpressionClass() == ExpressionClass::FUNCTION) {
          auto& call = fn.function->Cast<duckdb::FunctionExpression>();
          add_unique(p_.table_functions, ascii_lower(call.function_name));
          mix(call.function_name);
          for (auto& arg : call.children) expression(*arg, scope, depth);
        }
        if (fn.subquery) query_node(*fn.subquery->node, scope, depth + 1);
        scope.aliases.emplace_back(ascii_lower(ref.alias), -1);
        break;
      }
      case duckdb::TableReferenceType::EXPRESSION_LIST: {
        for (auto& row : ref.Cast<duckdb::ExpressionListRef>().values) {
          for (auto& e : row) expression(*e, scope, depth);
        }
        scope.aliases.emplace_back(ascii_lower(ref.alias), -1);
        break;
      }
      case duckdb::TableReferenceType::PIVOT: {
        auto& pivot = ref.Cast<duckdb::PivotRef>();
        if (pivot.source) table_ref(*pivot.source, scope, depth);
        for (auto& e : pivot.aggregates) expression(*e, scope, depth);
        for (auto& column : pivot.pivots) {  // `IN (SELECT ...)` reads tables too
          for (auto& e : column.pivot_expressions) expression(*e, scope, depth);
          for (auto& entry : column.entries) {
            if (entry.expr) expression(*entry.expr, scope, depth);
          }
          if (column.subquery) query_node(*column.subquery, scope, depth + 1);
        }
        scope.aliases.emplace_back(ascii_lower(ref.alias), -1);
        break;
      }
      case duckdb::TableReferenceType::SHOW_REF: {  // DESCRIBE / SUMMARIZE: a table's columns and statistics
        auto& show = ref.Cast<duckdb::ShowRef>();
        if (show.query) query_node(*show.query, scope, depth + 1);
        // SHOW <keyword> (SHOW TABLES, SHOW ALL TABLES) and SHOW ... FROM name listings, not tables.
        if (!show.table_name.empty() &&
            (show.show_type == duckdb::ShowType::DESCRIBE || show.show_type == duckdb::ShowType::SUMMARY)) {
          touch(qualified(show.schema_name, show.table_name), false);
        }
        scope.aliases.emplace_back(ascii_lower(ref.alias), -1);
        break;
      }
      default:  // no FROM clause: nothing that reads a table
        break;
    }
  }

  static JoinType join_type(const duckdb::JoinRef& join) {
    switch (join.ref_type) {
      case duckdb::JoinRefType::CROSS: return JoinType::kCross;
      case duckdb::JoinRefType::POSITIONAL: return JoinType::kPositional;
      case duckdb::JoinRefType::ASOF: return JoinType::kAsOf;
      default: break;
    }
    switch (join.type) {
      case duckdb::JoinType::INNER: return JoinType::kInner;
      case duckdb::JoinType::LEFT: return JoinType::kLeft;
      case duckdb::JoinType::RIGHT: return JoinType::kRight;
      case duckdb::JoinType::OUTER: return JoinType::kFull;
      case duckdb::JoinType::SEMI: return JoinType::kSemi;
      case duckdb::JoinType::ANTI: return JoinType::kAnti;
      default: return JoinType::kOther;
    }
  }

  // A WHERE or ON condition: its AND-ed conjuncts that compare a column with constants become
  // predicates; everything is also walked as an ordinary expression.
  void where(ParsedExpression& condition, const Scope& scope, int depth) {
    conjuncts(condition, scope);
    expression(condition, scope, depth);
  }

  void conjuncts(ParsedExpression& e, const Scope& scope) {
    if (e.GetExpressionType() == ExpressionType::CONJUNCTION_AND) {
      for (auto& child : e.Cast<duckdb::ConjunctionExpression>().children) conjuncts(*child, scope);
      return;
    }
    auto add = [&](const ParsedExpression& column, PredicateOp op, const std::vector<const ParsedExpression*>& values) {
      auto target = column_table(column, scope);
      if (!target) return;
      Predicate pred;
      pred.column = ascii_lower(column.Cast<duckdb::ColumnRefExpression>().GetColumnName());
      pred.op = op;
      for (const auto* v : values) {
        auto text = constant_text(*v);
        if (!text) {  // a parameter among them: the values are known only at execution
          pred.values.clear();
          break;
        }
        pred.values.push_back(std::move(*text));
      }
      p_.tables[*target].predicates.push_back(std::move(pred));
    };
    switch (e.GetExpressionClass()) {
      case ExpressionClass::COMPARISON: {
        auto& cmp = e.Cast<duckdb::ComparisonExpression>();
        auto op = comparison_op(e.GetExpressionType());
        if (!op) return;
        if (is_column(*cmp.left) && is_constant(*cmp.right)) {
          add(*cmp.left, *op, {cmp.right.get()});
        } else if (is_column(*cmp.right) && is_constant(*cmp.left)) {
          add(*cmp.right, flip(*op), {cmp.left.get()});
        }
        return;
      }
      case ExpressionClass::BETWEEN: {
        auto& between = e.Cast<duckdb::BetweenExpression>();
        if (is_column(*between.input) && is_constant(*between.lower) && is_constant(*between.upper)) {
          add(*between.input, PredicateOp::kBetween, {between.lower.get(), between.upper.get()});
        }
        return;
      }
      case ExpressionClass::OPERATOR: {
        auto& op = e.Cast<duckdb::OperatorExpression>();
        if (op.children.empty() || !is_column(*op.children[0])) return;
        if (e.GetExpressionType() == ExpressionType::COMPARE_IN) {
          std::vector<const ParsedExpression*> values;
          for (size_t i = 1; i < op.children.size(); ++i) {
            if (!is_constant(*op.children[i])) return;
            values.push_back(op.children[i].get());
          }
          add(*op.children[0], PredicateOp::kIn, values);
        } else if (e.GetExpressionType() == ExpressionType::OPERATOR_IS_NULL) {
          add(*op.children[0], PredicateOp::kIsNull, {});
        } else if (e.GetExpressionType() == ExpressionType::OPERATOR_IS_NOT_NULL) {
          add(*op.children[0], PredicateOp::kIsNotNull, {});
        }
        return;
      }
      case ExpressionClass::FUNCTION: {  // LIKE arrives as the function ~~
        auto& fn = e.Cast<duckdb::FunctionExpression>();
        if (fn.function_name == "~~" && fn.children.size() == 2 && is_column(*fn.children[0]) &&
            is_constant(*fn.children[1])) {
          add(*fn.children[0], PredicateOp::kLike, {fn.children[1].get()});
        }
        return;
      }
      default:
        return;
    }
  }

  std::optional<int> column_table(const ParsedExpression& column, const Scope& scope) const {
    const auto& ref = column.Cast<duckdb::ColumnRefExpression>();
    if (ref.column_names.size() >= 2) return scope.table_for(ascii_lower(ref.column_names[ref.column_names.size() - 2]));
    return scope.sole_table();
  }

  static bool is_column(const ParsedExpression& e) { return e.GetExpressionClass() == ExpressionClass::COLUMN_REF; }

  // A constant, a parameter, or a cast of either (e.g. DATE '1995-01-01').
  static bool is_constant(const ParsedExpression& e) {
    switch (e.GetExpressionClass()) {
      case ExpressionClass::CONSTANT:
      case ExpressionClass::PARAMETER: return true;
      case ExpressionClass::CAST: return is_constant(*e.Cast<duckdb::CastExpression>().child);
      default: return false;
    }
  }

  static std::optional<std::string> constant_text(const ParsedExpression& e) {
    if (e.GetExpressionClass() == ExpressionClass::CAST) return constant_text(*e.Cast<duckdb::CastExpression>().child);
    if (e.GetExpressionClass() != ExpressionClass::CONSTANT) return std::nullopt;
    const auto& value = e.Cast<duckdb::ConstantExpression>().value;
    if (value.IsNull()) return std::nullopt;  // `x = NULL` matches nothing; not a value to prune with
    // The common literals directly: Value::ToString goes through DuckDB's cast machinery, a
    // noticeable share of a point lookup's routing time.
    switch (value.type().id()) {
      case duckdb::LogicalTypeId::TINYINT:
      case duckdb::LogicalTypeId::SMALLINT:
      case duckdb::LogicalTypeId::INTEGER:
      case duckdb::LogicalTypeId::BIGINT: return std::to_string(value.GetValue<int64_t>());
      case duckdb::LogicalTypeId::VARCHAR: return duckdb::StringValue::Get(value);
      default: return value.ToString();
    }
  }

  static std::optional<PredicateOp> comparison_op(ExpressionType type) {
    switch (type) {
      case ExpressionType::COMPARE_EQUAL:
      case ExpressionType::COMPARE_NOT_DISTINCT_FROM: return PredicateOp::kEq;
      case ExpressionType::COMPARE_NOTEQUAL: return PredicateOp::kNe;
      // IS DISTINCT FROM is true for NULLs, unlike <>: no predicate op says that.
      case ExpressionType::COMPARE_LESSTHAN: return PredicateOp::kLt;
      case ExpressionType::COMPARE_LESSTHANOREQUALTO: return PredicateOp::kLe;
      case ExpressionType::COMPARE_GREATERTHAN: return PredicateOp::kGt;
      case ExpressionType::COMPARE_GREATERTHANOREQUALTO: return PredicateOp::kGe;
      default: return std::nullopt;
    }
  }

  static PredicateOp flip(PredicateOp op) {  // 5 < x  is  x > 5
    switch (op) {
      case PredicateOp::kLt: return PredicateOp::kGt;
      case PredicateOp::kLe: return PredicateOp::kGe;
      case PredicateOp::kGt: return PredicateOp::kLt;
      case PredicateOp::kGe: return PredicateOp::kLe;
      default: return op;
    }
  }

  void expression(ParsedExpression& e, const Scope& scope, int depth) {
    mix(static_cast<uint64_t>(e.GetExpressionType()));
    switch (e.GetExpressionClass()) {
      case ExpressionClass::CONSTANT: ++p_.literal_count; return;  // masked: only its kind counts
      case ExpressionClass::PARAMETER: ++p_.parameter_count; return;
      case ExpressionClass::COLUMN_REF:
        for (const auto& name : e.Cast<duckdb::ColumnRefExpression>().column_names) mix(name);
        return;
      case ExpressionClass::CAST:
        mix(e.Cast<duckdb::CastExpression>().cast_type.ToString());
        break;
      case ExpressionClass::FUNCTION: {
        auto& fn = e.Cast<duckdb::FunctionExpression>();
        mix(fn.function_name);
        mix(uint64_t{fn.distinct});
        if (!fn.is_operator) {
          std::string name = ascii_lower(fn.function_name);
          if (is_aggregate_function(name)) {
            ++p_.aggregate_count;
            if (fn.distinct) p_.has_distinct = true;
          }
          if (fn.query_location.IsValid()) {
            p_.function_refs.push_back({static_cast<uint32_t>(fn.query_location.GetIndex()), name});
          }
          add_unique(p_.functions, std::move(name));
        }
        break;
      }
      case ExpressionClass::STAR: {
        auto& star = e.Cast<duckdb::StarExpression>();
        if (star.columns) add_unique(p_.duckdb_syntax, "COLUMNS(...)");
        if (!star.exclude_list.empty()) add_unique(p_.duckdb_syntax, "* EXCLUDE");
        if (!star.replace_list.empty()) add_unique(p_.duckdb_syntax, "* REPLACE");
        break;
      }
      case ExpressionClass::WINDOW: {
        ++p_.window_count;
        mix(e.Cast<duckdb::WindowExpression>().function_name);
        add_unique(p_.functions, ascii_lower(e.Cast<duckdb::WindowExpression>().function_name));
        break;
      }
      case ExpressionClass::SUBQUERY: {
        auto& sub = e.Cast<duckdb::SubqueryExpression>();
        ++p_.subquery_count;
        if (sub.child) expression(*sub.child, scope, depth);
        query_node(*sub.subquery->node, scope, depth + 1);
        return;
      }
      default:
        break;
    }
    duckdb::ParsedExpressionIterator::EnumerateChildren(
        e, [&](ParsedExpression& child) { expression(child, scope, depth); });
  }

  static void add_unique(std::vector<std::string>& list, std::string name) {
    if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(std::move(name));
  }

  QueryProfile& p_;
  uint64_t hash_ = 1469598103934665603ULL;
};

// Complexity: a weighted count of what makes a statement expensive to plan and run. Documented
// in docs/routing.md; weights favour joins and nesting, which dominate distributed-engine wins.
double complexity_score(const QueryProfile& p) {
  return 0.5 * static_cast<double>(p.tables.size()) + 2.0 * p.join_count + 1.5 * p.subquery_count +
         1.0 * p.max_subquery_depth + 1.0 * p.set_operation_count + 1.0 * p.window_count +
         1.0 * static_cast<double>(p.ctes.size()) + (p.has_group_by ? 1.0 : 0.0) +
         (p.aggregate_count > 0 ? 1.0 : 0.0) + (p.has_distinct ? 0.5 : 0.0) + (p.has_order_by ? 0.5 : 0.0);
}

// /*+ engine(name) */ anywhere in a comment that starts with "+".
std::optional<std::string> engine_hint(std::string_view text) {
  if (!text.starts_with("/*+") && !text.starts_with("--+")) return std::nullopt;
  const std::string comment = ascii_lower(std::string(text.substr(0, text.find(text[0] == '/' ? "*/" : "\n"))));
  auto at = comment.find("engine");
  if (at == std::string_view::npos) return std::nullopt;
  auto open = comment.find('(', at);
  auto close = comment.find(')', open);
  if (open == std::string_view::npos || close == std::string_view::npos) return std::nullopt;
  std::string name;
  for (char c : comment.substr(open + 1, close - open - 1)) {
    if (!std::isspace(static_cast<unsigned char>(c))) name.push_back(c);
  }
  if (name.empty()) return std::nullopt;
  return name;
}

// Where a quoted token ('...' or "...") ends; doubled quotes are part of the token.
size_t quoted_end(std::string_view text, size_t start) {
  const char quote = text[start];
  size_t i = start + 1;
  while (i < text.size()) {
    if (text[i] == quote) {
      if (i + 1 < text.size() && text[i + 1] == quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    ++i;
  }
  return text.size();
}

// The engine hint of a statement, from a comment that starts with "+". DuckDB's tokenizer drops
// comments, so the hint is looked for in the text between tokens, outside quoted tokens. Most
// statements have no hint: a substring check keeps them off this path.
std::optional<std::string> find_engine_hint(std::string_view text, const std::vector<duckdb::SimplifiedToken>& tokens) {
  if (text.find("/*+") == std::string_view::npos && text.find("--+") == std::string_view::npos) return std::nullopt;
  auto look = [&](size_t from, size_t to) -> std::optional<std::string> {
    const std::string_view gap = text.substr(from, to > from ? to - from : 0);
    for (size_t at = 0; at + 3 <= gap.size(); ++at) {
      if (gap.compare(at, 3, "/*+") == 0 || gap.compare(at, 3, "--+") == 0) {
        if (auto hint = engine_hint(gap.substr(at))) return hint;
      }
    }
    return std::nullopt;
  };
  if (auto hint = look(0, tokens.empty() ? text.size() : tokens[0].start)) return hint;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const size_t start = tokens[i].start;
    const size_t next = i + 1 < tokens.size() ? tokens[i + 1].start : text.size();
    const bool quoted = text[start] == '\'' || text[start] == '"';
    if (auto hint = look(quoted ? std::min(quoted_end(text, start), next) : start + 1, next)) return hint;
  }
  return std::nullopt;
}

}  // namespace

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// What the parse tree does not keep: `x::INT` casts and FROM-first queries (DuckDB-only syntax),
// and IFNULL calls (the parser makes them COALESCE, but the text still says IFNULL).
void lexical_facts(std::string_view sql, const std::vector<duckdb::SimplifiedToken>& tokens, QueryProfile& profile) {
  std::vector<std::string>& found = profile.duckdb_syntax;
  auto add = [&found](const char* what) {
    if (std::find(found.begin(), found.end(), what) == found.end()) found.emplace_back(what);
  };
  bool first = true;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const auto& token = tokens[i];
    using Type = duckdb::SimplifiedTokenType;
    if (token.type == Type::SIMPLIFIED_TOKEN_COMMENT || token.type == Type::SIMPLIFIED_TOKEN_STRING_CONSTANT) continue;
    const std::string_view text = sql.substr(token.start, 6);
    if (text.starts_with("::")) add(":: cast");  // the tokenizer calls the cast operator a keyword
    if (first && token.type == Type::SIMPLIFIED_TOKEN_KEYWORD && ascii_lower(text.substr(0, 4)) == "from") {
      add("FROM-first SELECT");
    }
    first = false;
    const size_t end = i + 1 < tokens.size() ? tokens[i + 1].start : sql.size();
    if (token.type == Type::SIMPLIFIED_TOKEN_IDENTIFIER && end > token.start &&
        ascii_lower(trim(sql.substr(token.start, end - token.start))) == "ifnull" && sql.substr(end, 1) == "(") {
      profile.function_refs.push_back({static_cast<uint32_t>(token.start), "ifnull"});
      if (std::find(profile.functions.begin(), profile.functions.end(), "ifnull") == profile.functions.end()) {
        profile.functions.emplace_back("ifnull");
      }
    }
  }
}

}  // namespace

bool is_aggregate_function(std::string_view name) {
  // DuckDB's own catalog says which functions aggregate, read once from a throwaway database.
  static const std::unordered_set<std::string> aggregates = [] {
    std::unordered_set<std::string> names;
    duckdb::DuckDB db(nullptr);
    duckdb::Connection conn(db);
    auto result = conn.Query("SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'aggregate'");
    if (!result->HasError()) {
      for (idx_t row = 0; row < result->RowCount(); ++row) names.insert(ascii_lower(result->GetValue(0, row).ToString()));
    }
    names.insert("count_star");
    return names;
  }();
  return aggregates.count(std::string(name)) > 0;
}

std::string fingerprint(std::string_view sql) {
  auto profile = analyze(sql);
  return profile.ok() ? profile->fingerprint : std::string();
}

namespace {

// How much a statement kind says about a script: a read says more than BEGIN/COMMIT, and
// anything else (writes, DDL, CALL, SET, ...) more than a read, so that a script counts as
// read-only only when all its statements read.
int weight(StatementKind kind) {
  switch (kind) {
    case StatementKind::kTransaction: return 0;
    case StatementKind::kSelect:
    case StatementKind::kExplain: return 1;
    default: return 2;
  }
}

Result<QueryProfile> analyze_text(std::string_view sql, bool script) {
  duckdb::Parser parser;
  if (!internal::take_parsed(sql, parser.statements)) {
    if (Status s = internal::run_parser(sql, parser); !s.ok()) return s.error();
  }
  if (parser.statements.size() > 1 && !script) {
    return Error(ErrorCode::kMultipleStatements,
                 fmt::format("the text holds {} statements; send one statement at a time", parser.statements.size()));
  }
  QueryProfile profile;
  profile.statement_count = static_cast<int>(parser.statements.size());
  profile.kind = internal::to_statement_kind(parser.statements.front()->type);
  for (const auto& stmt : parser.statements) {
    const auto kind = internal::to_statement_kind(stmt->type);
    if (weight(kind) > weight(profile.kind)) profile.kind = kind;
  }
  try {
    Walker walker(profile);
    for (auto& stmt : parser.statements) walker.statement(*stmt);
    profile.fingerprint = walker.fingerprint();
  } catch (const std::exception& e) {  // a parse tree shape the walker does not expect: keep going
    return Error(ErrorCode::kInternal, fmt::format("analysis failed: {}", e.what()));
  }
  // One pass of DuckDB's tokenizer serves both readers of what the parse tree leaves out.
  std::vector<duckdb::SimplifiedToken> tokens;
  try {
    tokens = duckdb::Parser::Tokenize(std::string(sql));
  } catch (const std::exception&) {  // the statement parsed, so this does not happen
  }
  lexical_facts(sql, tokens, profile);
  std::sort(profile.functions.begin(), profile.functions.end());
  std::sort(profile.table_functions.begin(), profile.table_functions.end());
  profile.complexity = complexity_score(profile);
  profile.engine_hint = find_engine_hint(sql, tokens);
  return profile;
}

}  // namespace

Result<QueryProfile> analyze(std::string_view sql) { return analyze_text(sql, /*script=*/false); }

Result<QueryProfile> analyze_script(std::string_view sql) { return analyze_text(sql, /*script=*/true); }

}  // namespace lakerouter::sql
