#include "core/watchdog.h"

namespace lakerouter {

Watchdog::Watchdog(std::chrono::milliseconds repeat) : repeat_(repeat), thread_([this] { run(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Watchdog::Id Watchdog::schedule(Clock::time_point deadline, std::function<void()> callback) {
  Id id;
  bool sooner = false;
  {
    std::lock_guard lock(mu_);
    id = next_id_++;
    entries_.emplace(id, Entry{deadline, std::move(callback)});
    sooner = deadline < sleeping_until_;
  }
  if (sooner) wake_.notify_all();
  return id;
}

void Watchdog::remove(Id id) {
  std::unique_lock lock(mu_);
  fired_.wait(lock, [&] { return running_ != id; });
  entries_.erase(id);
}

void Watchdog::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto next_due = Clock::time_point::max();
    Id due_id = 0;
    for (const auto& [id, entry] : entries_) {
      if (entry.due < next_due) {
        next_due = entry.due;
        due_id = id;
      }
    }
    if (due_id == 0 || next_due > Clock::now()) {
      sleeping_until_ = next_due;
      if (due_id == 0) {
        wake_.wait(lock);
      } else {
        wake_.wait_until(lock, next_due);
      }
      sleeping_until_ = Clock::time_point::min();
      continue;
    }
    auto& entry = entries_.at(due_id);
    entry.due = Clock::now() + repeat_;
    auto callback = entry.callback;  // copy: the entry may be erased once the lock drops
    running_ = due_id;
    lock.unlock();
    callback();
    lock.lock();
    running_ = 0;
    fired_.notify_all();
  }
}

}  // namespace lakerouter
