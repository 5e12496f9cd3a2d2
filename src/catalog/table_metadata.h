// Per-format metadata readers behind StatsReader. Each reads only metadata: the Delta transaction
// log (JSON commits and Parquet checkpoints), Iceberg table metadata, manifest lists and
// manifests, and Parquet footers. Internal to catalog/.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "catalog/catalog.h"

namespace lakerouter::catalog_internal {

class MetadataDb;

Result<TableStats> read_delta_stats(MetadataDb& db, const std::string& table_dir, const TableStats* previous);
Result<TableStats> read_iceberg_stats(MetadataDb& db, const std::string& location);
Result<TableStats> read_parquet_stats(MetadataDb& db, const std::string& table_dir);

// The cheap change checks behind probe_table_version().
Result<std::string> delta_version_token(const std::string& table_dir);
Result<std::string> parquet_version_token(const std::string& table_dir);

// The Iceberg metadata file a reader should open: the one named by metadata/version-hint.text,
// else the highest-numbered metadata/*.metadata.json; `location` may also name the file itself.
Result<std::string> current_iceberg_metadata_file(const std::string& location);

// An Iceberg lower/upper bound (the spec's binary single-value serialization) as text for
// make_stat_value(), for the primitive types that prune; nullopt for others or malformed bytes.
std::optional<std::string> iceberg_bound_text(const std::string& type, std::string_view bytes);

// Parquet files under a folder (recursively, sorted), skipping hidden and _-prefixed entries.
std::vector<std::string> list_parquet_files(const std::string& dir);

// One Parquet file's footer: its rows and, per top-level column, the bounds over its row groups.
struct ParquetFooter {
  std::string path;
  int64_t rows = 0;
  std::vector<ColumnBounds> bounds;  // column indexes into `columns` below
};
struct ParquetFooters {
  std::vector<TableColumn> columns;  // the files' schema (union by name)
  std::vector<ParquetFooter> files;
};

// A live data file of an Iceberg snapshot, as its manifest lists it.
struct IcebergDataFile {
  std::string path;
  int content = 0;  // 0 data, 1 position deletes, 2 equality deletes
  int64_t rows = 0;
  int64_t bytes = 0;
  std::string partition_json;                                 // the partition tuple, as JSON
  std::vector<std::pair<int, std::string>> lower_bounds;      // field id -> binary single value
  std::vector<std::pair<int, std::string>> upper_bounds;
  std::vector<std::pair<int, int64_t>> null_counts;
};

// A private in-memory DuckDB that reads Parquet footers, Delta checkpoints and (with the avro
// extension from `extension_directory`) Iceberg manifests. Opened on first use; one per catalog
// load or refresh. Not thread-safe.
class MetadataDb {
 public:
  explicit MetadataDb(std::string extension_directory);
  ~MetadataDb();
  MetadataDb(const MetadataDb&) = delete;
  MetadataDb& operator=(const MetadataDb&) = delete;

  // Each row of a Delta checkpoint (its parts together) as one JSON object of actions.
  Result<std::vector<std::string>> delta_checkpoint_actions(const std::vector<std::string>& parts);

  Result<ParquetFooters> parquet_footers(const std::vector<std::string>& files);

  // The live entries of every manifest in a snapshot's manifest list.
  Result<std::vector<IcebergDataFile>> iceberg_data_files(const std::string& manifest_list);

 private:
  struct Impl;
  Status open();
  std::string extension_directory_;
  std::unique_ptr<Impl> impl_;
  bool avro_loaded_ = false;
};

}  // namespace lakerouter::catalog_internal
