#include <cstdlib>

#include <gtest/gtest.h>

#include "config_test_util.h"
#include "server/config.h"

namespace lakerouter {
namespace {

using testing::TempDir;
using testing::write_file;

Result<Config> load(const TempDir& dir, const std::string& yaml) { return testing::load_yaml(dir, yaml); }

void expect_error(const Result<Config>& result, const std::string& fragment) {
  testing::expect_config_error(result, fragment);
}

TEST(Config, EmptyFileMeansDefaults) {
  TempDir dir;
  auto config = load(dir, "");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->http.host, "127.0.0.1");
  EXPECT_EQ(config->http.port, 8080);
  EXPECT_EQ(config->http.max_body_bytes, 1u << 20);
  EXPECT_EQ(config->pipeline.default_timeout, std::chrono::milliseconds(30000));
}

TEST(Config, ReadsEverySection) {
  TempDir dir;
  auto config = load(dir, R"(
server:
  log_level: debug
  query_timeout_ms: 5000
  http:
    host: 0.0.0.0
    port: 9000
    max_body_bytes: 2048
    worker_threads: 3
catalog:
  lake_dir: lake
  tables:
    - name: sales.orders
      format: delta
      location: /data/orders
engines:
  duckdb:
    threads: 2
    memory_limit: 1GB
    pool_size: 4
    extensions: [delta]
)");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->log_level, "debug");
  EXPECT_EQ(config->pipeline.default_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(config->http.host, "0.0.0.0");
  EXPECT_EQ(config->http.port, 9000);
  EXPECT_EQ(config->http.max_body_bytes, 2048u);
  EXPECT_EQ(config->http.worker_threads, 3);
  EXPECT_EQ(config->catalog.lake_dir, (dir.path() / "lake").string());  // relative to the file
  ASSERT_EQ(config->catalog.tables.size(), 1u);
  EXPECT_EQ(config->catalog.tables[0].name, "sales.orders");
  EXPECT_EQ(config->catalog.tables[0].format, TableFormat::kDelta);
  EXPECT_EQ(config->catalog.tables[0].line, 13);
  EXPECT_EQ(config->duckdb.threads, 2);
  EXPECT_EQ(config->duckdb.memory_limit, "1GB");
  EXPECT_EQ(config->duckdb.pool_size, 4);
  EXPECT_EQ(config->duckdb.load_extensions, std::vector<std::string>{"delta"});
}

TEST(Config, UnknownKeysGetASuggestionAndTheLine) {
  TempDir dir;
  expect_error(load(dir, "engines:\n  duckdb:\n    poolsize: 4\n"),
               "lakerouter.yaml:3: unknown key 'poolsize' in 'engines.duckdb' (did you mean 'pool_size'?)");
  expect_error(load(dir, "servr: {}\n"), ":1: unknown key 'servr' in '<top level>' (did you mean 'server'?)");
  expect_error(load(dir, "engines:\n  oracle: {}\n"), "unknown key 'oracle' in 'engines' (allowed keys: duckdb)");
}

TEST(Config, WrongTypesAndRanges) {
  TempDir dir;
  expect_error(load(dir, "server:\n  http:\n    port: eighty\n"), ":3: 'server.http.port' must be a whole number, not 'eighty'");
  expect_error(load(dir, "server:\n  http:\n    port: 70000\n"), "between 0 (any free port) and 65535");
  expect_error(load(dir, "server:\n  query_timeout_ms: -5\n"), "positive number of milliseconds");
  expect_error(load(dir, "server:\n  log_level: loud\n"), "'server.log_level' must be one of");
  expect_error(load(dir, "server:\n  http:\n    max_body_bytes: 10\n"), "at least 1024");
  expect_error(load(dir, "engines:\n  duckdb:\n    pool_size: 0\n"), "pool_size' must be at least 1");
  expect_error(load(dir, "catalog:\n  tables:\n    - name: a.b\n      location: x\n      format: csv\n"),
               ":5: 'format' must be delta, iceberg or parquet");
  expect_error(load(dir, "catalog:\n  tables:\n    - location: x\n"), "each table needs 'name'");
  expect_error(load(dir, "catalog:\n  refresh_interval_ms: -1\n"), "0 (never refresh) or a positive number");
  expect_error(load(dir, "catalog:\n  tables: yes\n"), "'catalog.tables' must be a list");
}

TEST(Config, EngineMonitorSettings) {
  TempDir dir;
  auto config = load(dir, "server:\n  engine_monitor:\n    failure_threshold: 1\n    open_for_ms: 500\n"
                          "    health_check_interval_ms: 0\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->pipeline.monitor.failure_threshold, 1);
  EXPECT_EQ(config->pipeline.monitor.open_for, std::chrono::milliseconds(500));
  EXPECT_EQ(config->pipeline.monitor.check_interval, std::chrono::milliseconds(0)) << "0: no health checks";
  auto defaults = load(dir, "server: {}\n");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->pipeline.monitor.check_interval, std::chrono::milliseconds(5000));
  expect_error(load(dir, "server:\n  engine_monitor:\n    failure_threshold: 0\n"), "must be at least 1");
  expect_error(load(dir, "server:\n  engine_monitor:\n    open_for_ms: 0\n"), "positive number of milliseconds");
  expect_error(load(dir, "server:\n  engine_monitor:\n    health_check_interval_ms: -1\n"),
               "0 (no health checks) or a positive number");
  expect_error(load(dir, "server:\n  engine_monitor:\n    failure_treshold: 5\n"), "did you mean 'failure_threshold'?");
}

TEST(Config, TheShippedExampleIsValid) {
  auto config = load_config(LAKEROUTER_SOURCE_DIR "/examples/lakerouter.yaml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->http.port, 8080);
  EXPECT_EQ(config->catalog.lake_dir.rfind(std::getenv("HOME"), 0), 0u);  // ~/ expanded
}

TEST(Config, SyntaxErrorsNameTheLine) {
  TempDir dir;
  expect_error(load(dir, "server:\n  http: [unclosed\n"), "lakerouter.yaml:");
  auto missing = load_config((dir.path() / "nope.yaml").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("cannot open the configuration file"), std::string::npos);
}

}  // namespace
}  // namespace lakerouter

namespace lakerouter {
namespace {

TEST(Config, EngineConnectionsExpandEnvironmentVariables) {
  testing::TempDir dir;
  ::setenv("LAKEROUTER_TEST_DSN", "postgresql://u:secret@127.0.0.1:5999/db", 1);
  auto c = load(dir,
                "engines:\n"
                "  pg:\n"
                "    type: postgres\n"
                "    connection:\n"
                "      dsn: ${LAKEROUTER_TEST_DSN}\n"
                "      pool_size: 3\n"
                "  trino:\n"
                "    type: trino\n"
                "    connection:\n"
                "      url: http://127.0.0.1:${LAKEROUTER_TEST_PORT_UNSET_X}\n");
  expect_error(c, "refers to ${LAKEROUTER_TEST_PORT_UNSET_X}, which is not set in the environment");
  ::setenv("LAKEROUTER_TEST_PORT_UNSET_X", "8081", 1);
  c = load(dir,
           "engines:\n"
           "  pg:\n"
           "    type: postgres\n"
           "    connection: {dsn: '${LAKEROUTER_TEST_DSN}', pool_size: 3}\n"
           "  trino:\n"
           "    type: trino\n"
           "    connection: {url: 'http://127.0.0.1:${LAKEROUTER_TEST_PORT_UNSET_X}', catalog: delta}\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->connections.size(), 2u);
  EXPECT_EQ(c->connections[0].name, "pg");
  EXPECT_EQ(c->connections[0].dsn, "postgresql://u:secret@127.0.0.1:5999/db");
  EXPECT_EQ(c->connections[0].pool_size, 3);
  EXPECT_EQ(c->connections[1].url, "http://127.0.0.1:8081");
  EXPECT_EQ(c->connections[1].catalog, "delta");
  ::unsetenv("LAKEROUTER_TEST_PORT_UNSET_X");
  ::unsetenv("LAKEROUTER_TEST_DSN");
}

TEST(Config, EngineConnectionMistakes) {
  testing::TempDir dir;
  expect_error(load(dir, "engines:\n  pg:\n    type: postgres\n    connection: {pool_size: 2}\n"),
               "'engines.pg.connection.dsn' is required");
  expect_error(load(dir, "engines:\n  t:\n    type: trino\n    connection: {url: 127.0.0.1:8080}\n"),
               "must be the coordinator's http:// or https:// address");
  expect_error(load(dir, "engines:\n  t:\n    type: trino\n    connection: {url: 'http://x', dsn: y}\n"),
               "dsn");
  expect_error(load(dir, "engines:\n  d:\n    type: databricks\n    connection: {url: 'http://x'}\n"),
               "unknown key 'url' in 'engines.d.connection' (allowed keys: host, warehouse_id, token_env");
}

TEST(Config, DatabricksConnection) {
  testing::TempDir dir;
  ::setenv("LAKEROUTER_TEST_DBX_TOKEN", "dapi-config-test", 1);
  ::setenv("LAKEROUTER_TEST_DBX_HOST", "https://adb-1.2.azuredatabricks.net", 1);
  auto c = load(dir,
                "engines:\n"
                "  lakehouse:\n"
                "    type: databricks\n"
                "    connection:\n"
                "      host: ${LAKEROUTER_TEST_DBX_HOST}\n"
                "      warehouse_id: 1234abcd5678ef90\n"
                "      token_env: LAKEROUTER_TEST_DBX_TOKEN\n"
                "      catalog: main\n"
                "      schema: tpch\n"
                "      wait_timeout_ms: 0\n"
                "      poll_interval_ms: 250\n"
                "      connect_timeout_ms: 2000\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->connections.size(), 1u);
  const auto& conn = c->connections[0];
  EXPECT_EQ(conn.type, routing::EngineType::kDatabricks);
  EXPECT_EQ(conn.url, "https://adb-1.2.azuredatabricks.net");
  EXPECT_EQ(conn.warehouse_id, "1234abcd5678ef90");
  EXPECT_EQ(conn.token_env, "LAKEROUTER_TEST_DBX_TOKEN");
  EXPECT_EQ(conn.catalog, "main");
  EXPECT_EQ(conn.schema, "tpch");
  EXPECT_EQ(conn.wait_timeout.count(), 0);
  EXPECT_EQ(conn.poll_interval.count(), 250);
  EXPECT_EQ(conn.connect_timeout.count(), 2000);
  for (const auto& [yaml, fragment] : std::vector<std::pair<std::string, std::string>>{
           {"{warehouse_id: w, token_env: LAKEROUTER_TEST_DBX_TOKEN}", "'engines.d.connection.host' must be the workspace URL"},
           {"{host: 'ftp://x', warehouse_id: w, token_env: LAKEROUTER_TEST_DBX_TOKEN}", "must be the workspace URL"},
           {"{host: h, token_env: LAKEROUTER_TEST_DBX_TOKEN}", "'engines.d.connection.warehouse_id' must be the SQL warehouse's id"},
           {"{host: h, warehouse_id: 'a/b', token_env: LAKEROUTER_TEST_DBX_TOKEN}", "warehouse_id' must be"},
           {"{host: h, warehouse_id: w, token_env: 'dapi 123'}", "never put the token itself in the file"},
           {"{host: h, warehouse_id: w, token_env: LAKEROUTER_TEST_DBX_UNSET}",
            "the environment variable LAKEROUTER_TEST_DBX_UNSET is not set"},
           {"{host: h, warehouse_id: w, token_env: LAKEROUTER_TEST_DBX_TOKEN, wait_timeout_ms: 60000}",
            "between 5000 and 50000"},
           {"{host: h, warehouse_id: w, token_env: LAKEROUTER_TEST_DBX_TOKEN, poll_interval_ms: 0}",
            "must be a positive number of milliseconds"},
           {"{host: h, warehouse_id: w, token_env: LAKEROUTER_TEST_DBX_TOKEN, warehose_id: x}", "did you mean 'warehouse_id'?"},
       }) {
    SCOPED_TRACE(yaml);
    auto bad = load(dir, "engines:\n  d:\n    type: databricks\n    connection: " + yaml + "\n");
    expect_error(bad, fragment);
    if (!bad.ok()) {
      EXPECT_NE(bad.error().message.find("lakerouter.yaml:4"), std::string::npos) << bad.error().message;
    }
  }
  ::unsetenv("LAKEROUTER_TEST_DBX_TOKEN");
  ::unsetenv("LAKEROUTER_TEST_DBX_HOST");
}

}  // namespace
}  // namespace lakerouter
