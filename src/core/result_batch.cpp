#include "core/result_batch.h"

namespace lakerouter {

PhysicalKind physical_kind(TypeId id) {
  switch (id) {
    case TypeId::kBoolean:
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kInteger:
    case TypeId::kBigInt:
    case TypeId::kDate:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      return PhysicalKind::kInt64;
    case TypeId::kHugeInt:
    case TypeId::kDecimal:
      return PhysicalKind::kInt128;
    case TypeId::kFloat:
    case TypeId::kDouble:
      return PhysicalKind::kDouble;
    default:
      return PhysicalKind::kString;
  }
}

ColumnData::ColumnData(PhysicalKind kind) : kind_(kind) {
  switch (kind) {
    case PhysicalKind::kInt64: values_ = Int64s{}; break;
    case PhysicalKind::kInt128: values_ = Int128s{}; break;
    case PhysicalKind::kDouble: values_ = Doubles{}; break;
    case PhysicalKind::kString: values_ = Strings{}; break;
  }
}

void ColumnData::append_null() {
  valid_.push_back(0);
  std::visit(
      [](auto& v) {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, Strings>) {
          v.ends.push_back(static_cast<uint32_t>(v.bytes.size()));
        } else {
          v.emplace_back();
        }
      },
      values_);
}

void ColumnData::append_int64(int64_t v) {
  valid_.push_back(1);
  std::get<Int64s>(values_).push_back(v);
}

void ColumnData::append_int128(__int128 v) {
  valid_.push_back(1);
  std::get<Int128s>(values_).push_back(v);
}

void ColumnData::append_double(double v) {
  valid_.push_back(1);
  std::get<Doubles>(values_).push_back(v);
}

void ColumnData::append_string(std::string_view v) {
  valid_.push_back(1);
  auto& s = std::get<Strings>(values_);
  s.bytes.append(v);
  s.ends.push_back(static_cast<uint32_t>(s.bytes.size()));
}

std::string_view ColumnData::string_at(size_t row) const {
  const auto& s = std::get<Strings>(values_);
  uint32_t begin = row == 0 ? 0 : s.ends[row - 1];
  return std::string_view(s.bytes).substr(begin, s.ends[row] - begin);
}

void ColumnData::reserve(size_t rows) {
  valid_.reserve(rows);
  std::visit(
      [rows](auto& v) {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, Strings>) {
          v.ends.reserve(rows);
        } else {
          v.reserve(rows);
        }
      },
      values_);
}

void ColumnData::clear() {
  valid_.clear();
  std::visit(
      [](auto& v) {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, Strings>) {
          v.bytes.clear();
          v.ends.clear();
        } else {
          v.clear();
        }
      },
      values_);
}

void ResultBatch::reset(const ResultSchema& schema) {
  columns_.clear();
  columns_.reserve(schema.size());
  for (const auto& col : schema) columns_.emplace_back(physical_kind(col.type.id));
}

void ResultBatch::clear() {
  for (auto& c : columns_) c.clear();
}

}  // namespace lakerouter
