// AsyncQueries: the asynchronous queries of the HTTP API (POST /v1/query with "async": true,
// GET/DELETE /v1/queries/{id}, GET /v1/queries/{id}/results). A submitted query waits in a queue
// for one of this component's own worker threads (synchronous requests keep theirs), runs through
// the pipeline, and its result is spilled to a file (formats::ResultSpill) under
// ResultOptions::async_spill_dir (a temporary folder when empty), capped at
// async_max_result_bytes. A query that ended (finished, failed or cancelled) is kept for
// async_ttl after it ended or after its result was last fetched, then dropped by a reaper (and
// looked up as unknown from that moment on). At most async_max_queries are kept at once.
// Thread-safety: every method is thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/periodic_task.h"
#include "core/status.h"
#include "frontends/formats/result_spill.h"
#include "frontends/http/result_options.h"
#include "server/pipeline.h"

namespace lakerouter::http {

enum class AsyncState : uint8_t { kQueued, kRunning, kFinished, kFailed, kCancelled };
std::string_view async_state_name(AsyncState state);  // "queued", "running", ...

// What GET /v1/queries/{id} reports.
struct AsyncQueryInfo {
  std::string query_id;
  std::string owner;         // the user who submitted it: only they may see, fetch or delete it
  AsyncState state = AsyncState::kQueued;
  std::string engine;        // empty until the query started on an engine
  std::string routing_json;  // the routing summary (a JSON object), or empty
  int64_t row_count = 0;     // rows stored so far
  double elapsed_ms = 0;     // from submission to the end (or to now)
  std::optional<double> queued_ms;  // waiting for the engine's admission; set once it started
  std::optional<double> engine_ms;  // the engine's start to its last row; set once all rows were read
  std::optional<Error> error;  // kFailed and kCancelled
  ResultSchema schema;       // known once the first rows arrived
};

class AsyncQueries {
 public:
  using Clock = std::chrono::steady_clock;
  // Starts the statement on the worker thread: the pipeline's run(), given the query id and the
  // token through which DELETE (and shutdown) cancels it.
  using Runner = std::function<Result<RunningQuery>(const std::string& query_id, CancelToken& cancel)>;

  // `now` drives expiry (tests pass their own clock); the reaper ticks every min(ttl/2, 1 s).
  explicit AsyncQueries(ResultOptions options, size_t workers = 2, std::function<Clock::time_point()> now = Clock::now);
  // Cancels what runs, waits for the workers, removes the stored results.
  ~AsyncQueries();
  AsyncQueries(const AsyncQueries&) = delete;
  AsyncQueries& operator=(const AsyncQueries&) = delete;

  // Queues a query. OVERLOADED when async_max_queries are kept already; IO_ERROR when the spill
  // folder cannot be created.
  Status submit(const std::string& query_id, Runner run, std::string owner = {});

  // nullopt: unknown or expired.
  std::optional<AsyncQueryInfo> info(const std::string& query_id);

  // The stored result of a finished query (the file stays while the caller holds it), with its
  // info; refreshes the query's expiry. NOT_FOUND when unknown or expired; the query's own error
  // when it failed or was cancelled; nullptr with the info when it has not finished yet.
  Result<std::shared_ptr<const formats::ResultSpill>> result(const std::string& query_id, AsyncQueryInfo& info);

  // Cancels a queued or running query (it is kept, as cancelled, until it expires), or drops a
  // query that ended. Returns the state it was in; nullopt when unknown or expired.
  std::optional<AsyncState> cancel_or_drop(const std::string& query_id);

  // Drops the queries whose time is up (the reaper calls it; tests may too).
  void reap();

  const ResultOptions& options() const { return options_; }

 private:
  struct Entry;

  void work();
  void run_one(Entry& entry);
  Status ensure_spill_dir();
  std::shared_ptr<Entry> find_live(const std::string& query_id);

  const ResultOptions options_;
  const std::function<Clock::time_point()> now_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::map<std::string, std::shared_ptr<Entry>, std::less<>> entries_;  // guarded by mu_
  std::deque<std::shared_ptr<Entry>> queue_;                            // guarded by mu_
  bool stopping_ = false;                                               // guarded by mu_
  std::string spill_dir_;      // guarded by mu_; created on first use
  bool own_spill_dir_ = false;  // a temporary folder, removed at the end
  std::vector<std::thread> workers_;
  PeriodicTask reaper_;
};

}  // namespace lakerouter::http
