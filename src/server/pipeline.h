// Pipeline: the one place where a statement's steps meet, readable top to bottom in run():
//   analyze (QueryProfile) -> estimate scans (catalog) -> route (Router::decide)
//   -> execute (engine stream under a deadline).
// EXPLAIN ROUTE <statement> stops after routing and answers with the decision as rows.
// Front-ends call run() and encode the stream; they never see an engine directly.
// Thread-safety: run() is thread-safe; a RunningQuery belongs to the caller's thread (its
// cancel() may be called from anywhere).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "catalog/live_catalog.h"
#include "core/result_stream.h"
#include "core/statement.h"
#include "core/watchdog.h"
#include "engines/engine.h"
#include "routing/router.h"
#include "sql/query_profile.h"

namespace lakerouter {

struct PipelineOptions {
  std::chrono::milliseconds default_timeout{30000};
  std::chrono::milliseconds max_timeout{3600000};  // caps a request's own timeout
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

  // route(), then runs the statement on the chosen engine (or answers EXPLAIN ROUTE).
  Result<RunningQuery> run(const Statement& statement, const Session& session);

  const std::vector<std::shared_ptr<Engine>>& engines() const { return engines_; }

 private:
  std::string next_query_id();

  std::shared_ptr<Engine> connected(std::string_view name) const;

  std::vector<std::shared_ptr<Engine>> engines_;
  PipelineOptions options_;
  const LiveCatalog& catalog_;
  const routing::Router& router_;
  Watchdog watchdog_;
  std::atomic<uint64_t> query_counter_{0};
  std::string id_prefix_;
};

}  // namespace lakerouter
