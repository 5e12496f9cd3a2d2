// Pipeline: the one place where a statement's steps meet, readable top to bottom in run():
//   analyze (QueryProfile) -> estimate scans (catalog) -> route (Router::decide)
//   -> execute (engine stream under a deadline).
// EXPLAIN ROUTE <statement> stops after routing and answers with the decision as rows.
// Failover: when the chosen engine fails with a retryable error (unreachable, restarting) before
// the first row and the statement is read-only, it is routed again without that engine, and the
// decision records both attempts. Writes are never retried. Engine outcomes feed the
// EngineMonitor's circuit breakers, which routing reads.
// Front-ends call run() and encode the stream; they never see an engine directly.
// Thread-safety: run() is thread-safe; a RunningQuery belongs to the caller's thread (its
// cancel() may be called from anywhere).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "catalog/live_catalog.h"
#include "core/result_stream.h"
#include "core/statement.h"
#include "core/watchdog.h"
#include "engines/engine_monitor.h"
#include "engines/engine.h"
#include "routing/router.h"
#include "sql/query_profile.h"

namespace lakerouter {

struct PipelineOptions {
  std::chrono::milliseconds default_timeout{30000};
  std::chrono::milliseconds max_timeout{3600000};  // caps a request's own timeout
  int max_attempts = 2;                            // engines tried for one read-only statement
  EngineMonitorOptions monitor;
};

struct RunningQuery {
  std::string query_id;
  std::string engine;  // "lakerouter" for statements the router answers itself (EXPLAIN ROUTE)
  sql::StatementKind kind = sql::StatementKind::kOther;
  std::chrono::steady_clock::time_point started;
  routing::Decision decision;
  std::unique_ptr<ResultStream> stream;  // deadline-guarded

  double elapsed_ms() const;
};

// A statement analyzed and routed, not run.
struct RoutedStatement {
  sql::QueryProfile profile;
  routing::Decision decision;
};

class Pipeline {
 public:
  // `engines` are the connected engines; `router` may also know engines that are only declared.
  // The catalog and the router must outlive the pipeline.
  Pipeline(std::vector<std::shared_ptr<Engine>> engines, PipelineOptions options, const LiveCatalog& catalog,
           const routing::Router& router);

  // Analyzes and routes exactly one statement (a text with several is kMultipleStatements).
  Result<RoutedStatement> route(const Statement& statement, const Session& session) const;

  // route(), then runs the statement on the chosen engine (or answers EXPLAIN ROUTE). The first
  // batch is fetched before returning, so that an engine failing at once can be failed over.
  // `query_id` (from new_query_id()) lets the caller name the query in its error reports; empty:
  // one is made.
  Result<RunningQuery> run(const Statement& statement, const Session& session, std::string query_id = {});

  std::string new_query_id();

  const std::vector<std::shared_ptr<Engine>>& engines() const { return engines_; }
  EngineMonitor& monitor() { return monitor_; }

 private:

  std::shared_ptr<Engine> connected(std::string_view name) const;
  Result<std::shared_ptr<Engine>> pick_engine(routing::Decision& decision) const;
  Status start_on(Engine& engine, const Statement& statement, const sql::QueryProfile& profile,
                  const Session& session, RunningQuery& query);
  Result<RoutedStatement> route_with(const Statement& statement, const Session& session,
                                     std::span<const routing::EngineState> states) const;

  std::vector<std::shared_ptr<Engine>> engines_;
  PipelineOptions options_;
  const LiveCatalog& catalog_;
  const routing::Router& router_;
  Watchdog watchdog_;
  mutable EngineMonitor monitor_;  // thread-safe; route() const reads the breakers
  std::atomic<uint64_t> query_counter_{0};
  std::string id_prefix_;
};

}  // namespace lakerouter
