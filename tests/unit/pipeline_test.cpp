#include <set>

#include <gtest/gtest.h>

#include "engines/duckdb/duckdb_engine.h"
#include "server/pipeline.h"
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
  auto query = pipeline->run(Statement{"SELECT count(*) FROM range(1000000000000)"}, Session());
  ASSERT_TRUE(query.ok());
  ResultBatch batch;
  auto more = query->stream->next(batch);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.error().code, ErrorCode::kQueryTimeout);

  Session patient;
  patient.timeout = 30s;  // a request may ask for more time than the default
  auto fine = pipeline->run(Statement{"SELECT 1"}, patient);
  ASSERT_TRUE(fine.ok());
  EXPECT_TRUE(fine->stream->next(batch).ok());
}

TEST(Pipeline, AChosenEngineThatIsNotConnectedFallsBackAndSaysSo) {
  // Trino is declared for routing and a rule sends joins there; only DuckDB is connected.
  routing::RoutingPolicy policy;
  routing::Rule joins;
  joins.name = "joins";
  joins.match.has_join = true;
  joins.route = {"trino"};
  policy.rules.push_back(joins);
  auto router = routing::Router::create(
      policy, {routing::default_engine_profile("duckdb", routing::EngineType::kDuckDB),
               routing::default_engine_profile("trino", routing::EngineType::kTrino)});
  ASSERT_TRUE(router.ok()) << router.error().message;
  auto pipeline = make_pipeline(30s, std::make_unique<routing::Router>(std::move(*router)));

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
