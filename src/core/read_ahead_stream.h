// ReadAheadStream: reads a large result's next batches on a thread of its own while the consumer
// encodes the current one, so that fetching (the engine, the copy into ResultBatch) and encoding
// (CSV, pgwire rows, Arrow) overlap instead of taking turns on one core.
//
// The thread starts only when the consumer asks for batch number `start_after` + 1: a small
// result (a point lookup, a dashboard aggregate) never pays for it. At most `depth` batches wait
// read, so memory stays bounded whatever the result's size. The consumer's spent batches go back
// to the reader, which refills them (their columns keep their capacity).
//
// Thread-safety: as ResultStream. next() from one consumer thread; cancel() from any thread. The
// inner stream is read by one thread at a time: the consumer until the reader starts, then only
// the reader.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/result_stream.h"

namespace lakerouter {

class ReadAheadStream final : public ResultStream {
 public:
  explicit ReadAheadStream(std::unique_ptr<ResultStream> inner, int start_after = 2, size_t depth = 2);
  // Cancels the inner stream when the reader is still reading (nobody will take its rows), then
  // joins the reader.
  ~ReadAheadStream() override;
  ReadAheadStream(const ReadAheadStream&) = delete;
  ReadAheadStream& operator=(const ReadAheadStream&) = delete;

  const ResultSchema& schema() const override { return inner_->schema(); }
  Result<bool> next(ResultBatch& batch) override;
  void cancel(bool timed_out) override { inner_->cancel(timed_out); }
  // Final once next() has returned false.
  std::optional<int64_t> rows_changed() const override { return inner_->rows_changed(); }

 private:
  struct Item {
    ResultBatch batch;
    Result<bool> more;
  };
  void read_loop();

  std::unique_ptr<ResultStream> inner_;
  const int start_after_;
  const size_t depth_;
  int calls_ = 0;         // the consumer's, before the reader starts
  bool ended_ = false;    // the consumer's: the inner stream said false or failed
  std::thread reader_;

  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Item> ready_;           // guarded by mu_; read, not yet taken
  std::vector<ResultBatch> spare_;   // guarded by mu_; taken batches, to refill
  bool reader_done_ = false;         // guarded by mu_
  bool stopping_ = false;            // guarded by mu_: the consumer is gone
};

}  // namespace lakerouter
