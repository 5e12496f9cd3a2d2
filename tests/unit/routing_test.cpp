// Routing policy: decisions (table-driven over one world of engines and tables), rule syntax,
// validation of policies, and the decision's JSON.
#include <chrono>
#include <cstdio>
#include <ostream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "routing/router.h"
#include "routing_test_util.h"

namespace lakerouter::routing {
namespace {

using sql::StatementKind;
using testing::eq;
using testing::gt;
using testing::ProfileBuilder;

// The world every decision case runs in: four engines with their type defaults except where
// noted, and tables of every kind the constraints care about. Sizes are chosen so that the cost
// model's choice is clear (docs/routing.md has the formula):
//   tpch.lineitem 200 MB: duckdb ~201 ms, trino ~250 ms, databricks ~350 ms -> duckdb is cheapest.
constexpr const char* kWorld = R"(
engines:
  duckdb:
    capabilities:
      unsupported_features: [deletionVectors]   # say, an older delta extension
      enforces_governance: false                # say, governance not configured for DuckDB
  postgres:
    type: postgres
    capabilities:
      owns_tables: [app.*]
  trino:
    type: trino
  databricks:
    type: databricks
routing:
  tables:
    - {name: app.orders, format: postgres, key_columns: [id], rows: 10k, bytes: 5MB}
    - {name: app.events, format: postgres, rows: 50M, bytes: 5GB}
    - {name: tpch.lineitem, format: delta, rows: 6M, bytes: 200MB}
    - {name: tpch.orders, format: delta, key_columns: [o_orderkey], rows: 1.5M, bytes: 50MB}
    - {name: tpch.customer, format: delta, key_columns: [c_custkey], rows: 150k, bytes: 10MB}
    - {name: tpch.big, format: delta, rows: 3G, bytes: 100GB}
    - {name: sales.orders_dv, format: delta, features: [deletionVectors], rows: 1M, bytes: 1GB}
    - {name: "finance.*", format: delta, governed: true, rows: 100k, bytes: 100MB}
)";

struct Case {
  std::string name = {};
  std::string rules = {};  // appended to the world's `routing:` section: rules and other keys
  sql::QueryProfile profile = {};
  std::string expect_engine = {};
  DecisionStage expect_stage = DecisionStage::kNone;
  std::vector<ReasonCode> expect_codes = {};           // each must be among the reasons
  std::vector<std::string> expect_fragments = {};      // each must be in some reason's message
  Session session = {};
  std::string header = {};
  std::vector<EngineState> states = {};
  std::optional<double> estimated_bytes = std::nullopt;
  std::optional<double> latency_target_ms = std::nullopt;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

Session user(std::string name, std::vector<std::string> groups = {}, std::vector<std::string> tags = {}) {
  Session s;
  s.user = std::move(name);
  s.groups = std::move(groups);
  s.client_tags = std::move(tags);
  return s;
}

Session pinned_session(std::string engine) {
  Session s;
  s.settings["engine"] = std::move(engine);
  return s;
}

using R = ReasonCode;
using S = DecisionStage;
using P = ProfileBuilder;

std::vector<Case> decision_cases() {
  const auto select_lineitem = P().reads("tpch.lineitem").build();
  return {
      // ---- Stage 4: the cost model, and stage 2's hard constraints shaping it.
      {"SmallScanGoesToTheCheapestEngine", "", select_lineitem, "duckdb", S::kCost, {R::kCheapestWithinTarget},
       {"duckdb is the cheapest engine estimated to finish within the 1000 ms target", "next: trino"}},
      {"NoTablesCostsOnlyStartup", "", P().build(), "duckdb", S::kCost, {R::kCheapestWithinTarget}},
      {"HugeScanNothingMeetsTargetSoTheFastest", "", P().reads("tpch.big").build(), "databricks", S::kCost,
       {R::kFastestNoneWithinTarget}, {"no engine is estimated to finish within the 1000 ms target; databricks"}},
      {.name = "HugeScanWithLooseTargetTheCheapestThatMeetsIt",
       .profile = P().reads("tpch.big").build(),
       .expect_engine = "trino",
       .expect_stage = S::kCost,
       .expect_codes = {R::kCheapestWithinTarget},
       .expect_fragments = {"within the 60000 ms target"},
       .latency_target_ms = 60000},
      {"DeletionVectorsRuleOutTheCheapEngine", "", P().reads("sales.orders_dv").build(), "trino", S::kCost,
       {R::kNotCapableFormatFeature, R::kCheapestWithinTarget},
       {"duckdb cannot read sales.orders_dv: it uses the Delta feature deletionVectors"}},
      {"GovernanceRulesOutTheCheapEngine", "", P().reads("finance.payroll").build(), "trino", S::kCost,
       {R::kNotCapableGovernance}, {"finance.payroll is governed and duckdb cannot enforce its policies"}},
      {"PostgresTableIsReadWhereItLives", "", P().reads("app.orders", {gt("amount")}).build(), "postgres", S::kCost,
       {R::kNotCapableFormat}, {"duckdb cannot read Postgres tables such as app.orders"}},
      {"WriteGoesToTheOwner", "", P(StatementKind::kInsert).writes("app.orders").build(), "postgres",
       S::kOnlyCandidate, {R::kNotOwner, R::kOnlyCandidate},
       {"trino does not own app.orders: writes to it go to its owner postgres"}},
      {"WriteWithoutOwnerGoesToAnyCapableEngine", "", P(StatementKind::kInsert).writes("tpch.lineitem").build(),
       "duckdb", S::kCost, {R::kNotCapableFormat}, {"postgres cannot write Delta tables such as tpch.lineitem"}},
      {"UpdateOfOwnedTableReadingTheLake", "",
       P(StatementKind::kUpdate).writes("app.orders").reads("tpch.customer").build(), "", S::kNone,
       {R::kNoCapableEngine}, {"postgres cannot read Delta tables such as tpch.customer"}},
      {"KindOnlyOneEngineRuns", "", P(StatementKind::kPragma).build(), "duckdb", S::kOnlyCandidate,
       {R::kNotCapableKind, R::kOnlyCandidate}, {"trino does not run PRAGMA statements"}},
      {"ScanTooLargeForPostgres", "", P().reads("app.events").build(), "trino", S::kOnlyCandidate,
       {R::kNotCapableScanSize}, {"the statement scans about 5 GB, more than postgres may scan (1 GB)"}},
      {.name = "OpenCircuitBreakerRulesOutTheCheapEngine",
       .profile = select_lineitem,
       .expect_engine = "trino",
       .expect_stage = S::kCost,
       .expect_codes = {R::kEngineUnhealthy},
       .expect_fragments = {"duckdb is unavailable: its circuit breaker is open"},
       .states = {{"duckdb", true, std::nullopt}}},
      {.name = "LiveQueueWaitPushesAnEngineOffTarget",
       .profile = select_lineitem,
       .expect_engine = "trino",
       .expect_stage = S::kCost,
       .expect_codes = {R::kCheapestWithinTarget},
       .states = {{"duckdb", false, 5000.0}}},
      {.name = "EveryEngineDown",
       .profile = select_lineitem,
       .expect_engine = "",
       .expect_stage = S::kNone,
       .expect_codes = {R::kNoCapableEngine, R::kEngineUnhealthy},
       .states = {{"duckdb", true, {}}, {"postgres", true, {}}, {"trino", true, {}}, {"databricks", true, {}}}},
      {"UnknownTableHasNoConstraints", "", P().reads("nowhere.t").build(), "duckdb", S::kCost,
       {R::kCheapestWithinTarget}},
      {.name = "CatalogScanEstimateOverridesTableSizes",
       .profile = select_lineitem,
       .expect_engine = "databricks",
       .expect_stage = S::kCost,
       .expect_codes = {R::kFastestNoneWithinTarget},
       .estimated_bytes = 50e9},
      {"LatencyTargetFromThePolicy", "  latency_target_ms: 100\n", select_lineitem, "duckdb", S::kCost,
       {R::kFastestNoneWithinTarget}, {"within the 100 ms target; duckdb is the fastest"}},

      // ---- Stage 1: pinning, still subject to stage 2.
      {"HintPins", "", P().reads("tpch.lineitem").hint("trino").build(), "trino", S::kPinned, {R::kPinnedByHint},
       {"pinned to trino by the hint /*+ engine(trino) */"}},
      {"HintToUnknownEngineIsIgnored", "", P().reads("tpch.lineitem").hint("tirno").build(), "duckdb", S::kCost,
       {R::kPinUnknownEngine}, {"asks for engine 'tirno', which is not declared (did you mean 'trino'?)"}},
      {"HintCannotBypassGovernance", "", P().reads("finance.payroll").hint("duckdb").build(), "trino", S::kCost,
       {R::kPinNotCapable}, {"asks for duckdb, but finance.payroll is governed and duckdb cannot enforce"}},
      {"HintCannotBypassFormatFeatures", "", P().reads("sales.orders_dv").hint("duckdb").build(), "trino", S::kCost,
       {R::kPinNotCapable, R::kNotCapableFormatFeature}},
      {.name = "HintToAnEngineWithOpenBreakerIsIgnored",
       .profile = P().reads("tpch.lineitem").hint("trino").build(),
       .expect_engine = "duckdb",
       .expect_stage = S::kCost,
       .expect_codes = {R::kPinNotCapable},
       .expect_fragments = {"trino is unavailable"},
       .states = {{"trino", true, {}}}},
      {.name = "HeaderPins",
       .profile = select_lineitem,
       .expect_engine = "databricks",
       .expect_stage = S::kPinned,
       .expect_codes = {R::kPinnedByHeader},
       .header = "databricks"},
      {.name = "HeaderPinIgnoresCase",
       .profile = select_lineitem,
       .expect_engine = "trino",
       .expect_stage = S::kPinned,
       .header = "Trino"},
      {.name = "SessionPins",
       .profile = select_lineitem,
       .expect_engine = "trino",
       .expect_stage = S::kPinned,
       .expect_codes = {R::kPinnedBySession},
       .expect_fragments = {"the session setting 'engine'"},
       .session = pinned_session("trino")},
      {.name = "HintBeatsSessionPin",
       .profile = P().reads("tpch.lineitem").hint("databricks").build(),
       .expect_engine = "databricks",
       .expect_stage = S::kPinned,
       .expect_codes = {R::kPinnedByHint},
       .session = pinned_session("trino")},
      {.name = "PinBeatsRules",
       .rules = "  rules:\n    - {name: all-duckdb, route: duckdb}\n",
       .profile = select_lineitem,
       .expect_engine = "trino",
       .expect_stage = S::kPinned,
       .session = pinned_session("trino")},

      // ---- Stage 3: rules.
      {"RuleOnKindGroup", "  rules:\n    - {name: writes, match: {kind: writes}, route: postgres}\n",
       P(StatementKind::kDelete).writes("app.orders").build(), "postgres", S::kRule, {R::kRuleMatched},
       {"rule 'writes' (line ", "matched (kind: insert, update, delete, merge, copy); routed to postgres"}},
      {"RuleOnKindDoesNotMatchOtherKinds", "  rules:\n    - {name: reads, match: {kind: [select]}, route: trino}\n",
       P(StatementKind::kInsert).writes("tpch.lineitem").build(), "duckdb", S::kCost},
      {"PointLookupOnKeyColumn", "  rules:\n    - {name: lookups, match: {point_lookup: true}, route: postgres}\n",
       P().reads("app.orders", {eq("id")}).build(), "postgres", S::kRule, {R::kRuleMatched}},
      {"EqualityOnAnotherColumnIsNoPointLookup",
       "  rules:\n    - {name: lookups, match: {point_lookup: true}, route: trino}\n",
       P().reads("app.orders", {eq("status")}).build(), "postgres", S::kCost},
      {"PointLookupNeedsEveryTableKeyed", "  rules:\n    - {name: lookups, match: {point_lookup: true}, route: trino}\n",
       P().reads("tpch.orders", {eq("o_orderkey")}).reads("tpch.customer").joins(1).build(), "duckdb", S::kCost},
      {"PointLookupWithEveryTableKeyed", "  rules:\n    - {name: lookups, match: {point_lookup: true}, route: trino}\n",
       P().reads("tpch.orders", {eq("o_orderkey")}).reads("tpch.customer", {eq("c_custkey")}).joins(1).build(), "trino",
       S::kRule},
      {"RuleFallsToTheNextEngineOfItsRoute",
       "  rules:\n    - {name: lookups, match: {point_lookup: true}, route: [postgres, duckdb]}\n",
       P().reads("tpch.orders", {eq("o_orderkey")}).build(), "duckdb", S::kRule, {R::kRuleMatched},
       {"routed to duckdb; skipped postgres: postgres cannot read Delta tables such as tpch.orders"}},
      {"RuleWithoutCapableEngineGivesWayToTheNext",
       "  rules:\n    - {name: joins-pg, match: {has_join: true}, route: postgres}\n"
       "    - {name: joins-trino, match: {has_join: true}, route: trino}\n",
       P().reads("tpch.orders").reads("tpch.customer").joins(1).build(), "trino", S::kRule,
       {R::kRuleNoCapableEngine, R::kRuleMatched}, {"matched (has_join: true) but none of its engines can run the statement; skipped postgres"}},
      {"FirstMatchingRuleWins",
       "  rules:\n    - {name: first, match: {has_join: true}, route: databricks}\n"
       "    - {name: second, match: {join_count: \">= 1\"}, route: trino}\n",
       P().reads("tpch.orders").reads("tpch.customer").joins(1).build(), "databricks", S::kRule},
      {"TablesGlob", "  rules:\n    - {name: tpch, match: {tables: [\"tpch.*\"]}, route: trino}\n", select_lineitem,
       "trino", S::kRule},
      {"TablesGlobOtherSchema", "  rules:\n    - {name: sales, match: {tables: [\"sales.*\"]}, route: trino}\n",
       select_lineitem, "duckdb", S::kCost},
      {"UsersMatch", "  rules:\n    - {name: alice, match: {users: [alice]}, route: trino}\n", select_lineitem,
       "trino", S::kRule, {}, {}, user("alice")},
      {"UsersOtherUser", "  rules:\n    - {name: alice, match: {users: [alice]}, route: trino}\n", select_lineitem,
       "duckdb", S::kCost, {}, {}, user("bob")},
      {"GroupsMatch", "  rules:\n    - {name: analysts, match: {groups: [analysts]}, route: trino}\n",
       select_lineitem, "trino", S::kRule, {}, {}, user("bob", {"staff", "analysts"})},
      {"ClientTagsMatch", "  rules:\n    - {name: dash, match: {client_tags: [dashboard]}, route: databricks}\n",
       select_lineitem, "databricks", S::kRule, {}, {}, user("bob", {}, {"dashboard"})},
      {"FingerprintMatch", "  rules:\n    - {name: known, match: {fingerprint: [0123abcd]}, route: trino}\n",
       P().reads("tpch.lineitem").fingerprint("0123abcd").build(), "trino", S::kRule},
      {"FingerprintOther", "  rules:\n    - {name: known, match: {fingerprint: [0123abcd]}, route: trino}\n",
       P().reads("tpch.lineitem").fingerprint("ffff0000").build(), "duckdb", S::kCost},
      {"JoinCountRangeInside",
       "  rules:\n    - {name: mid, match: {join_count: \">= 2 and <= 3\"}, route: trino}\n",
       P().reads("tpch.orders").joins(3).build(), "trino", S::kRule},
      {"JoinCountRangeOutside",
       "  rules:\n    - {name: mid, match: {join_count: \">= 2 and <= 3\"}, route: trino}\n",
       P().reads("tpch.orders").joins(4).build(), "duckdb", S::kCost},
      {"EstimatedRowsBelow", "  rules:\n    - {name: small, match: {estimated_rows: \"< 1M\"}, route: databricks}\n",
       P().reads("tpch.customer").build(), "databricks", S::kRule},
      {"EstimatedRowsAbove", "  rules:\n    - {name: small, match: {estimated_rows: \"< 1M\"}, route: databricks}\n",
       select_lineitem, "duckdb", S::kCost},
      {"UnknownRowsMatchNoRowBound",
       "  rules:\n    - {name: small, match: {estimated_rows: \"< 1M\"}, route: databricks}\n",
       P().reads("nowhere.t").build(), "duckdb", S::kCost},
      {"EstimatedBytes", "  rules:\n    - {name: big, match: {estimated_bytes: \">= 100MB\"}, route: trino}\n",
       select_lineitem, "trino", S::kRule},
      {"Complexity", "  rules:\n    - {name: complex, match: {complexity: \">= 5\"}, route: trino}\n",
       P().reads("tpch.lineitem").complexity(7.5).build(), "trino", S::kRule},
      {"HasWindow", "  rules:\n    - {name: windows, match: {has_window: true}, route: trino}\n",
       P().reads("tpch.lineitem").window().build(), "trino", S::kRule},
      {"AggregationWithoutJoin",
       "  rules:\n    - {name: aggs, match: {has_aggregate: true, has_join: false}, route: databricks}\n",
       P().reads("tpch.lineitem").aggregate().build(), "databricks", S::kRule},
      {"AggregationWithJoinIsNotMatched",
       "  rules:\n    - {name: aggs, match: {has_aggregate: true, has_join: false}, route: databricks}\n",
       P().reads("tpch.lineitem").reads("tpch.orders").joins(1).aggregate().build(), "duckdb", S::kCost},
      {"GovernedRule", "  rules:\n    - {name: governed, match: {governed: true}, route: databricks}\n",
       P().reads("tpch.orders").reads("finance.ledger").joins(1).build(), "databricks", S::kRule},
      {"CatchAllRule", "  rules:\n    - {name: rest, route: trino}\n", select_lineitem, "trino", S::kRule,
       {R::kRuleMatched}, {"matched (every statement)"}},
      {"DefaultEngineTakesWhatNoRuleRoutes",
       "  default_engine: databricks\n  rules:\n    - {name: joins, match: {has_join: true}, route: trino}\n",
       select_lineitem, "databricks", S::kDefault, {R::kDefaultEngine}},
      {"DefaultEngineNotCapableLeavesItToTheCostModel", "  default_engine: postgres\n", select_lineitem, "duckdb",
       S::kCost, {R::kDefaultNotCapable, R::kCheapestWithinTarget}},
  };
}

class RoutingDecision : public ::testing::TestWithParam<Case> {};

TEST_P(RoutingDecision, RoutesAsExpected) {
  const Case& c = GetParam();
  auto router = testing::router_from_yaml(std::string(kWorld) + c.rules);
  ASSERT_TRUE(router.ok()) << router.error().message;
  const auto tables = resolve_tables(c.profile, Catalog{}, router->policy().tables);
  const Decision d = router->decide({.profile = c.profile,
                                     .session = c.session,
                                     .tables = tables,
                                     .estimated_bytes = c.estimated_bytes,
                                     .engine_states = c.states,
                                     .latency_target_ms = c.latency_target_ms,
                                     .header_engine = c.header});
  const std::string why = testing::explain(d);
  EXPECT_EQ(d.engine, c.expect_engine) << why;
  EXPECT_EQ(d.stage, c.expect_stage) << why;
  for (auto code : c.expect_codes) EXPECT_TRUE(d.has_reason(code)) << reason_code_name(code) << " missing\n" << why;
  for (const auto& fragment : c.expect_fragments) {
    const bool found = std::any_of(d.reasons.begin(), d.reasons.end(),
                                   [&](const Reason& r) { return r.message.find(fragment) != std::string::npos; });
    EXPECT_TRUE(found) << "no reason says: " << fragment << "\n" << why;
  }
  // Every engine is a candidate; the chosen one is capable; the incapable say why.
  ASSERT_EQ(d.candidates.size(), router->engines().size());
  for (const auto& candidate : d.candidates) {
    EXPECT_EQ(candidate.capable, candidate.why_not.empty()) << candidate.engine;
    EXPECT_GT(candidate.est_latency_ms, 0) << candidate.engine;
    if (candidate.engine == d.engine) {
      EXPECT_TRUE(candidate.capable) << why;
    }
  }
  EXPECT_FALSE(d.reasons.empty());
}

INSTANTIATE_TEST_SUITE_P(Cases, RoutingDecision, ::testing::ValuesIn(decision_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// ---- The cost model's arithmetic -------------------------------------------------------------

TEST(RoutingCostModel, LatencyAndCostFollowTheFormula) {
  auto router = testing::router_from_yaml(R"(
engines:
  duckdb:
    pricing: {cost_per_hour: 3.6, startup_ms: 10, scan_bytes_per_second: 1GB, queue_wait_ms: 5}
  trino:
    type: trino
    pricing: {cost_per_hour: 36, startup_ms: 100, scan_bytes_per_second: 1GB, min_billed_seconds: 60}
)");
  ASSERT_TRUE(router.ok()) << router.error().message;
  const auto profile = ProfileBuilder().reads("t").build();
  const Decision d = router->decide({.profile = profile, .session = {}, .tables = {}, .estimated_bytes = 2e9});
  const Candidate* duck = d.candidate("duckdb");
  const Candidate* trino = d.candidate("trino");
  ASSERT_TRUE(duck && trino);
  EXPECT_DOUBLE_EQ(duck->est_latency_ms, 5 + 10 + 2000);       // queue + start-up + 2 GB at 1 GB/s
  EXPECT_DOUBLE_EQ(duck->est_cost_usd, 2.010 * 3.6 / 3600);     // queue wait is not billed
  EXPECT_DOUBLE_EQ(trino->est_latency_ms, 100 + 2000);
  EXPECT_DOUBLE_EQ(trino->est_cost_usd, 60 * 36.0 / 3600);      // the minimum billed seconds
}

TEST(RoutingCostModel, CostTiesBreakOnLatencyThenDeclarationOrder) {
  auto router = testing::router_from_yaml(R"(
engines:
  duckdb:
    pricing: {cost_per_hour: 0, startup_ms: 50}
  other:
    type: duckdb
    pricing: {cost_per_hour: 0, startup_ms: 5}
  third:
    type: duckdb
    pricing: {cost_per_hour: 0, startup_ms: 5}
)");
  ASSERT_TRUE(router.ok()) << router.error().message;
  const auto profile = ProfileBuilder().build();
  EXPECT_EQ(router->decide({.profile = profile, .session = {}, .tables = {}}).engine, "other");
}

// ---- Calibration in decisions ----------------------------------------------------------------------

TEST(RoutingCalibration, ACalibratedSlowEngineLosesTheChoice) {
  auto router = testing::router_from_yaml(R"(
engines:
  duckdb: {}
  trino: {type: trino}
)");
  ASSERT_TRUE(router.ok()) << router.error().message;
  const auto profile = ProfileBuilder().reads("t").aggregate().build();
  const RoutingInput input{.profile = profile, .session = {}, .tables = {}, .estimated_bytes = 100e6};
  // Configured figures: DuckDB scans 100 MB in about 100 ms, within the target and cheaper.
  const Decision before = router->decide(input);
  EXPECT_EQ(before.engine, "duckdb") << testing::explain(before);
  EXPECT_EQ(before.size_class, "medium");
  EXPECT_FALSE(before.candidate("duckdb")->calibrated);

  // Observed: this DuckDB scans at 60 MB/s (about 1.7 s for 100 MB); Trino is as configured.
  Calibrator calibrator(router->policy().calibration, router->engines());
  for (int i = 0; i < 20; ++i) {
    const double bytes = (40 + 6 * i) * 1e6;
    calibrator.observe("duckdb", bytes, 10 + bytes / 60e6 * 1000);
    calibrator.observe("trino", bytes, 150 + bytes / 2e9 * 1000);
  }
  const auto snapshot = calibrator.snapshot();
  RoutingInput calibrated = input;
  calibrated.calibration = snapshot.get();
  const Decision after = router->decide(calibrated);
  EXPECT_EQ(after.engine, "trino") << testing::explain(after);
  EXPECT_EQ(after.stage, DecisionStage::kCost);
  const Candidate* duck = after.candidate("duckdb");
  ASSERT_NE(duck, nullptr);
  EXPECT_TRUE(duck->calibrated);
  EXPECT_EQ(duck->calibration_samples, 20);
  EXPECT_NEAR(duck->est_latency_ms, 10 + 100e6 / 60e6 * 1000, 1);
  EXPECT_DOUBLE_EQ(duck->est_latency_ms_static, before.candidate("duckdb")->est_latency_ms);
  EXPECT_DOUBLE_EQ(duck->est_cost_usd_static, before.candidate("duckdb")->est_cost_usd);
  EXPECT_NE(after.reasons.back().message.find("calibrated from 20 runs"), std::string::npos)
      << testing::explain(after);

  // The summary query responses carry: the chosen engine's estimate, calibrated and static.
  const nlohmann::json summary = after.summary_json();
  EXPECT_FALSE(summary.contains("candidates"));
  EXPECT_EQ(summary["size_class"], "medium");
  const nlohmann::json& estimate = summary.at("estimate");
  EXPECT_EQ(estimate["size_class"], "medium");
  EXPECT_EQ(estimate["calibration_samples"], 20);
  EXPECT_EQ(estimate["calibrated"], true);
  EXPECT_DOUBLE_EQ(estimate["latency_ms"].get<double>(), after.candidate("trino")->est_latency_ms);
  EXPECT_DOUBLE_EQ(estimate["static_latency_ms"].get<double>(), after.candidate("trino")->est_latency_ms_static);

  // Too few runs, or a scan of unknown size: the configured figures.
  Calibrator few(router->policy().calibration, router->engines());
  few.observe("duckdb", 100e6, 5000);
  const auto few_snapshot = few.snapshot();
  calibrated.calibration = few_snapshot.get();
  const Decision early = router->decide(calibrated);
  EXPECT_EQ(early.engine, "duckdb");
  EXPECT_EQ(early.candidate("duckdb")->calibration_samples, 1);
  EXPECT_FALSE(early.candidate("duckdb")->calibrated);
  RoutingInput unknown{.profile = profile, .session = {}, .tables = {}, .calibration = snapshot.get()};
  const Decision unsized = router->decide(unknown);
  EXPECT_EQ(unsized.size_class, "");
  EXPECT_FALSE(unsized.candidate("duckdb")->calibrated);
}

// ---- Rule syntax --------------------------------------------------------------------------------

TEST(RoutingRuleSyntax, Comparisons) {
  struct {
    const char* text;
    double inside, outside;
    const char* normalized;
  } cases[] = {
      {">= 2", 2, 1.9, ">= 2"},
      {"> 2", 3, 2, "> 2"},
      {"< 1M", 999999, 1e6, "< 1000000"},
      {"<= 10k", 10000, 10001, "<= 10000"},
      {"== 3", 3, 4, "== 3"},
      {"3", 3, 2, "== 3"},
      {">= 10 and < 100", 10, 100, ">= 10 and < 100"},
      {"\u2265 2", 2, 1, ">= 2"},
      {"<1GB", 1e9 - 1, 1e9, "< 1000000000"},
      {"< 1.5GiB", 1.5 * 1073741824 - 1, 1.5 * 1073741824, "< 1610612736"},
  };
  for (const auto& c : cases) {
    auto range = parse_range(c.text);
    ASSERT_TRUE(range.ok()) << c.text << ": " << range.error().message;
    EXPECT_TRUE(range->contains(c.inside)) << c.text;
    EXPECT_FALSE(range->contains(c.outside)) << c.text;
    EXPECT_EQ(range->to_string(), c.normalized);
  }
}

TEST(RoutingRuleSyntax, BadComparisonsSayWhatIsAllowed) {
  for (const char* bad : {"=> 2", "gte 2", "!= 3", "<< 2"}) {
    auto range = parse_range(bad);
    ASSERT_FALSE(range.ok()) << bad;
    EXPECT_NE(range.error().message.find("bad operator"), std::string::npos) << range.error().message;
    EXPECT_NE(range.error().message.find("use <, <=, >, >= or =="), std::string::npos);
  }
  auto not_number = parse_range("< lots");
  ASSERT_FALSE(not_number.ok());
  EXPECT_NE(not_number.error().message.find("'lots' in \"< lots\" is not a number"), std::string::npos);
}

TEST(RoutingRuleSyntax, Quantities) {
  EXPECT_EQ(parse_quantity("1500"), 1500);
  EXPECT_EQ(parse_quantity("1_000_000"), 1e6);
  EXPECT_EQ(parse_quantity("10k"), 1e4);
  EXPECT_EQ(parse_quantity("2.5G"), 2.5e9);
  EXPECT_EQ(parse_quantity("64 MB"), 64e6);
  EXPECT_EQ(parse_quantity("1GiB"), 1073741824.0);
  EXPECT_EQ(parse_quantity("1e3"), 1000);
  EXPECT_FALSE(parse_quantity("ten"));
  EXPECT_FALSE(parse_quantity("10 parsecs"));
  EXPECT_FALSE(parse_quantity(""));
}

TEST(RoutingRuleSyntax, Globs) {
  EXPECT_TRUE(glob_match("tpch.*", "tpch.lineitem"));
  EXPECT_TRUE(glob_match("*.orders", "sales.orders"));
  EXPECT_TRUE(glob_match("tpch.line?tem", "tpch.lineitem"));
  EXPECT_TRUE(glob_match("*", "anything.at_all"));
  EXPECT_TRUE(glob_match("a*b*c", "axxbyyc"));
  EXPECT_TRUE(glob_match("tpch.lineitem", "tpch.lineitem"));
  EXPECT_FALSE(glob_match("tpch.*", "sales.orders"));
  EXPECT_FALSE(glob_match("tpch.orders", "tpch.orders2"));
  EXPECT_FALSE(glob_match("a*b*c", "axxbyy"));
}

TEST(RoutingRuleSyntax, KindNamesAndGroups) {
  EXPECT_EQ(parse_kinds("select"), (KindSet{StatementKind::kSelect}));
  EXPECT_EQ(parse_kinds("INSERT"), (KindSet{StatementKind::kInsert}));
  EXPECT_EQ(parse_kinds("writes"), KindSet::writes());
  EXPECT_EQ(parse_kinds("all"), KindSet::all());
  EXPECT_FALSE(parse_kinds("selects"));
  // Every statement kind has a name the configuration accepts.
  for (unsigned k = 0; k <= static_cast<unsigned>(StatementKind::kOther); ++k) {
    std::string name(sql::statement_kind_name(static_cast<StatementKind>(k)));
    EXPECT_TRUE(parse_kinds(name)) << name;
  }
  EXPECT_EQ(KindSet::reads().to_string(), "select, explain");
}

TEST(RoutingRuleSyntax, DescribeListsTheKeysGiven) {
  Rule rule;
  rule.match.has_join = true;
  rule.match.join_count = parse_range("> 3").value();
  rule.match.tables = {"tpch.*"};
  EXPECT_EQ(rule.match.describe(), "tables: tpch.*; has_join: true; join_count: > 3");
  EXPECT_EQ(RuleMatch{}.describe(), "every statement");
}

// ---- Validation: every bad policy names the file, the line and a fix --------------------------

void expect_invalid(const std::string& yaml, const std::string& fragment) {
  auto router = testing::router_from_yaml(yaml, "policy.yaml");
  ASSERT_FALSE(router.ok()) << "accepted, expected: " << fragment;
  EXPECT_EQ(router.error().code, ErrorCode::kConfigError);
  EXPECT_NE(router.error().message.find(fragment), std::string::npos) << router.error().message;
}

constexpr const char* kTwoEngines = "engines:\n  duckdb: {}\n  trino: {type: trino}\n";

TEST(RoutingValidation, UnknownEngineInARule) {
  expect_invalid(std::string(kTwoEngines) + "routing:\n  rules:\n    - name: joins\n      route: [trnio]\n",
                 "policy.yaml:7: rule 'joins' routes to unknown engine 'trnio' (did you mean 'trino'? declared "
                 "engines: duckdb, trino)");
  expect_invalid(std::string(kTwoEngines) + "routing:\n  rules:\n    - {name: x, route: oracle}\n",
                 "unknown engine 'oracle' (declared engines: duckdb, trino)");
}

TEST(RoutingValidation, UnknownDefaultEngine) {
  expect_invalid(std::string(kTwoEngines) + "routing:\n  default_engine: duck\n",
                 "policy.yaml:5: 'routing.default_engine' names unknown engine 'duck' (did you mean 'duckdb'?");
}

TEST(RoutingValidation, BadOperatorNamesTheLine) {
  expect_invalid(std::string(kTwoEngines) +
                     "routing:\n  rules:\n    - name: joins\n      match:\n        join_count: \"=> 2\"\n"
                     "      route: trino\n",
                 "policy.yaml:8: 'rules.joins.match.join_count': bad operator '=>' in \"=> 2\" (use <, <=, >, >= or ==");
}

TEST(RoutingValidation, RulesThatCanNeverMatch) {
  const std::string head = std::string(kTwoEngines) + "routing:\n  rules:\n";
  expect_invalid(head + "    - name: neg\n      match:\n        join_count: \"< 0\"\n      route: trino\n",
                 "policy.yaml:8: rule 'neg' can never match: no statement has join_count < 0 (join_count is never "
                 "below 0); fix the bound or remove it");
  expect_invalid(head + "    - name: contradiction\n      match:\n        estimated_rows: \">= 10 and <= 5\"\n"
                        "      route: trino\n",
                 "rule 'contradiction' can never match: estimated_rows cannot be >= 10 and <= 5 at once");
  expect_invalid(head + "    - name: joinless\n      match: {has_join: false, join_count: \">= 1\"}\n      route: trino\n",
                 "rule 'joinless' can never match: has_join: false contradicts join_count: >= 1");
  expect_invalid(head + "    - name: rest\n      route: duckdb\n    - name: late\n      match: {has_join: true}\n"
                        "      route: trino\n",
                 "policy.yaml:8: rule 'late' can never match: rule 'rest' (line 6) above it matches every statement");
  expect_invalid(head + "    - name: nobody\n      match: {users: []}\n      route: trino\n",
                 "rule 'nobody' can never match: 'rules.nobody.match.users' is an empty list");
}

TEST(RoutingValidation, KindsNoRouteEngineRuns) {
  expect_invalid(R"(engines:
  duckdb: {}
  pg: {type: postgres}
routing:
  rules:
    - name: pragmas
      match:
        kind: pragma
      route: pg
)",
                 "policy.yaml:8: rule 'pragmas' can never route: it matches kind pragma but none of its engines (pg) "
                 "runs that");
}

TEST(RoutingValidation, UnknownMatchKeySuggests) {
  expect_invalid(std::string(kTwoEngines) + "routing:\n  rules:\n    - name: j\n      match: {join_cnt: 2}\n"
                                            "      route: trino\n",
                 "policy.yaml:7: unknown key 'join_cnt' in 'rules.j.match' (did you mean 'join_count'?)");
  expect_invalid(std::string(kTwoEngines) + "routing:\n  rules:\n    - {name: k, match: {kind: selects}, route: trino}\n",
                 "unknown statement kind 'selects' in 'rules.k.match.kind' (did you mean 'select'?)");
}

TEST(RoutingValidation, DuplicateNames) {
  expect_invalid(std::string(kTwoEngines) + "routing:\n  rules:\n    - {name: a, route: trino, match: {has_join: true}}\n"
                                            "    - {name: a, route: duckdb, match: {has_window: true}}\n",
                 "policy.yaml:7: rule name 'a' is used twice (lines 6 and 7); give each rule its own name");
  expect_invalid(std::string(kTwoEngines) + "routing:\n  tables:\n    - {name: tpch.orders, key_columns: [o_orderkey]}\n"
                                            "    - {name: tpch.orders, governed: true}\n",
                 "policy.yaml:7: table 'tpch.orders' is listed twice in 'routing.tables' (lines 6 and 7); merge");
}

TEST(RoutingValidation, RuleShape) {
  expect_invalid(std::string(kTwoEngines) + "routing:\n  rules:\n    - {match: {has_join: true}, route: trino}\n",
                 "'routing.rules[0]' needs a 'name'");
  expect_invalid(std::string(kTwoEngines) + "routing:\n  rules:\n    - {name: x, match: {has_join: true}}\n",
                 "rule 'x' has no 'route'");
  expect_invalid(std::string(kTwoEngines) + "routing:\n  rules:\n    - {name: x, route: []}\n",
                 "rule 'x' has an empty 'route'");
  expect_invalid(std::string(kTwoEngines) + "routing:\n  rules:\n    - {name: x, match: {has_join: maybe}, route: trino}\n",
                 "'rules.x.match.has_join' must be true or false, not 'maybe'");
  expect_invalid(std::string(kTwoEngines) + "routing:\n  latency_target_ms: 0\n", "must be more than 0 milliseconds");
}

TEST(RoutingValidation, EngineProfiles) {
  expect_invalid("engines:\n  duckdb:\n    pricing: {cost_per_hour: cheap}\n",
                 "policy.yaml:3: 'engines.duckdb.pricing.cost_per_hour' must be a number");
  expect_invalid("engines:\n  duckdb:\n    pricing: {scan_bytes_per_second: 0}\n", "must be at least 1");
  expect_invalid("engines:\n  duckdb:\n    capabilities: {kinds: [selekt]}\n",
                 "unknown statement kind 'selekt' in 'engines.duckdb.capabilities.kinds' (did you mean 'select'?)");
  expect_invalid("engines:\n  duckdb:\n    capabilities: {enforce_governance: true}\n",
                 "(did you mean 'enforces_governance'?)");
  expect_invalid("engines: {}\n", "no engine is declared");
}

TEST(RoutingValidation, CapabilitiesOverrideTypeDefaults) {
  auto router = testing::router_from_yaml(R"(
engines:
  pg:
    type: postgres
    capabilities:
      kinds: [reads, writes]
      max_scan_bytes: null
      owns_tables: ["App.*"]
)");
  ASSERT_TRUE(router.ok()) << router.error().message;
  const Capabilities& caps = router->engines()[0].capabilities;
  EXPECT_EQ(caps.kinds, KindSet::reads() | KindSet::writes());
  EXPECT_FALSE(caps.max_scan_bytes);
  EXPECT_EQ(caps.owns_tables, std::vector<std::string>{"app.*"});
  EXPECT_EQ(caps.formats, std::vector<std::string>{"postgres"});  // default of the type, untouched
}

// ---- Table facts --------------------------------------------------------------------------------

TEST(RoutingTables, HintsByExactNameThenFirstPattern) {
  const std::vector<TableHint> hints = {
      {.name = "finance.*", .governed = true, .line = 1},
      {.name = "finance.public_rates", .governed = false, .line = 2},
      {.name = "*", .format = "postgres", .line = 3},
  };
  const auto profile = ProfileBuilder().reads("finance.payroll").reads("finance.public_rates").reads("x.y").build();
  const auto facts = resolve_tables(profile, Catalog{}, hints);
  ASSERT_EQ(facts.size(), 3u);
  EXPECT_TRUE(facts[0].governed);
  EXPECT_FALSE(facts[1].governed);
  EXPECT_TRUE(facts[1].known);
  EXPECT_EQ(facts[2].format, "postgres");
}

// ---- The decision as JSON ----------------------------------------------------------------------

TEST(RoutingDecisionJson, CarriesEverything) {
  auto router = testing::router_from_yaml(std::string(kWorld));
  ASSERT_TRUE(router.ok()) << router.error().message;
  const auto profile = ProfileBuilder().reads("sales.orders_dv").build();
  const Decision d = testing::route(*router, profile);
  const nlohmann::json j = d.to_json();
  EXPECT_EQ(j["engine"], "trino");
  EXPECT_EQ(j["stage"], "cost");
  EXPECT_TRUE(j["rule"].is_null());
  ASSERT_TRUE(j["reasons"].is_array());
  EXPECT_EQ(j.at("reasons").at(0).at("code"), "NOT_CAPABLE_FORMAT_FEATURE");
  ASSERT_EQ(j["candidates"].size(), 4u);
  EXPECT_EQ(j["candidates"][0]["engine"], "duckdb");
  EXPECT_EQ(j["candidates"][0]["capable"], false);
  EXPECT_EQ(j.at("candidates").at(0).at("why_not").at(0).at("code"), "NOT_CAPABLE_FORMAT_FEATURE");
  EXPECT_GT(j["candidates"][2]["est_cost_usd"].get<double>(), 0);
}

TEST(RoutingDecisionJson, Formatting) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(5e9), "5 GB");
  EXPECT_EQ(format_bytes(1.25e6), "1.25 MB");
  EXPECT_EQ(format_usd(0), "$0");
  EXPECT_EQ(format_usd(1.5), "$1.50");
  EXPECT_EQ(format_usd(0.0042), "$0.0042");
  EXPECT_EQ(format_usd(3.3e-7), "$0.00000033");
}

}  // namespace
}  // namespace lakerouter::routing
