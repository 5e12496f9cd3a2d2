#include "core/cancel_token.h"

namespace lakerouter {

void CancelToken::cancel() {
  std::lock_guard lock(mu_);
  if (cancelled_) return;
  cancelled_ = true;
  // Under the lock, so that detach() (and with it the stream's destruction) waits for this call.
  if (stream_) stream_->cancel(/*timed_out=*/false);
}

bool CancelToken::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

void CancelToken::attach(ResultStream& stream) {
  std::lock_guard lock(mu_);
  stream_ = &stream;
  if (cancelled_) stream.cancel(/*timed_out=*/false);
}

void CancelToken::detach(const ResultStream& stream) {
  std::lock_guard lock(mu_);
  if (stream_ == &stream) stream_ = nullptr;
}

}  // namespace lakerouter
