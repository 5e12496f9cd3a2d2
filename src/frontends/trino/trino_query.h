// TrinoQuery: one statement of the Trino client protocol, from POST to its last page.
//
// The statement starts (routing, admission, the engine's first batch: Pipeline::run) on a thread
// of its own as soon as it is created, so that the POST answers at once (QUEUED) and a poll
// waits at most `max_wait` for the start. Once started, results are pulled by the polls
// themselves: each GET of the next token reads batches from the ResultStream until about
// `target_page_bytes` of JSON (or the end), so memory is bounded by one page whatever the result
// size; nothing is read ahead of the client.
//
// Tokens: page N answers GET .../N. The last page is kept, so that a client retrying the same
// token gets the same bytes; an older token is gone (410), a token ahead is unknown (404).
// cancel() (DELETE, abandonment, shutdown) stops the statement at whatever stage it is in.
// Thread-safety: every method is thread-safe; concurrent polls of one query are served one at a time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/cancel_token.h"
#include "core/result_batch.h"
#include "core/status.h"
#include "server/pipeline.h"

namespace lakerouter::trino_protocol {

struct PageOptions {
  size_t target_page_bytes = size_t{1} << 20;
  std::chrono::milliseconds max_wait{1000};
};

// An HTTP answer for a poll.
struct PageResponse {
  unsigned status = 200;
  std::string body;  // application/json
};

// Writes "stats":{...} (StatementStats: state, queued, scheduled, times, rows and bytes sent).
void write_stats(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view state, int64_t elapsed_ms,
                 int64_t queued_ms, int64_t rows, int64_t bytes);
// A QueryResults for a statement answered at once: FINISHED with `update_type`, or FAILED with `error`.
// `result_column`: with Trino's one-row `result boolean` answer of data definition statements
// (the JDBC driver reads it as the result of PREPARE and DEALLOCATE).
std::string finished_response(std::string_view id, const std::string& base_uri, std::string_view update_type,
                              const Error* error, std::string_view sql, bool result_column = false);
// {"error": QueryError}, the body of protocol-level errors (400, 404, 410).
std::string error_document(const Error& error);

class TrinoQuery {
 public:
  using Clock = std::chrono::steady_clock;
  // Runs the statement (normally Pipeline::run); called once, on the query's own thread.
  using Starter = std::function<Result<RunningQuery>(CancelToken&)>;

  // Starts the statement at once. `sql` is kept for error locations.
  TrinoQuery(std::string id, std::string slug, std::string sql, PageOptions options, Starter starter);
  ~TrinoQuery();  // cancels the statement if it still runs, and joins its start thread
  TrinoQuery(const TrinoQuery&) = delete;
  TrinoQuery& operator=(const TrinoQuery&) = delete;

  const std::string& id() const { return id_; }
  const std::string& slug() const { return slug_; }
  // The user who started it: only they page or cancel it. Set before the query is shared.
  const std::string& owner() const { return owner_; }
  void set_owner(std::string owner) { owner_ = std::move(owner); }

  // `base_uri` ("http://host:port") prefixes nextUri and infoUri.
  // The POST's answer: QUEUED, nextUri to token 0.
  std::string first_response(const std::string& base_uri);
  // The answer to GET of `token` (see the header comment).
  PageResponse page(uint64_t token, const std::string& base_uri);
  // Idempotent; the next page reports USER_CANCELED unless the query had finished.
  void cancel();

  // True once the last page has been produced (finished, failed or cancelled).
  bool done() const;
  Clock::time_point last_access() const;

  // "{base}/v1/statement/executing/{id}/{slug}/{token}"
  std::string next_uri(const std::string& base_uri, uint64_t token) const;

 private:
  enum class State : uint8_t { kQueued, kRunning, kFinished, kFailed };

  void start();
  std::string produce_page(uint64_t token, const std::string& base_uri);
  // Reads rows into `data` (a JSON array's contents) until the page is full, the result ends, or an error.
  void pull_rows(std::string& data);
  // `next_token` is the nextUri's token while the query is QUEUED or RUNNING.
  std::string render(uint64_t next_token, const std::string& base_uri, State state, const std::string* data) const;

  const std::string id_;
  const std::string slug_;
  std::string owner_;
  const std::string sql_;
  const PageOptions options_;
  const Clock::time_point created_ = Clock::now();
  CancelToken cancel_token_;

  // Start: guarded by mu_, signalled by started_cv_.
  mutable std::mutex mu_;
  std::condition_variable started_cv_;
  bool start_done_ = false;
  bool cancelled_ = false;
  Clock::time_point start_finished_;
  std::optional<Result<RunningQuery>> start_result_;
  Clock::time_point last_access_ = Clock::now();
  bool done_ = false;

  // Paging: guarded by page_mu_ (one poll at a time); the start thread never touches these.
  std::mutex page_mu_;
  std::optional<uint64_t> served_token_;
  std::string served_page_;
  ResultBatch batch_;
  size_t batch_row_ = 0;
  bool eof_ = false;
  std::optional<Error> error_;
  int64_t rows_sent_ = 0;
  int64_t bytes_sent_ = 0;
  std::string scratch_;

  Starter starter_;
  std::thread start_thread_;  // last: starts after every member above is ready
};

}  // namespace lakerouter::trino_protocol
