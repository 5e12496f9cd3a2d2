#include "engines/admission.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>

#include <fmt/format.h>

namespace lakerouter {

struct AdmissionGate::State {
  std::mutex mu;
  std::condition_variable changed;
  int running = 0;
  std::deque<uint64_t> queue;  // tickets of waiting statements, oldest first
  uint64_t next_ticket = 0;
  int64_t admitted = 0;
  int64_t refused = 0;
};

AdmissionGate::Slot& AdmissionGate::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
  }
  return *this;
}

AdmissionGate::Slot::~Slot() { release(); }

void AdmissionGate::Slot::release() {
  if (!state_) return;
  {
    std::lock_guard lock(state_->mu);
    --state_->running;
  }
  state_->changed.notify_all();
  state_.reset();
}

AdmissionGate::AdmissionGate(std::string engine, AdmissionLimits limits)
    : engine_(std::move(engine)), limits_(limits), state_(std::make_shared<State>()) {}

Result<AdmissionGate::Slot> AdmissionGate::admit(const CancelToken* cancel) {
  if (limits_.max_concurrent <= 0) return Slot();
  State& s = *state_;
  std::unique_lock lock(s.mu);
  if (s.running < limits_.max_concurrent && s.queue.empty()) {
    ++s.running;
    ++s.admitted;
    return Slot(state_);
  }
  if (static_cast<int>(s.queue.size()) >= limits_.max_queued) {
    ++s.refused;
    return Error(ErrorCode::kOverloaded,
                 fmt::format("{} is at its limit: {} statements running and {} waiting (engines.{}.admission); "
                             "retry later",
                             engine_, s.running, s.queue.size(), engine_));
  }
  const uint64_t ticket = s.next_ticket++;
  s.queue.push_back(ticket);
  const auto deadline = std::chrono::steady_clock::now() + limits_.max_queue_wait;
  // Cancellation has no way to wake this wait, so the token is checked a few times a second.
  constexpr auto kCancelPoll = std::chrono::milliseconds(50);
  for (;;) {
    if (s.queue.front() == ticket && s.running < limits_.max_concurrent) {
      s.queue.pop_front();
      ++s.running;
      ++s.admitted;
      lock.unlock();
      s.changed.notify_all();  // the next in line may fit too
      return Slot(state_);
    }
    const auto now = std::chrono::steady_clock::now();
    const bool cancelled = cancel && cancel->cancelled();
    if (cancelled || now >= deadline) {
      s.queue.erase(std::find(s.queue.begin(), s.queue.end(), ticket));
      if (!cancelled) ++s.refused;
      lock.unlock();
      s.changed.notify_all();
      if (cancelled) return Error(ErrorCode::kQueryCancelled, "the query was cancelled while waiting for " + engine_);
      return Error(ErrorCode::kOverloaded,
                   fmt::format("{} had no free slot within {} ms (all {} slots busy; engines.{}.admission); "
                               "retry later",
                               engine_, limits_.max_queue_wait.count(), limits_.max_concurrent, engine_));
    }
    s.changed.wait_until(lock, std::min(deadline, now + kCancelPoll));
  }
}

bool AdmissionGate::saturated() const {
  if (limits_.max_concurrent <= 0) return false;
  std::lock_guard lock(state_->mu);
  return state_->running >= limits_.max_concurrent && static_cast<int>(state_->queue.size()) >= limits_.max_queued;
}

AdmissionGate::Stats AdmissionGate::stats() const {
  std::lock_guard lock(state_->mu);
  return Stats{state_->running, static_cast<int>(state_->queue.size()), state_->admitted, state_->refused};
}

}  // namespace lakerouter
