#include "routing/decision.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace lakerouter::routing {

std::string_view reason_code_name(ReasonCode code) {
  switch (code) {
    case ReasonCode::kPinnedByHint: return "PINNED_BY_HINT";
    case ReasonCode::kPinnedByHeader: return "PINNED_BY_HEADER";
    case ReasonCode::kPinnedBySession: return "PINNED_BY_SESSION";
    case ReasonCode::kPinUnknownEngine: return "PIN_UNKNOWN_ENGINE";
    case ReasonCode::kPinNotCapable: return "PIN_NOT_CAPABLE";
    case ReasonCode::kNotCapableKind: return "NOT_CAPABLE_KIND";
    case ReasonCode::kNotOwner: return "NOT_OWNER";
    case ReasonCode::kNotCapableGovernance: return "NOT_CAPABLE_GOVERNANCE";
    case ReasonCode::kNotCapableFormat: return "NOT_CAPABLE_FORMAT";
    case ReasonCode::kNotCapableFormatFeature: return "NOT_CAPABLE_FORMAT_FEATURE";
    case ReasonCode::kNotCapableScanSize: return "NOT_CAPABLE_SCAN_SIZE";
    case ReasonCode::kEngineUnhealthy: return "ENGINE_UNHEALTHY";
    case ReasonCode::kEngineBusy: return "ENGINE_BUSY";
    case ReasonCode::kNotPortable: return "NOT_PORTABLE";
    case ReasonCode::kRuleMatched: return "RULE_MATCHED";
    case ReasonCode::kRuleNoCapableEngine: return "RULE_NO_CAPABLE_ENGINE";
    case ReasonCode::kDefaultEngine: return "DEFAULT_ENGINE";
    case ReasonCode::kDefaultNotCapable: return "DEFAULT_NOT_CAPABLE";
    case ReasonCode::kOnlyCandidate: return "ONLY_CANDIDATE";
    case ReasonCode::kCheapestWithinTarget: return "CHEAPEST_WITHIN_TARGET";
    case ReasonCode::kFastestNoneWithinTarget: return "FASTEST_NONE_WITHIN_TARGET";
    case ReasonCode::kNoCapableEngine: return "NO_CAPABLE_ENGINE";
    case ReasonCode::kEngineNotConnected: return "ENGINE_NOT_CONNECTED";
    case ReasonCode::kFailedOver: return "FAILED_OVER";
  }
  return "UNKNOWN";
}

std::string_view decision_stage_name(DecisionStage stage) {
  switch (stage) {
    case DecisionStage::kPinned: return "pinned";
    case DecisionStage::kRule: return "rule";
    case DecisionStage::kDefault: return "default";
    case DecisionStage::kOnlyCandidate: return "only_candidate";
    case DecisionStage::kCost: return "cost";
    case DecisionStage::kNone: return "none";
  }
  return "none";
}

const Candidate* Decision::candidate(std::string_view engine_name) const {
  for (const auto& c : candidates) {
    if (c.engine == engine_name) return &c;
  }
  return nullptr;
}

bool Decision::has_reason(ReasonCode code) const {
  return std::any_of(reasons.begin(), reasons.end(), [code](const Reason& r) { return r.code == code; });
}

namespace {

nlohmann::json reasons_json(const std::vector<Reason>& reasons) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : reasons) out.push_back({{"code", reason_code_name(r.code)}, {"message", r.message}});
  return out;
}

}  // namespace

nlohmann::json Decision::to_json() const {
  nlohmann::json out;
  out["engine"] = ok() ? nlohmann::json(engine) : nlohmann::json(nullptr);
  out["stage"] = decision_stage_name(stage);
  out["rule"] = rule.empty() ? nlohmann::json(nullptr) : nlohmann::json(rule);
  out["reasons"] = reasons_json(reasons);
  nlohmann::json candidates_json = nlohmann::json::array();
  for (const auto& c : candidates) {
    candidates_json.push_back({{"engine", c.engine},
                               {"capable", c.capable},
                               {"why_not", reasons_json(c.why_not)},
                               {"est_latency_ms", c.est_latency_ms},
                               {"est_cost_usd", c.est_cost_usd},
                               {"est_latency_ms_static", c.est_latency_ms_static},
                               {"est_cost_usd_static", c.est_cost_usd_static},
                               {"calibration_samples", c.calibration_samples},
                               {"calibrated", c.calibrated}});
  }
  out["candidates"] = std::move(candidates_json);
  out["size_class"] = size_class.empty() ? nlohmann::json(nullptr) : nlohmann::json(size_class);
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : scans) {
    tables.push_back({{"table", t.table},
                      {"rows", t.rows ? nlohmann::json(*t.rows) : nlohmann::json(nullptr)},
                      {"bytes", t.bytes ? nlohmann::json(*t.bytes) : nlohmann::json(nullptr)},
                      {"files", t.files},
                      {"files_total", t.files_total},
                      {"pruned_by", t.pruned_by},
                      {"summary", t.describe()}});
  }
  if (!attempts.empty()) {
    nlohmann::json tries = nlohmann::json::array();
    for (const auto& a : attempts) {
      nlohmann::json t = {{"engine", a.engine}, {"ok", a.ok}};
      if (!a.ok) {
        t["error_code"] = a.error_code;
        t["error"] = a.error;
      }
      tries.push_back(std::move(t));
    }
    out["attempts"] = std::move(tries);
  }
  out["scan"] = {{"rows", est_rows ? nlohmann::json(*est_rows) : nlohmann::json(nullptr)},
                 {"bytes", est_bytes ? nlohmann::json(*est_bytes) : nlohmann::json(nullptr)},
                 {"tables", std::move(tables)}};
  return out;
}

nlohmann::json Decision::summary_json() const {
  nlohmann::json out = to_json();
  out.erase("candidates");  // POST /v1/route has them all
  if (const Candidate* chosen = ok() ? candidate(engine) : nullptr) {
    out["estimate"] = {{"latency_ms", chosen->est_latency_ms},
                       {"cost_usd", chosen->est_cost_usd},
                       {"static_latency_ms", chosen->est_latency_ms_static},
                       {"static_cost_usd", chosen->est_cost_usd_static},
                       {"size_class", out["size_class"]},
                       {"calibration_samples", chosen->calibration_samples},
                       {"calibrated", chosen->calibrated}};
  }
  return out;
}

std::string TableScan::describe() const {
  std::string out = table + ": ";
  if (files_total == 0 && !bytes) return out + "size unknown";
  out += files < files_total ? fmt::format("{} of {} files", files, files_total)
                             : fmt::format("{} file{}", files_total, files_total == 1 ? "" : "s");
  if (!pruned_by.empty()) out += fmt::format(" after pruning on {}", fmt::join(pruned_by, ", "));
  if (rows) out += fmt::format(", ~{} rows", *rows);
  if (bytes) out += ", " + format_bytes(static_cast<double>(*bytes));
  return out;
}

std::string format_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  size_t unit = 0;
  while (bytes >= 1000 && unit + 1 < std::size(kUnits)) {
    bytes /= 1000;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.3g} {}", bytes, kUnits[unit]);
}

std::string format_usd(double usd) {
  if (usd == 0) return "$0";
  if (usd >= 0.01) return fmt::format("${:.2f}", usd);
  // Tiny per-statement costs: two significant digits, in plain decimals people can compare.
  const int decimals = std::clamp(1 - static_cast<int>(std::floor(std::log10(usd))), 2, 12);
  return fmt::format("${:.{}f}", usd, decimals);
}

}  // namespace lakerouter::routing
