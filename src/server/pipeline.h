// Pipeline: the one place where a statement's steps meet, readable top to bottom in run():
//   analyze (parse) -> route (pick an engine) -> execute (engine stream under a deadline).
// Front-ends call run() and encode the stream; they never see an engine directly.
// Thread-safety: run() is thread-safe; a RunningQuery belongs to the caller's thread (its
// cancel() may be called from anywhere).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/result_stream.h"
#include "core/statement.h"
#include "core/watchdog.h"
#include "engines/engine.h"
#include "sql/parser.h"

namespace lakerouter {

struct PipelineOptions {
  std::chrono::milliseconds default_timeout{30000};
  std::chrono::milliseconds max_timeout{3600000};  // caps a request's own timeout
};

struct RunningQuery {
  std::string query_id;
  std::string engine;
  sql::StatementKind kind = sql::StatementKind::kOther;
  std::chrono::steady_clock::time_point started;
  std::unique_ptr<ResultStream> stream;  // deadline-guarded

  double elapsed_ms() const;
};

class Pipeline {
 public:
  Pipeline(std::vector<std::shared_ptr<Engine>> engines, PipelineOptions options);

  // Runs exactly one statement (a text with several is kMultipleStatements).
  Result<RunningQuery> run(const Statement& statement, const Session& session);

  const std::vector<std::shared_ptr<Engine>>& engines() const { return engines_; }

 private:
  std::string next_query_id();

  std::vector<std::shared_ptr<Engine>> engines_;  // [0] is the default engine
  PipelineOptions options_;
  Watchdog watchdog_;
  std::atomic<uint64_t> query_counter_{0};
  std::string id_prefix_;
};

}  // namespace lakerouter
