// TableStats: what a table's metadata says about it — size, schema, partitions, per-file
// min/max bounds and format features — read without opening a data file (catalog/*_metadata.cpp)
// and used to estimate what a statement scans (catalog/scan_estimate.h).
//
// Values in bounds and partitions are kept as text in a canonical form per ValueKind (see
// catalog/stats_value.h), with numbers also parsed, so that pruning compares them cheaply.
// Thread-safety: plain values; the catalog shares them as shared_ptr<const TableStats>.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lakerouter {

// How values of a column compare (see catalog/stats_value.h).
enum class ValueKind : uint8_t { kBoolean, kInteger, kFloat, kDecimal, kString, kDate, kTimestamp, kOther };

// A bound or partition value: canonical text, and its numeric value for numeric kinds.
// `exact`: the text is a canonical decimal (integers and decimals written without exponent),
// compared digit by digit, so BIGINTs beyond 2^53 and long decimals keep their order.
struct StatValue {
  std::string text;
  double number = 0;
  bool exact = false;

  bool operator==(const StatValue&) const = default;
};

struct TableColumn {
  std::string name;  // lower-case, as queries refer to it
  std::string type;  // as the format spells it: "long", "decimal(15,2)", "BIGINT", ...
  ValueKind kind = ValueKind::kOther;
  std::string physical_name;  // the name in data files and stats when it differs (Delta column mapping)
  int field_id = 0;           // Iceberg field id; 0 elsewhere
};

// One column's bounds within one data file (or the whole table). Absent when the metadata
// does not record them (e.g. Delta collects stats for the first 32 columns only).
struct ColumnBounds {
  size_t column = 0;  // index into TableStats::columns
  std::optional<StatValue> min;
  std::optional<StatValue> max;
  std::optional<int64_t> null_count;
};

// A partition column. Delta and Hive-style folders partition by the value itself; Iceberg may
// transform the source column (day, bucket, truncate): only identity partitions prune by value,
// the others prune through the source column's min/max bounds.
struct PartitionColumn {
  std::string name;                    // the partition field, lower-case
  std::optional<size_t> source_column;  // index into TableStats::columns
  std::string transform = "identity";
};

struct DataFile {
  std::string path;
  int64_t bytes = 0;
  std::optional<int64_t> rows;  // live rows (Delta deletion vectors subtracted)
  std::vector<std::optional<StatValue>> partition_values;  // one per partition column; nullopt: NULL
  std::vector<ColumnBounds> bounds;                       // sorted by column
};

struct PartitionStats {
  std::vector<std::optional<std::string>> values;  // one per partition column; nullopt: NULL
  int64_t files = 0;
  int64_t bytes = 0;
  std::optional<int64_t> rows;
};

struct TableStats {
  std::optional<int64_t> rows;  // unknown when the metadata does not record it
  int64_t bytes = 0;            // data bytes of the current snapshot
  int64_t files = 0;            // data files of the current snapshot
  std::string snapshot;         // Delta version / Iceberg snapshot id / "" for plain Parquet
  // What the cheap change check (probe_table_version()) returned when these stats were read:
  // the refresh rereads a table only when it returns something else.
  std::string version_token;

  std::string format_version;         // "reader 3, writer 7" (Delta), "2" (Iceberg format-version)
  std::vector<std::string> features;  // deletionVectors, columnMapping, timestampNtz, ... sorted
  std::vector<std::string> notes;     // what could not be read, e.g. manifests without the avro extension

  std::vector<TableColumn> columns;
  std::vector<PartitionColumn> partition_columns;
  std::vector<PartitionStats> partitions;  // sorted by values
  std::vector<ColumnBounds> column_bounds; // table-wide, from every file that has them
  // Per-file detail for pruning. Empty when only totals are known (then estimates use totals).
  std::vector<DataFile> data_files;

  // Index of the column named `name` (lower-case), if the schema has it.
  std::optional<size_t> column_index(std::string_view name) const;

  // Derives rows, bytes, files, partitions and column_bounds from data_files (and sorts the
  // files' bounds). Metadata readers call it once they have the live file set.
  void summarize();
};

}  // namespace lakerouter
