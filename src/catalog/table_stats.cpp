#include "catalog/table_stats.h"

#include <algorithm>
#include <map>

#include "catalog/stats_value.h"

namespace lakerouter {

std::optional<size_t> TableStats::column_index(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return i;
  }
  return std::nullopt;
}

void TableStats::summarize() {
  rows = 0;
  bytes = 0;
  files = static_cast<int64_t>(data_files.size());
  std::map<std::vector<std::optional<std::string>>, PartitionStats> by_partition;
  // Table-wide bounds: a column has them only when every file does (a file without bounds may
  // hold any value); null counts likewise.
  std::vector<ColumnBounds> table_bounds(columns.size());
  std::vector<size_t> files_with_bounds(columns.size(), 0), files_with_nulls(columns.size(), 0);
  for (size_t c = 0; c < columns.size(); ++c) table_bounds[c].column = c;

  for (auto& file : data_files) {
    bytes += file.bytes;
    if (rows && file.rows) {
      *rows += *file.rows;
    } else {
      rows.reset();
    }
    if (!partition_columns.empty()) {
      std::vector<std::optional<std::string>> key;
      for (const auto& v : file.partition_values) key.push_back(v ? std::optional(v->text) : std::nullopt);
      auto& p = by_partition[key];
      if (p.files == 0) {
        p.values = key;
        p.rows = 0;
      }
      ++p.files;
      p.bytes += file.bytes;
      if (p.rows && file.rows) {
        *p.rows += *file.rows;
      } else {
        p.rows.reset();
      }
    }
    std::sort(file.bounds.begin(), file.bounds.end(),
              [](const ColumnBounds& a, const ColumnBounds& b) { return a.column < b.column; });
    for (const auto& b : file.bounds) {
      if (b.column >= columns.size()) continue;
      auto& t = table_bounds[b.column];
      const ValueKind kind = columns[b.column].kind;
      if (b.min && b.max) {
        if (files_with_bounds[b.column]++ == 0) {
          t.min = b.min;
          t.max = b.max;
        } else {
          if (compare_stat_values(kind, *b.min, *t.min) < 0) t.min = b.min;
          if (compare_stat_values(kind, *b.max, *t.max) > 0) t.max = b.max;
        }
      }
      if (b.null_count) {
        ++files_with_nulls[b.column];
        t.null_count = t.null_count.value_or(0) + *b.null_count;
      }
    }
  }
  partitions.clear();
  for (auto& [key, p] : by_partition) partitions.push_back(std::move(p));
  column_bounds.clear();
  const size_t file_count = data_files.size();
  for (size_t c = 0; c < columns.size(); ++c) {
    auto& t = table_bounds[c];
    if (file_count == 0 || files_with_bounds[c] != file_count) t.min = t.max = std::nullopt;
    if (file_count == 0 || files_with_nulls[c] != file_count) t.null_count.reset();
    if (t.min || t.null_count) column_bounds.push_back(std::move(t));
  }
}

}  // namespace lakerouter
