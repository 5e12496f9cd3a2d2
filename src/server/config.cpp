#include "server/config.h"

#include <cstdlib>
#include <filesystem>
#include <initializer_list>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#ifndef LAKEROUTER_DEFAULT_EXTENSION_DIR
#define LAKEROUTER_DEFAULT_EXTENSION_DIR ""
#endif

namespace lakerouter {
namespace fs = std::filesystem;

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::string cache_dir() {
  return env_or("LAKEROUTER_CACHE", env_or("HOME", "/tmp") + "/.cache/lakerouter");
}

std::string default_extension_dir() {
  return env_or("DUCKDB_EXTENSIONS", LAKEROUTER_DEFAULT_EXTENSION_DIR);
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

// Reads typed values from YAML nodes, turning every problem into "<file>:<line>: <what> (<fix>)".
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  Error error(const YAML::Node& node, const std::string& what) const {
    const int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    return Error(ErrorCode::kConfigError, fmt::format("{}:{}: {}", file_, line, what));
  }

  // Every key of `map` must be one of `allowed`.
  Status check_keys(const YAML::Node& map, const std::string& where, std::initializer_list<std::string_view> allowed) const {
    if (!map.IsMap()) return error(map, fmt::format("'{}' must be a mapping of keys to values", where));
    for (const auto& kv : map) {
      const auto key = kv.first.as<std::string>();
      bool known = false;
      std::string_view best;
      size_t best_distance = 3;  // suggest only close names
      for (auto a : allowed) {
        if (a == key) known = true;
        if (size_t d = edit_distance(a, key); d < best_distance) {
          best_distance = d;
          best = a;
        }
      }
      if (known) continue;
      std::string hint = best.empty() ? fmt::format("allowed keys: {}", fmt::join(allowed, ", "))
                                      : fmt::format("did you mean '{}'?", best);
      return error(kv.first, fmt::format("unknown key '{}' in '{}' ({})", key, where, hint));
    }
    return Status::Ok();
  }

  template <typename T>
  Status get(const YAML::Node& map, const char* key, const std::string& where, T& out) const {
    const YAML::Node node = map[key];
    if (!node) return Status::Ok();
    try {
      out = node.as<T>();
    } catch (const YAML::Exception&) {
      return error(node, fmt::format("'{}.{}' must be {}, not '{}'", where, key, type_name<T>(), node.Scalar()));
    }
    return Status::Ok();
  }

  Status get_ms(const YAML::Node& map, const char* key, const std::string& where, std::chrono::milliseconds& out) const {
    int64_t ms = out.count();
    if (Status s = get(map, key, where, ms); !s.ok()) return s;
    if (ms <= 0) return error(map[key], fmt::format("'{}.{}' must be a positive number of milliseconds", where, key));
    out = std::chrono::milliseconds(ms);
    return Status::Ok();
  }

  Status get_path(const YAML::Node& map, const char* key, const std::string& where, std::string& out) const {
    if (Status s = get(map, key, where, out); !s.ok()) return s;
    if (map[key] && !out.empty()) out = resolve(out);
    return Status::Ok();
  }

  std::string resolve(const std::string& path) const {
    if (path.starts_with("~/")) return env_or("HOME", "") + path.substr(1);
    if (fs::path(path).is_absolute()) return path;
    return (fs::path(file_).parent_path() / path).lexically_normal().string();
  }

 private:
  template <typename T>
  static const char* type_name() {
    if constexpr (std::is_same_v<T, std::string>) return "a string";
    if constexpr (std::is_integral_v<T>) return "a whole number";
    return "a value of another type";
  }

  std::string file_;
};

#define LR_TRY(expr)                \
  do {                              \
    if (Status _s = (expr); !_s.ok()) return _s.error(); \
  } while (0)

Status read_server(const Reader& r, const YAML::Node& node, Config& c) {
  LR_TRY(r.check_keys(node, "server", {"log_level", "query_timeout_ms", "max_query_timeout_ms", "http"}));
  LR_TRY(r.get(node, "log_level", "server", c.log_level));
  static constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), c.log_level) == std::end(kLevels)) {
    return r.error(node["log_level"], fmt::format("'server.log_level' must be one of {}", fmt::join(kLevels, ", ")));
  }
  LR_TRY(r.get_ms(node, "query_timeout_ms", "server", c.pipeline.default_timeout));
  LR_TRY(r.get_ms(node, "max_query_timeout_ms", "server", c.pipeline.max_timeout));
  if (const YAML::Node http = node["http"]) {
    LR_TRY(r.check_keys(http, "server.http",
                        {"host", "port", "max_body_bytes", "io_threads", "worker_threads", "read_timeout_ms"}));
    LR_TRY(r.get(http, "host", "server.http", c.http.host));
    LR_TRY(r.get(http, "port", "server.http", c.http.port));
    if (c.http.port < 0 || c.http.port > 65535) {
      return r.error(http["port"], "'server.http.port' must be between 0 (any free port) and 65535");
    }
    LR_TRY(r.get(http, "max_body_bytes", "server.http", c.http.max_body_bytes));
    if (c.http.max_body_bytes < 1024) {
      return r.error(http["max_body_bytes"], "'server.http.max_body_bytes' must be at least 1024");
    }
    LR_TRY(r.get(http, "io_threads", "server.http", c.http.io_threads));
    LR_TRY(r.get(http, "worker_threads", "server.http", c.http.worker_threads));
    if (c.http.io_threads < 1 || c.http.worker_threads < 1) {
      return r.error(http, "'server.http.io_threads' and 'worker_threads' must be at least 1");
    }
    LR_TRY(r.get_ms(http, "read_timeout_ms", "server.http", c.http.read_timeout));
  }
  return Status::Ok();
}

Status read_catalog(const Reader& r, const YAML::Node& node, Config& c) {
  LR_TRY(r.check_keys(node, "catalog", {"lake_dir", "tables"}));
  LR_TRY(r.get_path(node, "lake_dir", "catalog", c.catalog.lake_dir));
  if (const YAML::Node tables = node["tables"]) {
    if (!tables.IsSequence()) return r.error(tables, "'catalog.tables' must be a list of tables");
    for (const auto& t : tables) {
      LR_TRY(r.check_keys(t, "catalog.tables[]", {"name", "format", "location"}));
      TableDeclaration decl;
      decl.line = t.Mark().line + 1;
      LR_TRY(r.get(t, "name", "catalog.tables[]", decl.name));
      LR_TRY(r.get_path(t, "location", "catalog.tables[]", decl.location));
      if (decl.name.empty() || decl.location.empty()) {
        return r.error(t, "each table needs 'name' (schema.table) and 'location' (a folder or metadata file)");
      }
      std::string format;
      LR_TRY(r.get(t, "format", "catalog.tables[]", format));
      if (!format.empty()) {
        decl.format = parse_table_format(format);
        if (!decl.format) return r.error(t["format"], "'format' must be delta, iceberg or parquet");
      }
      c.catalog.tables.push_back(std::move(decl));
    }
  }
  return Status::Ok();
}

Status read_engines(const Reader& r, const YAML::Node& node, Config& c) {
  LR_TRY(r.check_keys(node, "engines", {"duckdb"}));
  if (const YAML::Node d = node["duckdb"]) {
    LR_TRY(r.check_keys(d, "engines.duckdb",
                        {"threads", "memory_limit", "pool_size", "pool_wait_ms", "extension_directory", "extensions"}));
    LR_TRY(r.get(d, "threads", "engines.duckdb", c.duckdb.threads));
    LR_TRY(r.get(d, "memory_limit", "engines.duckdb", c.duckdb.memory_limit));
    LR_TRY(r.get(d, "pool_size", "engines.duckdb", c.duckdb.pool_size));
    if (c.duckdb.pool_size < 1) return r.error(d["pool_size"], "'engines.duckdb.pool_size' must be at least 1");
    LR_TRY(r.get_ms(d, "pool_wait_ms", "engines.duckdb", c.duckdb.pool_wait));
    LR_TRY(r.get_path(d, "extension_directory", "engines.duckdb", c.duckdb.extension_directory));
    if (const YAML::Node ext = d["extensions"]) {
      if (!ext.IsSequence()) return r.error(ext, "'engines.duckdb.extensions' must be a list of extension names");
      c.duckdb.load_extensions.clear();
      for (const auto& e : ext) c.duckdb.load_extensions.push_back(e.as<std::string>());
    }
  }
  return Status::Ok();
}

}  // namespace

std::string default_lake_dir() { return env_or("LAKEROUTER_LAKE_DIR", cache_dir() + "/lake/sf1"); }

Config default_config(const std::string& lake_dir) {
  Config c;
  c.catalog.lake_dir = lake_dir;
  c.duckdb.extension_directory = default_extension_dir();
  return c;
}

Result<Config> load_config(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Error(ErrorCode::kConfigError, fmt::format("{}: cannot open the configuration file", path));
  } catch (const YAML::ParserException& e) {
    return Error(ErrorCode::kConfigError, fmt::format("{}:{}: {} (check indentation and quoting)", path,
                                                      e.mark.line + 1, e.msg));
  }
  Config c = default_config("");
  c.source = path;
  if (root.IsNull()) return c;  // an empty file means all defaults
  Reader r(path);
  LR_TRY(r.check_keys(root, "<top level>", {"server", "catalog", "engines"}));
  if (root["server"]) LR_TRY(read_server(r, root["server"], c));
  if (root["catalog"]) LR_TRY(read_catalog(r, root["catalog"], c));
  if (root["engines"]) LR_TRY(read_engines(r, root["engines"], c));
  return c;
}

}  // namespace lakerouter
