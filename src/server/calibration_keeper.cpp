#include "server/calibration_keeper.h"

#include <spdlog/spdlog.h>

#include "routing/calibration.h"
#include "telemetry/history_store.h"

namespace lakerouter {

CalibrationKeeper::CalibrationKeeper(routing::Calibrator& calibrator, telemetry::HistoryStore& store)
    : calibrator_(calibrator), store_(store), saved_version_(calibrator.version()), task_([this] { save(); }) {}

int64_t CalibrationKeeper::restore() {
  auto saved = store_.get_state(kStateKey);
  if (!saved.ok()) {
    spdlog::warn("calibration: cannot read what was learnt before ({}); learning afresh", saved.error().message);
    return 0;
  }
  if (!*saved) {
    spdlog::info("calibration: nothing learnt before in {}; learning from the first runs", store_.path());
    return 0;
  }
  auto state = routing::CalibrationState::from_json(**saved);
  if (!state.ok()) {
    spdlog::warn("calibration: what {} holds is unreadable ({}); learning afresh", store_.path(), state.error().message);
    return 0;
  }
  const int64_t restored = calibrator_.restore(*state);
  saved_version_ = calibrator_.version();
  int64_t saved_runs = 0;
  for (const auto& fit : state->fits) saved_runs += fit.samples;
  spdlog::info("calibration: {} runs learnt before taken back from {}{}", restored, store_.path(),
               restored < saved_runs ? fmt::format(" ({} left out: their engine or size class is configured "
                                                   "differently now)", saved_runs - restored)
                                     : std::string());
  return restored;
}

void CalibrationKeeper::start(std::chrono::milliseconds interval) { task_.start(interval); }

void CalibrationKeeper::stop() {
  if (stopped_.exchange(true)) return;
  task_.stop();
  save();
}

void CalibrationKeeper::save() {
  const uint64_t version = calibrator_.version();
  if (version == saved_version_.load()) return;
  const Status saved = store_.put_state(kStateKey, calibrator_.state().to_json());
  if (!saved.ok()) {
    spdlog::warn("calibration: cannot save what was learnt ({}); will try again", saved.error().message);
    return;
  }
  saved_version_ = version;
}

}  // namespace lakerouter
