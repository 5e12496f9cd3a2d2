#include "core/read_ahead_stream.h"

#include <utility>

namespace lakerouter {

ReadAheadStream::ReadAheadStream(std::unique_ptr<ResultStream> inner, int start_after, size_t depth)
    : inner_(std::move(inner)), start_after_(start_after), depth_(depth < 1 ? 1 : depth) {}

ReadAheadStream::~ReadAheadStream() {
  if (!reader_.joinable()) return;
  bool reading = false;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    reading = !reader_done_;
  }
  changed_.notify_all();
  if (reading) inner_->cancel(/*timed_out=*/false);
  reader_.join();
}

Result<bool> ReadAheadStream::next(ResultBatch& batch) {
  if (!reader_.joinable()) {
    if (ended_) {
      batch.clear();
      return false;
    }
    if (++calls_ <= start_after_) {
      auto more = inner_->next(batch);
      if (!more.ok() || !*more) ended_ = true;
      return more;
    }
    reader_ = std::thread([this] { read_loop(); });
  }
  std::unique_lock lock(mu_);
  changed_.wait(lock, [this] { return !ready_.empty() || reader_done_; });
  if (ready_.empty()) {  // the end was taken already
    batch.clear();
    return false;
  }
  Item item = std::move(ready_.front());
  ready_.pop_front();
  std::swap(batch, item.batch);
  spare_.push_back(std::move(item.batch));  // the consumer's previous batch, to refill
  lock.unlock();
  changed_.notify_all();
  return std::move(item.more);
}

void ReadAheadStream::read_loop() {
  while (true) {
    ResultBatch batch;
    {
      std::unique_lock lock(mu_);
      changed_.wait(lock, [this] { return ready_.size() < depth_ || stopping_; });
      if (stopping_) break;
      if (!spare_.empty()) {
        batch = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    // Engines append to the batch they are given after the first call: give one of the schema's
    // shape (the schema is final by now: the consumer has had batches).
    if (batch.column_count() != inner_->schema().size()) {
      batch.reset(inner_->schema());
    } else {
      batch.clear();
    }
    Result<bool> more = false;
    try {
      more = inner_->next(batch);
    } catch (const std::exception& e) {  // on the consumer's thread it would have reached its handlers
      more = Error(ErrorCode::kInternal, std::string("reading the result failed: ") + e.what());
    }
    const bool end = !more.ok() || !*more;
    {
      std::lock_guard lock(mu_);
      ready_.push_back(Item{std::move(batch), std::move(more)});
      if (end) reader_done_ = true;
    }
    changed_.notify_all();
    if (end) return;
  }
  std::lock_guard lock(mu_);
  reader_done_ = true;
}

}  // namespace lakerouter
