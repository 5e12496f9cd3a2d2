// The seeds' rule sets shipped in examples/ route as their authors intended, and the routing
// parts of the configuration file (engines:, routing:) load and validate through load_config().
#include <gtest/gtest.h>

#include "routing/router.h"
#include "routing_test_util.h"
#include "config_test_util.h"
#include "server/config.h"
#include "test_util.h"

namespace lakerouter::routing {
namespace {

using sql::StatementKind;
using testing::eq;
using testing::ProfileBuilder;

Router load_example(const std::string& name) {
  auto config = load_config(std::string(LAKEROUTER_SOURCE_DIR "/examples/") + name);
  EXPECT_TRUE(config.ok()) << config.error().message;
  auto router = Router::create(config->routing, config->engine_profiles);
  EXPECT_TRUE(router.ok()) << router.error().message;
  return std::move(router).value();
}

// A statement of the examples, with the catalog's scan estimates (the lake is not needed).
struct Statement {
  const char* what;
  sql::QueryProfile profile;
  std::optional<double> rows = std::nullopt;
  std::optional<double> bytes = std::nullopt;
  const char* engine = "";
  DecisionStage stage = DecisionStage::kRule;
  const char* rule = "";
};

// Table facts as with the demo lake's catalog: tpch.* are Delta tables (the examples' hints add
// keys and governance; the catalog's statistics are replaced by each statement's estimates).
std::vector<TableFacts> lake_facts(const Router& router, const sql::QueryProfile& profile) {
  auto tables = resolve_tables(profile, Catalog{}, router.policy().tables);
  for (auto& t : tables) {
    if (t.format.empty() && !t.name.starts_with("app.")) t.format = "delta";
  }
  return tables;
}

void expect_routes(const Router& router, const std::vector<Statement>& statements) {
  for (const auto& s : statements) {
    const auto tables = lake_facts(router, s.profile);
    const Session session;
    const Decision d = router.decide(
        {.profile = s.profile, .session = session, .tables = tables, .estimated_rows = s.rows, .estimated_bytes = s.bytes});
    EXPECT_EQ(d.engine, s.engine) << s.what << "\n" << testing::explain(d);
    EXPECT_EQ(d.stage, s.stage) << s.what << "\n" << testing::explain(d);
    EXPECT_EQ(d.rule, s.rule) << s.what << "\n" << testing::explain(d);
  }
}

using P = ProfileBuilder;
using S = DecisionStage;

TEST(RoutingSeeds, I_LookupsAndWritesToPostgresAggregationsToAnalyticsJoinsToTrinoRestToDuckDB) {
  const Router router = load_example("routing-seeds-i.yaml");
  ASSERT_EQ(router.engines().size(), 4u);
  expect_routes(router, {
      {"SELECT * FROM app.customers WHERE id = 7", P().reads("app.customers", {eq("id")}).build(), 1, 200,
       "postgres", S::kRule, "point-lookups"},
      {"INSERT INTO app.orders VALUES (...)", P(StatementKind::kInsert).writes("app.orders").build(), 0, 0, "postgres",
       S::kRule, "writes"},
      {"UPDATE app.orders SET status = 'paid' WHERE id = 3", P(StatementKind::kUpdate).writes("app.orders").build(), 0,
       0, "postgres", S::kRule, "writes"},
      {"SELECT l_returnflag, sum(l_quantity) FROM tpch.lineitem GROUP BY 1",
       P().reads("tpch.lineitem").aggregate().complexity(2.5).build(), 6e6, 200e6, "analytics", S::kRule,
       "aggregations-without-joins"},
      {"SELECT ... FROM tpch.orders JOIN tpch.customer ON ...",
       P().reads("tpch.orders").reads("tpch.customer").joins(1).build(), 1.65e6, 60e6, "trino", S::kRule, "joins"},
      {"SELECT n_nationkey, count(*) FROM tpch.customer JOIN tpch.nation ... GROUP BY 1",
       P().reads("tpch.customer").reads("tpch.nation").joins(1).aggregate().build(), 150025, 10e6, "trino", S::kRule,
       "joins"},
      {"SELECT * FROM tpch.nation", P().reads("tpch.nation").build(), 25, 3000, "duckdb", S::kDefault, ""},
      // A point lookup on the lake: PostgreSQL cannot read Delta, the rule's second engine takes it.
      {"SELECT * FROM tpch.orders WHERE o_orderkey = 1", P().reads("tpch.orders", {eq("o_orderkey")}).build(), 1.5e6,
       50e6, "duckdb", S::kRule, "point-lookups"},
      // An aggregation over an application table: the warehouse cannot read PostgreSQL, DuckDB
      // (the default) neither; the cost model picks PostgreSQL itself over Trino.
      {"SELECT status, count(*) FROM app.orders GROUP BY 1", P().reads("app.orders").aggregate().build(), 1e4, 5e6,
       "postgres", S::kCost, ""},
  });
}

TEST(RoutingSeeds, II_SmallAndSimpleToDuckDBManyJoinsOrManyRowsToTrino) {
  const Router router = load_example("routing-seeds-ii.yaml");
  ASSERT_EQ(router.engines().size(), 2u);
  expect_routes(router, {
      {"SELECT * FROM tpch.customer WHERE c_nationkey = 3", P().reads("tpch.customer").complexity(0.5).build(),
       150000, 12e6, "duckdb", S::kRule, "small-and-simple"},
      {"TPC-H Q1 over 6M lineitem rows", P().reads("tpch.lineitem").aggregate().complexity(3).build(), 6e6, 200e6,
       "trino", S::kRule, "over-a-million-rows"},
      {"five tables, four joins, few rows", P().reads("tpch.nation").reads("tpch.region").joins(4).complexity(10.5).build(),
       1000, 1e5, "trino", S::kRule, "many-joins"},
      {"few rows but complex (two joins, subqueries)", P().reads("tpch.customer").joins(2).complexity(7).build(),
       150000, 12e6, "duckdb", S::kCost, ""},
      {"exactly 1M rows and simple: neither rule", P().reads("tpch.orders").complexity(1).build(), 1e6, 40e6, "duckdb",
       S::kCost, ""},
  });
}

TEST(RoutingSeeds, III_GovernedToTheWarehouseSmallAndSimpleToDuckDB) {
  const Router router = load_example("routing-seeds-iii.yaml");
  expect_routes(router, {
      {"SELECT * FROM finance.ledger WHERE amount > 100", P().reads("finance.ledger").complexity(0.5).build(), 1e4,
       1e6, "databricks", S::kRule, "governed-to-warehouse"},
      {"SELECT ... FROM tpch.orders JOIN hr.salaries", P().reads("tpch.orders").reads("hr.salaries").joins(1).build(),
       1.5e6, 60e6, "databricks", S::kRule, "governed-to-warehouse"},
      {"SELECT * FROM tpch.customer LIMIT 10", P().reads("tpch.customer").complexity(0.5).build(), 150000, 12e6,
       "duckdb", S::kRule, "small-and-simple"},
      {"a large scan: neither rule, the cost model's fastest", P().reads("tpch.lineitem").complexity(3).build(), 6e8,
       50e9, "databricks", S::kCost, ""},
      {"a complex statement over small tables: the cost model's cheapest",
       P().reads("tpch.customer").joins(3).complexity(9).build(), 150000, 12e6, "duckdb", S::kCost, ""},
  });
  // The hard constraint holds even against a pin: DuckDB is not a candidate for governed tables.
  const auto profile = P().reads("finance.ledger").hint("duckdb").build();
  const auto tables = lake_facts(router, profile);
  const Session session;
  const Decision d = router.decide({.profile = profile, .session = session, .tables = tables});
  EXPECT_EQ(d.engine, "databricks") << testing::explain(d);
  EXPECT_TRUE(d.has_reason(ReasonCode::kPinNotCapable));
  EXPECT_TRUE(d.has_reason(ReasonCode::kNotCapableGovernance));
}

// ---- The configuration file ----------------------------------------------------------------------

using lakerouter::testing::TempDir;
using lakerouter::testing::write_file;

using lakerouter::testing::expect_config_error;

Result<Config> load(const TempDir& dir, const std::string& yaml) { return lakerouter::testing::load_yaml(dir, yaml); }

TEST(RoutingConfig, DefaultsAreTheEmbeddedDuckDBAlone) {
  TempDir dir;
  auto config = load(dir, "");
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_EQ(config->engine_profiles.size(), 1u);
  EXPECT_EQ(config->engine_profiles[0].name, "duckdb");
  EXPECT_TRUE(config->routing.rules.empty());
  EXPECT_TRUE(Router::create(config->routing, config->engine_profiles).ok());
  EXPECT_EQ(default_config("").engine_profiles.size(), 1u);
}

TEST(RoutingConfig, EnginesRoutingAndDuckDBOptionsTogether) {
  TempDir dir;
  auto config = load(dir, R"(engines:
  duckdb:
    pool_size: 3
    pricing: {cost_per_hour: 0.2}
  pg:
    type: postgres
    capabilities: {owns_tables: [app.*]}
routing:
  latency_target_ms: 500
  default_engine: duckdb
  rules:
    - name: writes
      match: {kind: writes}
      route: pg
)");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->duckdb.pool_size, 3);  // the DuckDB options are read as before
  ASSERT_EQ(config->engine_profiles.size(), 2u);
  EXPECT_EQ(config->engine_profiles[0].pricing.cost_per_hour, 0.2);
  EXPECT_EQ(config->engine_profiles[0].line, 2);
  EXPECT_EQ(config->engine_profiles[1].name, "pg");
  EXPECT_EQ(config->engine_profiles[1].type, EngineType::kPostgres);
  EXPECT_EQ(config->routing.latency_target_ms, 500);
  EXPECT_EQ(config->routing.default_engine, "duckdb");
  ASSERT_EQ(config->routing.rules.size(), 1u);
  EXPECT_EQ(config->routing.rules[0].line, 12);
  EXPECT_EQ(config->routing.source, (dir.path() / "lakerouter.yaml").string());
}

TEST(RoutingConfig, InvalidConfigsNameFileLineAndFix) {
  TempDir dir;
  expect_config_error(load(dir, "engines:\n  trino: {type: trino}\nrouting:\n  rules:\n    - name: j\n"
                                "      match: {has_join: true}\n      route: [trinoo]\n"),
                      "lakerouter.yaml:7: rule 'j' routes to unknown engine 'trinoo' (did you mean 'trino'? declared "
                      "engines: duckdb, trino)");
  expect_config_error(load(dir, "routing:\n  rules:\n    - name: j\n      match: {join_count: \"=< 2\"}\n"
                                "      route: duckdb\n"),
                      "lakerouter.yaml:4: 'rules.j.match.join_count': bad operator '=<'");
  expect_config_error(load(dir, "routing:\n  rules:\n    - name: never\n      match:\n        complexity: \"< 0\"\n"
                                "      route: duckdb\n"),
                      "lakerouter.yaml:5: rule 'never' can never match");
  expect_config_error(load(dir, "routing:\n  tables:\n    - {name: a.b, governed: true}\n    - {name: a.b}\n"),
                      "lakerouter.yaml:4: table 'a.b' is listed twice in 'routing.tables' (lines 3 and 4)");
  expect_config_error(load(dir, "routing:\n  rules:\n    - name: j\n      match: {joins: 2}\n      route: duckdb\n"),
                      "unknown key 'joins' in 'rules.j.match'");
  expect_config_error(load(dir, "routng: {}\n"), "unknown key 'routng' in '<top level>' (did you mean 'routing'?)");
}

TEST(RoutingConfig, EngineDeclarations) {
  TempDir dir;
  expect_config_error(load(dir, "engines:\n  oracle: {}\n"),
                      "lakerouter.yaml:2: unknown key 'oracle' in 'engines' (allowed keys: duckdb); to declare an "
                      "engine named 'oracle', give it a 'type'");
  expect_config_error(load(dir, "engines:\n  oracle: {type: oracle}\n"),
                      ":2: 'engines.oracle.type' must be duckdb, postgres, trino or databricks, not 'oracle'");
  expect_config_error(load(dir, "engines:\n  Big Trino: {type: trino}\n"),
                      "engine name 'Big Trino' may only hold lower-case letters, digits, _ and -");
  expect_config_error(load(dir, "engines:\n  duckdb: {type: trino}\n"), "its 'type' can only be duckdb");
  expect_config_error(load(dir, "engines:\n  t: {type: trino, pricing: {cost_per_hr: 2}}\n"),
                      "unknown key 'cost_per_hr' in 'engines.t.pricing' (did you mean 'cost_per_hour'?)");
  expect_config_error(load(dir, "engines:\n  t: {type: trino, host: x}\n"), "unknown key 'host' in 'engines.t'");
  // A second engine of the DuckDB type (e.g. a remote worker) is a routing declaration like any other.
  auto config = load(dir, "engines:\n  worker-1: {type: duckdb, pricing: {cost_per_hour: 0.5}}\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->engine_profiles.size(), 2u);
}

// ---- Table facts from a real catalog ---------------------------------------------------------------

// A Delta table of 25 rows in 250 bytes, by its log alone (statistics never read data files).
void make_delta_table(const std::filesystem::path& dir) {
  write_file(dir / "_delta_log/00000000000000000000.json", lakerouter::testing::kDeltaLogHeader +
                                                               lakerouter::testing::delta_add("a.parquet", 100, 10) +
                                                               lakerouter::testing::delta_add("b.parquet", 150, 15));
}

TEST(RoutingTables, ResolvedThroughTheCatalogThenHints) {
  TempDir lake;
  make_delta_table(lake.path() / "sales/orders");
  make_delta_table(lake.path() / "sales/customers");
  make_delta_table(lake.path() / "archive/customers");
  auto catalog = Catalog::load({.lake_dir = lake.str(), .tables = {}});
  ASSERT_TRUE(catalog.ok()) << catalog.error().message;
  const std::vector<TableHint> hints = {{.name = "sales.orders", .key_columns = std::vector<std::string>{"id"}}};
  const auto profile = P().reads("orders", {eq("id")}).reads("sales.customers").reads("customers").build();
  const auto facts = resolve_tables(profile, *catalog, hints);
  ASSERT_EQ(facts.size(), 3u);
  EXPECT_EQ(facts[0].name, "sales.orders");  // unqualified, one schema has it
  EXPECT_EQ(facts[0].format, "delta");
  EXPECT_EQ(facts[0].rows, 25);
  EXPECT_EQ(facts[0].bytes, 250);
  EXPECT_EQ(facts[0].key_columns, std::vector<std::string>{"id"});  // from the hint
  EXPECT_TRUE(facts[1].known);
  EXPECT_EQ(facts[2].name, "customers");  // two schemas have it: left to the engine
  EXPECT_FALSE(facts[2].known);
}

// events: partitioned by day, one 1000-byte file of 10 rows per day, 2024-01-01 .. 2024-01-04.
void make_events_table(const std::filesystem::path& dir) {
  std::string log = R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})" "\n"
                    R"({"metaData":{"id":"e","format":{"provider":"parquet"},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},{\"name\":\"day\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":["day"],"configuration":{}}})" "\n";
  for (int d = 1; d <= 4; ++d) {
    const std::string day = "2024-01-0" + std::to_string(d);
    log += R"({"add":{"path":"day=)" + day + R"(/f.parquet","size":1000,"partitionValues":{"day":")" + day +
           R"("},"stats":"{\"numRecords\":10,\"minValues\":{\"id\":)" + std::to_string(d * 100) +
           R"(},\"maxValues\":{\"id\":)" + std::to_string(d * 100 + 9) + R"(}}"}})" "\n";
  }
  write_file(dir / "_delta_log/00000000000000000000.json", log);
}

TEST(RoutingTables, ScanEstimatesPruneWithThePredicates) {
  TempDir lake;
  make_events_table(lake.path() / "app/events");
  auto catalog = Catalog::load({.lake_dir = lake.str(),
                                .tables = {{.name = "app.events", .format = std::nullopt, .location = "", .line = 1,
                                            .key_columns = {"id"}}}});
  ASSERT_TRUE(catalog.ok()) << catalog.error().message;

  auto one_day = resolve_tables(P().reads("app.events", {sql::Predicate{"day", sql::PredicateOp::kEq, {"2024-01-03"}}}).build(), *catalog, {});
  ASSERT_EQ(one_day.size(), 1u);
  EXPECT_EQ(one_day[0].files, 1);
  EXPECT_EQ(one_day[0].files_total, 4);
  EXPECT_EQ(one_day[0].rows, 10);
  EXPECT_EQ(one_day[0].bytes, 1000);
  EXPECT_EQ(one_day[0].table_rows, 40);
  EXPECT_EQ(one_day[0].pruned_by, std::vector<std::string>{"day"});
  EXPECT_EQ(one_day[0].key_columns, std::vector<std::string>{"id"}) << "from the catalog's annotation";

  auto by_key = resolve_tables(P().reads("app.events", {sql::Predicate{"id", sql::PredicateOp::kEq, {"205"}}}).build(), *catalog, {});
  EXPECT_EQ(by_key[0].files, 1);

  // Named twice (a self-join): the predicate may hold for one side only, so nothing is pruned,
  // and the table is scanned twice.
  auto profile = P().reads("app.events", {sql::Predicate{"day", sql::PredicateOp::kEq, {"2024-01-03"}}}).build();
  profile.tables[0].references = 2;
  auto self_join = resolve_tables(profile, *catalog, {});
  EXPECT_EQ(self_join[0].files, 4);
  EXPECT_EQ(self_join[0].rows, 80);
  EXPECT_EQ(self_join[0].bytes, 8000);

  // The router's decision shows the estimate it used.
  auto router_or = Router::create({}, {default_engine_profile("duckdb", EngineType::kDuckDB)});
  ASSERT_TRUE(router_or.ok());
  const Router& router = *router_or;
  auto pruned_profile = P().reads("app.events", {sql::Predicate{"day", sql::PredicateOp::kEq, {"2024-01-03"}}}).build();
  const auto facts = resolve_tables(pruned_profile, *catalog, {});
  Session session;
  const auto decision = router.decide({.profile = pruned_profile, .session = session, .tables = facts});
  EXPECT_EQ(decision.est_rows, 10);
  ASSERT_EQ(decision.scans.size(), 1u);
  EXPECT_EQ(decision.scans[0].describe(), "app.events: 1 of 4 files after pruning on day, ~10 rows, 1 KB");
}

TEST(RoutingConfig, ShippedExamplesAreValid) {
  for (const char* name : {"lakerouter.yaml", "routing-seeds-i.yaml", "routing-seeds-ii.yaml", "routing-seeds-iii.yaml"}) {
    auto config = load_config(std::string(LAKEROUTER_SOURCE_DIR "/examples/") + name);
    ASSERT_TRUE(config.ok()) << name << ": " << config.error().message;
    EXPECT_TRUE(Router::create(config->routing, config->engine_profiles).ok()) << name;
  }
}

}  // namespace
}  // namespace lakerouter::routing
