// CalibrationKeeper: keeps what the router's calibration learnt across restarts, in the history
// store's `state` table under the key "calibration" (docs/routing.md, "Calibration").
//
// restore() at start takes back the saved fits of engines and size classes that are still
// configured the same way; then the keeper saves the state every `interval` when it changed, and
// once more at stop(), so a clean shutdown loses nothing and a crash at most one interval.
//
// Thread-safety: restore(), start() and stop() from the thread that owns the server; the periodic
// save runs on the keeper's own thread. The Calibrator and HistoryStore are thread-safe and must
// outlive the keeper.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "core/periodic_task.h"

namespace lakerouter::routing {
class Calibrator;
}
namespace lakerouter::telemetry {
class HistoryStore;
}

namespace lakerouter {

class CalibrationKeeper {
 public:
  static constexpr const char* kStateKey = "calibration";

  CalibrationKeeper(routing::Calibrator& calibrator, telemetry::HistoryStore& store);
  ~CalibrationKeeper() { stop(); }
  CalibrationKeeper(const CalibrationKeeper&) = delete;
  CalibrationKeeper& operator=(const CalibrationKeeper&) = delete;

  // Takes back the saved state; a missing or unreadable one is logged and ignored (the router
  // then learns afresh). Returns the number of runs taken over.
  int64_t restore();

  // Saves every `interval` when something changed.
  void start(std::chrono::milliseconds interval);

  // Stops the periodic save and saves once more. Idempotent.
  void stop();

 private:
  void save();

  routing::Calibrator& calibrator_;
  telemetry::HistoryStore& store_;
  std::atomic<uint64_t> saved_version_;  // the Calibrator's version() at the last save or restore
  PeriodicTask task_;
  std::atomic<bool> stopped_{false};
};

}  // namespace lakerouter
