#include "routing/calibration.h"

#include <algorithm>
#include <cmath>

namespace lakerouter::routing {

std::vector<SizeClass> default_size_classes() {
  return {{"tiny", 1e6}, {"small", 32e6}, {"medium", 512e6}, {"large", std::nullopt}};
}

size_t size_class_of(std::span<const SizeClass> classes, double bytes) {
  for (size_t i = 0; i < classes.size(); ++i) {
    if (!classes[i].below_bytes || bytes < *classes[i].below_bytes) return i;
  }
  return classes.empty() ? 0 : classes.size() - 1;
}

const CalibratedFigures* CalibrationSnapshot::find(std::string_view engine, std::string_view size_class) const {
  for (size_t e = 0; e < engines_.size(); ++e) {
    if (engines_[e] != engine) continue;
    for (size_t c = 0; c < classes_.size(); ++c) {
      if (classes_[c].name == size_class) return figures_[e][c].samples > 0 ? &figures_[e][c] : nullptr;
    }
    return nullptr;
  }
  return nullptr;
}

int64_t CalibrationSnapshot::total_samples() const {
  int64_t total = 0;
  for (const auto& per_engine : figures_) {
    for (const auto& f : per_engine) total += f.samples;
  }
  return total;
}

namespace {

CalibrationOptions usable(CalibrationOptions options) {
  if (options.size_classes.empty()) options.size_classes = default_size_classes();
  options.alpha = std::clamp(options.alpha, 1e-6, 1.0);
  options.min_samples = std::max(options.min_samples, 1);
  return options;
}

}  // namespace

Calibrator::Calibrator(CalibrationOptions options, std::vector<EngineProfile> engines)
    : options_(usable(std::move(options))), engines_(std::move(engines)),
      fits_(engines_.size(), std::vector<Fit>(options_.size_classes.size())) {
  std::lock_guard lock(mu_);
  publish();
}

void Calibrator::observe(std::string_view engine, double bytes, double engine_ms) {
  if (!std::isfinite(bytes) || bytes < 0 || !std::isfinite(engine_ms) || engine_ms < 0) return;
  const auto found = std::find_if(engines_.begin(), engines_.end(), [&](const EngineProfile& e) { return e.name == engine; });
  if (found == engines_.end()) return;
  const auto e = static_cast<size_t>(found - engines_.begin());
  const size_t c = size_class_of(options_.size_classes, bytes);
  const double alpha = options_.alpha;
  std::lock_guard lock(mu_);
  Fit& fit = fits_[e][c];
  // Exponentially weighted moments, updated in place (numerically safer than raw decayed sums of
  // x² with x in the billions): `share` is the newest run's part of the total decayed weight.
  fit.weight = (1 - alpha) * fit.weight + alpha;
  const double share = alpha / fit.weight;
  const double dx = bytes - fit.mean_x;
  const double dy = engine_ms - fit.mean_y;
  fit.mean_x += share * dx;
  fit.mean_y += share * dy;
  fit.var_x = (1 - share) * (fit.var_x + share * dx * dx);
  fit.cov_xy = (1 - share) * (fit.cov_xy + share * dx * dy);
  const double residual = engine_ms - bytes / found->pricing.scan_bytes_per_second * 1000.0;
  fit.startup_residual += share * (residual - fit.startup_residual);
  ++fit.samples;
  publish();
}

int64_t Calibrator::reset() {
  std::lock_guard lock(mu_);
  int64_t dropped = 0;
  for (auto& per_engine : fits_) {
    for (auto& fit : per_engine) {
      dropped += fit.samples;
      fit = Fit{};
    }
  }
  publish();
  return dropped;
}

CalibratedFigures Calibrator::figures_of(const Fit& fit, const Pricing& configured) const {
  CalibratedFigures f;
  f.samples = fit.samples;
  f.applied = fit.samples >= options_.min_samples;
  const double configured_bps = configured.scan_bytes_per_second;
  const double startup_base = std::max(configured.startup_ms, 1.0);
  f.bytes_per_second = configured_bps;
  if (fit.samples == 0) {
    f.startup_ms = configured.startup_ms;
    return f;
  }
  // A slope needs sizes that differ: a spread of at least 5 % of their mean.
  const bool spread = fit.samples >= 2 && fit.var_x > 0 && std::sqrt(fit.var_x) >= 0.05 * fit.mean_x;
  const double ms_per_byte = spread ? fit.cov_xy / fit.var_x : 0;
  double startup = fit.startup_residual;
  if (ms_per_byte > 0) {
    f.fitted_throughput = true;
    f.bytes_per_second = std::clamp(1000.0 / ms_per_byte, configured_bps * kCalibrationMinFactor,
                                    configured_bps * kCalibrationMaxFactor);
    // The line through the weighted mean run, with the (possibly clamped) slope.
    startup = fit.mean_y - fit.mean_x / f.bytes_per_second * 1000.0;
  }
  f.startup_ms = std::clamp(startup, startup_base * kCalibrationMinFactor, startup_base * kCalibrationMaxFactor);
  return f;
}

void Calibrator::publish() {
  auto next = std::make_shared<CalibrationSnapshot>();
  next->classes_ = options_.size_classes;
  next->engines_.reserve(engines_.size());
  next->figures_.resize(engines_.size());
  for (size_t e = 0; e < engines_.size(); ++e) {
    next->engines_.push_back(engines_[e].name);
    next->figures_[e].reserve(fits_[e].size());
    for (const Fit& fit : fits_[e]) next->figures_[e].push_back(figures_of(fit, engines_[e].pricing));
  }
  snapshot_.store(std::move(next));
}

}  // namespace lakerouter::routing
