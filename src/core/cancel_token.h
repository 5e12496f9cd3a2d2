// CancelToken: how whoever started a query stops it from another thread, whatever stage the
// query is in. The HTTP transport cancels it when the client disconnects; pgwire's CancelRequest
// and the Trino protocol's DELETE will do the same. The pipeline attaches the query's stream once
// the engine has started it, so cancel() reaches the engine (DuckDB interrupt, PostgreSQL cancel
// request, Trino DELETE); a token cancelled before that stops the query as soon as it starts.
// Thread-safety: every method is thread-safe.
#pragma once

#include <mutex>

#include "core/result_stream.h"

namespace lakerouter {

class CancelToken {
 public:
  // Cancels the attached stream, if any, and every stream attached later. Idempotent.
  void cancel();
  bool cancelled() const;

  // From attach() until detach(), cancel() reaches `stream`; when the token is cancelled already,
  // the stream is cancelled at once. detach() waits for a cancel() in progress, so the stream may
  // be destroyed right after it.
  void attach(ResultStream& stream);
  void detach(const ResultStream& stream);

 private:
  mutable std::mutex mu_;
  bool cancelled_ = false;
  ResultStream* stream_ = nullptr;  // guarded by mu_
};

}  // namespace lakerouter
