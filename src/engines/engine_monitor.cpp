#include "engines/engine_monitor.h"

#include <spdlog/spdlog.h>

namespace lakerouter {

std::string_view breaker_state_name(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed: return "closed";
    case BreakerState::kOpen: return "open";
    case BreakerState::kHalfOpen: return "half_open";
  }
  return "closed";
}

EngineMonitor::EngineMonitor(std::vector<std::shared_ptr<Engine>> engines, EngineMonitorOptions options)
    : engines_(std::move(engines)), options_(options) {
  for (const auto& e : engines_) breakers_.emplace(std::string(e->name()), Breaker{});
}

EngineMonitor::~EngineMonitor() { stop(); }

void EngineMonitor::half_open_if_due(Breaker& b, Clock::time_point now) const {
  if (b.state == BreakerState::kOpen && now - b.opened_at >= options_.open_for) {
    b.state = BreakerState::kHalfOpen;
    b.probe_in_flight = false;
  }
}

std::vector<routing::EngineState> EngineMonitor::routing_states() {
  std::lock_guard lock(mu_);
  std::vector<routing::EngineState> states;
  const auto now = Clock::now();
  for (auto& [name, b] : breakers_) {
    half_open_if_due(b, now);
    const bool unavailable =
        b.state == BreakerState::kOpen || (b.state == BreakerState::kHalfOpen && b.probe_in_flight);
    if (unavailable) states.push_back({.engine = name, .circuit_open = true});
  }
  return states;
}

bool EngineMonitor::try_acquire(const std::string& engine) {
  std::lock_guard lock(mu_);
  auto it = breakers_.find(engine);
  if (it == breakers_.end()) return true;
  Breaker& b = it->second;
  half_open_if_due(b, Clock::now());
  switch (b.state) {
    case BreakerState::kClosed: return true;
    case BreakerState::kOpen: return false;
    case BreakerState::kHalfOpen:
      if (b.probe_in_flight) return false;
      b.probe_in_flight = true;
      return true;
  }
  return true;
}

void EngineMonitor::record_success(const std::string& engine) {
  std::lock_guard lock(mu_);
  auto it = breakers_.find(engine);
  if (it == breakers_.end()) return;
  Breaker& b = it->second;
  if (b.state != BreakerState::kClosed) spdlog::info("engine {}: circuit closed (it answers again)", engine);
  b = Breaker{};
}

void EngineMonitor::fail(const std::string& engine, Breaker& b, const std::string& error) {
  b.last_error = error;
  ++b.failures;
  const bool reopen = b.state == BreakerState::kHalfOpen;
  if (reopen || (b.state == BreakerState::kClosed && b.failures >= options_.failure_threshold)) {
    b.state = BreakerState::kOpen;
    b.opened_at = Clock::now();
    b.probe_in_flight = false;
    spdlog::warn("engine {}: circuit open for {} ms after {} failure(s) in a row: {}", engine,
                 options_.open_for.count(), b.failures, error);
  }
}

void EngineMonitor::record_failure(const std::string& engine, const std::string& error) {
  std::lock_guard lock(mu_);
  auto it = breakers_.find(engine);
  if (it != breakers_.end()) fail(engine, it->second, error);
}

std::vector<EngineStatus> EngineMonitor::status() {
  std::lock_guard lock(mu_);
  std::vector<EngineStatus> out;
  const auto now = Clock::now();
  for (auto& [name, b] : breakers_) {
    half_open_if_due(b, now);
    out.push_back({name, b.state, b.failures, b.last_error});
  }
  return out;
}

void EngineMonitor::check_now() {
  for (const auto& engine : engines_) {
    const EngineHealth health = engine->health();  // outside the lock: it may take a while
    const std::string name(engine->name());
    std::lock_guard lock(mu_);
    auto it = breakers_.find(name);
    if (it == breakers_.end()) continue;
    Breaker& b = it->second;
    if (health.ready) {
      // A recovered engine gets a probe at once rather than after open_for.
      if (b.state == BreakerState::kOpen) {
        b.state = BreakerState::kHalfOpen;
        b.probe_in_flight = false;
        spdlog::info("engine {}: health check passed, circuit half-open", name);
      }
    } else {
      if (b.state == BreakerState::kClosed) {
        b.failures = std::max(b.failures, options_.failure_threshold - 1);  // a failed check is decisive
      }
      fail(name, b, "health check: " + health.detail);
    }
  }
}

void EngineMonitor::start() { checker_.start(options_.check_interval); }

void EngineMonitor::stop() { checker_.stop(); }

}  // namespace lakerouter
