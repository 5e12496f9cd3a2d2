// Parquet reading for the catalog, done by DuckDB's Parquet reader on a private in-memory
// database: footers for row counts, and Delta checkpoint files (which are small metadata).
#include <filesystem>

#include <fmt/format.h>

#include "catalog/table_metadata.h"
#include "duckdb.hpp"

namespace lakerouter::catalog_internal {
namespace fs = std::filesystem;

namespace {

// A short-lived in-memory database for one metadata read. Reads are rare (catalog load and
// refresh) and opening one costs a few milliseconds; a process-wide static instance instead
// would be destroyed at exit after DuckDB's own thread-local state, which is undefined behaviour.
struct MetadataDb {
  duckdb::DuckDB db{nullptr};
  duckdb::Connection conn{db};
};

std::string sql_string_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += duckdb::KeywordHelper::WriteQuoted(items[i], '\'');
  }
  return out + "]";
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

Result<int64_t> parquet_footer_row_count(const std::vector<std::string>& files) {
  if (files.empty()) return int64_t{0};
  MetadataDb m;
  auto result = m.conn.Query(
      fmt::format("SELECT coalesce(sum(num_rows), 0)::BIGINT FROM parquet_file_metadata({})", sql_string_list(files)));
  if (result->HasError()) {
    return Error(ErrorCode::kIoError, fmt::format("cannot read Parquet footers: {}", result->GetError()));
  }
  return result->GetValue(0, 0).GetValue<int64_t>();
}

Result<std::vector<DeltaFileAction>> read_delta_checkpoint(const std::vector<std::string>& parts) {
  MetadataDb m;
  auto result = m.conn.Query(fmt::format(
      "SELECT add.path, add.size, TRY_CAST(json_extract(add.stats, '$.numRecords') AS BIGINT), true "
      "FROM read_parquet({0}, union_by_name=true) WHERE add IS NOT NULL AND add.path IS NOT NULL "
      "UNION ALL SELECT remove.path, 0, NULL, false "
      "FROM read_parquet({0}, union_by_name=true) WHERE remove IS NOT NULL AND remove.path IS NOT NULL",
      sql_string_list(parts)));
  if (result->HasError()) {
    return Error(ErrorCode::kIoError, fmt::format("cannot read Delta checkpoint: {}", result->GetError()));
  }
  std::vector<DeltaFileAction> actions;
  for (idx_t row = 0; row < result->RowCount(); ++row) {
    DeltaFileAction a;
    a.path = result->GetValue(0, row).ToString();
    a.size = result->GetValue(1, row).GetValue<int64_t>();
    auto records = result->GetValue(2, row);
    if (!records.IsNull()) a.num_records = records.GetValue<int64_t>();
    a.add = result->GetValue(3, row).GetValue<bool>();
    actions.push_back(std::move(a));
  }
  return actions;
}

Result<TableStats> read_parquet_stats(const std::string& table_dir) {
  TableStats stats;
  const auto files = list_parquet_files(table_dir);
  for (const auto& f : files) {
    std::error_code ec;
    stats.bytes += static_cast<int64_t>(fs::file_size(f, ec));
  }
  stats.files = static_cast<int64_t>(files.size());
  auto rows = parquet_footer_row_count(files);
  if (!rows.ok()) return rows.error();
  stats.rows = *rows;
  return stats;
}

}  // namespace lakerouter::catalog_internal
