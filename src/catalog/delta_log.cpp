// Delta table statistics from the transaction log (_delta_log/): replay the latest checkpoint
// and the JSON commits after it, keeping the live set of data files with their sizes and record
// counts (add.stats.numRecords).
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "catalog/table_metadata.h"

namespace lakerouter::catalog_internal {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct LiveFile {
  int64_t size = 0;
  std::optional<int64_t> num_records;
};

// Version number of a log file named like 00000000000000000012.json / .checkpoint.parquet.
std::optional<int64_t> log_version(const std::string& filename) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(filename.data(), filename.data() + filename.size(), v);
  if (ec != std::errc() || ptr != filename.data() + 20) return std::nullopt;
  return v;
}

std::optional<int64_t> record_count(const json& add) {
  auto it = add.find("stats");
  if (it == add.end() || !it->is_string()) return std::nullopt;
  json stats = json::parse(it->get<std::string>(), nullptr, /*allow_exceptions=*/false);
  if (stats.is_discarded() || !stats.contains("numRecords")) return std::nullopt;
  return stats["numRecords"].get<int64_t>();
}

Status apply_commit(const fs::path& file, std::map<std::string, LiveFile>& live) {
  std::ifstream in(file);
  if (!in) return Error(ErrorCode::kIoError, fmt::format("cannot read Delta log file {}", file.string()));
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    json action = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (action.is_discarded()) {
      return Error(ErrorCode::kIoError,
                   fmt::format("Delta log file {} line {} is not valid JSON", file.string(), line_no));
    }
    if (auto add = action.find("add"); add != action.end()) {
      live[add->value("path", "")] = LiveFile{add->value("size", int64_t{0}), record_count(*add)};
    } else if (auto rm = action.find("remove"); rm != action.end()) {
      live.erase(rm->value("path", ""));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<TableStats> read_delta_stats(const std::string& table_dir) {
  const fs::path log_dir = fs::path(table_dir) / "_delta_log";
  std::error_code ec;
  std::map<int64_t, fs::path> commits;
  std::map<int64_t, std::vector<std::string>> checkpoints;
  for (const auto& entry : fs::directory_iterator(log_dir, ec)) {
    const std::string fname = entry.path().filename().string();
    auto version = log_version(fname);
    if (!version) continue;
    if (fname.ends_with(".json")) {
      commits[*version] = entry.path();
    } else if (fname.find(".checkpoint") != std::string::npos && fname.ends_with(".parquet")) {
      checkpoints[*version].push_back(entry.path().string());
    }
  }
  if (ec) return Error(ErrorCode::kIoError, fmt::format("cannot list {}: {}", log_dir.string(), ec.message()));
  if (commits.empty() && checkpoints.empty()) {
    return Error(ErrorCode::kIoError, fmt::format("{} has no Delta commits", log_dir.string()));
  }

  std::map<std::string, LiveFile> live;
  int64_t start_after = -1;
  if (!checkpoints.empty()) {
    auto& [version, parts] = *checkpoints.rbegin();
    auto actions = read_delta_checkpoint(parts);
    if (!actions.ok()) return actions.error();
    for (const auto& a : *actions) {
      if (a.add) {
        live[a.path] = LiveFile{a.size, a.num_records};
      } else {
        live.erase(a.path);
      }
    }
    start_after = version;
  }
  int64_t latest = start_after;
  for (const auto& [version, path] : commits) {
    if (version <= start_after) continue;
    if (Status s = apply_commit(path, live); !s.ok()) return s.error();
    latest = version;
  }

  TableStats stats;
  stats.snapshot = std::to_string(latest);
  stats.files = static_cast<int64_t>(live.size());
  int64_t rows = 0;
  bool rows_known = true;
  for (const auto& [path, f] : live) {
    stats.bytes += f.size;
    if (f.num_records) {
      rows += *f.num_records;
    } else {
      rows_known = false;
    }
  }
  if (rows_known) stats.rows = rows;
  return stats;
}

}  // namespace lakerouter::catalog_internal
