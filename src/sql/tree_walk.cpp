#include "sql/tree_walk.h"

#include <algorithm>

#include "core/ascii.h"
#include "duckdb/parser/expression/list.hpp"
#include "duckdb/parser/parsed_expression_iterator.hpp"
#include "duckdb/parser/query_node/list.hpp"
#include "duckdb/parser/tableref/list.hpp"

namespace lakerouter::sql {

void TreeWalker::walk(duckdb::SelectStatement& statement) {
  if (statement.node) walk(*statement.node);
}

void TreeWalker::walk(duckdb::QueryNode& node) {
  const size_t outer = ctes_.size();
  // A CTE's query sees the CTEs written before it (and the enclosing ones), never itself: its own
  // name there means the table, unless it is recursive (RecursiveCTENode below).
  for (auto& [name, info] : node.cte_map.map) {
    if (info && info->query) walk(*info->query);
    ctes_.push_back(ascii_lower(name));
  }
  switch (node.type) {
    case duckdb::QueryNodeType::SELECT_NODE: {
      auto& select = node.Cast<duckdb::SelectNode>();
      if (select.from_table) table(select.from_table);
      for (auto& e : select.select_list) expression(e);
      for (auto& e : select.groups.group_expressions) expression(e);
      expression(select.where_clause);
      expression(select.having);
      expression(select.qualify);
      break;
    }
    case duckdb::QueryNodeType::SET_OPERATION_NODE:
      for (auto& child : node.Cast<duckdb::SetOperationNode>().children) {
        if (child) walk(*child);
      }
      break;
    case duckdb::QueryNodeType::RECURSIVE_CTE_NODE: {
      auto& cte = node.Cast<duckdb::RecursiveCTENode>();
      if (cte.left) walk(*cte.left);
      ctes_.push_back(ascii_lower(cte.ctename));  // the recursive part reads the CTE itself
      if (cte.right) walk(*cte.right);
      ctes_.pop_back();
      for (auto& e : cte.key_targets) expression(e);
      break;
    }
    case duckdb::QueryNodeType::CTE_NODE: {
      auto& cte = node.Cast<duckdb::CTENode>();
      if (cte.query) walk(*cte.query);
      ctes_.push_back(ascii_lower(cte.ctename));
      if (cte.child) walk(*cte.child);
      ctes_.pop_back();
      break;
    }
    default: break;
  }
  duckdb::ParsedExpressionIterator::EnumerateQueryNodeModifiers(
      node, [this](duckdb::unique_ptr<duckdb::ParsedExpression>& e) { expression(e); });
  ctes_.resize(outer);
}

bool TreeWalker::cte_in_scope(std::string_view name) const {
  const std::string lower = ascii_lower(name);
  return std::find(ctes_.begin(), ctes_.end(), lower) != ctes_.end();
}

void TreeWalker::table(duckdb::unique_ptr<duckdb::TableRef>& ref) {
  if (!ref || visit_table(ref)) return;
  using Type = duckdb::TableReferenceType;
  switch (ref->type) {
    case Type::BASE_TABLE: {
      auto& base = ref->Cast<duckdb::BaseTableRef>();
      if (base.at_clause) expression(base.at_clause->ExpressionMutable());
      return;
    }
    case Type::JOIN: {
      auto& join = ref->Cast<duckdb::JoinRef>();
      table(join.left);
      table(join.right);
      expression(join.condition);
      return;
    }
    case Type::SUBQUERY: {
      auto& sub = ref->Cast<duckdb::SubqueryRef>();
      if (sub.subquery) walk(*sub.subquery);
      return;
    }
    case Type::TABLE_FUNCTION: {
      auto& fn = ref->Cast<duckdb::TableFunctionRef>();
      expression(fn.function);
      if (fn.subquery) walk(*fn.subquery);
      return;
    }
    case Type::EXPRESSION_LIST:
      for (auto& row : ref->Cast<duckdb::ExpressionListRef>().values) {
        for (auto& e : row) expression(e);
      }
      return;
    case Type::PIVOT: {
      auto& pivot = ref->Cast<duckdb::PivotRef>();
      table(pivot.source);
      for (auto& e : pivot.aggregates) expression(e);
      for (auto& column : pivot.pivots) {
        for (auto& e : column.pivot_expressions) expression(e);
        for (auto& entry : column.entries) expression(entry.expr);
        if (column.subquery) walk(*column.subquery);
      }
      return;
    }
    case Type::SHOW_REF: {
      auto& show = ref->Cast<duckdb::ShowRef>();
      if (show.query) walk(*show.query);
      return;
    }
    case Type::EMPTY_FROM:
    case Type::COLUMN_DATA:
      return;
    default: unknown_table(*ref); return;
  }
}

void TreeWalker::expression(duckdb::unique_ptr<duckdb::ParsedExpression>& e) {
  if (!e || visit_expression(e)) return;
  if (e->GetExpressionClass() == duckdb::ExpressionClass::SUBQUERY) {
    auto& sub = e->Cast<duckdb::SubqueryExpression>();
    if (sub.subquery) walk(*sub.subquery);
  }
  duckdb::ParsedExpressionIterator::EnumerateChildren(
      *e, [this](duckdb::unique_ptr<duckdb::ParsedExpression>& child) { expression(child); });
}

}  // namespace lakerouter::sql
