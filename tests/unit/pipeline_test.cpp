#include <set>

#include <gtest/gtest.h>

#include "engines/duckdb/duckdb_engine.h"
#include "server/pipeline.h"
#include "test_util.h"

namespace lakerouter {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<Pipeline> make_pipeline(std::chrono::milliseconds timeout = 30s) {
  DuckDBEngineOptions options;
  options.load_extensions = {};
  options.pool_size = 2;
  auto engine = DuckDBEngine::open(options, Catalog());
  EXPECT_TRUE(engine.ok());
  std::vector<std::shared_ptr<Engine>> engines;
  engines.push_back(std::move(*engine));
  PipelineOptions pipeline_options;
  pipeline_options.default_timeout = timeout;
  return std::make_unique<Pipeline>(std::move(engines), pipeline_options);
}

TEST(Pipeline, RunsOneStatementOnTheDefaultEngine) {
  auto pipeline = make_pipeline();
  auto query = pipeline->run(Statement{"SELECT 42"}, Session());
  ASSERT_TRUE(query.ok()) << query.error().message;
  EXPECT_EQ(query->engine, "duckdb");
  EXPECT_EQ(query->kind, sql::StatementKind::kSelect);
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
