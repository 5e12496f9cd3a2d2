#include "catalog/catalog.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "catalog/table_metadata.h"
#include "core/ascii.h"

namespace lakerouter {
namespace fs = std::filesystem;
using namespace catalog_internal;

std::string_view table_format_name(TableFormat format) {
  switch (format) {
    case TableFormat::kDelta: return "delta";
    case TableFormat::kIceberg: return "iceberg";
    case TableFormat::kParquet: return "parquet";
  }
  return "parquet";
}

std::optional<TableFormat> parse_table_format(std::string_view name) {
  if (name == "delta") return TableFormat::kDelta;
  if (name == "iceberg") return TableFormat::kIceberg;
  if (name == "parquet") return TableFormat::kParquet;
  return std::nullopt;
}

std::optional<TableFormat> detect_table_format(const std::string& folder) {
  std::error_code ec;
  if (folder.ends_with(".metadata.json") && fs::is_regular_file(folder, ec)) return TableFormat::kIceberg;
  if (!fs::is_directory(folder, ec)) return std::nullopt;
  if (fs::is_directory(fs::path(folder) / "_delta_log", ec)) return TableFormat::kDelta;
  if (fs::is_directory(fs::path(folder) / "metadata", ec) && current_iceberg_metadata_file(folder).ok()) {
    return TableFormat::kIceberg;
  }
  if (!list_parquet_files(folder).empty()) return TableFormat::kParquet;
  return std::nullopt;
}

Result<std::string> probe_table_version(TableFormat format, const std::string& location) {
  switch (format) {
    case TableFormat::kDelta: return delta_version_token(location);
    case TableFormat::kIceberg: return current_iceberg_metadata_file(location);
    case TableFormat::kParquet: return parquet_version_token(location);
  }
  return Error(ErrorCode::kInternal, "unknown table format");
}

StatsReader::StatsReader(std::string extension_directory)
    : db_(std::make_unique<MetadataDb>(std::move(extension_directory))) {}
StatsReader::~StatsReader() = default;

Result<TableStats> StatsReader::read(TableFormat format, const std::string& location, const TableStats* previous) {
  // Metadata files are input like any other: a field of the wrong JSON type (which nlohmann
  // reports by exception) is an error about that table, never a crash.
  try {
    switch (format) {
      case TableFormat::kDelta: return read_delta_stats(*db_, location, previous);
      case TableFormat::kIceberg: return read_iceberg_stats(*db_, location);
      case TableFormat::kParquet: return read_parquet_stats(*db_, location);
    }
  } catch (const std::exception& e) {
    return Error(ErrorCode::kIoError,
                 fmt::format("unexpected {} metadata at {}: {}", table_format_name(format), location, e.what()));
  }
  return Error(ErrorCode::kInternal, "unknown table format");
}

Result<TableStats> read_table_stats(TableFormat format, const std::string& location,
                                    const std::string& extension_directory) {
  return StatsReader(extension_directory).read(format, location);
}

namespace {

bool valid_identifier(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

// <lake>/<schema>/<table>/ for every folder that holds a table.
Result<std::vector<TableInfo>> discover(const std::string& lake_dir) {
  std::vector<TableInfo> found;
  std::error_code ec;
  if (!fs::is_directory(lake_dir, ec)) {
    return Error(ErrorCode::kConfigError,
                 fmt::format("lake directory '{}' does not exist; generate the demo lake with scripts/gen_demo_lake.py "
                             "or set catalog.lake_dir",
                             lake_dir));
  }
  for (const auto& schema_dir : fs::directory_iterator(lake_dir, ec)) {
    const std::string schema = schema_dir.path().filename().string();
    if (!schema_dir.is_directory() || !valid_identifier(schema)) continue;
    for (const auto& table_dir : fs::directory_iterator(schema_dir.path(), ec)) {
      const std::string name = table_dir.path().filename().string();
      if (!table_dir.is_directory() || !valid_identifier(name)) continue;
      auto format = detect_table_format(table_dir.path().string());
      if (!format) continue;
      TableInfo t;
      t.schema = schema;
      t.name = name;
      t.format = *format;
      t.location = fs::absolute(table_dir.path()).string();
      found.push_back(std::move(t));
    }
  }
  return found;
}

}  // namespace

Result<Catalog> Catalog::load(const CatalogOptions& options) {
  std::map<std::string, TableInfo> by_name;
  if (!options.lake_dir.empty()) {
    auto discovered = discover(options.lake_dir);
    if (!discovered.ok()) return discovered.error();
    for (auto& t : *discovered) by_name[t.qualified_name()] = std::move(t);
  }
  std::map<std::string, int> declared_at;
  for (const auto& decl : options.tables) {
    const auto dot = decl.name.find('.');
    if (dot == std::string::npos || !valid_identifier(decl.name.substr(0, dot)) ||
        !valid_identifier(decl.name.substr(dot + 1))) {
      return Error(ErrorCode::kConfigError,
                   fmt::format("table name '{}' must be schema.table (letters, digits, _)", decl.name));
    }
    if (auto [it, inserted] = declared_at.emplace(decl.name, decl.line); !inserted) {
      return Error(ErrorCode::kConfigError, fmt::format("table '{}' is declared twice (lines {} and {}); remove one",
                                                        decl.name, it->second, decl.line));
    }
    std::vector<std::string> keys;
    for (const auto& k : decl.key_columns) keys.push_back(ascii_lower(k));
    if (decl.location.empty()) {  // annotates a discovered table
      auto it = by_name.find(decl.name);
      if (it == by_name.end()) {
        return Error(ErrorCode::kConfigError,
                     fmt::format("table '{}' (line {}) has no location and no such table was discovered in '{}'; "
                                 "add 'location' or fix the name",
                                 decl.name, decl.line, options.lake_dir));
      }
      it->second.key_columns = std::move(keys);
      continue;
    }
    TableInfo t;
    t.schema = decl.name.substr(0, dot);
    t.name = decl.name.substr(dot + 1);
    t.location = fs::absolute(decl.location).string();
    t.key_columns = std::move(keys);
    t.declared = true;
    auto format = decl.format ? decl.format : detect_table_format(t.location);
    if (!format) {
      return Error(ErrorCode::kConfigError,
                   fmt::format("table '{}': no Delta, Iceberg or Parquet table found at '{}'", decl.name, t.location));
    }
    t.format = *format;
    by_name[decl.name] = std::move(t);
  }

  Catalog catalog;
  StatsReader reader(options.extension_directory);
  for (auto& [name, table] : by_name) {
    auto stats = reader.read(table.format, table.location);
    if (!stats.ok()) {
      return Error(ErrorCode::kConfigError, fmt::format("table '{}': {}", name, stats.error().message));
    }
    if (table.format == TableFormat::kIceberg) table.metadata_file = stats->version_token;  // the file read
    table.stats = std::make_shared<const TableStats>(std::move(*stats));
    catalog.tables_.push_back(std::move(table));
  }
  return catalog;
}

Catalog Catalog::refreshed(const CatalogOptions& options, RefreshReport& report) const {
  Catalog next = *this;  // shares every table's stats
  StatsReader reader(options.extension_directory);
  for (auto& table : next.tables_) {
    ++report.tables;
    auto token = probe_table_version(table.format, table.location);
    if (token.ok() && *token == table.stats->version_token) continue;
    auto stats = token.ok() ? reader.read(table.format, table.location, table.stats.get()) : Result<TableStats>(token.error());
    if (!stats.ok()) {
      report.errors.push_back(fmt::format("{}: {}", table.qualified_name(), stats.error().message));
      continue;
    }
    ++report.changed;
    if (table.format == TableFormat::kIceberg) table.metadata_file = stats->version_token;
    table.stats = std::make_shared<const TableStats>(std::move(*stats));
  }
  return next;
}

const TableInfo* Catalog::find(std::string_view qualified_name) const {
  auto it = std::lower_bound(tables_.begin(), tables_.end(), qualified_name,
                             [](const TableInfo& t, std::string_view n) { return t.qualified_name() < n; });
  return it != tables_.end() && it->qualified_name() == qualified_name ? &*it : nullptr;
}

}  // namespace lakerouter
