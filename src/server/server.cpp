#include "server/server.h"

#include <csignal>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engines/databricks/databricks_engine.h"
#include "engines/duckdb/duckdb_engine.h"
#include "engines/postgres/postgres_engine.h"
#include "engines/trino/trino_engine.h"
#include "frontends/http/endpoints.h"
#include "frontends/http/http_auth.h"
#include "frontends/http/http_server.h"
#include "frontends/pgwire/pgwire_server.h"
#include "frontends/trino/trino_frontend.h"
#include "server/calibration_keeper.h"
#include "telemetry/history_store.h"

namespace lakerouter {

namespace {

// How often what calibration learnt is saved to the history store (and once more at shutdown).
constexpr std::chrono::milliseconds kCalibrationSaveInterval{60'000};

// Opens (without connecting: servers may come up later) an engine declared with a `connection`.
Result<std::shared_ptr<Engine>> open_connected_engine(const EngineConnection& c) {
  switch (c.type) {
    case routing::EngineType::kPostgres: {
      PostgresEngineOptions o;
      o.name = c.name;
      o.dsn = c.dsn;
      o.pool_size = c.pool_size;
      o.idle_timeout = c.idle_timeout;
      o.connect_timeout = c.connect_timeout;
      auto engine = PostgresEngine::open(o);
      if (!engine.ok()) return engine.error();
      return std::shared_ptr<Engine>(std::move(*engine));
    }
    case routing::EngineType::kTrino: {
      TrinoEngineOptions o;
      o.name = c.name;
      o.url = c.url;
      if (!c.user.empty()) o.user = c.user;
      if (!c.catalog.empty()) o.catalog = c.catalog;
      o.schema = c.schema;
      for (const auto& [format, catalog] : c.catalogs) o.catalogs[format] = catalog;
      o.connect_timeout = c.connect_timeout;
      auto engine = TrinoEngine::open(o);
      if (!engine.ok()) return engine.error();
      return std::shared_ptr<Engine>(std::move(*engine));
    }
    case routing::EngineType::kDatabricks: {
      DatabricksEngineOptions o;
      o.name = c.name;
      o.host = c.url;
      o.warehouse_id = c.warehouse_id;
      o.token_env = c.token_env;
      o.catalog = c.catalog;
      o.schema = c.schema;
      o.connect_timeout = c.connect_timeout;
      o.wait_timeout = c.wait_timeout;
      o.poll_interval = c.poll_interval;
      auto engine = DatabricksEngine::open(o);
      if (!engine.ok()) return engine.error();
      return std::shared_ptr<Engine>(std::move(*engine));
    }
    default:
      return Error(ErrorCode::kConfigError, fmt::format("engine {}: its type cannot be connected yet", c.name));
  }
}

// Says at start-up who may get in and how; anonymous access is loud.
void log_authentication(const Config& c) {
  const auto& a = c.auth;
  size_t tokens = 0;
  for (const auto& u : c.users) tokens += u.api_tokens.size();
  spdlog::info("authentication: {} users, {} API tokens, JWT {}", c.users.size(), tokens,
               a.jwt.enabled ? fmt::format("{} (user from '{}', groups from '{}')", a.jwt.algorithm, a.jwt.user_claim,
                                           a.jwt.groups_claim)
                             : std::string("off"));
  switch (a.anonymous) {
    case governance::AnonymousAccess::kNone: break;
    case governance::AnonymousAccess::kLoopback:
      if (a.anonymous_by_default) {  // only the built-in demo: a configuration file defaults to none
        spdlog::warn("anonymous access is ON for clients on this machine (loopback) by default, as no configuration "
                     "file was given: they run as user 'anonymous' without credentials; with a configuration file, "
                     "credentials are required unless it sets auth.anonymous");
      } else {
        spdlog::warn("anonymous access is ON for clients on this machine (auth.anonymous: loopback): they run as "
                     "user 'anonymous' without credentials; behind a reverse proxy on this machine every client "
                     "counts as local; set auth.anonymous: none to require credentials");
      }
      break;
    case governance::AnonymousAccess::kAny:
      spdlog::warn("anonymous access is ON for every client (auth.anonymous: any): anyone who reaches a port runs "
                   "as user 'anonymous' without credentials");
      break;
  }
}

}  // namespace

struct Server::Impl {
  Config config;
  std::unique_ptr<LiveCatalog> catalog;
  std::unique_ptr<routing::Router> router;
  std::unique_ptr<governance::PolicyStore> policies;  // declared before the pipeline that reads it
  // The audit log (null when history.audit is off): declared before the pipeline and front-ends,
  // whose result streams write to it, so that it is closed (and drained) after them.
  std::unique_ptr<telemetry::HistoryStore> history;
  std::unique_ptr<Pipeline> pipeline;
  // Saves the pipeline's calibration in `history` (null without either); after both, so it goes first.
  std::unique_ptr<CalibrationKeeper> calibration_keeper;
  UserDirectory users;
  std::unique_ptr<governance::Authenticator> authenticator;  // reads `users`
  std::unique_ptr<http::Endpoints> endpoints;
  std::unique_ptr<trino_protocol::TrinoFrontend> trino_frontend;  // null when disabled
  std::unique_ptr<http::HttpServer> http_server;
  std::unique_ptr<pgwire::PgwireServer> pgwire_server;  // null when disabled
  int http_port = 0;
  int pgwire_port = 0;
};

Server::Server(Config config) : impl_(std::make_unique<Impl>()) { impl_->config = std::move(config); }

Server::~Server() { stop(); }

Status Server::start() {
  auto& s = *impl_;
  spdlog::info("configuration: {}", s.config.source);

  const auto load_started = std::chrono::steady_clock::now();
  auto catalog = Catalog::load(s.config.catalog);
  if (!catalog.ok()) return catalog.error();
  spdlog::info("catalog: {} tables (lake: {}), statistics read in {:.0f} ms", catalog->tables().size(),
               s.config.catalog.lake_dir.empty() ? "none" : s.config.catalog.lake_dir,
               std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_started).count());
  for (const auto& t : catalog->tables()) {
    for (const auto& note : t.stats->notes) spdlog::warn("catalog: {}: {}", t.qualified_name(), note);
  }
  s.catalog = std::make_unique<LiveCatalog>(std::move(*catalog), s.config.catalog);

  auto duckdb = DuckDBEngine::open(s.config.duckdb, *s.catalog->current());
  if (!duckdb.ok()) return duckdb.error();
  std::vector<std::shared_ptr<Engine>> engines;
  engines.push_back(std::move(*duckdb));
  spdlog::info("engine duckdb: {} connections, extensions from {}", s.config.duckdb.pool_size,
               s.config.duckdb.extension_directory);
  for (const auto& connection : s.config.connections) {
    auto engine = open_connected_engine(connection);
    if (!engine.ok()) {
      return Error(ErrorCode::kConfigError,
                   fmt::format("{}: engines.{}.connection: {}", s.config.source, connection.name, engine.error().message));
    }
    engines.push_back(std::move(*engine));
    std::string where = connection.url;  // never the DSN: it may hold a password
    if (connection.type == routing::EngineType::kPostgres) where = "PostgreSQL, DSN from the configuration";
    if (connection.type == routing::EngineType::kDatabricks) where += ", SQL warehouse " + connection.warehouse_id;
    spdlog::info("engine {}: {} ({})", connection.name, routing::engine_type_name(connection.type), where);
  }

  auto router = routing::Router::create(s.config.routing, s.config.engine_profiles);
  if (!router.ok()) return router.error();
  s.router = std::make_unique<routing::Router>(std::move(*router));
  spdlog::info("routing: {} engines declared, {} rules", s.router->engines().size(), s.router->policy().rules.size());

  auto policies = governance::PolicyStore::open(s.config.governance);
  if (!policies.ok()) return policies.error();
  s.policies = std::move(*policies);
  if (s.config.history.audit) {
    auto history = telemetry::HistoryStore::open(s.config.history);
    if (!history.ok()) return Error(history.error().code, "history (audit log): " + history.error().message);
    s.history = std::move(*history);
    spdlog::info("audit log: {} (schema version {}, records kept {})", s.history->path(), s.history->schema_version(),
                 s.config.history.audit_retention_days > 0
                     ? fmt::format("{} days", s.config.history.audit_retention_days)
                     : std::string("forever"));
  } else {
    spdlog::info("audit log: off (history.audit: false)");
  }
  PipelineOptions pipeline_options = s.config.pipeline;
  pipeline_options.audit = s.history.get();
  s.pipeline =
      std::make_unique<Pipeline>(std::move(engines), std::move(pipeline_options), *s.catalog, *s.router, s.policies.get());
  if (s.history && s.pipeline->calibrator()) {
    s.calibration_keeper = std::make_unique<CalibrationKeeper>(*s.pipeline->calibrator(), *s.history);
    s.calibration_keeper->restore();
    s.calibration_keeper->start(kCalibrationSaveInterval);
  }
  s.users = UserDirectory(s.config.users);
  if (s.config.source == "<built-in default>" && !s.users.empty()) {
    // The demo's well-known public default (README), not a secret: users need it to log in.
    spdlog::warn("demo account: user '{}', password '{}' (the documented demo default; a configuration file lists "
                 "its own users)",
                 s.users.all().front().name, s.users.all().front().password);
  }
  auto authenticator = governance::Authenticator::create(s.config.auth, s.users);
  if (!authenticator.ok()) return authenticator.error();
  s.authenticator = std::move(*authenticator);
  log_authentication(s.config);
  s.endpoints = std::make_unique<http::Endpoints>(*s.pipeline, *s.catalog, s.config.results,
                                                  http::AuditApi{s.history.get(), s.config.admin_group});
  if (s.config.trino_protocol.enabled) {
    s.trino_frontend =
        std::make_unique<trino_protocol::TrinoFrontend>(s.config.trino_protocol, *s.pipeline, *s.authenticator);
  }
  s.http_server = std::make_unique<http::HttpServer>(
      s.config.http, [endpoints = s.endpoints.get(), trino = s.trino_frontend.get(),
                      auth = s.authenticator.get()](http::Exchange& ex) {
        if (trino && trino->handle(ex)) return;  // the Trino protocol authenticates on its own
        if (!http::authenticate(ex, *auth)) return;  // answered 401
        endpoints->handle(ex);
      });
  auto port = s.http_server->start();
  if (!port.ok()) return port.error();
  s.http_port = *port;
  spdlog::info("HTTP API listening on http://{}:{}", s.config.http.host, s.http_port);
  if (s.config.pgwire.enabled) {
    pgwire::PgwireOptions pgwire_options = s.config.pgwire;
    pgwire_options.anonymous = s.config.auth.anonymous;
    s.pgwire_server = std::make_unique<pgwire::PgwireServer>(pgwire_options, *s.pipeline, *s.catalog, s.users);
    auto pg_port = s.pgwire_server->start();
    if (!pg_port.ok()) {
      return Error(pg_port.error().code, "PostgreSQL protocol (server.pgwire): " + pg_port.error().message);
    }
    s.pgwire_port = *pg_port;
    spdlog::info("PostgreSQL protocol listening on {}:{}", s.config.pgwire.host, s.pgwire_port);
  }
  s.catalog->start(s.config.catalog.refresh_interval);
  s.pipeline->monitor().start();
  if (s.config.catalog.refresh_interval.count() > 0) {
    spdlog::info("catalog: checking for new table snapshots every {} ms", s.config.catalog.refresh_interval.count());
  }
  return Status::Ok();
}

void Server::wait_for_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
}

void Server::stop() {
  if (impl_->pgwire_server) impl_->pgwire_server->stop();
  impl_->pgwire_server.reset();
  if (impl_->trino_frontend) impl_->trino_frontend->stop();
  if (impl_->http_server) impl_->http_server->stop();
  impl_->http_server.reset();
  if (impl_->catalog) impl_->catalog->stop();
  if (impl_->pipeline) impl_->pipeline->monitor().stop();
  if (impl_->calibration_keeper) impl_->calibration_keeper->stop();  // after the last statement ended
}

int Server::http_port() const { return impl_->http_port; }
int Server::pgwire_port() const { return impl_->pgwire_port; }

}  // namespace lakerouter
