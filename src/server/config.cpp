#include "server/config.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "core/yaml_reader.h"
#include "routing/policy_config.h"
#include "routing/router.h"

#ifndef LAKEROUTER_DEFAULT_EXTENSION_DIR
#define LAKEROUTER_DEFAULT_EXTENSION_DIR ""
#endif

namespace lakerouter {
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

Status check_port(const YamlReader& r, const YAML::Node& node, const std::string& where, int port) {
  if (port < 0 || port > 65535) {
    return r.error(node["port"], "'" + where + ".port' must be between 0 (any free port) and 65535");
  }
  return Status::Ok();
}

Status read_pgwire(const YamlReader& r, const YAML::Node& node, Config& c) {
  const std::string where = "server.pgwire";
  LR_TRY(r.check_keys(node, where,
                      {"enabled", "host", "port", "tls_cert", "tls_key", "require_tls", "auth", "max_message_bytes",
                       "max_connections", "io_threads", "startup_timeout_ms"}));
  auto& o = c.pgwire;
  LR_TRY(r.get(node, "enabled", where, o.enabled));
  LR_TRY(r.get(node, "host", where, o.host));
  LR_TRY(r.get(node, "port", where, o.port));
  LR_TRY(check_port(r, node, where, o.port));
  LR_TRY(r.get_path(node, "tls_cert", where, o.tls_cert));
  LR_TRY(r.get_path(node, "tls_key", where, o.tls_key));
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return r.error(node, "'" + where + "': set both 'tls_cert' and 'tls_key' (PEM files), or neither");
  }
  LR_TRY(r.get(node, "require_tls", where, o.require_tls));
  if (o.require_tls && o.tls_cert.empty()) {
    return r.error(node["require_tls"], "'" + where + ".require_tls' needs 'tls_cert' and 'tls_key'");
  }
  std::string auth = "scram-sha-256";
  LR_TRY(r.get(node, "auth", where, auth));
  if (auth == "scram-sha-256") {
    o.auth = pgwire::AuthMethod::kScramSha256;
  } else if (auth == "password") {
    o.auth = pgwire::AuthMethod::kPassword;
    if (o.tls_cert.empty() || !o.require_tls) {
      return r.error(node["auth"], "'" + where + ".auth: password' sends passwords in clear text: it needs "
                                   "'tls_cert', 'tls_key' and 'require_tls: true' (or use scram-sha-256)");
    }
  } else if (auth == "trust") {
    o.auth = pgwire::AuthMethod::kTrust;
  } else {
    return r.error(node["auth"], "'" + where + ".auth' must be scram-sha-256 (default), password or trust, not '" +
                                     auth + "'");
  }
  LR_TRY(r.get(node, "max_message_bytes", where, o.max_message_bytes));
  if (o.max_message_bytes < 1024) return r.error(node["max_message_bytes"], "'" + where + ".max_message_bytes' must be at least 1024");
  LR_TRY(r.get(node, "max_connections", where, o.max_connections));
  LR_TRY(r.get(node, "io_threads", where, o.io_threads));
  if (o.max_connections < 1 || o.io_threads < 1) {
    return r.error(node, "'" + where + ".max_connections' and 'io_threads' must be at least 1");
  }
  LR_TRY(r.get_ms(node, "startup_timeout_ms", where, o.startup_timeout));
  return Status::Ok();
}

Status read_trino_protocol(const YamlReader& r, const YAML::Node& node, Config& c) {
  const std::string where = "server.trino_protocol";
  LR_TRY(r.check_keys(node, where, {"enabled", "target_page_bytes", "max_wait_ms", "abandoned_after_ms", "environment"}));
  auto& o = c.trino_protocol;
  LR_TRY(r.get(node, "enabled", where, o.enabled));
  LR_TRY(r.get(node, "target_page_bytes", where, o.target_page_bytes));
  if (o.target_page_bytes < 1024) return r.error(node["target_page_bytes"], "'" + where + ".target_page_bytes' must be at least 1024");
  LR_TRY(r.get_ms(node, "max_wait_ms", where, o.max_wait));
  LR_TRY(r.get_ms(node, "abandoned_after_ms", where, o.abandoned_after));
  LR_TRY(r.get(node, "environment", where, o.environment));
  return Status::Ok();
}

Status read_results(const YamlReader& r, const YAML::Node& node, Config& c) {
  const std::string where = "server.results";
  LR_TRY(r.check_keys(node, where,
                      {"async_ttl_ms", "async_max_queries", "async_max_result_bytes", "async_spill_dir", "page_rows"}));
  auto& o = c.results;
  LR_TRY(r.get_ms(node, "async_ttl_ms", where, o.async_ttl));
  LR_TRY(r.get(node, "async_max_queries", where, o.async_max_queries));
  LR_TRY(r.get(node, "async_max_result_bytes", where, o.async_max_result_bytes));
  LR_TRY(r.get_path(node, "async_spill_dir", where, o.async_spill_dir));
  LR_TRY(r.get(node, "page_rows", where, o.page_rows));
  if (o.async_max_queries < 1 || o.page_rows < 1) {
    return r.error(node, "'" + where + ".async_max_queries' and 'page_rows' must be at least 1");
  }
  return Status::Ok();
}

// governance: {rules_file, reload_interval_ms, admin_group, allow_scripts}. The file is read now, so that `serve` and
// `check-config` refuse a policy with mistakes before anything runs.
Status read_governance(const YamlReader& r, const YAML::Node& node, Config& c) {
  LR_TRY(r.check_keys(node, "governance", {"rules_file", "reload_interval_ms", "admin_group", "allow_scripts"}));
  LR_TRY(r.get(node, "allow_scripts", "governance", c.pipeline.lockdown.allow_scripts));
  std::string rules_file;
  LR_TRY(r.get_path(node, "rules_file", "governance", rules_file));
  LR_TRY(r.get(node, "admin_group", "governance", c.admin_group));
  if (c.admin_group.empty()) {
    return r.error(node["admin_group"], "'governance.admin_group' names the group whose members may read the audit "
                                        "log (GET /v1/audit); it cannot be empty (default: admin)");
  }
  c.governance.rules_file = rules_file;
  LR_TRY(r.get_ms(node, "reload_interval_ms", "governance", c.governance.reload_interval));
  if (c.governance.reload_interval.count() < 0) return r.error(node, "'governance.reload_interval_ms' must be 0 (never) or more");
  if (!rules_file.empty()) {
    if (auto policy = governance::Policy::load(rules_file); !policy.ok()) return policy.error();
  }
  return Status::Ok();
}

// history: {path, audit, audit_retention_days, queue_capacity}: the history store (audit log).
Status read_history(const YamlReader& r, const YAML::Node& node, Config& c) {
  if (!node.IsMap()) {
    return r.error(node, "'history' must be a mapping, e.g. {path: /var/lib/lakerouter/history.db, audit: true, "
                         "audit_retention_days: 90}");
  }
  LR_TRY(r.check_keys(node, "history", {"path", "audit", "audit_retention_days", "queue_capacity"}));
  auto& h = c.history;
  LR_TRY(r.get_path(node, "path", "history", h.path));
  if (node["path"] && h.path.empty()) {
    return r.error(node["path"], "'history.path' must name the SQLite file, e.g. path: history.db (relative to "
                                 "this file's folder); leave it out for " + default_history_path());
  }
  LR_TRY(r.get(node, "audit", "history", h.audit));
  LR_TRY(r.get(node, "audit_retention_days", "history", h.audit_retention_days));
  if (h.audit_retention_days < 0 || h.audit_retention_days > 36500) {
    return r.error(node["audit_retention_days"], "'history.audit_retention_days' must be 0 (keep every record) or a "
                                                 "number of days up to 36500");
  }
  int64_t capacity = static_cast<int64_t>(h.queue_capacity);
  LR_TRY(r.get(node, "queue_capacity", "history", capacity));
  if (capacity < 1 || capacity > 10'000'000) {
    return r.error(node["queue_capacity"], "'history.queue_capacity' must be between 1 and 10000000 records");
  }
  h.queue_capacity = static_cast<size_t>(capacity);
  return Status::Ok();
}

// users[i].api_tokens: [{name, sha256}], the SHA-256 (hex) of each token (`lakerouter hash-token`).
Status read_api_tokens(const YamlReader& r, const YAML::Node& node, const std::string& where, const Config& c,
                       UserAccount& account) {
  const auto fix = "give each token as {name: laptop, sha256: <64 hex digits>}; `lakerouter hash-token` prints the "
                   "hash of a token read from stdin (never put the token itself in the file)";
  if (!node.IsSequence()) return r.error(node, fmt::format("'{}.api_tokens' must be a list: {}", where, fix));
  for (const auto& t : node) {
    const std::string at = fmt::format("{}.api_tokens[{}]", where, account.api_tokens.size());
    if (!t.IsMap()) return r.error(t, fmt::format("'{}': {}", at, fix));
    LR_TRY(r.check_keys(t, at, {"name", "sha256"}));
    ApiToken token;
    token.line = YamlReader::line_of(t);
    LR_TRY(r.get(t, "name", at, token.name));
    LR_TRY(r.get(t, "sha256", at, token.sha256));
    std::transform(token.sha256.begin(), token.sha256.end(), token.sha256.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    const bool hex = token.sha256.size() == 64 && std::all_of(token.sha256.begin(), token.sha256.end(),
                                                              [](unsigned char ch) { return std::isxdigit(ch); });
    if (!hex) return r.error(t["sha256"] ? t["sha256"] : t, fmt::format("'{}.sha256' must be 64 hex digits: {}", at, fix));
    const auto same = [&](const ApiToken& other) { return other.sha256 == token.sha256; };
    for (const auto& other_user : c.users) {
      for (const auto& other : other_user.api_tokens) {
        if (same(other)) return r.error(t, fmt::format("'{}': the same token is listed on line {} already", at, other.line));
      }
    }
    for (const auto& other : account.api_tokens) {
      if (same(other)) return r.error(t, fmt::format("'{}': the same token is listed on line {} already", at, other.line));
    }
    account.api_tokens.push_back(std::move(token));
  }
  return Status::Ok();
}

// users: [{name, groups, password_env | password | scram_sha256, api_tokens}]
Status read_users(const YamlReader& r, const YAML::Node& node, Config& c) {
  if (!node.IsSequence()) return r.error(node, "'users' must be a list of {name, groups, password_env} entries");
  for (const auto& u : node) {
    const std::string where = "users[" + std::to_string(c.users.size()) + "]";
    LR_TRY(r.check_keys(u, where, {"name", "groups", "password_env", "password", "scram_sha256", "api_tokens"}));
    UserAccount account;
    account.line = YamlReader::line_of(u);
    LR_TRY(r.get(u, "name", where, account.name));
    if (account.name.empty()) return r.error(u, "'" + where + ".name' is required");
    for (const auto& other : c.users) {
      if (other.name == account.name) {
        return r.error(u, fmt::format("user '{}' is declared twice (first on line {})", account.name, other.line));
      }
    }
    LR_TRY(r.get_strings(u, "groups", where, account.groups));
    std::string password_env;
    LR_TRY(r.get(u, "password_env", where, password_env));
    LR_TRY(r.get(u, "password", where, account.password));
    LR_TRY(r.get(u, "scram_sha256", where, account.scram_sha256));
    const int secrets = !password_env.empty() + !account.password.empty() + !account.scram_sha256.empty();
    if (secrets > 1) {
      return r.error(u, "'" + where + "': give one of password_env, password or scram_sha256");
    }
    if (!password_env.empty()) {
      const char* value = std::getenv(password_env.c_str());
      if (!value || !*value) {
        return r.error(u["password_env"], fmt::format("'{}.password_env': the environment variable {} is not set",
                                                      where, password_env));
      }
      account.password = value;
    }
    // Parsed here, not only by the Authenticator, so that a bad verifier is reported with its line.
    if (!account.scram_sha256.empty() && !ScramVerifier::parse(account.scram_sha256).ok()) {
      return r.error(u["scram_sha256"], "'" + where +
                                            ".scram_sha256' must be a verifier "
                                            "'SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>' "
                                            "(as PostgreSQL's pg_authid stores it)");
    }
    if (account.name == governance::kAnonymousUser) {
      return r.error(u["name"], "'anonymous' is the name of sessions without credentials (auth.anonymous); give "
                                "the account another name");
    }
    if (const YAML::Node tokens = u["api_tokens"]) LR_TRY(read_api_tokens(r, tokens, where, c, account));
    c.users.push_back(std::move(account));
  }
  return Status::Ok();
}

// auth: {anonymous, jwt: {algorithm, secret_env | public_key_file, issuer, audience, user_claim,
// groups_claim, leeway_s}}
Status read_auth(const YamlReader& r, const YAML::Node& node, Config& c) {
  if (!node.IsMap()) return r.error(node, "'auth' must be a mapping, e.g. {anonymous: none, jwt: {...}}");
  LR_TRY(r.check_keys(node, "auth", {"anonymous", "jwt"}));
  if (const YAML::Node anonymous = node["anonymous"]) {
    const std::string value = YamlReader::describe(anonymous);
    if (value == "none" || value == "false") {
      c.auth.anonymous = governance::AnonymousAccess::kNone;
    } else if (value == "loopback") {
      c.auth.anonymous = governance::AnonymousAccess::kLoopback;
    } else if (value == "any") {
      c.auth.anonymous = governance::AnonymousAccess::kAny;
    } else {
      return r.error(anonymous, fmt::format("'auth.anonymous' must be none (credentials always), loopback (clients on "
                                            "this machine need none) or any, not '{}'",
                                            value));
    }
    c.auth.anonymous_by_default = false;
  }
  const YAML::Node jwt = node["jwt"];
  if (!jwt) return Status::Ok();
  const std::string where = "auth.jwt";
  if (!jwt.IsMap()) return r.error(jwt, "'auth.jwt' must be a mapping, e.g. {algorithm: RS256, public_key_file: idp.pem}");
  LR_TRY(r.check_keys(jwt, where, {"algorithm", "secret_env", "public_key_file", "issuer", "audience", "user_claim",
                                   "groups_claim", "leeway_s"}));
  auto& o = c.auth.jwt;
  o.enabled = true;
  LR_TRY(r.get(jwt, "algorithm", where, o.algorithm));
  static constexpr std::string_view kAlgorithms[] = {"HS256", "HS384", "HS512", "RS256", "RS384",
                                                     "RS512", "ES256", "ES384", "ES512"};
  if (!jwt["algorithm"]) {
    return r.error(jwt, fmt::format("'auth.jwt.algorithm' is required: one of {}", fmt::join(kAlgorithms, ", ")));
  }
  if (std::find(std::begin(kAlgorithms), std::end(kAlgorithms), o.algorithm) == std::end(kAlgorithms)) {
    return r.error(jwt["algorithm"], fmt::format("'auth.jwt.algorithm' must be one of {}, not '{}'",
                                                 fmt::join(kAlgorithms, ", "), o.algorithm));
  }
  std::string secret_env, key_file;
  LR_TRY(r.get(jwt, "secret_env", where, secret_env));
  LR_TRY(r.get_path(jwt, "public_key_file", where, key_file));
  if (o.algorithm.starts_with("HS")) {
    if (secret_env.empty() || !key_file.empty()) {
      return r.error(jwt, fmt::format("'auth.jwt': {} takes a shared secret: give secret_env (the name of the "
                                      "environment variable holding it), not public_key_file",
                                      o.algorithm));
    }
    const char* secret = std::getenv(secret_env.c_str());  // NOLINT(concurrency-mt-unsafe): start-up only
    if (!secret || !*secret) {
      return r.error(jwt["secret_env"], fmt::format("'auth.jwt.secret_env': the environment variable {} is not set",
                                                    secret_env));
    }
    o.key = secret;
    if (o.key.size() < 32) {
      return r.error(jwt["secret_env"], fmt::format("'auth.jwt.secret_env': the secret in {} is shorter than 32 "
                                                    "bytes; {} needs a long random secret (openssl rand -hex 32)",
                                                    secret_env, o.algorithm));
    }
  } else {
    if (key_file.empty() || !secret_env.empty()) {
      return r.error(jwt, fmt::format("'auth.jwt': {} verifies with the issuer's public key: give public_key_file (a "
                                      "PEM file), not secret_env",
                                      o.algorithm));
    }
    std::ifstream in(key_file);
    if (!in) return r.error(jwt["public_key_file"], fmt::format("'auth.jwt.public_key_file': cannot read {}", key_file));
    std::ostringstream text;
    text << in.rdbuf();
    o.key = text.str();
  }
  LR_TRY(r.get(jwt, "issuer", where, o.issuer));
  LR_TRY(r.get(jwt, "audience", where, o.audience));
  LR_TRY(r.get(jwt, "user_claim", where, o.user_claim));
  LR_TRY(r.get(jwt, "groups_claim", where, o.groups_claim));
  if (o.user_claim.empty() || o.groups_claim.empty()) {
    return r.error(jwt, "'auth.jwt.user_claim' and 'groups_claim' name claims; they cannot be empty");
  }
  int64_t leeway = o.leeway.count();
  LR_TRY(r.get(jwt, "leeway_s", where, leeway));
  if (leeway < 0 || leeway > 3600) return r.error(jwt["leeway_s"], "'auth.jwt.leeway_s' must be between 0 and 3600");
  o.leeway = std::chrono::seconds(leeway);
  return Status::Ok();
}

Status read_server(const YamlReader& r, const YAML::Node& node, Config& c) {
  LR_TRY(r.check_keys(node, "server",
                      {"log_level", "query_timeout_ms", "max_query_timeout_ms", "http", "engine_monitor", "pgwire",
                       "trino_protocol", "results"}));
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
    LR_TRY(check_port(r, http, "server.http", c.http.port));
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
  if (const YAML::Node monitor = node["engine_monitor"]) {
    const std::string where = "server.engine_monitor";
    LR_TRY(r.check_keys(monitor, where, {"failure_threshold", "open_for_ms", "health_check_interval_ms"}));
    auto& m = c.pipeline.monitor;
    LR_TRY(r.get(monitor, "failure_threshold", where, m.failure_threshold));
    if (m.failure_threshold < 1) {
      return r.error(monitor["failure_threshold"], "'" + where + ".failure_threshold' must be at least 1");
    }
    LR_TRY(r.get_ms(monitor, "open_for_ms", where, m.open_for));
    int64_t check_ms = m.check_interval.count();
    LR_TRY(r.get(monitor, "health_check_interval_ms", where, check_ms));
    if (check_ms < 0) {
      return r.error(monitor["health_check_interval_ms"],
                     "'" + where + ".health_check_interval_ms' must be 0 (no health checks) or a positive number of "
                                   "milliseconds");
    }
    m.check_interval = std::chrono::milliseconds(check_ms);
  }
  if (const YAML::Node pg = node["pgwire"]) LR_TRY(read_pgwire(r, pg, c));
  if (const YAML::Node trino = node["trino_protocol"]) LR_TRY(read_trino_protocol(r, trino, c));
  if (const YAML::Node results = node["results"]) LR_TRY(read_results(r, results, c));
  return Status::Ok();
}

Status read_catalog(const YamlReader& r, const YAML::Node& node, Config& c) {
  LR_TRY(r.check_keys(node, "catalog", {"lake_dir", "refresh_interval_ms", "tables"}));
  LR_TRY(r.get_path(node, "lake_dir", "catalog", c.catalog.lake_dir));
  int64_t refresh_ms = c.catalog.refresh_interval.count();
  LR_TRY(r.get(node, "refresh_interval_ms", "catalog", refresh_ms));
  if (refresh_ms < 0) {
    return r.error(node["refresh_interval_ms"],
                   "'catalog.refresh_interval_ms' must be 0 (never refresh) or a positive number of milliseconds");
  }
  c.catalog.refresh_interval = std::chrono::milliseconds(refresh_ms);
  if (const YAML::Node tables = node["tables"]) {
    if (!tables.IsSequence()) return r.error(tables, "'catalog.tables' must be a list of tables");
    for (const auto& t : tables) {
      LR_TRY(r.check_keys(t, "catalog.tables[]", {"name", "format", "location", "key_columns"}));
      TableDeclaration decl;
      decl.line = t.Mark().line + 1;
      LR_TRY(r.get(t, "name", "catalog.tables[]", decl.name));
      LR_TRY(r.get_path(t, "location", "catalog.tables[]", decl.location));
      LR_TRY(r.get_strings(t, "key_columns", "catalog.tables[]", decl.key_columns));
      if (decl.name.empty()) {
        return r.error(t, "each table needs 'name' (schema.table), and 'location' (a folder or metadata file) "
                          "unless it annotates a table discovered in lake_dir");
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

// `engines.<name>.admission`: the engine's concurrency limit and queue (engines/admission.h).
Status read_admission(const YamlReader& r, const YAML::Node& node, const std::string& name, Config& c) {
  const std::string where = "engines." + name + ".admission";
  if (!node.IsMap()) {
    return r.error(node, "'" + where + "' must be a mapping, e.g. {max_concurrent: 8, max_queued: 32, "
                         "max_queue_wait_ms: 10000}");
  }
  LR_TRY(r.check_keys(node, where, {"max_concurrent", "max_queued", "max_queue_wait_ms"}));
  AdmissionLimits limits;
  LR_TRY(r.get(node, "max_concurrent", where, limits.max_concurrent));
  if (limits.max_concurrent < 1) {
    return r.error(node["max_concurrent"] ? node["max_concurrent"] : node,
                   "'" + where + ".max_concurrent' is required and must be at least 1 (leave 'admission' out for no limit)");
  }
  LR_TRY(r.get(node, "max_queued", where, limits.max_queued));
  if (limits.max_queued < 0) return r.error(node["max_queued"], "'" + where + ".max_queued' must not be negative");
  LR_TRY(r.get_ms(node, "max_queue_wait_ms", where, limits.max_queue_wait));
  c.pipeline.admission[name] = limits;
  return Status::Ok();
}

// Engine names are what rules and /*+ engine(name) */ hints refer to.
bool valid_engine_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::islower(c) || std::isdigit(c) || c == '_' || c == '-';
  });
}

// `engines.<name>.connection`: how to reach a PostgreSQL, Trino or Databricks SQL engine.
Status read_connection(const YamlReader& r, const YAML::Node& node, const std::string& name, routing::EngineType type,
                       Config& c) {
  const std::string where = "engines." + name + ".connection";
  if (!node.IsMap()) {
    return r.error(node, "'" + where + "' must be a mapping (dsn: ... for postgres, url: ... for trino, host: ... for "
                                       "databricks)");
  }
  EngineConnection conn;
  conn.name = name;
  conn.type = type;
  conn.line = YamlReader::line_of(node);
  LR_TRY(r.get_ms(node, "connect_timeout_ms", where, conn.connect_timeout));
  switch (type) {
    case routing::EngineType::kPostgres:
      LR_TRY(r.check_keys(node, where, {"dsn", "pool_size", "idle_timeout_ms", "connect_timeout_ms"}));
      LR_TRY(r.get_expanded(node, "dsn", where, conn.dsn));
      if (conn.dsn.empty()) {
        return r.error(node, "'" + where + ".dsn' is required, e.g. dsn: ${LAKEROUTER_PG_DSN} or "
                             "postgresql://user@host:5432/db");
      }
      LR_TRY(r.get(node, "pool_size", where, conn.pool_size));
      if (conn.pool_size < 1) return r.error(node["pool_size"], "'" + where + ".pool_size' must be at least 1");
      LR_TRY(r.get_ms(node, "idle_timeout_ms", where, conn.idle_timeout));
      break;
    case routing::EngineType::kTrino:
      LR_TRY(r.check_keys(node, where, {"url", "user", "catalog", "schema", "catalogs", "connect_timeout_ms"}));
      LR_TRY(r.get_expanded(node, "url", where, conn.url));
      if (!conn.url.starts_with("http://") && !conn.url.starts_with("https://")) {
        return r.error(node, "'" + where + ".url' must be the coordinator's http:// or https:// address, e.g. "
                             "url: ${LAKEROUTER_TRINO_URL}");
      }
      LR_TRY(r.get(node, "user", where, conn.user));
      LR_TRY(r.get(node, "catalog", where, conn.catalog));
      LR_TRY(r.get(node, "schema", where, conn.schema));
      if (const YAML::Node catalogs = node["catalogs"]) {
        if (!catalogs.IsMap()) {
          return r.error(catalogs, "'" + where + ".catalogs' maps table formats to Trino catalogs, e.g. "
                                   "{iceberg: iceberg, parquet: hive}");
        }
        for (const auto& kv : catalogs) {
          const auto format = kv.first.as<std::string>();
          if (format != "postgres" && !parse_table_format(format)) {
            return r.error(kv.first, fmt::format("'{}.catalogs' has unknown table format '{}' (allowed: delta, "
                                                 "iceberg, parquet, postgres)", where, format));
          }
          if (!kv.second.IsScalar() || kv.second.as<std::string>().empty()) {
            return r.error(kv.second, fmt::format("'{}.catalogs.{}' must name a Trino catalog", where, format));
          }
          conn.catalogs[format] = kv.second.as<std::string>();
        }
      }
      break;
    case routing::EngineType::kDatabricks: {
      LR_TRY(r.check_keys(node, where, {"host", "warehouse_id", "token_env", "catalog", "schema", "wait_timeout_ms",
                                        "poll_interval_ms", "connect_timeout_ms"}));
      LR_TRY(r.get_expanded(node, "host", where, conn.url));
      if (conn.url.empty() || (conn.url.find("://") != std::string::npos && !conn.url.starts_with("https://") &&
                               !conn.url.starts_with("http://"))) {
        return r.error(node, "'" + where + ".host' must be the workspace URL, e.g. "
                             "host: https://adb-1234567890123456.7.azuredatabricks.net or host: ${DATABRICKS_HOST}");
      }
      LR_TRY(r.get_expanded(node, "warehouse_id", where, conn.warehouse_id));
      if (conn.warehouse_id.empty() || !std::all_of(conn.warehouse_id.begin(), conn.warehouse_id.end(), [](unsigned char ch) {
            return std::isalnum(ch) || ch == '-' || ch == '_';
          })) {
        return r.error(node, "'" + where + ".warehouse_id' must be the SQL warehouse's id (its Connection details "
                             "show it in the HTTP path /sql/1.0/warehouses/<id>)");
      }
      LR_TRY(r.get(node, "token_env", where, conn.token_env));
      const bool env_name = !conn.token_env.empty() && !std::isdigit(static_cast<unsigned char>(conn.token_env[0])) &&
                            std::all_of(conn.token_env.begin(), conn.token_env.end(),
                                        [](unsigned char ch) { return std::isalnum(ch) || ch == '_'; });
      if (!env_name) {
        return r.error(node["token_env"], "'" + where + ".token_env' names the environment variable that holds the "
                                          "token (default DATABRICKS_TOKEN); never put the token itself in the file");
      }
      const char* token = std::getenv(conn.token_env.c_str());  // NOLINT(concurrency-mt-unsafe): start-up only
      if (!token || !*token) {
        return r.error(node, fmt::format("'{}': the environment variable {} is not set; export it with a Databricks "
                                         "personal access token or OAuth access token, or name another variable in "
                                         "token_env",
                                         where, conn.token_env));
      }
      LR_TRY(r.get(node, "catalog", where, conn.catalog));
      LR_TRY(r.get(node, "schema", where, conn.schema));
      int64_t wait_ms = conn.wait_timeout.count();
      LR_TRY(r.get(node, "wait_timeout_ms", where, wait_ms));
      if (wait_ms != 0 && (wait_ms < 5000 || wait_ms > 50000)) {
        return r.error(node["wait_timeout_ms"], "'" + where + ".wait_timeout_ms' must be 0 (poll at once) or "
                                                "between 5000 and 50000, the waits Databricks accepts");
      }
      conn.wait_timeout = std::chrono::milliseconds(wait_ms);
      LR_TRY(r.get_ms(node, "poll_interval_ms", where, conn.poll_interval));
      break;
    }
    default:
      return r.error(node, fmt::format("engines of type {} cannot be connected yet; remove '{}' to declare {} for "
                                       "routing only",
                                       routing::engine_type_name(type), where, name));
  }
  c.connections.push_back(std::move(conn));
  return Status::Ok();
}

// `engines.duckdb` holds the embedded DuckDB's options; any other entry declares an engine for
// routing by its `type`. Every engine may carry `capabilities` and `pricing` (routing/).
Status read_engines(const YamlReader& r, const YAML::Node& node, Config& c) {
  if (!node.IsMap()) return r.error(node, "'engines' must be a mapping of engine names to their settings");
  for (const auto& kv : node) {
    const auto name = kv.first.as<std::string>();
    const YAML::Node e = kv.second;
    const std::string where = "engines." + name;
    if (name == "duckdb") {
      LR_TRY(r.check_keys(e, where,
                          {"threads", "memory_limit", "pool_size", "pool_wait_ms", "extension_directory", "extensions",
                           "type", "capabilities", "pricing", "admission"}));
      if (e["type"] && YamlReader::describe(e["type"]) != "duckdb") {
        return r.error(e["type"], "'engines.duckdb' is the embedded DuckDB: its 'type' can only be duckdb "
                                  "(declare other engines under their own names)");
      }
      LR_TRY(r.get(e, "threads", where, c.duckdb.threads));
      LR_TRY(r.get(e, "memory_limit", where, c.duckdb.memory_limit));
      LR_TRY(r.get(e, "pool_size", where, c.duckdb.pool_size));
      if (c.duckdb.pool_size < 1) return r.error(e["pool_size"], "'engines.duckdb.pool_size' must be at least 1");
      LR_TRY(r.get_ms(e, "pool_wait_ms", where, c.duckdb.pool_wait));
      LR_TRY(r.get_path(e, "extension_directory", where, c.duckdb.extension_directory));
      if (const YAML::Node ext = e["extensions"]) {
        if (!ext.IsSequence()) return r.error(ext, "'engines.duckdb.extensions' must be a list of extension names");
        c.duckdb.load_extensions.clear();
        for (const auto& x : ext) c.duckdb.load_extensions.push_back(x.as<std::string>());
      }
      // default_config() put the embedded engine's profile first.
      if (const YAML::Node admission = e["admission"]) LR_TRY(read_admission(r, admission, name, c));
      c.engine_profiles.front().line = YamlReader::line_of(kv.first);
      LR_TRY(routing::read_engine_profile(r, e, where, c.engine_profiles.front()));
      continue;
    }
    if (!e.IsMap() || !e["type"]) {
      return r.error(kv.first, fmt::format("unknown key '{}' in 'engines' (allowed keys: duckdb); to declare an engine "
                                           "named '{}', give it a 'type': duckdb, postgres, trino or databricks",
                                           name, name));
    }
    LR_TRY(r.check_keys(e, where, {"type", "capabilities", "pricing", "connection", "admission"}));
    if (!valid_engine_name(name)) {
      return r.error(kv.first, fmt::format("engine name '{}' may only hold lower-case letters, digits, _ and -", name));
    }
    const auto type = routing::parse_engine_type(YamlReader::describe(e["type"]));
    if (!type) {
      return r.error(e["type"], fmt::format("'{}.type' must be duckdb, postgres, trino or databricks, not '{}'", where,
                                            YamlReader::describe(e["type"])));
    }
    routing::EngineProfile profile = routing::default_engine_profile(name, *type);
    profile.line = YamlReader::line_of(kv.first);
    LR_TRY(routing::read_engine_profile(r, e, where, profile));
    c.engine_profiles.push_back(std::move(profile));
    if (const YAML::Node conn = e["connection"]) LR_TRY(read_connection(r, conn, name, *type, c));
    if (const YAML::Node admission = e["admission"]) LR_TRY(read_admission(r, admission, name, c));
  }
  return Status::Ok();
}

}  // namespace

std::string default_lake_dir() { return env_or("LAKEROUTER_LAKE_DIR", cache_dir() + "/lake/sf1"); }

std::string default_history_path() {
  return env_or("XDG_STATE_HOME", env_or("HOME", "/tmp") + "/.local/state") + "/lakerouter/history.db";
}

Config default_config(const std::string& lake_dir) {
  Config c;
  c.catalog.lake_dir = lake_dir;
  c.duckdb.extension_directory = default_extension_dir();
  c.catalog.extension_directory = c.duckdb.extension_directory;
  c.engine_profiles.push_back(routing::default_engine_profile("duckdb", routing::EngineType::kDuckDB));
  c.history.path = default_history_path();
  // The demo's one account, so that psql and JDBC can log in with SCRAM out of the box; the
  // server says so at start-up. A configuration file has only the users it lists.
  UserAccount demo;
  demo.name = "lakerouter";
  demo.password = "lakerouter";
  c.users.push_back(std::move(demo));
  // The demo listens on loopback only and admits clients there without credentials; the server
  // says so at start-up.
  c.auth.anonymous = governance::AnonymousAccess::kLoopback;
  c.auth.anonymous_by_default = true;
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
  c.users.clear();  // the demo account is for running without a file only
  // So is anonymous access: a file requires credentials unless it sets auth.anonymous. Loopback
  // is no safe default here, as a reverse proxy on the same host makes every client local.
  c.auth.anonymous = governance::AnonymousAccess::kNone;
  if (root.IsNull()) return c;  // an empty file means all defaults
  const YamlReader r(path);
  c.routing.source = path;
  LR_TRY(r.check_keys(root, "<top level>", {"server", "catalog", "engines", "routing", "users", "governance",
                                           "history", "auth"}));
  if (root["server"]) LR_TRY(read_server(r, root["server"], c));
  if (root["catalog"]) LR_TRY(read_catalog(r, root["catalog"], c));
  if (root["engines"]) LR_TRY(read_engines(r, root["engines"], c));
  if (root["routing"]) LR_TRY(routing::read_routing_policy(r, root["routing"], c.routing));
  if (root["users"]) LR_TRY(read_users(r, root["users"], c));
  if (root["governance"]) LR_TRY(read_governance(r, root["governance"], c));
  if (root["history"]) LR_TRY(read_history(r, root["history"], c));
  if (root["auth"]) LR_TRY(read_auth(r, root["auth"], c));
  if (c.pgwire.auth == pgwire::AuthMethod::kTrust && c.auth.anonymous == governance::AnonymousAccess::kNone) {
    return r.error(root["server"]["pgwire"]["auth"],
                   "'server.pgwire.auth: trust' lets clients in without a password, which 'auth.anonymous: none' "
                   "forbids; set auth.anonymous to loopback (or any), or use scram-sha-256");
  }
  {
    // Verifiers and the JWT key are checked now, so that check-config refuses them too.
    const UserDirectory users(c.users);
    if (auto auth = governance::Authenticator::create(c.auth, users); !auth.ok()) {
      return Error(ErrorCode::kConfigError, fmt::format("{}: {}", path, auth.error().message));
    }
  }
  // The policy names catalogs as the Trino engine does.
  for (const auto& connection : c.connections) {
    for (const auto& [format, catalog] : connection.catalogs) c.governance.catalogs[format] = catalog;
  }
  c.catalog.extension_directory = c.duckdb.extension_directory;  // the catalog reads Iceberg manifests with avro
  // Cross-checks (unknown engines in rules, rules that can never match) at load, so that both
  // `serve` and `check-config` refuse such a file.
  if (auto router = routing::Router::create(c.routing, c.engine_profiles); !router.ok()) return router.error();
  return c;
}

}  // namespace lakerouter
