#include "server/pipeline.h"

#include <algorithm>
#include <random>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/read_ahead_stream.h"
#include "core/utf8.h"
#include "governance/access_check.h"
#include "server/explain_route.h"
#include "sql/analyzer.h"
#include "sql/parser.h"
#include "sql/dialect.h"
#include "sql/explain_route.h"

namespace lakerouter {

namespace {

// Wraps an engine stream so that the watchdog stops it at its deadline and the caller's token can
// cancel it; both forget it when the stream is done or dropped (before the engine stream goes).
// It also holds the statement's admission slot for as long as the result is being read.
class DeadlineStream final : public ResultStream {
 public:
  DeadlineStream(std::unique_ptr<ResultStream> inner, Watchdog& watchdog, Watchdog::Clock::time_point deadline,
                 CancelToken* token, AdmissionGate::Slot slot)
      : slot_(std::move(slot)), inner_(std::move(inner)), watchdog_(watchdog), token_(token) {
    id_ = watchdog_.schedule(deadline, [s = inner_.get()] { s->cancel(/*timed_out=*/true); });
    if (token_) token_->attach(*inner_);
  }
  ~DeadlineStream() override {
    if (token_) token_->detach(*inner_);
    watchdog_.remove(id_);
  }

  const ResultSchema& schema() const override { return inner_->schema(); }
  Result<bool> next(ResultBatch& batch) override { return inner_->next(batch); }
  void cancel(bool timed_out) override { inner_->cancel(timed_out); }
  std::optional<int64_t> rows_changed() const override { return inner_->rows_changed(); }

 private:
  AdmissionGate::Slot slot_;  // declared first: given back only after the engine stream is gone
  std::unique_ptr<ResultStream> inner_;
  Watchdog& watchdog_;
  CancelToken* token_;  // may be null
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

// A result larger than this measures the client's reading as much as the engine: not calibrated.
constexpr int64_t kMaxCalibrationRows = 100000;

double ms_since(std::chrono::steady_clock::time_point from) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - from).count();
}

// Measures the engine's time, from its start to the last row, into the query's timing; and
// reports a statement read to its end to calibration. It sits below the read-ahead, so the end is
// when the engine delivered its last row, not when the client took it.
class ObservedStream final : public ResultStream {
 public:
  // `calibrator` null: time only. `bytes`: the scan estimate routing used.
  ObservedStream(std::unique_ptr<ResultStream> inner, std::shared_ptr<QueryTiming> timing,
                 std::chrono::steady_clock::time_point engine_started, routing::Calibrator* calibrator,
                 std::string engine, double bytes)
      : inner_(std::move(inner)), timing_(std::move(timing)), engine_started_(engine_started), calibrator_(calibrator),
        engine_(std::move(engine)), bytes_(bytes) {}

  const ResultSchema& schema() const override { return inner_->schema(); }
  Result<bool> next(ResultBatch& batch) override {
    auto more = inner_->next(batch);
    if (ended_) return more;
    if (!more.ok()) {  // failed, cancelled or timed out: its time says nothing about the engine's speed
      ended_ = true;
      return more;
    }
    if (*more) {
      rows_ += static_cast<int64_t>(batch.row_count());
      return more;
    }
    ended_ = true;
    const double engine_ms = ms_since(engine_started_);
    timing_->engine_ms.store(engine_ms);
    if (calibrator_ && rows_ <= kMaxCalibrationRows && !cancelled_.load()) {
      calibrator_->observe(engine_, bytes_, engine_ms);
    }
    return more;
  }
  void cancel(bool timed_out) override {
    cancelled_.store(true);
    inner_->cancel(timed_out);
  }
  std::optional<int64_t> rows_changed() const override { return inner_->rows_changed(); }

 private:
  std::unique_ptr<ResultStream> inner_;
  std::shared_ptr<QueryTiming> timing_;
  std::chrono::steady_clock::time_point engine_started_;
  routing::Calibrator* calibrator_;  // may be null
  std::string engine_;
  double bytes_;
  int64_t rows_ = 0;
  bool ended_ = false;
  std::atomic<bool> cancelled_{false};
};

// Errors that say the engine, not the statement, is at fault: worth another engine.
bool retryable(const Error& error) { return error.code == ErrorCode::kEngineUnavailable; }

Error cancelled_error() { return Error(ErrorCode::kQueryCancelled, "the query was cancelled by the client"); }

// A script (several statements) that no engine here may run.
Error script_error(const sql::QueryProfile& profile) {
  return Error(ErrorCode::kMultipleStatements,
               fmt::format("the text holds {} statements; send one statement at a time (a script of several "
                           "statements runs only on a PostgreSQL engine, as one transaction)",
                           profile.statement_count));
}

// When the statement has no engine only because the capable ones are at their admission limits:
// OVERLOADED (retry later) rather than "no engine can run this statement".
std::optional<Error> busy_error(const routing::Decision& decision) {
  std::vector<std::string> busy;
  for (const auto& c : decision.candidates) {
    if (c.why_not.size() == 1 && c.why_not[0].code == routing::ReasonCode::kEngineBusy) busy.push_back(c.engine);
  }
  if (busy.empty()) return std::nullopt;
  return Error(ErrorCode::kOverloaded, fmt::format("every engine that can run the statement is at its admission "
                                                   "limit ({}); retry later",
                                                   fmt::join(busy, ", ")));
}

}  // namespace

double RunningQuery::elapsed_ms() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
}

Pipeline::Pipeline(std::vector<std::shared_ptr<Engine>> engines, PipelineOptions options, const LiveCatalog& catalog,
                   const routing::Router& router, const governance::PolicyStore* policies)
    : engines_(std::move(engines)),
      options_(std::move(options)),
      catalog_(catalog),
      router_(router),
      policies_(policies),
      monitor_(engines_, options_.monitor) {
  for (const auto& [engine, limits] : options_.admission) {
    if (limits.max_concurrent > 0) gates_.emplace(engine, std::make_unique<AdmissionGate>(engine, limits));
  }
  if (router_.policy().calibration.enabled) {
    calibrator_ = std::make_unique<routing::Calibrator>(router_.policy().calibration, router_.engines());
  }
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

const AdmissionGate* Pipeline::admission(std::string_view engine) const {
  const auto it = gates_.find(engine);
  return it == gates_.end() ? nullptr : it->second.get();
}

std::vector<routing::EngineState> Pipeline::engine_states() const {
  auto states = monitor_.routing_states();
  for (const auto& [name, gate] : gates_) {
    if (!gate->saturated()) continue;
    const std::string& engine = name;  // a lambda may not capture a structured binding (C++20)
    auto it = std::find_if(states.begin(), states.end(), [&engine](const auto& s) { return s.engine == engine; });
    if (it == states.end()) it = states.insert(states.end(), routing::EngineState{.engine = engine});
    it->saturated = true;
  }
  return states;
}

Result<RoutedStatement> Pipeline::route(const Statement& statement, const Session& session) const {
  const auto states = engine_states();
  auto routed = route_with(statement, session, states);
  if (routed.ok() && !routed->decision.ok() && routed->profile.statement_count > 1) return script_error(routed->profile);
  return routed;
}

Result<RoutedStatement> Pipeline::route_with(const Statement& statement, const Session& session,
                                             std::span<const routing::EngineState> states) const {
  // Several statements make a script, which only an engine that takes scripts may run.
  auto profile = profiles_.analyze(statement.sql);
  if (!profile.ok()) return profile.error();
  // COPY and EXPORT read or write files (or the server's own stdout) on the engine's host: never
  // for clients. Results leave through the front-ends (pgwire's COPY TO STDOUT, HTTP text/csv).
  if (profile->kind == sql::StatementKind::kCopy) {
    return Error(ErrorCode::kNotSupported,
                 "COPY and EXPORT are not run on engines: fetch results over the PostgreSQL protocol "
                 "(COPY (query) TO STDOUT, psql's \\copy) or over HTTP with Accept: text/csv");
  }
  LR_TRY(lock_down(statement, *profile));
  const auto catalog = catalog_.current();  // one snapshot for the whole statement
  auto tables = routing::resolve_tables(*profile, *catalog, router_.policy().tables);
  // 2. Govern: privileges are checked before any engine sees the statement; tables with row
  // filters or masks for this user become governed, which only enforcing engines may run.
  std::vector<governance::GovernedTable> governed;
  if (policies_ && policies_->enabled()) LR_TRY(govern(statement, session, *profile, *catalog, tables, governed));
  // One calibration snapshot for the whole decision; the router never sees the Calibrator.
  const auto calibration = calibrator_ ? calibrator_->snapshot() : nullptr;
  const routing::RoutingInput input{.profile = *profile,
                                    .session = session,
                                    .tables = tables,
                                    .engine_states = states,
                                    .header_engine = session.engine_request,
                                    .calibration = calibration.get()};
  auto decision = router_.decide(input);
  return RoutedStatement{std::move(*profile), std::move(tables), std::move(decision), std::move(governed)};
}

Status Pipeline::lock_down(const Statement& statement, const sql::QueryProfile& profile) const {
  LR_TRY(governance::check_lockdown(profile, options_.lockdown));
  if (profile.statement_count <= 1) return Status::Ok();
  // An allowed script: a script's profile sums up its statements, so each is checked on its own.
  auto parsed = sql::parse(statement.sql);
  if (!parsed.ok()) return parsed.error();
  for (const auto& span : parsed->spans) {
    auto one = profiles_.analyze(std::string_view(statement.sql).substr(span.offset, span.length));
    if (!one.ok()) return one.error();
    LR_TRY(governance::check_lockdown(*one, options_.lockdown));
  }
  return Status::Ok();
}

Status Pipeline::govern(const Statement& statement, const Session& session, const sql::QueryProfile& profile,
                        const Catalog& catalog, std::vector<routing::TableFacts>& tables,
                        std::vector<governance::GovernedTable>& governed) const {
  const auto policy = policies_->current();  // one version for the whole statement
  if (profile.statement_count <= 1) {
    return governance::check_access(*policy, session, profile, tables, policies_->catalogs(), &governed);
  }
  // A script: each statement needs its own privileges (an INSERT's grant does not cover a DROP).
  auto parsed = sql::parse(statement.sql);
  if (!parsed.ok()) return parsed.error();
  for (const auto& span : parsed->spans) {
    auto one = profiles_.analyze(std::string_view(statement.sql).substr(span.offset, span.length));
    if (!one.ok()) return one.error();
    auto one_tables = routing::resolve_tables(*one, catalog, router_.policy().tables);
    LR_TRY(governance::check_access(*policy, session, *one, one_tables, policies_->catalogs(), &governed));
    for (const auto& t : one_tables) {
      if (!t.governed) continue;
      for (auto& whole : tables) {
        if (whole.name != t.name) continue;
        whole.governed_by_policy = t.governed_by_policy && (whole.governed_by_policy || !whole.governed);
        whole.governed = true;
      }
    }
  }
  return Status::Ok();
}

Result<RunningQuery> Pipeline::run(const Statement& statement, const Session& session, std::string query_id,
                                   CancelToken* cancel) {
  const auto arrived = std::chrono::system_clock::now();
  const auto started = std::chrono::steady_clock::now();
  if (query_id.empty()) query_id = new_query_id();
  RunFacts facts;
  auto query = run_unaudited(statement, session, query_id, cancel, facts);
  // 4. Record: refusals now, a started statement when its result ends (telemetry/audit.h).
  if (options_.audit && statement.audited) audit(statement, session, arrived, started, facts, query_id, cancel, query);
  return query;
}

void Pipeline::record_refusal(const Statement& statement, const Session& session, const std::string& query_id,
                              const Error& error) const {
  if (!options_.audit || !statement.audited) return;
  RunFacts facts;
  Result<RunningQuery> refused = error;
  audit(statement, session, std::chrono::system_clock::now(), std::chrono::steady_clock::now(), facts, query_id,
        nullptr, refused);
}

Result<RunningQuery> Pipeline::run_unaudited(const Statement& statement, const Session& session, std::string query_id,
                                             CancelToken* cancel, RunFacts& facts) {
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
    facts.tables = routed->tables;
    facts.fingerprint = routed->profile.fingerprint;
    query.kind = sql::StatementKind::kExplain;
    query.engine = "lakerouter";
    query.stream = explain_route_rows(routed->decision);
    query.decision = std::move(routed->decision);
    return query;
  }

  // 1-2. Analyze and route; 3. execute, failing over while the statement allows it.
  query.timing = std::make_shared<QueryTiming>();
  std::vector<routing::EngineState> states = engine_states();
  std::vector<routing::Attempt> attempts;
  std::vector<routing::Reason> failovers;
  for (int attempt = 1;; ++attempt) {
    if (cancel && cancel->cancelled()) return cancelled_error();
    auto routed = route_with(statement, session, states);
    if (!routed.ok()) return routed.error();
    facts.tables = routed->tables;
    facts.fingerprint = routed->profile.fingerprint;
    facts.kind = routed->profile.kind;
    facts.governed = routed->governed;
    query.kind = routed->profile.kind;
    query.decision = std::move(routed->decision);
    query.decision.reasons.insert(query.decision.reasons.begin(), failovers.begin(), failovers.end());
    query.decision.attempts = attempts;
    if (!query.decision.ok()) {
      if (auto busy = busy_error(query.decision)) return *busy;
      if (routed->profile.statement_count > 1) return script_error(routed->profile);
      if (!attempts.empty()) {
        return Error(ErrorCode::kEngineUnavailable,
                     fmt::format("{} failed ({}) and no other engine can run the statement", attempts.back().engine,
                                 attempts.back().error));
      }
      // The engines' own reasons (not the summary that points at them), so the client sees why.
      std::string why;
      for (const auto& reason : query.decision.reasons) {
        if (reason.code == routing::ReasonCode::kNoCapableEngine) continue;
        why += (why.empty() ? ": " : "; ") + reason.message;
      }
      if (why.empty() && !query.decision.reasons.empty()) why = ": " + query.decision.reasons.back().message;
      return Error(ErrorCode::kNotSupported, "no configured engine can run this statement" + why);
    }

    auto engine = pick_engine(query.decision);
    if (!engine.ok()) return engine.error();
    query.engine = std::string((*engine)->name());
    facts.engine = query.engine;

    Status started = admit_and_start(**engine, statement, *routed, session, cancel, query);
    if (started.ok()) {
      monitor_.record_success(query.engine);
      query.decision.attempts.push_back({query.engine, true, "", ""});
      return query;
    }
    Error failure = started.error();
    if (failure.code == ErrorCode::kOverloaded) {
      // Full: not the engine's fault (the breaker is not told), but another engine may take it.
      attempts.push_back({query.engine, false, std::string(error_code_name(failure.code)), failure.message});
      if (!routed->profile.is_read_only() || attempt >= options_.max_attempts) return failure;
      failovers.push_back({routing::ReasonCode::kEngineBusy,
                           fmt::format("{} refused the statement ({}); routing again without it", query.engine,
                                       failure.message)});
      states.push_back({.engine = query.engine, .saturated = true});
      continue;
    }
    if (cancel && cancel->cancelled()) return failure;
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
    states.push_back({.engine = query.engine, .circuit_open = true});
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
// Waits for the engine's admission slot, then starts the statement there. A half-open engine
// takes one probe at a time; others find it unavailable meanwhile.
Status Pipeline::admit_and_start(Engine& engine, const Statement& statement, const RoutedStatement& routed,
                                 const Session& session, CancelToken* cancel, RunningQuery& query) {
  AdmissionGate::Slot slot;
  if (const auto it = gates_.find(engine.name()); it != gates_.end()) {
    const auto waiting_since = std::chrono::steady_clock::now();
    auto admitted = it->second->admit(cancel);
    query.timing->queued_ms.fetch_add(ms_since(waiting_since));
    if (!admitted.ok()) return admitted.error();
    slot = std::move(*admitted);
  }
  if (!monitor_.try_acquire(std::string(engine.name()))) {
    return Error(ErrorCode::kEngineUnavailable,
                 fmt::format("{} is recovering from failures (circuit half-open)", engine.name()));
  }
  Status started = start_on(engine, statement, routed, session, cancel, std::move(slot), query);
  if (!started.ok() && (started.error().code == ErrorCode::kOverloaded || (cancel && cancel->cancelled()))) {
    // The engine answered (busy), or the client stopped the statement: no failure of the engine,
    // and a half-open breaker's probe is over either way.
    monitor_.record_success(std::string(engine.name()));
  }
  return started;
}

Status Pipeline::start_on(Engine& engine, const Statement& statement, const RoutedStatement& routed,
                          const Session& session, CancelToken* cancel, AdmissionGate::Slot slot,
                          RunningQuery& query) {
  const auto engine_started = std::chrono::steady_clock::now();  // the admission wait is over
  const auto timeout = std::min(session.timeout.value_or(options_.default_timeout), options_.max_timeout);
  // Tables keep their lakerouter names for users; the engine may keep them in its own catalogs.
  std::vector<sql::EngineTableName> names(routed.tables.size());
  for (size_t i = 0; i < routed.tables.size(); ++i) {
    const auto& facts = routed.tables[i];
    const auto dot = facts.name.find('.');
    if (!facts.known || facts.format.empty() || dot == std::string::npos) continue;  // no schema to name
    names[i].catalog = engine.catalog_for(facts.format);
    names[i].schema = facts.name.substr(0, dot);
  }
  Statement to_run = statement;
  to_run.script = routed.profile.statement_count > 1;
  Session engine_session = session;
  // A script runs to its end inside execute(): it gets the whole deadline there.
  if (to_run.script) engine_session.timeout = timeout;
  to_run.sql = sql::translate(sql::without_terminator(statement.sql), routed.profile, engine.dialect(), names);
  const bool governed = !routed.governed.empty();
  if (governed && engine.dialect() == "duckdb") {
    // DuckDB applies the policy through the rewritten statement (Trino and Databricks apply it
    // themselves, from the same rules).
    auto enforced = governance::enforce_on_duckdb(to_run.sql, routed.governed, session.user);
    if (!enforced.ok()) return enforced.error();
    to_run.sql = std::move(*enforced);
  }
  auto stream = engine.execute(to_run, engine_session);
  if (!stream.ok()) return governed ? governance::withhold_details(std::move(stream).error()) : stream.error();
  if (governed) *stream = governance::withholding_details(std::move(*stream));
  auto guarded =
      std::make_unique<DeadlineStream>(std::move(*stream), watchdog_, query.started + timeout, cancel, std::move(slot));
  ResultBatch first;
  auto more = guarded->next(first);
  if (!more.ok()) return more.error();
  auto prefetched = std::make_unique<PrefetchedStream>(std::move(guarded), std::move(first), *more, monitor_,
                                                      std::string(engine.name()));
  // Calibration learns from single queries whose scan size routing knew (EXPLAIN ROUTE never gets
  // here; writes and DDL cost what their scan does not say).
  const bool calibrate = calibrator_ && query.kind == sql::StatementKind::kSelect &&
                         routed.profile.statement_count <= 1 && query.decision.est_bytes.has_value();
  auto observed = std::make_unique<ObservedStream>(std::move(prefetched), query.timing, engine_started,
                                                   calibrate ? calibrator_.get() : nullptr,
                                                   std::string(engine.name()), query.decision.est_bytes.value_or(0));
  // Large results read ahead on a thread of their own while the front-end encodes (from the third
  // batch on: small results never start it).
  query.stream = std::make_unique<ReadAheadStream>(std::move(observed));
  return Status::Ok();
}

}  // namespace lakerouter
