#include "routing/calibration.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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
  ++version_;
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
  ++version_;
  publish();
  return dropped;
}

CalibrationState Calibrator::state() const {
  CalibrationState state;
  std::lock_guard lock(mu_);
  for (size_t e = 0; e < engines_.size(); ++e) {
    for (size_t c = 0; c < options_.size_classes.size(); ++c) {
      const Fit& fit = fits_[e][c];
      if (fit.samples == 0) continue;
      state.fits.push_back({engines_[e].name, options_.size_classes[c].name, options_.size_classes[c].below_bytes,
                            fit.samples, fit.weight, fit.mean_x, fit.mean_y, fit.var_x, fit.cov_xy,
                            fit.startup_residual});
    }
  }
  return state;
}

namespace {

bool same_bound(const std::optional<double>& a, const std::optional<double>& b) {
  if (!a || !b) return !a && !b;
  return std::abs(*a - *b) <= 1e-9 * std::max(std::abs(*a), std::abs(*b));
}

}  // namespace

int64_t Calibrator::restore(const CalibrationState& state) {
  std::lock_guard lock(mu_);
  int64_t restored = 0;
  for (const auto& saved : state.fits) {
    const auto engine = std::find_if(engines_.begin(), engines_.end(),
                                     [&](const EngineProfile& e) { return e.name == saved.engine; });
    const auto& classes = options_.size_classes;
    const auto size_class = std::find_if(classes.begin(), classes.end(),
                                         [&](const SizeClass& c) { return c.name == saved.size_class; });
    if (engine == engines_.end() || size_class == classes.end() || !same_bound(size_class->below_bytes, saved.below_bytes)) {
      continue;
    }
    Fit& fit = fits_[static_cast<size_t>(engine - engines_.begin())][static_cast<size_t>(size_class - classes.begin())];
    fit = Fit{saved.samples, saved.weight, saved.mean_x, saved.mean_y, saved.var_x, saved.cov_xy, saved.startup_residual};
    restored += saved.samples;
  }
  ++version_;
  publish();
  return restored;
}

std::string CalibrationState::to_json() const {
  nlohmann::json fits_json = nlohmann::json::array();
  for (const auto& f : fits) {
    fits_json.push_back({{"engine", f.engine},
                         {"size_class", f.size_class},
                         {"below_bytes", f.below_bytes ? nlohmann::json(*f.below_bytes) : nlohmann::json(nullptr)},
                         {"samples", f.samples},
                         {"weight", f.weight},
                         {"mean_x", f.mean_x},
                         {"mean_y", f.mean_y},
                         {"var_x", f.var_x},
                         {"cov_xy", f.cov_xy},
                         {"startup_residual", f.startup_residual}});
  }
  return nlohmann::json{{"format", 1}, {"fits", std::move(fits_json)}}.dump();
}

Result<CalibrationState> CalibrationState::from_json(std::string_view text) {
  const auto bad = [](const std::string& why) {
    return Error(ErrorCode::kInvalidInput, "calibration state: " + why);
  };
  const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return bad("not a JSON object");
  if (!doc.contains("format") || doc["format"] != 1) return bad("unknown format (this lakerouter reads format 1)");
  if (!doc.contains("fits") || !doc["fits"].is_array()) return bad("no \"fits\" array");
  CalibrationState state;
  for (size_t i = 0; i < doc["fits"].size(); ++i) {
    const auto& f = doc["fits"][i];
    const auto where = fmt::format("fits[{}]", i);
    if (!f.is_object()) return bad(where + " is not an object");
    CalibrationState::Fit fit;
    if (!f.contains("engine") || !f["engine"].is_string() || !f.contains("size_class") || !f["size_class"].is_string()) {
      return bad(where + " needs \"engine\" and \"size_class\" strings");
    }
    fit.engine = f["engine"].get<std::string>();
    fit.size_class = f["size_class"].get<std::string>();
    if (f.contains("below_bytes") && !f["below_bytes"].is_null()) {
      if (!f["below_bytes"].is_number()) return bad(where + ".below_bytes is not a number");
      fit.below_bytes = f["below_bytes"].get<double>();
    }
    if (!f.contains("samples") || !f["samples"].is_number_integer() || f["samples"].get<int64_t>() < 1) {
      return bad(where + ".samples is not a positive integer");
    }
    fit.samples = f["samples"].get<int64_t>();
    for (auto [name, field] : {std::pair{"weight", &fit.weight}, std::pair{"mean_x", &fit.mean_x},
                               std::pair{"mean_y", &fit.mean_y}, std::pair{"var_x", &fit.var_x},
                               std::pair{"cov_xy", &fit.cov_xy}, std::pair{"startup_residual", &fit.startup_residual}}) {
      if (!f.contains(name) || !f[name].is_number() || !std::isfinite(f[name].get<double>())) {
        return bad(fmt::format("{}.{} is not a finite number", where, name));
      }
      *field = f[name].get<double>();
    }
    if (fit.weight <= 0 || fit.weight > 1 || fit.var_x < 0) return bad(where + " has a weight outside (0, 1] or a negative variance");
    state.fits.push_back(std::move(fit));
  }
  return state;
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
