// ResultStream: what an engine returns for a statement, pulled batch by batch by an encoder.
#pragma once

#include "core/result_batch.h"
#include "core/status.h"
#include "core/types.h"

namespace lakerouter {

// Thread-safety: next() is called by one consumer thread; cancel() may be called from any thread
// at any time (timeouts, client disconnects), including while next() blocks.
class ResultStream {
 public:
  virtual ~ResultStream() = default;

  // The result's columns. Final once the first next() has returned successfully (an engine may
  // learn exact types only when execution starts, e.g. from parameter values).
  virtual const ResultSchema& schema() const = 0;

  // Fills `batch` with the next rows; the first call resets it to the final schema(). Returns true when rows were
  // produced, false at the end of the result, or an Error (timeouts and cancellation included).
  virtual Result<bool> next(ResultBatch& batch) = 0;

  // Asks the engine to stop. The next (or current) next() returns kQueryCancelled or, when
  // `timed_out`, kQueryTimeout. Idempotent.
  virtual void cancel(bool timed_out) = 0;

  // Rows affected by a write, when the engine reports it.
  virtual std::optional<int64_t> rows_changed() const { return std::nullopt; }
};

}  // namespace lakerouter
