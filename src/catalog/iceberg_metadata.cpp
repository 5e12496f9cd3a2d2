// Iceberg table statistics from the current snapshot's summary in the table metadata file
// (total-records, total-files-size, total-data-files), so no manifest or data file is opened.
#include <charconv>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "catalog/table_metadata.h"

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

Result<TableStats> read_iceberg_stats(const std::string& location) {
  auto file = current_iceberg_metadata_file(location);
  if (!file.ok()) return file.error();
  std::ifstream in(*file);
  json metadata = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (metadata.is_discarded()) {
    return Error(ErrorCode::kIoError, fmt::format("Iceberg metadata file {} is not valid JSON", *file));
  }
  TableStats stats;
  const json current = metadata.value("current-snapshot-id", json());
  if (current.is_null() || current == -1) {  // a table without snapshots is empty
    stats.rows = 0;
    return stats;
  }
  for (const auto& snapshot : metadata.value("snapshots", json::array())) {
    if (snapshot.value("snapshot-id", json()) != current) continue;
    const json summary = snapshot.value("summary", json::object());
    stats.rows = summary_number(summary, "total-records");
    stats.bytes = summary_number(summary, "total-files-size");
    stats.files = summary_number(summary, "total-data-files");
    stats.snapshot = current.dump();
    return stats;
  }
  return Error(ErrorCode::kIoError,
               fmt::format("Iceberg metadata file {} names snapshot {} but does not list it", *file, current.dump()));
}

}  // namespace lakerouter::catalog_internal
