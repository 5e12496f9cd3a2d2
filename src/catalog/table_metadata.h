// Per-format metadata readers behind read_table_stats(). Each reads only metadata files:
// the Delta transaction log (JSON commits and Parquet checkpoints), Iceberg table metadata, and
// Parquet footers. Internal to catalog/.
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.h"

namespace lakerouter::catalog_internal {

Result<TableStats> read_delta_stats(const std::string& table_dir);
Result<TableStats> read_iceberg_stats(const std::string& location);
Result<TableStats> read_parquet_stats(const std::string& table_dir);

// The Iceberg metadata file a reader should open: the one named by metadata/version-hint.text,
// else the highest-numbered metadata/*.metadata.json; `location` may also name the file itself.
Result<std::string> current_iceberg_metadata_file(const std::string& location);

// Parquet files under a folder (recursively, sorted), skipping hidden and _-prefixed entries.
std::vector<std::string> list_parquet_files(const std::string& dir);

// Row counts and the Delta actions stored in Parquet files, read with DuckDB's Parquet reader
// (footers and checkpoint files only).
struct DeltaFileAction {
  std::string path;
  bool add = true;  // false: remove
  int64_t size = 0;
  std::optional<int64_t> num_records;
};
Result<int64_t> parquet_footer_row_count(const std::vector<std::string>& files);
Result<std::vector<DeltaFileAction>> read_delta_checkpoint(const std::vector<std::string>& parts);

}  // namespace lakerouter::catalog_internal
