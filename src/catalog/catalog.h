// Catalog: the tables lakerouter knows, where they live, and how big they are.
//
// Tables come from two places: declared in the config file, and discovered in a lake directory
// laid out as <lake>/<schema>/<table>/ (a folder with _delta_log/ is Delta, one with
// metadata/*.metadata.json is Iceberg, one with *.parquet files is Parquet). Statistics
// (table_stats.h) come from table metadata only — the Delta log, Iceberg metadata and manifests,
// Parquet footers — never from data. refreshed() rereads a table only when a cheap check says its
// snapshot changed; LiveCatalog (live_catalog.h) does that periodically.
// Thread-safety: a Catalog is immutable once loaded; share it freely across threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/table_stats.h"
#include "core/status.h"

namespace lakerouter {

namespace catalog_internal {
class MetadataDb;
}

enum class TableFormat : uint8_t { kDelta, kIceberg, kParquet };

std::string_view table_format_name(TableFormat format);
std::optional<TableFormat> parse_table_format(std::string_view name);

struct TableInfo {
  std::string schema;
  std::string name;
  TableFormat format = TableFormat::kParquet;
  std::string location;       // absolute path of the table folder (Iceberg: may be a metadata file)
  std::string metadata_file;  // Iceberg: the current metadata file, resolved at load
  std::shared_ptr<const TableStats> stats = std::make_shared<const TableStats>();  // never null
  std::vector<std::string> key_columns;  // primary-key-like columns (config), lower-case
  bool declared = false;  // from the config file rather than discovered

  std::string qualified_name() const { return schema + "." + name; }
};

// A table declared in the configuration file. Without a location it annotates a discovered
// table of that name (e.g. with its key columns).
struct TableDeclaration {
  std::string name;                   // "schema.table"
  std::optional<TableFormat> format;  // detected from the folder when absent
  std::string location;
  int line = 0;                       // config file line, for error messages
  std::vector<std::string> key_columns = {};
};

struct CatalogOptions {
  std::string lake_dir;  // discovered tables; empty: none
  std::vector<TableDeclaration> tables;
  std::string extension_directory = {};  // DuckDB extensions (avro, for Iceberg manifests)
  std::chrono::milliseconds refresh_interval{30000};  // LiveCatalog's change checks; 0: never
};

// What a refresh did.
struct RefreshReport {
  int tables = 0;     // checked
  int changed = 0;    // whose snapshot changed and were reread
  std::vector<std::string> errors;  // tables that could not be reread (they keep their old stats)
};

class Catalog {
 public:
  Catalog() = default;

  // Discovers and declares tables and reads their statistics. A declared table overrides a
  // discovered one of the same name; two declarations of one name are an error.
  static Result<Catalog> load(const CatalogOptions& options);

  // A copy in which every table whose snapshot changed since its stats were read (the cheap
  // probe_table_version() check) has fresh stats; unchanged tables share their stats. Tables stay
  // the same set: new folders in the lake are picked up at the next start.
  Catalog refreshed(const CatalogOptions& options, RefreshReport& report) const;

  const std::vector<TableInfo>& tables() const { return tables_; }
  const TableInfo* find(std::string_view qualified_name) const;

 private:
  std::vector<TableInfo> tables_;  // sorted by qualified name
};

// Detects a folder's table format from its layout, or nullopt when it holds no table.
std::optional<TableFormat> detect_table_format(const std::string& folder);

// The cheap change check: a token that changes whenever the table's snapshot does — the Delta log
// version, the Iceberg metadata file, a digest of a Parquet folder's listing. Lists a folder or
// reads a small hint file; never opens a data or log file.
Result<std::string> probe_table_version(TableFormat format, const std::string& location);

// Reads tables' statistics from their metadata. Holds a private in-memory DuckDB (opened on
// first need) that reads Parquet footers, Delta checkpoints and Iceberg manifests; make one per
// load or refresh. Not thread-safe.
class StatsReader {
 public:
  explicit StatsReader(std::string extension_directory = {});
  ~StatsReader();
  StatsReader(const StatsReader&) = delete;
  StatsReader& operator=(const StatsReader&) = delete;

  // `previous`, the stats of an earlier snapshot of the same table, lets a Delta table replay only
  // the commits since then.
  Result<TableStats> read(TableFormat format, const std::string& location, const TableStats* previous = nullptr);

 private:
  std::unique_ptr<catalog_internal::MetadataDb> db_;
};

// One-off read with a fresh StatsReader (tests, tools).
Result<TableStats> read_table_stats(TableFormat format, const std::string& location,
                                    const std::string& extension_directory = {});

}  // namespace lakerouter
