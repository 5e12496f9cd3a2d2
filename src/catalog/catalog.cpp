#include "catalog/catalog.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "catalog/table_metadata.h"

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

Result<TableStats> read_table_stats(TableFormat format, const std::string& location) {
  switch (format) {
    case TableFormat::kDelta: return read_delta_stats(location);
    case TableFormat::kIceberg: return read_iceberg_stats(location);
    case TableFormat::kParquet: return read_parquet_stats(location);
  }
  return Error(ErrorCode::kInternal, "unknown table format");
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
    TableInfo t;
    t.schema = decl.name.substr(0, dot);
    t.name = decl.name.substr(dot + 1);
    t.location = fs::absolute(decl.location).string();
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
  for (auto& [name, table] : by_name) {
    auto stats = read_table_stats(table.format, table.location);
    if (!stats.ok()) {
      return Error(ErrorCode::kConfigError, fmt::format("table '{}': {}", name, stats.error().message));
    }
    table.stats = std::move(*stats);
    if (table.format == TableFormat::kIceberg) {
      auto file = current_iceberg_metadata_file(table.location);
      if (!file.ok()) return Error(ErrorCode::kConfigError, fmt::format("table '{}': {}", name, file.error().message));
      table.metadata_file = std::move(*file);
    }
    catalog.tables_.push_back(std::move(table));
  }
  return catalog;
}

const TableInfo* Catalog::find(std::string_view qualified_name) const {
  auto it = std::lower_bound(tables_.begin(), tables_.end(), qualified_name,
                             [](const TableInfo& t, std::string_view n) { return t.qualified_name() < n; });
  return it != tables_.end() && it->qualified_name() == qualified_name ? &*it : nullptr;
}

}  // namespace lakerouter
