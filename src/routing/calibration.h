// Calibration: what the engines actually take, learnt from the statements they ran, so that the
// cost model's start-up and scan throughput figures (EngineProfile::pricing) stop being guesses
// (docs/routing.md, "Calibration").
//
// Statements are grouped by size class: the bytes they were estimated to scan (tiny < 1 MB,
// small < 32 MB, medium < 512 MB, large; configurable). Per engine and class the Calibrator
// keeps an exponentially weighted least-squares fit of
//
//   engine_ms ≈ startup_ms + bytes / bytes_per_second × 1000
//
// over decayed sums (the newest run weighs `alpha`, the one before alpha × (1 − alpha), ...), so
// that it follows an engine that gets slower or faster. When the sizes seen are too alike to fit a
// slope (or the slope is not positive), the configured throughput is kept and only the start-up
// is learnt, as the weighted mean of engine_ms − bytes / configured throughput. Learnt figures
// are used once `min_samples` runs were seen, and are clamped to [0.05×, 20×] of the configured
// ones (a start-up configured below 1 ms counts as 1 ms), so that a few odd runs cannot make an
// engine look free or unusable.
//
// The pipeline observes only statements that ran to their end on the engine that answered
// (failures, cancellations, timeouts, EXPLAIN ROUTE, scripts and statements of unknown scan
// size are left out). The router never sees the Calibrator: it reads a CalibrationSnapshot passed
// in RoutingInput, so decide() stays a pure function of its input.
//
// What was learnt can outlive the process: state() exports the fits as a CalibrationState, which
// the server keeps in the history store, and restore() takes them back at the next start (for
// the engines and size classes that are still configured the same way).
//
// Thread-safety: Calibrator::observe(), reset(), restore() and state() may be called from any
// number of threads at once (they take a mutex); snapshot() never blocks on writers and returns an
// immutable CalibrationSnapshot that stays valid (and unchanged) for as long as the caller holds
// it. CalibrationOptions, SizeClass and CalibrationState are plain value types.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "routing/engine_profile.h"

namespace lakerouter::routing {

// A size class: statements estimated to scan fewer than `below_bytes` (and at least the previous
// class's bound). The last class has no bound.
struct SizeClass {
  std::string name;
  std::optional<double> below_bytes;
};

// tiny < 1 MB, small < 32 MB, medium < 512 MB, large.
std::vector<SizeClass> default_size_classes();

// The class a scan of `bytes` falls in: an index into `classes` (the last one when none bounds it).
size_t size_class_of(std::span<const SizeClass> classes, double bytes);

// `routing.calibration` (docs/configuration.md).
struct CalibrationOptions {
  bool enabled = true;
  double alpha = 0.2;    // weight of the newest run, in (0, 1]
  int min_samples = 3;   // runs seen before an engine's class uses its learnt figures
  std::vector<SizeClass> size_classes = default_size_classes();
};

// Learnt figures are kept within [kCalibrationMinFactor, kCalibrationMaxFactor] × configured.
inline constexpr double kCalibrationMinFactor = 0.05;
inline constexpr double kCalibrationMaxFactor = 20;

// What was learnt for one engine and size class.
struct CalibratedFigures {
  int64_t samples = 0;          // runs observed since the start or the last reset()
  double startup_ms = 0;        // learnt and clamped
  double bytes_per_second = 0;  // learnt and clamped; the configured figure when not fitted
  bool fitted_throughput = false;  // the sizes seen allowed a slope; else only start-up was learnt
  bool applied = false;         // samples >= min_samples: the cost model uses these figures
};

class CalibrationSnapshot {
 public:
  // The figures of `engine` for the class `size_class`; null when that engine has no run of
  // that class (or is unknown).
  const CalibratedFigures* find(std::string_view engine, std::string_view size_class) const;

  const std::vector<std::string>& engines() const { return engines_; }
  const std::vector<SizeClass>& size_classes() const { return classes_; }
  // figures(e)[c]: engine engines()[e], class size_classes()[c] (samples == 0: none yet).
  const std::vector<CalibratedFigures>& figures(size_t engine) const { return figures_[engine]; }
  int64_t total_samples() const;

 private:
  friend class Calibrator;
  std::vector<std::string> engines_;
  std::vector<SizeClass> classes_;
  std::vector<std::vector<CalibratedFigures>> figures_;
};

// The fits of a Calibrator as plain data, to keep across restarts: per engine and size class, the
// decayed weighted moments of (bytes, engine_ms) it learns from.
struct CalibrationState {
  struct Fit {
    std::string engine;
    std::string size_class;
    std::optional<double> below_bytes;  // the class's bound when it was learnt
    int64_t samples = 0;
    double weight = 0;
    double mean_x = 0;
    double mean_y = 0;
    double var_x = 0;
    double cov_xy = 0;
    double startup_residual = 0;
  };
  std::vector<Fit> fits;  // only engines and classes that saw runs

  // JSON text, and back; from_json() says what is wrong with a document it cannot read.
  std::string to_json() const;
  static Result<CalibrationState> from_json(std::string_view text);
};

class Calibrator {
 public:
  // `engines`: the configured profiles, whose pricing gives the starting figures and the clamps.
  // `options` must be valid (as read_routing_policy() checks them).
  Calibrator(CalibrationOptions options, std::vector<EngineProfile> engines);

  // One statement `engine` ran to its end: the bytes it was estimated to scan and the time from
  // the engine's start to its last row. Ignored when the engine is unknown or a figure is not a
  // finite non-negative number.
  void observe(std::string_view engine, double bytes, double engine_ms);

  // Forgets everything learnt; returns the number of runs dropped.
  int64_t reset();

  // What was learnt so far (classes without runs left out).
  CalibrationState state() const;

  // Replaces what was learnt for each engine and class `state` holds with its fit; fits of an
  // engine that is not configured, or of a class whose name or bound changed, are skipped (their
  // runs measured something else). Returns the number of runs taken over.
  int64_t restore(const CalibrationState& state);

  // Increases with every change (a run observed, a reset, a restore): whether state() changed.
  uint64_t version() const { return version_.load(); }

  std::shared_ptr<const CalibrationSnapshot> snapshot() const { return snapshot_.load(); }

  const CalibrationOptions& options() const { return options_; }
  const std::vector<EngineProfile>& engines() const { return engines_; }

 private:
  // The decayed weighted moments of one engine and class (x: bytes, y: engine_ms).
  struct Fit {
    int64_t samples = 0;
    double weight = 0;  // sum of the decayed weights: normalises the moments while few runs were seen
    double mean_x = 0;
    double mean_y = 0;
    double var_x = 0;
    double cov_xy = 0;
    double startup_residual = 0;  // weighted mean of y − x / configured throughput
  };

  CalibratedFigures figures_of(const Fit& fit, const Pricing& configured) const;
  void publish();  // under mu_

  const CalibrationOptions options_;
  const std::vector<EngineProfile> engines_;
  mutable std::mutex mu_;
  std::atomic<uint64_t> version_{0};
  std::vector<std::vector<Fit>> fits_;  // [engine][class], guarded by mu_
  std::atomic<std::shared_ptr<const CalibrationSnapshot>> snapshot_;
};

}  // namespace lakerouter::routing
