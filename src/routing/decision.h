// Decision: where a statement runs and why, in words a person can check.
//
// A decision names the engine, the stage that chose it, the reasons in the order the stages
// produced them (each a stable machine code plus a sentence naming the rule, table, feature or
// engine involved), and every declared engine as a candidate: capable or not and why, with its
// estimated latency and cost. It is what `lakerouter route`, POST /v1/route and query responses
// show. Reason codes are part of the API: never rename one, only add.
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lakerouter::routing {

enum class ReasonCode : uint8_t {
  // Stage 1: pinning.
  kPinnedByHint,        // /*+ engine(x) */ in the statement
  kPinnedByHeader,      // the request's engine header
  kPinnedBySession,     // the session's `engine` setting
  kPinUnknownEngine,    // the pin names no declared engine: ignored
  kPinNotCapable,       // the pinned engine cannot run the statement: ignored
  // Stage 2: hard constraints (in Candidate::why_not, and summarised in Decision::reasons).
  kNotCapableKind,          // the engine does not run this kind of statement
  kNotOwner,                // a write to a table another engine owns
  kNotCapableGovernance,    // a governed table and an engine that cannot enforce its policies
  kNotCapableFormat,        // a table format the engine cannot read
  kNotCapableFormatFeature, // a table feature the engine cannot read (e.g. deletion vectors)
  kNotCapableScanSize,      // more bytes than the engine may scan
  kEngineUnhealthy,         // circuit breaker open
  kEngineBusy,              // at its admission limit: every slot busy and the queue full
  kNotPortable,             // the statement uses DuckDB-only syntax or functions the engine lacks
  // Stage 3: rules.
  kRuleMatched,
  kRuleNoCapableEngine,  // a rule matched but none of its engines can run the statement
  // Stage 4: default engine and cost model.
  kDefaultEngine,
  kDefaultNotCapable,
  kOnlyCandidate,
  kCheapestWithinTarget,
  kFastestNoneWithinTarget,
  kNoCapableEngine,
  // Execution (added by the pipeline).
  kEngineNotConnected,  // the chosen engine is declared for routing but not connected: ran elsewhere
  kFailedOver,          // the chosen engine failed before any row; the statement was routed again
};

std::string_view reason_code_name(ReasonCode code);  // "PINNED_BY_HINT", ...

struct Reason {
  ReasonCode code;
  std::string message;
};

struct Candidate {
  std::string engine;
  bool capable = false;
  std::vector<Reason> why_not;  // every hard constraint it fails, empty when capable
  double est_latency_ms = 0;    // queue wait + start-up + bytes scanned / throughput
  double est_cost_usd = 0;      // billed engine-seconds x price
  // The same from the configured figures alone; equal to the above unless calibrated.
  double est_latency_ms_static = 0;
  double est_cost_usd_static = 0;
  int64_t calibration_samples = 0;  // runs of this engine in the statement's size class (calibration.h)
  bool calibrated = false;          // the estimates above use learnt figures
};

// What the statement scans of one table, as the estimate the decision used.
struct TableScan {
  std::string table;
  std::optional<int64_t> rows;
  std::optional<int64_t> bytes;
  int64_t files = 0;
  int64_t files_total = 0;
  std::vector<std::string> pruned_by;  // columns whose predicates ruled files out

  std::string describe() const;  // "tpch.orders: 1 of 7 files after pruning on o_year, ~2,256 rows, 98.9 KB"
};

// One try at running the statement on an engine (the pipeline records them; a failover makes two).
struct Attempt {
  std::string engine;
  bool ok = false;
  std::string error_code;  // stable error code name when it failed, e.g. ENGINE_UNAVAILABLE
  std::string error;
};

enum class DecisionStage : uint8_t { kPinned, kRule, kDefault, kOnlyCandidate, kCost, kNone };
std::string_view decision_stage_name(DecisionStage stage);  // "pinned", "rule", ..., "none"

struct Decision {
  std::string engine;  // "" when no engine can run the statement (stage kNone)
  DecisionStage stage = DecisionStage::kNone;
  std::string rule;    // the rule that routed it, for stage kRule
  std::vector<Reason> reasons;
  std::vector<Candidate> candidates;  // every declared engine, in declaration order
  std::optional<double> est_rows;     // scanned, over every table read
  std::optional<double> est_bytes;
  std::string size_class;             // of est_bytes (calibration.h); "" when the scan size is unknown
  std::vector<TableScan> scans;       // one per table read
  std::vector<Attempt> attempts;      // filled by the pipeline when it runs the statement

  bool ok() const { return !engine.empty(); }
  const Candidate* candidate(std::string_view engine_name) const;
  bool has_reason(ReasonCode code) const;

  // {"engine", "stage", "rule", "reasons": [{"code", "message"}], "candidates": [...],
  //  "size_class", "scan": {"rows", "bytes", "tables": [...]}}
  nlohmann::json to_json() const;
  // What query responses carry: to_json() without "candidates", plus the chosen engine's
  // "estimate": {"latency_ms", "cost_usd", "static_latency_ms", "static_cost_usd", "size_class",
  // "calibration_samples", "calibrated"} (absent when no engine was chosen).
  nlohmann::json summary_json() const;
};

// For messages: "1.5 GB", "$0.00042".
std::string format_bytes(double bytes);
std::string format_usd(double usd);

}  // namespace lakerouter::routing
