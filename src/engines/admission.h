// AdmissionGate: per-engine admission control. At most `max_concurrent` statements run on the
// engine at once; up to `max_queued` more wait for a slot, first come first served, for at most
// `max_queue_wait`. A statement that finds the queue full, or waits too long, is refused with
// OVERLOADED (HTTP 503), which tells the client to retry later rather than piling more work on an
// engine that is already behind. The pipeline routes around a saturated engine when the routing
// rule lists another one (routing::EngineState::saturated).
//
// A Slot is held for as long as the statement's result stream lives, so a client reading a large
// result slowly keeps its slot, as it keeps the engine busy.
// Thread-safety: all methods are thread-safe; a Slot may be released on any thread and may outlive
// the gate.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/cancel_token.h"
#include "core/status.h"

namespace lakerouter {

struct AdmissionLimits {
  int max_concurrent = 0;  // statements running at once; 0: no limit (and no queue)
  int max_queued = 16;     // statements waiting for a slot; 0: refuse at once when all are busy
  std::chrono::milliseconds max_queue_wait{10000};
};

class AdmissionGate {
 public:
  struct State;

  // Held while a statement runs; the slot goes back to the gate when the Slot is destroyed.
  class Slot {
   public:
    Slot() = default;  // holds nothing (an engine without limits)
    explicit Slot(std::shared_ptr<State> state) : state_(std::move(state)) {}
    Slot(Slot&&) noexcept = default;
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot();

   private:
    void release();
    std::shared_ptr<State> state_;
  };

  struct Stats {
    int running = 0;
    int queued = 0;
    int64_t admitted = 0;
    int64_t refused = 0;  // queue full or waited too long
  };

  AdmissionGate(std::string engine, AdmissionLimits limits);

  // A slot, after waiting in the queue if every slot is busy. Errors: OVERLOADED when the queue is
  // full or the wait exceeds max_queue_wait; QUERY_CANCELLED when `cancel` fires while waiting.
  Result<Slot> admit(const CancelToken* cancel = nullptr);

  // Every slot busy and the queue full: a statement sent now would be refused.
  bool saturated() const;
  Stats stats() const;
  const AdmissionLimits& limits() const { return limits_; }

 private:
  std::string engine_;
  AdmissionLimits limits_;
  std::shared_ptr<State> state_;
};

}  // namespace lakerouter
