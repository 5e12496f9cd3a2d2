// Watchdog: fires callbacks at deadlines on one background thread (query timeouts).
//
// A callback that has fired keeps firing every `repeat` until its entry is removed: stopping a
// query can race with the query starting (an interrupt that lands just before the engine begins
// is forgotten by it), and firing again closes that window.
// Thread-safety: all methods are thread-safe. Callbacks run on the watchdog thread, never under
// the caller's locks, and must be quick.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace lakerouter {

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;
  using Id = uint64_t;

  explicit Watchdog(std::chrono::milliseconds repeat = std::chrono::milliseconds(100));
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  Id schedule(Clock::time_point deadline, std::function<void()> callback);
  // Removes the entry; when this returns, its callback is not running and will not run again.
  void remove(Id id);

 private:
  struct Entry {
    Clock::time_point due;
    std::function<void()> callback;
  };
  void run();

  const std::chrono::milliseconds repeat_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable fired_;
  std::map<Id, Entry> entries_;  // guarded by mu_
  Id next_id_ = 1;               // guarded by mu_
  Id running_ = 0;               // entry whose callback runs now; guarded by mu_
  bool stopping_ = false;        // guarded by mu_
  // What the thread sleeps until; min() while it is awake (it scans the entries before sleeping
  // again). A new entry due later needs no wake-up: one per query would cost a thread switch.
  Clock::time_point sleeping_until_ = Clock::time_point::min();  // guarded by mu_
  std::thread thread_;
};

}  // namespace lakerouter
