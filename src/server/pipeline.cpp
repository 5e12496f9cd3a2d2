#include "server/pipeline.h"

#include <random>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace lakerouter {

namespace {

// Wraps an engine stream so that the watchdog stops it at its deadline, and forgets it when the
// stream is done or dropped (before the engine stream itself goes away).
class DeadlineStream final : public ResultStream {
 public:
  DeadlineStream(std::unique_ptr<ResultStream> inner, Watchdog& watchdog, Watchdog::Clock::time_point deadline)
      : inner_(std::move(inner)), watchdog_(watchdog) {
    id_ = watchdog_.schedule(deadline, [s = inner_.get()] { s->cancel(/*timed_out=*/true); });
  }
  ~DeadlineStream() override { watchdog_.remove(id_); }

  const ResultSchema& schema() const override { return inner_->schema(); }
  Result<bool> next(ResultBatch& batch) override { return inner_->next(batch); }
  void cancel(bool timed_out) override { inner_->cancel(timed_out); }
  std::optional<int64_t> rows_changed() const override { return inner_->rows_changed(); }

 private:
  std::unique_ptr<ResultStream> inner_;
  Watchdog& watchdog_;
  Watchdog::Id id_ = 0;
};

}  // namespace

double RunningQuery::elapsed_ms() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
}

Pipeline::Pipeline(std::vector<std::shared_ptr<Engine>> engines, PipelineOptions options)
    : engines_(std::move(engines)), options_(options) {
  std::random_device rd;
  id_prefix_ = fmt::format("{:%Y%m%d_%H%M%S}_{:05x}", fmt::gmtime(std::time(nullptr)), rd() & 0xfffff);
}

std::string Pipeline::next_query_id() { return fmt::format("{}_{:06}", id_prefix_, ++query_counter_); }

Result<RunningQuery> Pipeline::run(const Statement& statement, const Session& session) {
  RunningQuery query;
  query.started = std::chrono::steady_clock::now();
  query.query_id = next_query_id();

  // 1. Analyze.
  auto parsed = sql::parse(statement.sql);
  if (!parsed.ok()) return parsed.error();
  if (parsed->statements.size() > 1) {
    return Error(ErrorCode::kMultipleStatements,
                 fmt::format("the request holds {} statements; send one statement per request",
                             parsed->statements.size()));
  }
  query.kind = parsed->statements.front();

  // 2. Route. Until the routing policy lands, every statement runs on the default engine.
  if (engines_.empty()) return Error(ErrorCode::kEngineUnavailable, "no engine is configured");
  Engine& engine = *engines_.front();
  query.engine = std::string(engine.name());

  // 3. Execute under a deadline.
  auto timeout = std::min(session.timeout.value_or(options_.default_timeout), options_.max_timeout);
  auto stream = engine.execute(statement, session);
  if (!stream.ok()) return stream.error();
  query.stream = std::make_unique<DeadlineStream>(std::move(*stream), watchdog_, query.started + timeout);
  return query;
}

}  // namespace lakerouter
