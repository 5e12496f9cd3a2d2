// Iceberg table statistics: the current metadata file gives the format version, schema, partition
// spec and current snapshot; the snapshot's manifest list and manifests (Avro, read by DuckDB's
// avro extension) give every live data file with its partition tuple, record count, size, and
// per-column lower/upper bounds and null counts. Data files are never opened.
//
// Without the avro extension the snapshot summary still gives rows, bytes and files, and the
// stats say so in `notes`.
#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "catalog/stats_value.h"
#include "catalog/table_metadata.h"
#include "core/value_format.h"
#include "core/ascii.h"

namespace lakerouter::catalog_internal {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Leading version number of "00003-<uuid>.metadata.json" or "v3.metadata.json".
std::optional<int64_t> metadata_version(std::string name) {
  if (name.starts_with("v")) name.erase(0, 1);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), v);
  if (ec != std::errc()) return std::nullopt;
  return v;
}

int64_t summary_number(const json& summary, const char* key) {
  auto it = summary.find(key);
  if (it == summary.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    const std::string s = it->get<std::string>();
    int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
  }
  return 0;
}

// "file:///a/b" -> "/a/b"; other paths unchanged.
std::string local_path(const std::string& uri) {
  if (uri.starts_with("file://")) return uri.substr(7);
  if (uri.starts_with("file:")) return uri.substr(5);
  return uri;
}

template <typename T>
std::optional<T> little_endian(std::string_view bytes) {
  if (bytes.size() != sizeof(T)) return std::nullopt;
  T v;
  std::memcpy(&v, bytes.data(), sizeof(T));  // Iceberg bounds are little-endian, as is x86-64
  return v;
}

}  // namespace

std::optional<std::string> iceberg_bound_text(const std::string& type, std::string_view bytes) {
  if (type == "int") {
    if (auto v = little_endian<int32_t>(bytes)) return std::to_string(*v);
  } else if (type == "long") {
    if (auto v = little_endian<int64_t>(bytes)) return std::to_string(*v);
  } else if (type == "date") {
    if (auto v = little_endian<int32_t>(bytes)) {
      std::string text;
      append_date(text, *v);
      return text;
    }
  } else if (type == "timestamp" || type == "timestamptz") {
    if (auto v = little_endian<int64_t>(bytes)) {
      const int64_t micros_per_day = 86400LL * 1000000;
      int64_t days = *v / micros_per_day, rest = *v % micros_per_day;
      if (rest < 0) {
        rest += micros_per_day;
        --days;
      }
      std::string text;
      append_date(text, days);
      fmt::format_to(std::back_inserter(text), " {:02}:{:02}:{:02}.{:06}", rest / 3600000000LL, rest / 60000000 % 60,
                     rest / 1000000 % 60, rest % 1000000);
      return text;
    }
  } else if (type == "float") {
    if (auto v = little_endian<float>(bytes)) return fmt::format("{}", *v);
  } else if (type == "double") {
    if (auto v = little_endian<double>(bytes)) return fmt::format("{}", *v);
  } else if (type == "boolean") {
    if (bytes.size() == 1) return bytes[0] ? "true" : "false";
  } else if (type == "string") {
    return std::string(bytes);
  } else if (type.starts_with("decimal")) {
    // Unscaled value, big-endian two's complement, in the fewest bytes.
    const auto comma = type.find(',');
    if (comma == std::string::npos || bytes.empty() || bytes.size() > 16) return std::nullopt;
    const int scale = std::atoi(type.c_str() + comma + 1);
    __int128 unscaled = (static_cast<unsigned char>(bytes[0]) & 0x80) ? -1 : 0;  // sign extension
    for (const char b : bytes) unscaled = unscaled * 256 + static_cast<unsigned char>(b);
    std::string text;
    append_decimal(text, unscaled, scale);
    return text;
  }
  return std::nullopt;
}

namespace {

// The current schema's top-level columns (format v2 `schemas`, v1 `schema`).
std::vector<TableColumn> current_columns(const json& metadata) {
  json schema = metadata.value("schema", json::object());
  const json current = metadata.value("current-schema-id", json());
  for (const auto& s : metadata.value("schemas", json::array())) {
    if (s.value("schema-id", json()) == current) schema = s;
  }
  std::vector<TableColumn> columns;
  for (const auto& field : schema.value("fields", json::array())) {
    TableColumn c;
    c.name = ascii_lower(field.value("name", ""));
    const json& type = field.value("type", json());
    c.type = type.is_string() ? ascii_lower(type.get<std::string>()) : "struct";
    c.type.erase(std::remove(c.type.begin(), c.type.end(), ' '), c.type.end());  // "decimal(15, 2)"
    c.kind = value_kind_of_iceberg_type(c.type);
    c.field_id = field.value("id", 0);
    columns.push_back(std::move(c));
  }
  return columns;
}

std::vector<PartitionColumn> current_partitioning(const json& metadata, const std::vector<TableColumn>& columns) {
  json fields = metadata.value("partition-spec", json::array());
  const json current = metadata.value("default-spec-id", json());
  for (const auto& spec : metadata.value("partition-specs", json::array())) {
    if (spec.value("spec-id", json()) == current) fields = spec.value("fields", json::array());
  }
  std::vector<PartitionColumn> partitioning;
  for (const auto& f : fields) {
    PartitionColumn pc;
    pc.name = ascii_lower(f.value("name", ""));
    pc.transform = ascii_lower(f.value("transform", "identity"));
    const int source_id = f.value("source-id", 0);
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i].field_id == source_id) pc.source_column = i;
    }
    partitioning.push_back(std::move(pc));
  }
  return partitioning;
}

DataFile to_data_file(const IcebergDataFile& entry, const TableStats& stats) {
  DataFile file;
  file.path = entry.path;
  file.bytes = entry.bytes;
  file.rows = entry.rows;
  const json partition = json::parse(entry.partition_json.empty() ? "null" : entry.partition_json, nullptr, false);
  for (const auto& pc : stats.partition_columns) {
    std::optional<StatValue> value;
    if (partition.is_object()) {
      for (auto it = partition.begin(); it != partition.end(); ++it) {
        if (ascii_lower(it.key()) != pc.name || it.value().is_null()) continue;
        const std::string text = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
        const ValueKind kind = pc.transform == "identity" && pc.source_column ? stats.columns[*pc.source_column].kind
                                                                              : ValueKind::kString;
        value = make_stat_value(kind, text);
      }
    }
    file.partition_values.push_back(std::move(value));
  }
  auto column_of = [&](int field_id) -> std::optional<size_t> {
    for (size_t i = 0; i < stats.columns.size(); ++i) {
      if (stats.columns[i].field_id == field_id) return i;
    }
    return std::nullopt;
  };
  auto bounds_for = [&](size_t column) -> ColumnBounds& {
    for (auto& b : file.bounds) {
      if (b.column == column) return b;
    }
    file.bounds.push_back(ColumnBounds{column, std::nullopt, std::nullopt, std::nullopt});
    return file.bounds.back();
  };
  for (const auto& [id, bytes] : entry.lower_bounds) {
    auto column = column_of(id);
    if (!column) continue;
    if (auto text = iceberg_bound_text(stats.columns[*column].type, bytes)) {
      bounds_for(*column).min = make_stat_value(stats.columns[*column].kind, *text);
    }
  }
  for (const auto& [id, bytes] : entry.upper_bounds) {
    auto column = column_of(id);
    if (!column) continue;
    if (auto text = iceberg_bound_text(stats.columns[*column].type, bytes)) {
      bounds_for(*column).max = make_stat_value(stats.columns[*column].kind, *text);
    }
  }
  for (const auto& [id, count] : entry.null_counts) {
    if (auto column = column_of(id)) bounds_for(*column).null_count = count;
  }
  return file;
}

}  // namespace

Result<std::string> current_iceberg_metadata_file(const std::string& location) {
  if (location.ends_with(".metadata.json")) return location;
  const fs::path meta = fs::path(location) / "metadata";
  std::ifstream hint(meta / "version-hint.text");
  std::string hinted;
  if (hint && std::getline(hint, hinted) && !hinted.empty()) {
    for (const auto& candidate : {fmt::format("v{}.metadata.json", hinted), fmt::format("{}.metadata.json", hinted)}) {
      if (fs::exists(meta / candidate)) return (meta / candidate).string();
    }
  }
  std::error_code ec;
  std::optional<int64_t> best_version;
  std::string best;
  for (const auto& entry : fs::directory_iterator(meta, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(".metadata.json")) continue;
    auto v = metadata_version(name);
    if (v && (!best_version || *v > *best_version)) {
      best_version = v;
      best = entry.path().string();
    }
  }
  if (best.empty()) {
    return Error(ErrorCode::kIoError, fmt::format("{} has no Iceberg metadata/*.metadata.json file", location));
  }
  return best;
}

Result<TableStats> read_iceberg_stats(MetadataDb& db, const std::string& location) {
  auto file = current_iceberg_metadata_file(location);
  if (!file.ok()) return file.error();
  std::ifstream in(*file);
  json metadata = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (metadata.is_discarded()) {
    return Error(ErrorCode::kIoError, fmt::format("Iceberg metadata file {} is not valid JSON", *file));
  }
  TableStats stats;
  stats.version_token = *file;
  stats.format_version = std::to_string(metadata.value("format-version", 1));
  stats.columns = current_columns(metadata);
  stats.partition_columns = current_partitioning(metadata, stats.columns);
  const json current = metadata.value("current-snapshot-id", json());
  if (current.is_null() || current == -1) {  // a table without snapshots is empty
    stats.rows = 0;
    return stats;
  }
  const json snapshots = metadata.value("snapshots", json::array());
  const json* snapshot = nullptr;
  for (const auto& s : snapshots) {
    if (s.value("snapshot-id", json()) == current) snapshot = &s;
  }
  if (!snapshot) {
    return Error(ErrorCode::kIoError,
                 fmt::format("Iceberg metadata file {} names snapshot {} but does not list it", *file, current.dump()));
  }
  stats.snapshot = current.dump();
  const json summary = snapshot->value("summary", json::object());
  auto summary_totals = [&] {
    stats.rows = summary_number(summary, "total-records");
    stats.bytes = summary_number(summary, "total-files-size");
    stats.files = summary_number(summary, "total-data-files");
  };

  const std::string manifest_list = local_path(snapshot->value("manifest-list", ""));
  if (manifest_list.empty()) {  // format v1 may list manifests inline; totals are enough then
    summary_totals();
    stats.notes.push_back("snapshot has no manifest list: totals from the snapshot summary only");
    return stats;
  }
  auto entries = db.iceberg_data_files(manifest_list);
  if (!entries.ok()) {
    summary_totals();
    stats.notes.push_back("manifests not read (" + entries.error().message + "): totals from the snapshot summary");
    return stats;
  }
  std::set<std::string> features;
  for (const auto& entry : *entries) {
    if (entry.content == 1) features.insert("positionDeletes");
    if (entry.content == 2) features.insert("equalityDeletes");
    if (entry.content != 0) continue;
    stats.data_files.push_back(to_data_file(entry, stats));
  }
  stats.features.assign(features.begin(), features.end());
  stats.summarize();
  return stats;
}

}  // namespace lakerouter::catalog_internal
