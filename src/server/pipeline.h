// Pipeline: the one place where a statement's steps meet, readable top to bottom in run():
//   analyze (QueryProfile) -> estimate scans (catalog) -> route (Router::decide)
//   -> execute (engine stream under a deadline).
// EXPLAIN ROUTE <statement> stops after routing and answers with the decision as rows.
// Failover: when the chosen engine fails with a retryable error (unreachable, restarting) before
// the first row and the statement is read-only, it is routed again without that engine, and the
// decision records both attempts. Writes are never retried. Engine outcomes feed the
// EngineMonitor's circuit breakers, which routing reads.
// Admission: an engine with limits (PipelineOptions::admission) runs a statement only with a slot
// from its AdmissionGate; a saturated engine is routed around when another engine may take the
// statement, else the statement is refused with OVERLOADED.
// Calibration: a statement that ran to its end reports its engine time (its start to the last
// row, without the admission wait) to the routing::Calibrator, once, for the attempt that
// answered; routing reads the Calibrator's snapshot (routing/calibration.h).
// Front-ends call run() and encode the stream; they never see an engine directly.
// Thread-safety: run() is thread-safe; a RunningQuery belongs to the caller's thread (its
// cancel() may be called from anywhere).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catalog/live_catalog.h"
#include "core/cancel_token.h"
#include "core/result_stream.h"
#include "core/statement.h"
#include "core/watchdog.h"
#include "engines/admission.h"
#include "engines/engine_monitor.h"
#include "engines/engine.h"
#include "governance/duckdb_enforcement.h"
#include "governance/lockdown.h"
#include "governance/policy_store.h"
#include "routing/calibration.h"
#include "routing/router.h"
#include "sql/profile_cache.h"
#include "sql/query_profile.h"
#include "telemetry/audit.h"

namespace lakerouter {

struct PipelineOptions {
  std::chrono::milliseconds default_timeout{30000};
  std::chrono::milliseconds max_timeout{3600000};  // caps a request's own timeout
  int max_attempts = 2;                            // engines tried for one read-only statement
  EngineMonitorOptions monitor;
  std::map<std::string, AdmissionLimits, std::less<>> admission;  // by engine name; absent: no limit
  governance::LockdownOptions lockdown;  // what no client statement may do (governance/lockdown.h)
  // The audit log: one record per run() (telemetry/audit.h). Not owned; it must outlive the
  // pipeline and every stream run() returned. Null: no audit log.
  telemetry::AuditSink* audit = nullptr;
};

// When a statement waited and when its engine worked, for responses (the HTTP result's
// "timing") and calibration. Shared by the RunningQuery and its stream: queued_ms is final when
// run() returns; engine_ms is set when the result ends, possibly on a read-ahead thread.
struct QueryTiming {
  std::atomic<double> queued_ms{0};   // waiting for admission slots, over every attempt
  std::atomic<double> engine_ms{-1};  // the engine's start to its last row (final attempt); < 0 until then

  // engine_ms once the result was read to its end.
  std::optional<double> engine_done_ms() const {
    const double ms = engine_ms.load();
    return ms >= 0 ? std::optional<double>(ms) : std::nullopt;
  }
};

struct RunningQuery {
  std::string query_id;
  std::string engine;  // "lakerouter" for statements the router answers itself (EXPLAIN ROUTE)
  sql::StatementKind kind = sql::StatementKind::kOther;
  std::chrono::steady_clock::time_point started;
  routing::Decision decision;
  std::unique_ptr<ResultStream> stream;  // deadline-guarded
  std::shared_ptr<QueryTiming> timing;   // null when no engine ran it (EXPLAIN ROUTE)

  double elapsed_ms() const;
};

// A statement analyzed and routed, not run.
struct RoutedStatement {
  sql::QueryProfile profile;
  std::vector<routing::TableFacts> tables;  // one per profile.tables entry
  routing::Decision decision;
  // Tables with row filters, masks or hidden columns for the session's user: engines that do not
  // apply policies themselves get the statement rewritten (governance/duckdb_enforcement.h).
  std::vector<governance::GovernedTable> governed;
};

class Pipeline {
 public:
  // `engines` are the connected engines; `router` may also know engines that are only declared.
  // The catalog and the router must outlive the pipeline.
  // `policies`, when given, must outlive the pipeline too; without it every table is allowed.
  Pipeline(std::vector<std::shared_ptr<Engine>> engines, PipelineOptions options, const LiveCatalog& catalog,
           const routing::Router& router, const governance::PolicyStore* policies = nullptr);

  // Analyzes and routes exactly one statement (a text with several is kMultipleStatements).
  Result<RoutedStatement> route(const Statement& statement, const Session& session) const;

  // route(), then runs the statement on the chosen engine (or answers EXPLAIN ROUTE). The first
  // batch is fetched before returning, so that an engine failing at once can be failed over.
  // `query_id` (from new_query_id()) lets the caller name the query in its error reports; empty:
  // one is made. `cancel`, when given, stops the query from another thread at any stage (it must
  // outlive the returned stream).
  Result<RunningQuery> run(const Statement& statement, const Session& session, std::string query_id = {},
                           CancelToken* cancel = nullptr);
  // Writes the audit record of a statement a front-end refused itself, before run() (a parse
  // error of pgwire's Query or Parse message, a Trino client statement such as PREPARE).
  void record_refusal(const Statement& statement, const Session& session, const std::string& query_id,
                      const Error& error) const;

  std::string new_query_id();

  const std::vector<std::shared_ptr<Engine>>& engines() const { return engines_; }
  const routing::Router& router() const { return router_; }
  EngineMonitor& monitor() { return monitor_; }
  // The engine's admission gate, or null when it has no limit.
  const AdmissionGate* admission(std::string_view engine) const;
  // What routing learns from runs; null when routing.calibration is off.
  routing::Calibrator* calibrator() const { return calibrator_.get(); }

 private:
  // What run_unaudited() learns on the way, for the statement's audit record.
  struct RunFacts {
    std::vector<routing::TableFacts> tables;  // from the last routing
    std::string fingerprint;
    std::optional<sql::StatementKind> kind;
    std::string engine;  // the engine picked last; "" while none was
    std::vector<governance::GovernedTable> governed;  // filters, masks and hidden columns applied
  };
  Result<RunningQuery> run_unaudited(const Statement& statement, const Session& session, std::string query_id,
                                     CancelToken* cancel, RunFacts& facts);
  // Records a statement run() refused, or wraps the stream of one it started so that the record
  // is written when the stream ends (server/pipeline_audit.cpp).
  void audit(const Statement& statement, const Session& session, std::chrono::system_clock::time_point arrived,
             std::chrono::steady_clock::time_point started, RunFacts& facts, const std::string& query_id,
             const CancelToken* cancel, Result<RunningQuery>& query) const;

  std::shared_ptr<Engine> connected(std::string_view name) const;
  Result<std::shared_ptr<Engine>> pick_engine(routing::Decision& decision) const;
  Status start_on(Engine& engine, const Statement& statement, const RoutedStatement& routed, const Session& session,
                  CancelToken* cancel, AdmissionGate::Slot slot, RunningQuery& query);
  Status admit_and_start(Engine& engine, const Statement& statement, const RoutedStatement& routed,
                         const Session& session, CancelToken* cancel, RunningQuery& query);
  // The breakers' states plus the engines at their admission limit.
  std::vector<routing::EngineState> engine_states() const;
  Result<RoutedStatement> route_with(const Statement& statement, const Session& session,
                                     std::span<const routing::EngineState> states) const;
  // The policy's checks (governance/access_check.h), statement by statement for a script.
  Status govern(const Statement& statement, const Session& session, const sql::QueryProfile& profile,
                const Catalog& catalog, std::vector<routing::TableFacts>& tables,
                std::vector<governance::GovernedTable>& governed) const;
  // Lockdown (governance/lockdown.h), for each statement of a script too.
  Status lock_down(const Statement& statement, const sql::QueryProfile& profile) const;

  std::vector<std::shared_ptr<Engine>> engines_;
  PipelineOptions options_;
  const LiveCatalog& catalog_;
  const routing::Router& router_;
  const governance::PolicyStore* policies_;  // may be null
  mutable sql::ProfileCache profiles_;  // thread-safe; route() const fills it
  Watchdog watchdog_;
  mutable EngineMonitor monitor_;  // thread-safe; route() const reads the breakers
  std::map<std::string, std::unique_ptr<AdmissionGate>, std::less<>> gates_;  // thread-safe gates
  std::unique_ptr<routing::Calibrator> calibrator_;  // thread-safe; null when calibration is off
  std::atomic<uint64_t> query_counter_{0};
  std::string id_prefix_;
};

}  // namespace lakerouter
