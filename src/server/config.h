// Config: the YAML configuration file, validated, with defaults for everything.
// Errors name the file, the line and a fix (e.g. "did you mean 'pool_size'?").
// See docs/configuration.md for every key.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/status.h"
#include "engines/duckdb/duckdb_engine.h"
#include "routing/engine_profile.h"
#include "routing/rules.h"
#include "server/pipeline.h"

namespace lakerouter {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  size_t max_body_bytes = 1 << 20;  // 1 MiB
  int io_threads = 2;
  int worker_threads = 8;           // statements executing at once over HTTP
  std::chrono::milliseconds read_timeout{30000};
};

struct Config {
  std::string source = "<built-in default>";  // the file it came from
  std::string log_level = "info";
  HttpOptions http;
  PipelineOptions pipeline;
  CatalogOptions catalog;
  DuckDBEngineOptions duckdb;
  // Every engine routing knows, the embedded DuckDB ("duckdb") first, then those declared under
  // `engines:` in file order (engines not connected yet may be declared for routing).
  std::vector<routing::EngineProfile> engine_profiles;
  routing::RoutingPolicy routing;
};

// The embedded default: DuckDB over the demo lake in `lake_dir`.
Config default_config(const std::string& lake_dir);

// Reads and validates a configuration file; relative paths resolve against its folder.
Result<Config> load_config(const std::string& path);

// Where the demo lake lives when no configuration names one:
// $LAKEROUTER_LAKE_DIR, else $LAKEROUTER_CACHE/lake/sf1, else ~/.cache/lakerouter/lake/sf1.
std::string default_lake_dir();

}  // namespace lakerouter
