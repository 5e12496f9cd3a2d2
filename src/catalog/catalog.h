// Catalog: the tables lakerouter knows, where they live, and how big they are.
//
// Tables come from two places: declared in the config file, and discovered in a lake directory
// laid out as <lake>/<schema>/<table>/ (a folder with _delta_log/ is Delta, one with
// metadata/*.metadata.json is Iceberg, one with *.parquet files is Parquet). Statistics come from
// table metadata only (Delta log, Iceberg snapshot summary, Parquet footers), never from data.
// Thread-safety: a Catalog is immutable once loaded; share it freely across threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lakerouter {

enum class TableFormat : uint8_t { kDelta, kIceberg, kParquet };

std::string_view table_format_name(TableFormat format);
std::optional<TableFormat> parse_table_format(std::string_view name);

struct TableStats {
  std::optional<int64_t> rows;   // unknown when the metadata does not record it
  int64_t bytes = 0;             // data bytes of the current snapshot
  int64_t files = 0;             // data files of the current snapshot
  std::string snapshot;          // Delta version / Iceberg snapshot id / "" for plain Parquet
};

struct TableInfo {
  std::string schema;
  std::string name;
  TableFormat format = TableFormat::kParquet;
  std::string location;       // absolute path of the table folder (Iceberg: may be a metadata file)
  std::string metadata_file;  // Iceberg: the current metadata file, resolved at load
  TableStats stats;
  bool declared = false;  // from the config file rather than discovered

  std::string qualified_name() const { return schema + "." + name; }
};

// A table declared in the configuration file.
struct TableDeclaration {
  std::string name;                   // "schema.table"
  std::optional<TableFormat> format;  // detected from the folder when absent
  std::string location;
  int line = 0;                       // config file line, for error messages
};

struct CatalogOptions {
  std::string lake_dir;  // discovered tables; empty: none
  std::vector<TableDeclaration> tables;
};

class Catalog {
 public:
  Catalog() = default;

  // Discovers and declares tables and reads their statistics. A declared table overrides a
  // discovered one of the same name; two declarations of one name are an error.
  static Result<Catalog> load(const CatalogOptions& options);

  const std::vector<TableInfo>& tables() const { return tables_; }
  const TableInfo* find(std::string_view qualified_name) const;

 private:
  std::vector<TableInfo> tables_;  // sorted by qualified name
};

// Detects a folder's table format from its layout, or nullopt when it holds no table.
std::optional<TableFormat> detect_table_format(const std::string& folder);

// Reads a table's statistics from its metadata (exposed for tests).
Result<TableStats> read_table_stats(TableFormat format, const std::string& location);

}  // namespace lakerouter
