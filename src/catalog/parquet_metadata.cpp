// Plain Parquet table statistics: the folder's files (Hive-style key=value folders are partition
// columns, as DuckDB's hive_partitioning reads them), and each file's footer: rows and per-column
// min/max and null counts over its row groups.
#include <algorithm>
#include <filesystem>
#include <functional>

#include <fmt/format.h>

#include "catalog/stats_value.h"
#include "catalog/table_metadata.h"
#include "core/ascii.h"

namespace lakerouter::catalog_internal {
namespace fs = std::filesystem;

namespace {

// The key=value folders between the table folder and the file, in order.
std::vector<std::pair<std::string, std::string>> hive_partition(const std::string& table_dir, const std::string& file) {
  std::vector<std::pair<std::string, std::string>> out;
  const fs::path relative = fs::path(file).lexically_relative(table_dir).parent_path();
  for (const auto& part : relative) {
    const std::string s = part.string();
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) return {};
    out.emplace_back(ascii_lower(s.substr(0, eq)), s.substr(eq + 1));
  }
  return out;
}

}  // namespace

std::vector<std::string> list_parquet_files(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    if (name.starts_with(".") || name.starts_with("_")) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && name.ends_with(".parquet")) files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

namespace {

// Names, sizes and modification times: any rewrite of the folder changes the digest.
std::string listing_digest(const std::vector<std::string>& files) {
  size_t digest = 0;
  for (const auto& file : files) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    const auto mtime = fs::last_write_time(file, ec).time_since_epoch().count();
    digest = digest * 1000003 ^ std::hash<std::string>{}(fmt::format("{}:{}:{}", file, size, mtime));
  }
  return fmt::format("{}-{:016x}", files.size(), digest);
}

}  // namespace

Result<std::string> parquet_version_token(const std::string& table_dir) {
  return listing_digest(list_parquet_files(table_dir));
}

Result<TableStats> read_parquet_stats(MetadataDb& db, const std::string& table_dir) {
  const auto files = list_parquet_files(table_dir);
  auto footers = db.parquet_footers(files);
  if (!footers.ok()) return footers.error();

  TableStats stats;
  stats.version_token = listing_digest(files);
  stats.columns = std::move(footers->columns);
  if (!files.empty()) {
    for (const auto& [key, value] : hive_partition(table_dir, files.front())) {
      PartitionColumn pc;
      pc.name = key;
      pc.source_column = stats.column_index(key);
      stats.partition_columns.push_back(std::move(pc));
    }
  }
  for (auto& footer : footers->files) {
    DataFile file;
    std::error_code ec;
    file.bytes = static_cast<int64_t>(fs::file_size(footer.path, ec));
    file.rows = footer.rows;
    file.bounds = std::move(footer.bounds);
    const auto partition = hive_partition(table_dir, footer.path);
    file.partition_values.resize(stats.partition_columns.size());
    for (size_t i = 0; i < stats.partition_columns.size() && i < partition.size(); ++i) {
      const auto& pc = stats.partition_columns[i];
      if (partition[i].first != pc.name || partition[i].second == "__HIVE_DEFAULT_PARTITION__") continue;
      const ValueKind kind = pc.source_column ? stats.columns[*pc.source_column].kind : ValueKind::kString;
      file.partition_values[i] = make_stat_value(kind, partition[i].second);
    }
    file.path = std::move(footer.path);
    stats.data_files.push_back(std::move(file));
  }
  stats.summarize();
  return stats;
}

}  // namespace lakerouter::catalog_internal
