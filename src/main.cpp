// lakerouter: one SQL endpoint in front of several engines.
//
//   lakerouter serve [--config FILE] [--lake DIR] [--port N]   run the router
//   lakerouter check-config FILE                               validate a configuration file
//   lakerouter route [--config FILE] [--lake DIR] "<sql>"      explain a routing decision, run nothing
//   lakerouter hash-token [--generate]                         SHA-256 of an API token (stdin), for users[].api_tokens
//   lakerouter version
#include <csignal>
#include <cstdio>
#include <iostream>
#include <iterator>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "catalog/catalog.h"
#include "catalog/live_catalog.h"
#include "governance/authenticator.h"
#include "governance/scram_verifier.h"
#include "routing/router.h"
#include "routing/router.h"
#include "server/config.h"
#include "server/pipeline.h"
#include "server/server.h"

namespace {

using namespace lakerouter;

// Blocks SIGINT/SIGTERM in every thread (threads inherit the mask) so that only
// Server::wait_for_signal() receives them.
void block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int report(const Error& error) {
  std::fprintf(stderr, "lakerouter: %s\n", error.message.c_str());
  return 2;
}

Result<Config> resolve_config(const std::string& config_path, const std::string& lake_dir) {
  if (!config_path.empty()) {
    auto config = load_config(config_path);
    if (config.ok() && !lake_dir.empty()) config->catalog.lake_dir = lake_dir;
    return config;
  }
  return default_config(lake_dir.empty() ? default_lake_dir() : lake_dir);
}

// `lakerouter hash-token`: the token comes from stdin (never the command line, which `ps` and
// shell histories show); only its hash goes to the configuration file.
int run_hash_token(bool generate) {
  std::string token;
  if (generate) {
    const std::string raw = random_bytes(32);
    if (raw.empty()) return report(Error(ErrorCode::kInternal, "no random bytes for a token"));
    token = "lr_" + sha256_hex(raw).substr(0, 40);
    std::cout << "token:  " << token << "\n";
  } else {
    const std::string input{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    // The whitespace the server ignores around a Bearer token, so that a file ending in a newline
    // (or CRLF, or spaces) hashes to what the server computes.
    token = std::string(governance::trim_token(input));
    if (token.empty()) return report(Error(ErrorCode::kInvalidRequest, "hash-token: give the token on stdin, e.g. "
                                                                       "lakerouter hash-token < token.txt"));
    if (token.find_first_of("\r\n") != std::string::npos) {
      return report(Error(ErrorCode::kInvalidRequest, "hash-token: stdin holds more than one line; give one token"));
    }
    if (token.size() < 16) {
      std::fprintf(stderr, "lakerouter: warning: a token of %zu characters is easy to guess; prefer "
                           "lakerouter hash-token --generate\n", token.size());
    }
  }
  std::cout << (generate ? "sha256: " : "") << sha256_hex(token) << "\n";
  return 0;
}

int run(int argc, char** argv) {
  CLI::App app{"lakerouter: routes each SQL statement to the cheapest engine that can run it"};
  app.require_subcommand(1);

  std::string config_path, lake_dir, log_level;
  int port = -1;
  int pgwire_port = -1;
  auto* serve = app.add_subcommand("serve", "run the router (default: embedded DuckDB over the demo lake)");
  serve->add_option("-c,--config", config_path, "configuration file (YAML); see docs/configuration.md");
  serve->add_option("--lake", lake_dir, "lake directory to discover tables in (overrides catalog.lake_dir)");
  serve->add_option("-p,--port", port, "HTTP port (overrides server.http.port; 0 picks a free port)");
  serve->add_option("--pgwire-port", pgwire_port,
                    "PostgreSQL protocol port (overrides server.pgwire.port; 0 picks a free port)");
  serve->add_option("--log-level", log_level, "trace, debug, info, warn, error");

  std::string check_path;
  auto* check = app.add_subcommand("check-config", "validate a configuration file and its catalog, then exit");
  check->add_option("file", check_path, "configuration file")->required();

  std::string route_sql, route_engine;
  auto* route = app.add_subcommand("route", "print where a statement would run and why, without running it");
  route->add_option("sql", route_sql, "one SQL statement")->required();
  route->add_option("-c,--config", config_path, "configuration file (YAML)");
  route->add_option("--lake", lake_dir, "lake directory (overrides catalog.lake_dir)");
  route->add_option("--engine", route_engine, "pin an engine, as the X-Lakerouter-Engine header does");

  bool generate_token = false;
  auto* hash_token = app.add_subcommand(
      "hash-token", "print the SHA-256 of an API token read from stdin, for users[].api_tokens[].sha256");
  hash_token->add_flag("--generate", generate_token, "make a new random token and print it with its hash");

  app.add_subcommand("version", "print the version");
  CLI11_PARSE(app, argc, argv);

  if (app.got_subcommand(hash_token)) return run_hash_token(generate_token);

  if (app.got_subcommand("version")) {
    std::cout << "lakerouter " << LAKEROUTER_VERSION << " (DuckDB " << LAKEROUTER_DUCKDB_VERSION << ")\n";
    return 0;
  }

  if (app.got_subcommand(check)) {
    auto config = load_config(check_path);
    if (!config.ok()) return report(config.error());
    auto catalog = Catalog::load(config->catalog);
    if (!catalog.ok()) return report(catalog.error());
    // load_config() ran these cross-checks already; building the Router here keeps check-config
    // honest should that ever change.
    auto router = routing::Router::create(config->routing, config->engine_profiles);
    if (!router.ok()) return report(router.error());
    std::cout << check_path << ": ok (" << catalog->tables().size() << " tables, " << router->engines().size()
              << " engines, " << router->policy().rules.size() << " routing rules)\n";
    return 0;
  }

  if (app.got_subcommand(route)) {
    auto config = resolve_config(config_path, lake_dir);
    if (!config.ok()) return report(config.error());
    auto catalog = Catalog::load(config->catalog);
    if (!catalog.ok()) return report(catalog.error());
    auto router = routing::Router::create(config->routing, config->engine_profiles);
    if (!router.ok()) return report(router.error());
    const LiveCatalog live(std::move(*catalog), config->catalog);  // not started: one snapshot
    Pipeline pipeline({}, config->pipeline, live, *router);         // routes only: no engine connected
    Session session;
    session.engine_request = route_engine;
    auto routed = pipeline.route(Statement{route_sql}, session);
    if (!routed.ok()) return report(routed.error());
    std::cout << routed->decision.to_json().dump(2) << "\n";
    return routed->decision.ok() ? 0 : 1;
  }

  block_termination_signals();
  auto config = resolve_config(config_path, lake_dir);
  if (!config.ok()) return report(config.error());
  if (port >= 0) config->http.port = port;
  if (pgwire_port >= 0) config->pgwire.port = pgwire_port;
  if (!log_level.empty()) config->log_level = log_level;
  // Logs go to stderr: stdout carries only the ready line that scripts wait for.
  spdlog::set_default_logger(spdlog::stderr_color_mt("lakerouter"));
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  Server server(std::move(*config));
  if (Status s = server.start(); !s.ok()) return report(s.error());
  // Lines scripts can wait for; the ports are the real ones even when 0 was asked. The ready
  // line comes last.
  if (server.pgwire_port() > 0) std::printf("lakerouter pgwire: 127.0.0.1:%d\n", server.pgwire_port());
  std::printf("lakerouter ready: http://127.0.0.1:%d\n", server.http_port());
  std::fflush(stdout);
  server.wait_for_signal();
  server.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // a bug: say so rather than abort without a word
    std::fprintf(stderr, "lakerouter: fatal internal error: %s\n", e.what());
    return 70;
  }
}
