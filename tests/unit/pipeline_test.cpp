#include <algorithm>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engines/duckdb/duckdb_engine.h"
#include "server/pipeline.h"
#include "sql/explain_route.h"
#include "test_util.h"

namespace lakerouter {
namespace {

using namespace std::chrono_literals;

// A pipeline over the embedded DuckDB, routed by `router` (default: DuckDB alone).
struct TestPipeline {
  std::unique_ptr<LiveCatalog> catalog = std::make_unique<LiveCatalog>(Catalog(), CatalogOptions());
  std::unique_ptr<routing::Router> router;
  std::unique_ptr<Pipeline> pipeline;
  Pipeline* operator->() { return pipeline.get(); }
};

std::unique_ptr<routing::Router> duckdb_only_router() {
  auto router = routing::Router::create({}, {routing::default_engine_profile("duckdb", routing::EngineType::kDuckDB)});
  EXPECT_TRUE(router.ok());
  return std::make_unique<routing::Router>(std::move(*router));
}

TestPipeline make_pipeline(std::chrono::milliseconds timeout = 30s,
                           std::unique_ptr<routing::Router> router = duckdb_only_router()) {
  DuckDBEngineOptions options;
  options.load_extensions = {};
  options.pool_size = 2;
  auto engine = DuckDBEngine::open(options, Catalog());
  EXPECT_TRUE(engine.ok());
  std::vector<std::shared_ptr<Engine>> engines;
  engines.push_back(std::move(*engine));
  PipelineOptions pipeline_options;
  pipeline_options.default_timeout = timeout;
  TestPipeline t;
  t.router = std::move(router);
  t.pipeline = std::make_unique<Pipeline>(std::move(engines), pipeline_options, *t.catalog, *t.router);
  return t;
}

// DuckDB and Trino declared; the rule "joins" sends joins to Trino.
std::unique_ptr<routing::Router> joins_to_trino_router() {
  routing::RoutingPolicy policy;
  routing::Rule joins;
  joins.name = "joins";
  joins.match.has_join = true;
  joins.route = {"trino"};
  policy.rules.push_back(joins);
  auto router = routing::Router::create(
      policy, {routing::default_engine_profile("duckdb", routing::EngineType::kDuckDB),
               routing::default_engine_profile("trino", routing::EngineType::kTrino)});
  EXPECT_TRUE(router.ok()) << router.error().message;
  return std::make_unique<routing::Router>(std::move(*router));
}

TEST(Pipeline, RunsOneStatementOnTheDefaultEngine) {
  auto pipeline = make_pipeline();
  auto query = pipeline->run(Statement{"SELECT 42"}, Session());
  ASSERT_TRUE(query.ok()) << query.error().message;
  EXPECT_EQ(query->engine, "duckdb");
  EXPECT_EQ(query->kind, sql::StatementKind::kSelect);
  EXPECT_EQ(query->decision.engine, "duckdb");
  EXPECT_TRUE(query->decision.has_reason(routing::ReasonCode::kOnlyCandidate));
  ResultBatch batch;
  auto more = query->stream->next(batch);
  ASSERT_TRUE(more.ok());
  EXPECT_EQ(batch.column(0).int64_at(0), 42);
}

TEST(Pipeline, RefusesSeveralStatementsAndBadSyntax) {
  auto pipeline = make_pipeline();
  auto multi = pipeline->run(Statement{"SELECT 1; SELECT 2"}, Session());
  ASSERT_FALSE(multi.ok());
  EXPECT_EQ(multi.error().code, ErrorCode::kMultipleStatements);
  auto bad = pipeline->run(Statement{"SELECT FROM WHERE"}, Session());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kSyntaxError);
}

TEST(Pipeline, StopsQueriesAtTheirDeadline) {
  auto pipeline = make_pipeline(100ms);
  // run() fetches the first batch, so a statement that produces nothing in time fails there.
  auto query = pipeline->run(Statement{"SELECT count(*) FROM range(1000000000000)"}, Session());
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.error().code, ErrorCode::kQueryTimeout);
  ResultBatch batch;

  Session patient;
  patient.timeout = 30s;  // a request may ask for more time than the default
  auto fine = pipeline->run(Statement{"SELECT 1"}, patient);
  ASSERT_TRUE(fine.ok());
  EXPECT_TRUE(fine->stream->next(batch).ok());
}

TEST(Pipeline, ACancelTokenStopsAQueryWaitingForItsFirstRow) {
  auto pipeline = make_pipeline();
  CancelToken token;
  std::thread canceller([&token] {
    std::this_thread::sleep_for(100ms);  // run() is then inside the engine, before any row
    token.cancel();
  });
  auto query = pipeline->run(Statement{"SELECT count(*) FROM range(1000000000000)"}, Session(), {}, &token);
  canceller.join();
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.error().code, ErrorCode::kQueryCancelled);
}

TEST(Pipeline, ACancelledTokenStopsTheQueryBeforeItStarts) {
  auto pipeline = make_pipeline();
  CancelToken token;
  token.cancel();
  auto query = pipeline->run(Statement{"SELECT 1"}, Session(), {}, &token);
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.error().code, ErrorCode::kQueryCancelled);
}

TEST(Pipeline, ACancelTokenReachesAStreamAfterRunReturned) {
  auto pipeline = make_pipeline();
  CancelToken token;
  // The first batch comes at once; the rest of the result is still being computed.
  auto query = pipeline->run(Statement{"SELECT i FROM range(1000000000000) t(i)"}, Session(), {}, &token);
  ASSERT_TRUE(query.ok()) << query.error().message;
  token.cancel();
  ResultBatch batch;
  Result<bool> more = true;
  for (int i = 0; i < 1000000 && more.ok() && *more; ++i) more = query->stream->next(batch);  // bounded
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.error().code, ErrorCode::kQueryCancelled);
}

TEST(Pipeline, AChosenEngineThatIsNotConnectedFallsBackAndSaysSo) {
  // Trino is declared for routing and a rule sends joins there; only DuckDB is connected.
  auto pipeline = make_pipeline(30s, joins_to_trino_router());

  auto query = pipeline->run(Statement{"SELECT * FROM range(3) a JOIN range(3) b USING (range)"}, Session());
  ASSERT_TRUE(query.ok()) << query.error().message;
  EXPECT_EQ(query->decision.engine, "trino");
  EXPECT_EQ(query->engine, "duckdb");
  EXPECT_TRUE(query->decision.has_reason(routing::ReasonCode::kEngineNotConnected));

  auto routed = pipeline->route(Statement{"/*+ engine(duckdb) */ SELECT * FROM range(3) a, range(3) b"}, Session());
  ASSERT_TRUE(routed.ok());
  EXPECT_EQ(routed->decision.engine, "duckdb");
  EXPECT_TRUE(routed->decision.has_reason(routing::ReasonCode::kPinnedByHint));
}

TEST(Pipeline, ExplainRouteAnswersWithTheDecisionAsRows) {
  auto pipeline = make_pipeline(30s, joins_to_trino_router());

  auto query = pipeline->run(
      Statement{"  explain -- why?\n ROUTE SELECT * FROM range(3) a JOIN range(3) b USING (range)"}, Session());
  ASSERT_TRUE(query.ok()) << query.error().message;
  EXPECT_EQ(query->engine, "lakerouter");  // nothing ran on an engine
  EXPECT_EQ(query->decision.engine, "trino");
  const auto& schema = query->stream->schema();
  ASSERT_EQ(schema.size(), 6u);
  EXPECT_EQ(schema[0].name, "item");
  EXPECT_EQ(schema[3].name, "detail");
  ResultBatch batch;
  auto more = query->stream->next(batch);
  ASSERT_TRUE(more.ok() && *more);
  std::vector<std::string> items, engines;
  for (size_t r = 0; r < batch.row_count(); ++r) {
    items.emplace_back(batch.column(0).string_at(r));
    engines.emplace_back(batch.column(1).is_null(r) ? "" : batch.column(1).string_at(r));
  }
  ASSERT_FALSE(items.empty());
  EXPECT_EQ(items.front(), "decision");
  EXPECT_EQ(engines.front(), "trino");
  EXPECT_EQ(batch.column(3).string_at(0), "chosen by rule 'joins'");
  EXPECT_EQ(std::count(items.begin(), items.end(), "candidate"), 2);
  EXPECT_EQ(items.back(), "scan");
  EXPECT_GE(std::count(items.begin(), items.end(), "reason"), 1);
  auto end = query->stream->next(batch);
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(*end);

  // Errors in the explained statement point into the whole text.
  auto bad = pipeline->run(Statement{"EXPLAIN ROUTE SELEC 1"}, Session());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kSyntaxError);
  EXPECT_EQ(bad.error().position, 14u);
  // EXPLAIN without ROUTE is DuckDB's own EXPLAIN, run on the engine.
  auto plain = pipeline->run(Statement{"EXPLAIN SELECT 1"}, Session());
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(plain->engine, "duckdb");
}

TEST(ExplainRoute, RecognizesTheStatementOnly) {
  EXPECT_EQ(sql::explain_route_target("EXPLAIN ROUTE SELECT 1"), 13u);
  EXPECT_EQ(sql::explain_route_target("explain route\nselect 1"), 13u);
  EXPECT_EQ(sql::explain_route_target("/* a */ Explain /* b */ Route/* c */SELECT 1"), 29u);
  EXPECT_EQ(sql::explain_route_target("-- x\nEXPLAIN ROUTE SELECT 1"), 18u);
  EXPECT_EQ(sql::explain_route_target("EXPLAIN SELECT 1"), std::nullopt);
  EXPECT_EQ(sql::explain_route_target("EXPLAIN ROUTES"), std::nullopt);
  EXPECT_EQ(sql::explain_route_target("EXPLAIN ROUTE(1)"), std::nullopt);
  EXPECT_EQ(sql::explain_route_target("EXPLAINROUTE SELECT 1"), std::nullopt);
  EXPECT_EQ(sql::explain_route_target("SELECT 'EXPLAIN ROUTE'"), std::nullopt);
  EXPECT_EQ(sql::explain_route_target(""), std::nullopt);
  EXPECT_EQ(sql::explain_route_target("EXPLAIN"), std::nullopt);
  EXPECT_EQ(sql::explain_route_target("EXPLAIN ROUTE"), 13u);  // then the empty statement is the error
}

TEST(Pipeline, StatementsInDuckDBOnlySyntaxStayOnDuckDB) {
  auto pipeline = make_pipeline(30s, joins_to_trino_router());
  // A join (the rule sends joins to Trino) that Trino could not run as written.
  auto routed = pipeline->route(
      Statement{"SELECT a.range FROM range(3) a JOIN range(3) b USING (range) QUALIFY row_number() OVER () = 1"},
      Session());
  ASSERT_TRUE(routed.ok()) << routed.error().message;
  EXPECT_EQ(routed->decision.engine, "duckdb");
  const auto json = routed->decision.to_json().dump();
  EXPECT_NE(json.find("NOT_PORTABLE"), std::string::npos) << json;
  EXPECT_NE(json.find("trino does not speak DuckDB's QUALIFY"), std::string::npos) << json;
}

TEST(Pipeline, QueryIdsAreUnique) {
  auto pipeline = make_pipeline();
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    auto q = pipeline->run(Statement{"SELECT 1"}, Session());
    ASSERT_TRUE(q.ok());
    ids.insert(q->query_id);
  }
  EXPECT_EQ(ids.size(), 50u);
}

}  // namespace
}  // namespace lakerouter

namespace lakerouter {
namespace {

// An engine that is down: every statement fails as an unreachable server would.
class DownEngine final : public Engine {
 public:
  explicit DownEngine(std::string name) : name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  std::string_view dialect() const override { return "trino"; }
  Result<std::unique_ptr<ResultStream>> execute(const Statement&, const Session&) override {
    ++calls;
    return Error(ErrorCode::kEngineUnavailable, name_ + " at http://127.0.0.1:1 refused the connection");
  }
  EngineHealth health() override { return {false, "connection refused"}; }
  int calls = 0;

 private:
  std::string name_;
};

struct FailoverPipeline {
  std::unique_ptr<LiveCatalog> catalog = std::make_unique<LiveCatalog>(Catalog(), CatalogOptions());
  std::unique_ptr<routing::Router> router;
  std::shared_ptr<DownEngine> trino = std::make_shared<DownEngine>("trino");
  std::unique_ptr<Pipeline> pipeline;
};

// Joins go to Trino (down); DuckDB is the other capable engine.
FailoverPipeline make_failover_pipeline() {
  FailoverPipeline f;
  f.router = joins_to_trino_router();
  DuckDBEngineOptions options;
  options.load_extensions = {};
  options.pool_size = 2;
  auto duckdb = DuckDBEngine::open(options, Catalog());
  EXPECT_TRUE(duckdb.ok());
  std::vector<std::shared_ptr<Engine>> engines{std::move(*duckdb), f.trino};
  PipelineOptions pipeline_options;
  pipeline_options.monitor.check_interval = std::chrono::milliseconds(0);
  f.pipeline = std::make_unique<Pipeline>(std::move(engines), pipeline_options, *f.catalog, *f.router);
  return f;
}

TEST(Failover, ReadOnlyStatementsMoveToTheNextEngineAndSayWhy) {
  auto f = make_failover_pipeline();
  auto query = f.pipeline->run(Statement{"SELECT count(*) FROM range(3) a JOIN range(3) b USING (range)"}, Session());
  ASSERT_TRUE(query.ok()) << query.error().message;
  EXPECT_EQ(query->engine, "duckdb");
  ASSERT_EQ(query->decision.attempts.size(), 2u);
  EXPECT_EQ(query->decision.attempts[0].engine, "trino");
  EXPECT_FALSE(query->decision.attempts[0].ok);
  EXPECT_EQ(query->decision.attempts[0].error_code, "ENGINE_UNAVAILABLE");
  EXPECT_EQ(query->decision.attempts[1].engine, "duckdb");
  EXPECT_TRUE(query->decision.attempts[1].ok);
  ASSERT_FALSE(query->decision.reasons.empty());
  EXPECT_EQ(query->decision.reasons.front().code, routing::ReasonCode::kFailedOver);
  EXPECT_NE(query->decision.reasons.front().message.find("trino failed before returning any row"), std::string::npos);
  ResultBatch batch;
  auto more = query->stream->next(batch);
  ASSERT_TRUE(more.ok() && *more);
  EXPECT_EQ(batch.column(0).int64_at(0), 3);
  const auto json = query->decision.to_json();
  EXPECT_EQ(json["attempts"].size(), 2u);
}

TEST(Failover, WritesAreNeverRetried) {
  auto f = make_failover_pipeline();
  Session pinned;
  pinned.engine_request = "trino";
  auto write = f.pipeline->run(Statement{"CREATE TABLE t AS SELECT 1 AS x"}, pinned);
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.error().code, ErrorCode::kEngineUnavailable);
  EXPECT_NE(write.error().message.find("writes are never retried"), std::string::npos) << write.error().message;
  EXPECT_EQ(f.trino->calls, 1);
}

TEST(Failover, RepeatedFailuresOpenTheBreakerAndRoutingAvoidsTheEngine) {
  auto f = make_failover_pipeline();
  const Statement join{"SELECT * FROM range(3) a JOIN range(3) b USING (range)"};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(f.pipeline->run(join, Session()).ok());
  EXPECT_EQ(f.trino->calls, 3);
  const auto status = f.pipeline->monitor().status();
  const auto trino = std::find_if(status.begin(), status.end(), [](const EngineStatus& s) { return s.engine == "trino"; });
  ASSERT_NE(trino, status.end());
  EXPECT_EQ(trino->state, BreakerState::kOpen);

  // Now routing itself rules Trino out: no further attempt reaches it.
  auto query = f.pipeline->run(join, Session());
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(f.trino->calls, 3);
  EXPECT_EQ(query->engine, "duckdb");
  EXPECT_TRUE(query->decision.has_reason(routing::ReasonCode::kEngineUnhealthy));
}

TEST(EngineMonitorTest, HalfOpensAfterTheCooldownAndClosesOnSuccess) {
  auto down = std::make_shared<DownEngine>("trino");
  EngineMonitorOptions options;
  options.failure_threshold = 2;
  options.open_for = std::chrono::milliseconds(0);  // half-open at the next look
  options.check_interval = std::chrono::milliseconds(0);
  EngineMonitor monitor({down}, options);
  monitor.record_failure("trino", "boom");
  EXPECT_TRUE(monitor.routing_states().empty()) << "one failure is not enough";
  monitor.record_failure("trino", "boom");
  EXPECT_EQ(monitor.status()[0].state, BreakerState::kHalfOpen) << "open_for elapsed at once";
  EXPECT_TRUE(monitor.try_acquire("trino")) << "the probe";
  EXPECT_FALSE(monitor.try_acquire("trino")) << "one probe at a time";
  ASSERT_EQ(monitor.routing_states().size(), 1u);
  monitor.record_success("trino");
  EXPECT_EQ(monitor.status()[0].state, BreakerState::kClosed);
  EXPECT_TRUE(monitor.routing_states().empty());
}

TEST(EngineMonitorTest, AFailedHealthCheckOpensTheBreaker) {
  auto down = std::make_shared<DownEngine>("trino");
  EngineMonitorOptions options;
  options.check_interval = std::chrono::milliseconds(0);
  EngineMonitor monitor({down}, options);
  monitor.check_now();
  const auto status = monitor.status();
  EXPECT_EQ(status[0].state, BreakerState::kOpen);
  EXPECT_NE(status[0].last_error.find("connection refused"), std::string::npos);
}

}  // namespace
}  // namespace lakerouter

namespace lakerouter {
namespace {

TEST(AdmissionGateTest, AdmitsUpToTheLimitThenQueuesThenRefuses) {
  AdmissionGate gate("trino", AdmissionLimits{.max_concurrent = 1, .max_queued = 0, .max_queue_wait = 10s});
  auto first = gate.admit();
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(gate.saturated());
  auto refused = gate.admit();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kOverloaded);
  EXPECT_NE(refused.error().message.find("engines.trino.admission"), std::string::npos) << refused.error().message;
  { auto released = std::move(*first); }  // the slot goes back
  EXPECT_FALSE(gate.saturated());
  EXPECT_TRUE(gate.admit().ok());
  const auto stats = gate.stats();
  EXPECT_EQ(stats.admitted, 2);
  EXPECT_EQ(stats.refused, 1);
  EXPECT_EQ(stats.running, 0);
}

TEST(AdmissionGateTest, AWaitingStatementGetsTheNextFreeSlotOrGivesUp) {
  AdmissionGate gate("pg", AdmissionLimits{.max_concurrent = 1, .max_queued = 1, .max_queue_wait = 50ms});
  auto held = gate.admit();
  ASSERT_TRUE(held.ok());
  auto timed_out = gate.admit();  // nobody frees the slot within 50 ms
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().code, ErrorCode::kOverloaded);
  EXPECT_NE(timed_out.error().message.find("no free slot within 50 ms"), std::string::npos) << timed_out.error().message;

  AdmissionGate patient("pg", AdmissionLimits{.max_concurrent = 1, .max_queued = 1, .max_queue_wait = 60s});
  auto slot = patient.admit();
  ASSERT_TRUE(slot.ok());
  std::thread releaser([s = std::move(*slot)]() mutable {
    std::this_thread::sleep_for(20ms);
    AdmissionGate::Slot gone = std::move(s);
  });
  auto next = patient.admit();  // waits until the releaser lets go
  releaser.join();
  EXPECT_TRUE(next.ok());
}

TEST(AdmissionGateTest, CancellingAWaitingStatementLeavesTheQueue) {
  AdmissionGate gate("pg", AdmissionLimits{.max_concurrent = 1, .max_queued = 4, .max_queue_wait = 60s});
  auto held = gate.admit();
  ASSERT_TRUE(held.ok());
  CancelToken token;
  std::thread canceller([&token] {
    std::this_thread::sleep_for(20ms);
    token.cancel();
  });
  auto cancelled = gate.admit(&token);
  canceller.join();
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().code, ErrorCode::kQueryCancelled);
  EXPECT_EQ(gate.stats().queued, 0);
}

TEST(AdmissionGateTest, NoLimitMeansNoGate) {
  AdmissionGate gate("duckdb", AdmissionLimits{});
  std::vector<AdmissionGate::Slot> slots;
  for (int i = 0; i < 100; ++i) {
    auto slot = gate.admit();
    ASSERT_TRUE(slot.ok());
    slots.push_back(std::move(*slot));
  }
  EXPECT_FALSE(gate.saturated());
}

// DuckDB under another name, so that a pipeline has two working engines.
class RenamedEngine final : public Engine {
 public:
  RenamedEngine(std::string name, std::shared_ptr<Engine> inner) : name_(std::move(name)), inner_(std::move(inner)) {}
  std::string_view name() const override { return name_; }
  std::string_view dialect() const override { return inner_->dialect(); }
  Result<std::unique_ptr<ResultStream>> execute(const Statement& s, const Session& session) override {
    return inner_->execute(s, session);
  }
  EngineHealth health() override { return inner_->health(); }

 private:
  std::string name_;
  std::shared_ptr<Engine> inner_;
};

struct AdmissionPipeline {
  std::unique_ptr<LiveCatalog> catalog = std::make_unique<LiveCatalog>(Catalog(), CatalogOptions());
  std::unique_ptr<routing::Router> router;
  std::unique_ptr<Pipeline> pipeline;
};

// Joins go to "trino" (DuckDB renamed), which runs one statement at a time and queues none.
AdmissionPipeline make_admission_pipeline() {
  AdmissionPipeline a;
  a.router = joins_to_trino_router();
  DuckDBEngineOptions options;
  options.load_extensions = {};
  options.pool_size = 4;
  auto duckdb = DuckDBEngine::open(options, Catalog());
  EXPECT_TRUE(duckdb.ok());
  std::shared_ptr<Engine> shared = std::move(*duckdb);
  std::vector<std::shared_ptr<Engine>> engines{shared, std::make_shared<RenamedEngine>("trino", shared)};
  PipelineOptions pipeline_options;
  pipeline_options.monitor.check_interval = 0ms;
  pipeline_options.admission["trino"] = AdmissionLimits{.max_concurrent = 1, .max_queued = 0, .max_queue_wait = 1s};
  a.pipeline = std::make_unique<Pipeline>(std::move(engines), pipeline_options, *a.catalog, *a.router);
  return a;
}

constexpr char kJoin[] = "SELECT count(*) FROM range(3) a JOIN range(3) b USING (range)";

TEST(Admission, ASaturatedEngineIsRoutedAroundAndTheDecisionSaysWhy) {
  auto a = make_admission_pipeline();
  auto first = a.pipeline->run(Statement{kJoin}, Session());
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->engine, "trino");
  // The first result is not read to its end: its slot is still taken.
  auto second = a.pipeline->run(Statement{kJoin}, Session());
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->engine, "duckdb");
  const auto json = second->decision.to_json().dump();
  EXPECT_NE(json.find("ENGINE_BUSY"), std::string::npos) << json;
  first->stream.reset();  // gives the slot back
  auto third = a.pipeline->run(Statement{kJoin}, Session());
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->engine, "trino");
}

TEST(Admission, WithNoOtherEngineTheStatementIsRefusedAsOverloaded) {
  auto t = make_pipeline();  // DuckDB alone, here limited to one statement at a time
  PipelineOptions options;
  options.admission["duckdb"] = AdmissionLimits{.max_concurrent = 1, .max_queued = 0, .max_queue_wait = 1s};
  DuckDBEngineOptions duckdb_options;
  duckdb_options.load_extensions = {};
  auto duckdb = DuckDBEngine::open(duckdb_options, Catalog());
  ASSERT_TRUE(duckdb.ok());
  Pipeline pipeline({std::move(*duckdb)}, options, *t.catalog, *t.router);
  auto first = pipeline.run(Statement{"SELECT * FROM range(10)"}, Session());
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = pipeline.run(Statement{"SELECT 1"}, Session());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kOverloaded);
  EXPECT_NE(second.error().message.find("admission limit (duckdb)"), std::string::npos) << second.error().message;
  EXPECT_EQ(pipeline.admission("duckdb")->stats().running, 1);
  first->stream.reset();
  EXPECT_TRUE(pipeline.run(Statement{"SELECT 1"}, Session()).ok());
}

// ---- Timing and calibration -------------------------------------------------------------------

Result<bool> drain(RunningQuery& query) {
  ResultBatch batch;
  Result<bool> more = true;
  for (int i = 0; i < 1000000 && more.ok() && *more; ++i) more = query.stream->next(batch);  // bounded
  return more;
}

TEST(PipelineCalibration, OneObservationPerStatementReadToItsEnd) {
  auto pipeline = make_pipeline();
  routing::Calibrator* calibrator = pipeline->calibrator();
  ASSERT_NE(calibrator, nullptr);  // on by default
  auto samples = [&] { return calibrator->snapshot()->total_samples(); };

  auto query = pipeline->run(Statement{"SELECT 42"}, Session());
  ASSERT_TRUE(query.ok()) << query.error().message;
  ASSERT_NE(query->timing, nullptr);
  EXPECT_EQ(query->decision.size_class, "tiny");  // nothing scanned
  EXPECT_FALSE(query->timing->engine_done_ms());  // not read to its end yet
  EXPECT_EQ(samples(), 0);
  ASSERT_TRUE(drain(*query).ok());
  const auto engine_ms = query->timing->engine_done_ms();
  ASSERT_TRUE(engine_ms);
  EXPECT_GE(*engine_ms, 0);
  EXPECT_LE(*engine_ms, query->elapsed_ms());
  EXPECT_EQ(query->timing->queued_ms.load(), 0);  // no admission limit
  EXPECT_EQ(samples(), 1);
  EXPECT_EQ(calibrator->snapshot()->find("duckdb", "tiny")->samples, 1);
  ASSERT_TRUE(drain(*query).ok());  // reading past the end observes nothing more
  EXPECT_EQ(samples(), 1);

  // EXPLAIN ROUTE runs on no engine.
  auto explain = pipeline->run(Statement{"EXPLAIN ROUTE SELECT 1"}, Session());
  ASSERT_TRUE(explain.ok());
  EXPECT_EQ(explain->timing, nullptr);
  ASSERT_TRUE(drain(*explain).ok());
  // Refused, failing, cancelled: nothing learnt.
  EXPECT_FALSE(pipeline->run(Statement{"SELECT FROM WHERE"}, Session()).ok());
  auto failing = pipeline->run(Statement{"SELECT error('boom') FROM range(3)"}, Session());
  if (failing.ok()) {
    EXPECT_FALSE(drain(*failing).ok());
  }
  CancelToken token;
  auto cancelled = pipeline->run(Statement{"SELECT i FROM range(1000000000000) t(i)"}, Session(), {}, &token);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  token.cancel();
  EXPECT_FALSE(drain(*cancelled).ok());
  EXPECT_FALSE(cancelled->timing->engine_done_ms());
  // Give the pool's connections back.
  query->stream.reset();
  cancelled->stream.reset();
  if (failing.ok()) failing->stream.reset();
  // A table of unknown size: the scan is not known, so neither is its class.
  auto create = pipeline->run(Statement{"CREATE TABLE unsized AS SELECT 1 AS x"}, Session());
  ASSERT_TRUE(create.ok()) << create.error().message;
  ASSERT_TRUE(drain(*create).ok());
  auto unsized = pipeline->run(Statement{"SELECT x FROM unsized"}, Session());
  ASSERT_TRUE(unsized.ok()) << unsized.error().message;
  EXPECT_EQ(unsized->decision.size_class, "");
  ASSERT_TRUE(drain(*unsized).ok());
  EXPECT_TRUE(unsized->timing->engine_done_ms());  // timed, but not learnt from
  EXPECT_EQ(samples(), 1);

  EXPECT_EQ(calibrator->reset(), 1);
  EXPECT_EQ(samples(), 0);
}

TEST(PipelineCalibration, OffWhenTheConfigurationSaysSo) {
  routing::RoutingPolicy policy;
  policy.calibration.enabled = false;
  auto router = routing::Router::create(policy, {routing::default_engine_profile("duckdb", routing::EngineType::kDuckDB)});
  ASSERT_TRUE(router.ok());
  auto pipeline = make_pipeline(30s, std::make_unique<routing::Router>(std::move(*router)));
  EXPECT_EQ(pipeline->calibrator(), nullptr);
  auto query = pipeline->run(Statement{"SELECT 1"}, Session());
  ASSERT_TRUE(query.ok());
  ASSERT_TRUE(drain(*query).ok());
  EXPECT_TRUE(query->timing->engine_done_ms());  // timing does not depend on calibration
}

TEST(PipelineCalibration, QueuedTimeIsTheAdmissionWait) {
  auto t = make_pipeline();
  PipelineOptions options;
  options.admission["duckdb"] = AdmissionLimits{.max_concurrent = 1, .max_queued = 1, .max_queue_wait = 5s};
  DuckDBEngineOptions duckdb_options;
  duckdb_options.load_extensions = {};
  auto duckdb = DuckDBEngine::open(duckdb_options, Catalog());
  ASSERT_TRUE(duckdb.ok());
  Pipeline pipeline({std::move(*duckdb)}, options, *t.catalog, *t.router);
  auto first = pipeline.run(Statement{"SELECT * FROM range(10)"}, Session());
  ASSERT_TRUE(first.ok()) << first.error().message;
  std::thread release([&first] {
    std::this_thread::sleep_for(200ms);
    first->stream.reset();  // gives the slot back
  });
  auto second = pipeline.run(Statement{"SELECT 1"}, Session());
  release.join();
  ASSERT_TRUE(second.ok()) << second.error().message;
  ASSERT_TRUE(drain(*second).ok());
  EXPECT_GE(second->timing->queued_ms.load(), 150);
  EXPECT_LT(*second->timing->engine_done_ms(), second->elapsed_ms() - second->timing->queued_ms.load() + 1);
}

}  // namespace
}  // namespace lakerouter
