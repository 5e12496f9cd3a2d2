// Delta table statistics from the transaction log (_delta_log/): replay the latest checkpoint and
// the JSON commits after it, keeping the protocol (reader features), the schema and partition
// columns (with column mapping), and the live data files with their sizes, partition values and
// `add.stats` (numRecords, minValues, maxValues, nullCount). Data files are never opened.
//
// A refresh that starts from the stats of an earlier version replays only the commits since
// then, unless one of them changes the table's metadata (then the whole log is replayed).
#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "catalog/stats_value.h"
#include "catalog/table_metadata.h"
#include "core/ascii.h"

namespace lakerouter::catalog_internal {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Version number of a log file named like 00000000000000000012.json / .checkpoint.parquet.
std::optional<int64_t> log_version(const std::string& filename) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(filename.data(), filename.data() + filename.size(), v);
  if (ec != std::errc() || ptr != filename.data() + 20) return std::nullopt;
  return v;
}

struct LogListing {
  std::map<int64_t, fs::path> commits;
  std::map<int64_t, std::vector<std::string>> checkpoints;  // version -> parts

  int64_t latest() const {
    int64_t v = -1;
    if (!commits.empty()) v = commits.rbegin()->first;
    if (!checkpoints.empty()) v = std::max(v, checkpoints.rbegin()->first);
    return v;
  }
};

Result<LogListing> list_log(const std::string& table_dir) {
  const fs::path log_dir = fs::path(table_dir) / "_delta_log";
  LogListing listing;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(log_dir, ec)) {
    const std::string fname = entry.path().filename().string();
    auto version = log_version(fname);
    if (!version) continue;
    if (fname.ends_with(".json")) {
      listing.commits[*version] = entry.path();
    } else if (fname.find(".checkpoint") != std::string::npos && fname.ends_with(".parquet")) {
      listing.checkpoints[*version].push_back(entry.path().string());
    }
  }
  if (ec) return Error(ErrorCode::kIoError, fmt::format("cannot list {}: {}", log_dir.string(), ec.message()));
  if (listing.commits.empty() && listing.checkpoints.empty()) {
    return Error(ErrorCode::kIoError, fmt::format("{} has no Delta commits", log_dir.string()));
  }
  return listing;
}

// A JSON scalar from stats or partition values as text (nullopt for null and nested values).
std::optional<std::string> scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  return std::nullopt;
}

// The live table state while the log replays.
class Replay {
 public:
  Replay() = default;

  // Continues from the stats of an earlier version.
  explicit Replay(const TableStats& previous)
      : format_version_(previous.format_version), columns_(previous.columns),
        partition_columns_(previous.partition_columns) {
    features_.insert(previous.features.begin(), previous.features.end());
    for (const auto& f : previous.data_files) files_.emplace(f.path, f);
    index_columns();
  }

  // Applies the actions of one commit (or checkpoint): protocol and metaData before the file
  // actions, whose stats and partition values are read with the schema in force.
  Status apply(const std::vector<json>& actions, const std::string& where) {
    for (const auto& a : actions) {
      if (auto it = a.find("protocol"); it != a.end() && it->is_object()) apply_protocol(*it);
      if (auto it = a.find("metaData"); it != a.end() && it->is_object()) {
        if (Status s = apply_metadata(*it, where); !s.ok()) return s;
      }
    }
    for (const auto& a : actions) {
      if (auto it = a.find("add"); it != a.end() && it->is_object()) {
        DataFile file = data_file(*it);
        files_[file.path] = std::move(file);
      }
      if (auto it = a.find("remove"); it != a.end() && it->is_object()) files_.erase(it->value("path", ""));
    }
    return Status::Ok();
  }

  TableStats finish(int64_t version) {
    TableStats stats;
    stats.snapshot = std::to_string(version);
    stats.version_token = stats.snapshot;
    stats.format_version = format_version_;
    stats.features.assign(features_.begin(), features_.end());
    stats.columns = std::move(columns_);
    stats.partition_columns = std::move(partition_columns_);
    stats.data_files.reserve(files_.size());
    for (auto& [path, file] : files_) stats.data_files.push_back(std::move(file));
    stats.summarize();
    return stats;
  }

 private:
  void apply_protocol(const json& protocol) {
    const int reader = protocol.value("minReaderVersion", 1);
    const int writer = protocol.value("minWriterVersion", 1);
    format_version_ = fmt::format("reader {}, writer {}", reader, writer);
    for (const char* key : {"readerFeatures", "writerFeatures"}) {
      if (auto it = protocol.find(key); it != protocol.end() && it->is_array()) {
        for (const auto& f : *it) {
          if (f.is_string()) features_.insert(f.get<std::string>());
        }
      }
    }
  }

  Status apply_metadata(const json& metadata, const std::string& where) {
    columns_.clear();
    partition_columns_.clear();
    json schema = json::parse(metadata.value("schemaString", "{}"), nullptr, /*allow_exceptions=*/false);
    if (schema.is_discarded()) {
      return Error(ErrorCode::kIoError, fmt::format("{}: metaData.schemaString is not valid JSON", where));
    }
    for (const auto& field : schema.value("fields", json::array())) {
      TableColumn c;
      c.name = ascii_lower(field.value("name", ""));
      const json& type = field.value("type", json());
      c.type = type.is_string() ? type.get<std::string>() : "struct";
      c.kind = value_kind_of_delta_type(c.type);
      const json& meta = field.value("metadata", json::object());
      if (auto it = meta.find("delta.columnMapping.physicalName"); it != meta.end() && it->is_string()) {
        c.physical_name = it->get<std::string>();
      }
      columns_.push_back(std::move(c));
    }
    const json& config = metadata.value("configuration", json::object());
    if (auto it = config.find("delta.columnMapping.mode");
        it != config.end() && it->is_string() && it->get<std::string>() != "none") {
      features_.insert("columnMapping");
    }
    index_columns();
    for (const auto& p : metadata.value("partitionColumns", json::array())) {
      if (!p.is_string()) continue;
      PartitionColumn pc;
      pc.name = ascii_lower(p.get<std::string>());
      pc.source_column = column_by_name(pc.name);
      partition_columns_.push_back(std::move(pc));
    }
    return Status::Ok();
  }

  // Stats and partition values use physical names under column mapping.
  void index_columns() {
    by_physical_name_.clear();
    for (size_t i = 0; i < columns_.size(); ++i) {
      by_physical_name_[columns_[i].physical_name.empty() ? columns_[i].name : ascii_lower(columns_[i].physical_name)] = i;
    }
  }

  std::optional<size_t> column_by_name(const std::string& lower_name) const {
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i].name == lower_name) return i;
    }
    return std::nullopt;
  }

  std::optional<size_t> column_by_physical(const std::string& name) const {
    auto it = by_physical_name_.find(ascii_lower(name));
    return it == by_physical_name_.end() ? std::nullopt : std::optional(it->second);
  }

  DataFile data_file(const json& add) const {
    DataFile file;
    file.path = add.value("path", "");
    file.bytes = add.value("size", int64_t{0});
    // Partition values, in partition column order.
    const json& values = add.value("partitionValues", json::object());
    file.partition_values.resize(partition_columns_.size());
    for (auto it = values.begin(); values.is_object() && it != values.end(); ++it) {
      auto column = column_by_physical(it.key());
      if (!column) continue;
      for (size_t p = 0; p < partition_columns_.size(); ++p) {
        if (partition_columns_[p].source_column != column) continue;
        if (auto text = scalar_text(it.value())) {
          file.partition_values[p] = make_stat_value(columns_[*column].kind, *text);
        }
      }
    }
    // Stats: a JSON string in commits; a struct (stats_parsed) in some checkpoints.
    json stats;
    if (auto it = add.find("stats"); it != add.end() && it->is_string()) {
      stats = json::parse(it->get<std::string>(), nullptr, /*allow_exceptions=*/false);
    } else if (auto parsed = add.find("stats_parsed"); parsed != add.end() && parsed->is_object()) {
      stats = *parsed;
    }
    if (!stats.is_object()) return file;
    if (auto it = stats.find("numRecords"); it != stats.end() && it->is_number_integer()) {
      int64_t rows = it->get<int64_t>();
      const json& dv = add.value("deletionVector", json());
      if (dv.is_object()) rows -= dv.value("cardinality", int64_t{0});
      file.rows = rows;
    }
    std::map<size_t, ColumnBounds> bounds;
    auto read_side = [&](const char* key, auto assign) {
      const json& side = stats.value(key, json::object());
      for (auto it = side.begin(); side.is_object() && it != side.end(); ++it) {
        auto column = column_by_physical(it.key());
        if (!column) continue;  // nested struct fields are not tracked
        auto& b = bounds[*column];
        b.column = *column;
        assign(b, columns_[*column].kind, it.value());
      }
    };
    read_side("minValues", [](ColumnBounds& b, ValueKind kind, const json& v) {
      if (auto text = scalar_text(v)) b.min = make_stat_value(kind, *text);
    });
    read_side("maxValues", [](ColumnBounds& b, ValueKind kind, const json& v) {
      if (auto text = scalar_text(v)) b.max = make_stat_value(kind, *text);
      // Delta truncates timestamp stats to milliseconds: the true max may be up to 999 us above.
      if (b.max && kind == ValueKind::kTimestamp && b.max->text.ends_with("000")) {
        b.max->text.replace(b.max->text.size() - 3, 3, "999");
      }
    });
    read_side("nullCount", [](ColumnBounds& b, ValueKind, const json& v) {
      if (v.is_number_integer()) b.null_count = v.get<int64_t>();
    });
    for (auto& [column, b] : bounds) file.bounds.push_back(std::move(b));
    return file;
  }

  std::string format_version_;
  std::set<std::string> features_;
  std::vector<TableColumn> columns_;
  std::vector<PartitionColumn> partition_columns_;
  std::map<std::string, size_t> by_physical_name_;
  std::map<std::string, DataFile> files_;
};

Result<std::vector<json>> read_commit(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return Error(ErrorCode::kIoError, fmt::format("cannot read Delta log file {}", file.string()));
  std::vector<json> actions;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    json action = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (action.is_discarded() || !action.is_object()) {
      return Error(ErrorCode::kIoError,
                   fmt::format("Delta log file {} line {} is not valid JSON", file.string(), line_no));
    }
    actions.push_back(std::move(action));
  }
  return actions;
}

bool changes_metadata(const std::vector<json>& actions) {
  return std::any_of(actions.begin(), actions.end(),
                     [](const json& a) { return a.contains("metaData") || a.contains("protocol"); });
}

}  // namespace

Result<std::string> delta_version_token(const std::string& table_dir) {
  auto listing = list_log(table_dir);
  if (!listing.ok()) return listing.error();
  return std::to_string(listing->latest());
}

Result<TableStats> read_delta_stats(MetadataDb& db, const std::string& table_dir, const TableStats* previous) {
  auto listing = list_log(table_dir);
  if (!listing.ok()) return listing.error();
  const int64_t latest = listing->latest();

  // Incremental: every commit since the previous version is still in the log.
  int64_t previous_version = -1;
  if (previous && std::from_chars(previous->version_token.data(),
                                  previous->version_token.data() + previous->version_token.size(), previous_version)
                          .ec == std::errc()) {
    bool contiguous = previous_version <= latest;
    for (int64_t v = previous_version + 1; contiguous && v <= latest; ++v) contiguous = listing->commits.contains(v);
    if (contiguous) {
      Replay replay(*previous);
      bool metadata_changed = false;
      for (int64_t v = previous_version + 1; v <= latest && !metadata_changed; ++v) {
        auto actions = read_commit(listing->commits.at(v));
        if (!actions.ok()) return actions.error();
        if (changes_metadata(*actions)) {
          metadata_changed = true;  // the schema may have changed: replay the whole log below
          break;
        }
        if (Status s = replay.apply(*actions, listing->commits.at(v).string()); !s.ok()) return s.error();
      }
      if (!metadata_changed) return replay.finish(latest);
    }
  }

  Replay replay;
  int64_t start_after = -1;
  if (!listing->checkpoints.empty()) {
    auto& [version, parts] = *listing->checkpoints.rbegin();
    auto rows = db.delta_checkpoint_actions(parts);
    if (!rows.ok()) return rows.error();
    std::vector<json> actions;
    actions.reserve(rows->size());
    for (const auto& row : *rows) {
      json action = json::parse(row, nullptr, /*allow_exceptions=*/false);
      if (action.is_object()) actions.push_back(std::move(action));
    }
    if (Status s = replay.apply(actions, parts.front()); !s.ok()) return s.error();
    start_after = version;
  }
  for (const auto& [version, path] : listing->commits) {
    if (version <= start_after) continue;
    auto actions = read_commit(path);
    if (!actions.ok()) return actions.error();
    if (Status s = replay.apply(*actions, path.string()); !s.ok()) return s.error();
  }
  return replay.finish(latest);
}

}  // namespace lakerouter::catalog_internal
