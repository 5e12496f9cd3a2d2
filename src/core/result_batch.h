// ResultBatch: a columnar slice of a result, engine-neutral, reused across fetches.
//
// Values are stored by physical kind (see core/types.h): integers, dates, times and timestamps as
// int64; decimals (scaled) and 128-bit integers as __int128; floating point as double; everything
// else as bytes in one contiguous buffer with offsets. Encoders format values; engines never do.
// Not thread-safe: one producer fills a batch, then one consumer reads it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/types.h"

namespace lakerouter {

class ColumnData {
 public:
  explicit ColumnData(PhysicalKind kind);

  PhysicalKind kind() const { return kind_; }
  size_t size() const { return valid_.size(); }
  bool is_null(size_t row) const { return valid_[row] == 0; }

  void append_null();
  void append_int64(int64_t v);
  void append_int128(__int128 v);
  void append_double(double v);
  void append_string(std::string_view v);
  void reserve(size_t rows);
  void clear();

  int64_t int64_at(size_t row) const { return std::get<Int64s>(values_)[row]; }
  __int128 int128_at(size_t row) const { return std::get<Int128s>(values_)[row]; }
  double double_at(size_t row) const { return std::get<Doubles>(values_)[row]; }
  std::string_view string_at(size_t row) const;

 private:
  using Int64s = std::vector<int64_t>;
  using Int128s = std::vector<__int128>;
  using Doubles = std::vector<double>;
  struct Strings {
    std::string bytes;
    std::vector<uint32_t> ends;  // end offset of each value in bytes
  };

  PhysicalKind kind_;
  std::vector<uint8_t> valid_;
  std::variant<Int64s, Int128s, Doubles, Strings> values_;
};

class ResultBatch {
 public:
  void reset(const ResultSchema& schema);  // one empty column per schema column
  void clear();                            // keep columns and capacity, drop rows

  size_t row_count() const { return columns_.empty() ? 0 : columns_.front().size(); }
  size_t column_count() const { return columns_.size(); }
  ColumnData& column(size_t i) { return columns_[i]; }
  const ColumnData& column(size_t i) const { return columns_[i]; }

 private:
  std::vector<ColumnData> columns_;
};

}  // namespace lakerouter
