// Config: the YAML configuration file, validated, with defaults for everything.
// Errors name the file, the line and a fix (e.g. "did you mean 'pool_size'?").
// See docs/configuration.md for every key.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/status.h"
#include "engines/duckdb/duckdb_engine.h"
#include "frontends/http/result_options.h"
#include "frontends/pgwire/pgwire_options.h"
#include "frontends/trino/trino_protocol_options.h"
#include "governance/authenticator.h"
#include "governance/policy_store.h"
#include "governance/users.h"
#include "routing/engine_profile.h"
#include "routing/rules.h"
#include "server/pipeline.h"
#include "telemetry/history_store.h"

namespace lakerouter {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  size_t max_body_bytes = 1 << 20;  // 1 MiB
  int io_threads = 2;
  int worker_threads = 8;           // statements executing at once over HTTP
  std::chrono::milliseconds read_timeout{30000};
};

// How to reach an engine declared under `engines:` (`connection:`). An engine without one is
// declared for routing only (the pipeline then runs its statements elsewhere, and says so).
struct EngineConnection {
  std::string name;
  routing::EngineType type = routing::EngineType::kPostgres;
  std::string dsn;      // postgres: a libpq connection string or URI (${VAR} expanded)
  std::string url;      // trino: the coordinator, e.g. http://127.0.0.1:8080 (${VAR} expanded)
  std::string user;     // trino: default user when the session has none
  std::string catalog;  // trino: session catalog that lakerouter's schema.table names resolve in
  std::string schema;   // trino: session schema, optional
  std::map<std::string, std::string> catalogs;  // trino: table format -> Trino catalog (overrides)
  int pool_size = 8;    // postgres: connections at most
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds idle_timeout{60000};  // postgres: idle pooled connections closed after
  // databricks: `host` (the workspace URL) is kept in `url`; `catalog` and `schema` are the
  // statements' defaults (empty: the warehouse's).
  std::string warehouse_id;                     // databricks: the SQL warehouse
  std::string token_env = "DATABRICKS_TOKEN";   // databricks: NAME of the variable with the token
  std::chrono::milliseconds wait_timeout{10000};  // databricks: the POST's wait (0, or 5 s to 50 s)
  std::chrono::milliseconds poll_interval{100};   // databricks: first wait between status polls
  int line = 0;
};

struct Config {
  std::string source = "<built-in default>";  // the file it came from
  std::string log_level = "info";
  HttpOptions http;
  http::ResultOptions results;                        // server.results
  trino_protocol::TrinoProtocolOptions trino_protocol;  // server.trino_protocol
  pgwire::PgwireOptions pgwire;                       // server.pgwire
  std::vector<UserAccount> users;                     // users:
  governance::AuthOptions auth;                       // auth: (anonymous access defaults in load_config)
  governance::PolicyOptions governance;               // governance:
  std::string admin_group = "admin";                  // governance.admin_group: may read GET /v1/audit
  telemetry::HistoryOptions history;                  // history: (path defaults to default_history_path())
  PipelineOptions pipeline;
  CatalogOptions catalog;
  DuckDBEngineOptions duckdb;
  // Every engine routing knows, the embedded DuckDB ("duckdb") first, then those declared under
  // `engines:` in file order (engines not connected yet may be declared for routing).
  std::vector<routing::EngineProfile> engine_profiles;
  std::vector<EngineConnection> connections;  // engines to connect, in `engines:` order
  routing::RoutingPolicy routing;
};

// The embedded default: DuckDB over the demo lake in `lake_dir`.
Config default_config(const std::string& lake_dir);

// Reads and validates a configuration file; relative paths resolve against its folder.
Result<Config> load_config(const std::string& path);

// Where the demo lake lives when no configuration names one:
// $LAKEROUTER_LAKE_DIR, else $LAKEROUTER_CACHE/lake/sf1, else ~/.cache/lakerouter/lake/sf1.
std::string default_lake_dir();

// Where the history store (audit log) lives when the configuration names no `history.path`:
// $XDG_STATE_HOME/lakerouter/history.db, else ~/.local/state/lakerouter/history.db.
std::string default_history_path();

}  // namespace lakerouter
