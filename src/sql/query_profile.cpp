#include "sql/query_profile.h"

#include <algorithm>

namespace lakerouter::sql {

std::string_view join_type_name(JoinType type) {
  switch (type) {
    case JoinType::kInner: return "INNER";
    case JoinType::kLeft: return "LEFT";
    case JoinType::kRight: return "RIGHT";
    case JoinType::kFull: return "FULL";
    case JoinType::kCross: return "CROSS";
    case JoinType::kSemi: return "SEMI";
    case JoinType::kAnti: return "ANTI";
    case JoinType::kAsOf: return "ASOF";
    case JoinType::kPositional: return "POSITIONAL";
    case JoinType::kOther: return "OTHER";
  }
  return "OTHER";
}

std::string_view predicate_op_name(PredicateOp op) {
  switch (op) {
    case PredicateOp::kEq: return "=";
    case PredicateOp::kNe: return "<>";
    case PredicateOp::kLt: return "<";
    case PredicateOp::kLe: return "<=";
    case PredicateOp::kGt: return ">";
    case PredicateOp::kGe: return ">=";
    case PredicateOp::kIn: return "IN";
    case PredicateOp::kBetween: return "BETWEEN";
    case PredicateOp::kLike: return "LIKE";
    case PredicateOp::kIsNull: return "IS NULL";
    case PredicateOp::kIsNotNull: return "IS NOT NULL";
  }
  return "=";
}

bool QueryProfile::is_read_only() const {
  switch (kind) {
    case StatementKind::kSelect:
    case StatementKind::kExplain:
      return std::none_of(tables.begin(), tables.end(), [](const TableAccess& t) { return t.written; });
    default:
      return false;
  }
}

}  // namespace lakerouter::sql
