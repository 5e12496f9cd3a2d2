#include "server/pipeline.h"

#include <random>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "core/utf8.h"
#include "server/explain_route.h"
#include "sql/analyzer.h"
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

}  // namespace

double RunningQuery::elapsed_ms() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
}

Pipeline::Pipeline(std::vector<std::shared_ptr<Engine>> engines, PipelineOptions options, const LiveCatalog& catalog,
                   const routing::Router& router)
    : engines_(std::move(engines)), options_(options), catalog_(catalog), router_(router) {
  std::random_device rd;
  id_prefix_ = fmt::format("{:%Y%m%d_%H%M%S}_{:05x}", fmt::gmtime(std::time(nullptr)), rd() & 0xfffff);
}

std::string Pipeline::next_query_id() { return fmt::format("{}_{:06}", id_prefix_, ++query_counter_); }

std::shared_ptr<Engine> Pipeline::connected(std::string_view name) const {
  for (const auto& engine : engines_) {
    if (engine->name() == name) return engine;
  }
  return nullptr;
}

Result<RoutedStatement> Pipeline::route(const Statement& statement, const Session& session) const {
  auto profile = sql::analyze(statement.sql);
  if (!profile.ok()) return profile.error();
  const auto catalog = catalog_.current();  // one snapshot for the whole statement
  const auto tables = routing::resolve_tables(*profile, *catalog, router_.policy().tables);
  const routing::RoutingInput input{
      .profile = *profile, .session = session, .tables = tables, .header_engine = session.engine_request};
  auto decision = router_.decide(input);
  return RoutedStatement{std::move(*profile), std::move(decision)};
}

Result<RunningQuery> Pipeline::run(const Statement& statement, const Session& session) {
  RunningQuery query;
  query.started = std::chrono::steady_clock::now();
  query.query_id = next_query_id();

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

  // 1-2. Analyze and route.
  auto routed = route(statement, session);
  if (!routed.ok()) return routed.error();
  query.kind = routed->profile.kind;
  query.decision = std::move(routed->decision);
  if (!query.decision.ok()) {
    std::string why = query.decision.reasons.empty() ? "" : ": " + query.decision.reasons.back().message;
    return Error(ErrorCode::kNotSupported, "no configured engine can run this statement" + why);
  }

  // Engines may be declared for routing before they are connected: then the first capable
  // connected engine runs the statement, and the decision says so.
  auto engine = connected(query.decision.engine);
  if (!engine) {
    for (const auto& candidate : query.decision.candidates) {
      if (candidate.capable && (engine = connected(candidate.engine))) break;
    }
    if (!engine) {
      return Error(ErrorCode::kEngineUnavailable,
                   fmt::format("{} was chosen but is not connected, and no connected engine can run the statement",
                               query.decision.engine));
    }
    query.decision.reasons.push_back(
        {routing::ReasonCode::kEngineNotConnected,
         fmt::format("{} is declared for routing but not connected yet; {} ran the statement instead",
                     query.decision.engine, engine->name())});
  }
  query.engine = std::string(engine->name());

  // 3. Execute under a deadline.
  auto timeout = std::min(session.timeout.value_or(options_.default_timeout), options_.max_timeout);
  auto stream = engine->execute(statement, session);
  if (!stream.ok()) return stream.error();
  query.stream = std::make_unique<DeadlineStream>(std::move(*stream), watchdog_, query.started + timeout);
  return query;
}

}  // namespace lakerouter
