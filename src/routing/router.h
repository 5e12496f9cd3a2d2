// Router: decides which engine runs a statement, in four stages (ARCHITECTURE.md, Routing):
//   1. pinning      a hint /*+ engine(x) */, the request's engine header, or the session's
//                   `engine` setting — honoured only if that engine passes stage 2;
//   2. constraints  statement kind and table ownership for writes, governance, table formats and
//                   their features, scan size, engine health: failing engines are not candidates;
//   3. rules        the configured rules in order; the first that matches and names a capable
//                   engine wins (then `default_engine`, when configured);
//   4. cost model   the cheapest candidate estimated to meet the latency target, else the fastest,
//                   with start-up and throughput learnt from past runs when a calibration
//                   snapshot is given (calibration.h).
// The Decision explains every step (see decision.h).
//
// create() validates the policy against the engines (unknown engines, rules that can never
// match, ...) and precomputes what decide() needs, so decide() is a pure function of its input:
// no catalog or clock access, no locks, a few small allocations for the explanation.
// Thread-safety: immutable after create(); decide() may be called from any number of threads.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/statement.h"
#include "core/status.h"
#include "routing/calibration.h"
#include "routing/decision.h"
#include "routing/engine_profile.h"
#include "routing/rules.h"
#include "routing/table_facts.h"
#include "sql/query_profile.h"

namespace lakerouter::routing {

// Live state of an engine, as the pipeline's health checks see it. Engines not listed are healthy.
struct EngineState {
  std::string engine;
  bool circuit_open = false;             // recent failures: do not send it anything
  std::optional<double> queue_wait_ms = {};  // current wait; replaces the configured typical wait
  bool saturated = false;  // at its admission limit: a statement sent now would be refused
};

// The session setting that pins an engine (`SET engine = 'trino'` / a connection parameter).
inline constexpr std::string_view kEngineSetting = "engine";

struct RoutingInput {
  const sql::QueryProfile& profile;
  const Session& session;
  std::span<const TableFacts> tables = {};  // tables[i] describes profile.tables[i] (resolve_tables())
  // Scan estimates from the catalog (after pruning); when absent, the sum over the tables read.
  std::optional<double> estimated_rows = std::nullopt;
  std::optional<double> estimated_bytes = std::nullopt;
  std::span<const EngineState> engine_states = {};
  std::optional<double> latency_target_ms = std::nullopt;  // overrides the policy's
  std::string_view header_engine = {};                     // the request's engine header, if any
  // What calibration learnt (calibration.h); null: the configured figures alone. The caller keeps
  // the snapshot alive during decide().
  const CalibrationSnapshot* calibration = nullptr;
};

class Router {
 public:
  // Validates the policy against the engines; errors carry the configuration file, the line and
  // a fix. Engines keep their order: it breaks ties and orders Decision::candidates.
  static Result<Router> create(RoutingPolicy policy, std::vector<EngineProfile> engines);

  Decision decide(const RoutingInput& input) const;

  const RoutingPolicy& policy() const { return policy_; }
  const std::vector<EngineProfile>& engines() const { return engines_; }

 private:
  // A rule with engine names resolved to indexes and its explanation text prepared.
  struct CompiledRule {
    size_t rule = 0;          // index into policy_.rules
    std::vector<size_t> route;  // indexes into engines_
    std::string description;     // RuleMatch::describe()
  };

  Router() = default;

  RoutingPolicy policy_;
  std::vector<EngineProfile> engines_;
  std::vector<std::string> engine_names_;  // for suggestions in explanations
  std::vector<CompiledRule> rules_;
  std::optional<size_t> default_engine_;
};

}  // namespace lakerouter::routing
