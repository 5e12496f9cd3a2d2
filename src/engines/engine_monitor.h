// EngineMonitor: what lakerouter knows of each connected engine's health, from the outcome of real
// statements and from periodic health checks, kept as one circuit breaker per engine.
//
// A breaker is closed while the engine works. `failure_threshold` failures in a row open it: the
// router then treats the engine as unavailable (routing::EngineState::circuit_open) so statements
// go elsewhere at once instead of waiting on a dead engine. After `open_for` it half-opens and lets
// one statement (or health check) probe: success closes it, failure opens it again. A health check
// that succeeds half-opens an open breaker early; one that fails counts as a failure.
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/periodic_task.h"
#include "engines/engine.h"
#include "routing/router.h"

namespace lakerouter {

struct EngineMonitorOptions {
  int failure_threshold = 3;                        // failures in a row that open the breaker
  std::chrono::milliseconds open_for{10000};        // how long it stays open before a probe
  std::chrono::milliseconds check_interval{5000};   // health checks; 0: none
};

enum class BreakerState : uint8_t { kClosed, kOpen, kHalfOpen };
std::string_view breaker_state_name(BreakerState state);

struct EngineStatus {
  std::string engine;
  BreakerState state = BreakerState::kClosed;
  int consecutive_failures = 0;
  std::string last_error;  // the most recent failure, for /ready and logs
};

class EngineMonitor {
 public:
  using Clock = std::chrono::steady_clock;

  EngineMonitor(std::vector<std::shared_ptr<Engine>> engines, EngineMonitorOptions options);
  ~EngineMonitor();
  EngineMonitor(const EngineMonitor&) = delete;
  EngineMonitor& operator=(const EngineMonitor&) = delete;

  // The router's view: engines whose breaker is open. A half-open engine is offered to routing
  // while no probe is in flight.
  std::vector<routing::EngineState> routing_states();

  // Whether a statement may go to the engine now; in half-open state the first caller becomes
  // the probe and must report its outcome.
  bool try_acquire(const std::string& engine);

  void record_success(const std::string& engine);
  void record_failure(const std::string& engine, const std::string& error);

  std::vector<EngineStatus> status();

  // Runs every engine's health() now (also done every check_interval once started).
  void check_now();
  void start();
  void stop();

 private:
  struct Breaker {
    BreakerState state = BreakerState::kClosed;
    int failures = 0;
    Clock::time_point opened_at{};
    bool probe_in_flight = false;
    std::string last_error;
  };
  void half_open_if_due(Breaker& b, Clock::time_point now) const;  // caller holds mu_
  void fail(const std::string& engine, Breaker& b, const std::string& error);  // caller holds mu_

  const std::vector<std::shared_ptr<Engine>> engines_;
  const EngineMonitorOptions options_;
  std::mutex mu_;
  std::map<std::string, Breaker, std::less<>> breakers_;  // guarded by mu_
  PeriodicTask checker_{[this] { check_now(); }};
};

}  // namespace lakerouter
