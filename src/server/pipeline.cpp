#include "server/pipeline.h"

#include <random>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "core/utf8.h"
#include "server/explain_route.h"
#include "sql/analyzer.h"
#include "sql/dialect.h"
#include "sql/explain_route.h"

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

// Hands out a batch fetched before the query was returned, then the engine's; and tells the
// engine monitor when the engine fails later (an engine dying mid-stream).
class PrefetchedStream final : public ResultStream {
 public:
  PrefetchedStream(std::unique_ptr<ResultStream> inner, ResultBatch first, bool first_has_rows,
                   EngineMonitor& monitor, std::string engine)
      : inner_(std::move(inner)), first_(std::move(first)), first_has_rows_(first_has_rows), monitor_(monitor),
        engine_(std::move(engine)) {}

  const ResultSchema& schema() const override { return inner_->schema(); }
  Result<bool> next(ResultBatch& batch) override {
    if (!first_taken_) {
      first_taken_ = true;
      batch = std::move(first_);
      if (!first_has_rows_) done_ = true;
      return first_has_rows_;
    }
    if (done_) {
      batch.reset(inner_->schema());
      return false;
    }
    auto more = inner_->next(batch);
    if (!more.ok() && more.error().code == ErrorCode::kEngineUnavailable) {
      monitor_.record_failure(engine_, more.error().message);
    }
    return more;
  }
  void cancel(bool timed_out) override { inner_->cancel(timed_out); }
  std::optional<int64_t> rows_changed() const override { return inner_->rows_changed(); }

 private:
  std::unique_ptr<ResultStream> inner_;
  ResultBatch first_;
  bool first_has_rows_ = false;
  bool first_taken_ = false;
  bool done_ = false;
  EngineMonitor& monitor_;
  std::string engine_;
};

// Errors that say the engine, not the statement, is at fault: worth another engine.
bool retryable(const Error& error) { return error.code == ErrorCode::kEngineUnavailable; }

}  // namespace

double RunningQuery::elapsed_ms() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
}

Pipeline::Pipeline(std::vector<std::shared_ptr<Engine>> engines, PipelineOptions options, const LiveCatalog& catalog,
                   const routing::Router& router)
    : engines_(std::move(engines)), options_(options), catalog_(catalog), router_(router),
      monitor_(engines_, options.monitor) {
  std::random_device rd;
  id_prefix_ = fmt::format("{:%Y%m%d_%H%M%S}_{:05x}", fmt::gmtime(std::time(nullptr)), rd() & 0xfffff);
}

std::string Pipeline::new_query_id() { return fmt::format("{}_{:06}", id_prefix_, ++query_counter_); }

std::shared_ptr<Engine> Pipeline::connected(std::string_view name) const {
  for (const auto& engine : engines_) {
    if (engine->name() == name) return engine;
  }
  return nullptr;
}

Result<RoutedStatement> Pipeline::route(const Statement& statement, const Session& session) const {
  const auto states = monitor_.routing_states();
  return route_with(statement, session, states);
}

Result<RoutedStatement> Pipeline::route_with(const Statement& statement, const Session& session,
                                             std::span<const routing::EngineState> states) const {
  auto profile = sql::analyze(statement.sql);
  if (!profile.ok()) return profile.error();
  const auto catalog = catalog_.current();  // one snapshot for the whole statement
  const auto tables = routing::resolve_tables(*profile, *catalog, router_.policy().tables);
  const routing::RoutingInput input{.profile = *profile,
                                    .session = session,
                                    .tables = tables,
                                    .engine_states = states,
                                    .header_engine = session.engine_request};
  auto decision = router_.decide(input);
  return RoutedStatement{std::move(*profile), std::move(decision)};
}

Result<RunningQuery> Pipeline::run(const Statement& statement, const Session& session, std::string query_id) {
  RunningQuery query;
  query.started = std::chrono::steady_clock::now();
  query.query_id = query_id.empty() ? new_query_id() : std::move(query_id);

  // EXPLAIN ROUTE <statement>: analyze and route the statement, answer with the decision.
  if (auto target = sql::explain_route_target(statement.sql)) {
    Statement inner = statement;
    inner.sql = statement.sql.substr(*target);
    auto routed = route(inner, session);
    if (!routed.ok()) {
      Error error = std::move(routed).error();
      if (error.position) {  // positions count characters of the whole text
        *error.position += static_cast<uint32_t>(utf8_char_offset(statement.sql, *target));
      }
      return error;
    }
    query.kind = sql::StatementKind::kExplain;
    query.engine = "lakerouter";
    query.stream = explain_route_rows(routed->decision);
    query.decision = std::move(routed->decision);
    return query;
  }

  // 1-2. Analyze and route; 3. execute, failing over while the statement allows it.
  std::vector<routing::EngineState> states = monitor_.routing_states();
  std::vector<routing::Attempt> attempts;
  std::vector<routing::Reason> failovers;
  for (int attempt = 1;; ++attempt) {
    auto routed = route_with(statement, session, states);
    if (!routed.ok()) return routed.error();
    query.kind = routed->profile.kind;
    query.decision = std::move(routed->decision);
    query.decision.reasons.insert(query.decision.reasons.begin(), failovers.begin(), failovers.end());
    query.decision.attempts = attempts;
    if (!query.decision.ok()) {
      if (!attempts.empty()) {
        return Error(ErrorCode::kEngineUnavailable,
                     fmt::format("{} failed ({}) and no other engine can run the statement", attempts.back().engine,
                                 attempts.back().error));
      }
      std::string why = query.decision.reasons.empty() ? "" : ": " + query.decision.reasons.back().message;
      return Error(ErrorCode::kNotSupported, "no configured engine can run this statement" + why);
    }

    auto engine = pick_engine(query.decision);
    if (!engine.ok()) return engine.error();
    query.engine = std::string((*engine)->name());

    // A half-open engine takes one probe at a time; others find it unavailable meanwhile.
    Status started = monitor_.try_acquire(query.engine)
                         ? start_on(**engine, statement, routed->profile, session, query)
                         : Status(Error(ErrorCode::kEngineUnavailable,
                                        fmt::format("{} is recovering from failures (circuit half-open)", query.engine)));
    if (started.ok()) {
      monitor_.record_success(query.engine);
      query.decision.attempts.push_back({query.engine, true, "", ""});
      return query;
    }
    Error failure = started.error();
    if (!retryable(failure)) {  // the statement's own error: the engine answered; no other would do better
      monitor_.record_success(query.engine);
      return failure;
    }
    monitor_.record_failure(query.engine, failure.message);
    attempts.push_back({query.engine, false, std::string(error_code_name(failure.code)), failure.message});
    if (!routed->profile.is_read_only() || attempt >= options_.max_attempts) {
      if (!routed->profile.is_read_only() && attempt < options_.max_attempts) {
        failure.message += " (writes are never retried on another engine)";
      }
      return failure;
    }
    failovers.push_back({routing::ReasonCode::kFailedOver,
                         fmt::format("{} failed before returning any row ({}: {}); routing again without it",
                                     query.engine, error_code_name(failure.code), failure.message)});
    states.push_back({.engine = query.engine, .circuit_open = true, .queue_wait_ms = std::nullopt});
  }
}

Result<std::shared_ptr<Engine>> Pipeline::pick_engine(routing::Decision& decision) const {
  // Engines may be declared for routing before they are connected: then the first capable
  // connected engine runs the statement, and the decision says so.
  auto engine = connected(decision.engine);
  if (engine) return engine;
  for (const auto& candidate : decision.candidates) {
    if (candidate.capable && (engine = connected(candidate.engine))) break;
  }
  if (!engine) {
    return Error(ErrorCode::kEngineUnavailable,
                 fmt::format("{} was chosen but is not connected, and no connected engine can run the statement",
                             decision.engine));
  }
  decision.reasons.push_back({routing::ReasonCode::kEngineNotConnected,
                              fmt::format("{} is declared for routing but not connected yet; {} ran the statement instead",
                                          decision.engine, engine->name())});
  return engine;
}

// Starts the statement under its deadline and fetches the first batch.
Status Pipeline::start_on(Engine& engine, const Statement& statement, const sql::QueryProfile& profile,
                          const Session& session, RunningQuery& query) {
  const auto timeout = std::min(session.timeout.value_or(options_.default_timeout), options_.max_timeout);
  Statement to_run = statement;
  to_run.sql = sql::translate(sql::without_terminator(statement.sql), profile, engine.dialect());
  auto stream = engine.execute(to_run, session);
  if (!stream.ok()) return stream.error();
  auto guarded = std::make_unique<DeadlineStream>(std::move(*stream), watchdog_, query.started + timeout);
  ResultBatch first;
  auto more = guarded->next(first);
  if (!more.ok()) return more.error();
  query.stream = std::make_unique<PrefetchedStream>(std::move(guarded), std::move(first), *more, monitor_,
                                                    std::string(engine.name()));
  return Status::Ok();
}

}  // namespace lakerouter
