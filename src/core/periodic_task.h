// PeriodicTask: calls a function every `interval` on a thread of its own until stopped, for
// background upkeep such as catalog refreshes and engine health checks.
// Thread-safety: start() and stop() may be called from any thread; the function runs on the
// task's thread only, never twice at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace lakerouter {

class PeriodicTask {
 public:
  explicit PeriodicTask(std::function<void()> tick) : tick_(std::move(tick)) {}
  ~PeriodicTask() { stop(); }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // First call after `interval`. Does nothing when the interval is not positive or the task runs.
  void start(std::chrono::milliseconds interval);

  // Wakes the thread and waits for it (and a tick in progress) to end. Idempotent.
  void stop();

 private:
  const std::function<void()> tick_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace lakerouter
