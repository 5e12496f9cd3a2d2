#include "routing/router.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/yaml_reader.h"
#include "sql/portability.h"

namespace lakerouter::routing {

namespace {

constexpr size_t kMaxEngines = 64;  // owner sets are 64-bit masks

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool any_in(const std::vector<std::string>& wanted, const std::vector<std::string>& have) {
  return std::any_of(have.begin(), have.end(), [&](const std::string& h) { return contains(wanted, h); });
}

std::string capitalized(std::string_view s) {
  std::string out(s);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

// What the stages need to know about the statement, computed once per decision.
struct StatementFacts {
  sql::StatementKind kind = sql::StatementKind::kOther;
  bool governed = false;
  bool point_lookup = false;
  std::optional<double> rows;   // scanned
  std::optional<double> bytes;  // scanned
};

bool has_key_equality(const sql::TableAccess& access, const TableFacts& facts) {
  return std::any_of(access.predicates.begin(), access.predicates.end(), [&](const sql::Predicate& p) {
    return (p.op == sql::PredicateOp::kEq || p.op == sql::PredicateOp::kIn) && contains(facts.key_columns, p.column);
  });
}

StatementFacts statement_facts(const RoutingInput& in) {
  const sql::QueryProfile& profile = in.profile;
  StatementFacts f;
  f.kind = profile.kind;
  double rows = 0, bytes = 0;
  bool rows_known = true, bytes_known = true, any_read = false, every_read_keyed = true;
  for (size_t i = 0; i < profile.tables.size(); ++i) {
    const sql::TableAccess& access = profile.tables[i];
    const TableFacts* t = i < in.tables.size() ? &in.tables[i] : nullptr;
    if (t && t->governed) f.governed = true;
    if (!access.read) continue;
    any_read = true;
    if (t && t->rows) {
      rows += static_cast<double>(*t->rows);
    } else {
      rows_known = false;
    }
    if (t && t->bytes) {
      bytes += static_cast<double>(*t->bytes);
    } else {
      bytes_known = false;
    }
    if (!t || !has_key_equality(access, *t)) every_read_keyed = false;
  }
  f.point_lookup = any_read && every_read_keyed;
  f.rows = in.estimated_rows ? in.estimated_rows : rows_known ? std::optional<double>(rows) : std::nullopt;
  f.bytes = in.estimated_bytes ? in.estimated_bytes : bytes_known ? std::optional<double>(bytes) : std::nullopt;
  return f;
}

std::string_view table_name(const RoutingInput& in, size_t i) {
  return i < in.tables.size() ? std::string_view(in.tables[i].name) : std::string_view(in.profile.tables[i].name);
}

const EngineState* state_of(const RoutingInput& in, std::string_view engine) {
  for (const auto& s : in.engine_states) {
    if (s.engine == engine) return &s;
  }
  return nullptr;
}

// Stage 2 for one engine: every hard constraint it fails, in a fixed order.
void check_constraints(const EngineProfile& e, size_t index, std::span<const EngineProfile> engines,
                       const StatementFacts& f, const RoutingInput& in, Candidate& c) {
  const Capabilities& caps = e.capabilities;
  if (const EngineState* state = state_of(in, e.name); state && state->circuit_open) {
    c.why_not.push_back({ReasonCode::kEngineUnhealthy,
                         fmt::format("{} is unavailable: its circuit breaker is open after recent failures", e.name)});
  }
  if (const EngineState* state = state_of(in, e.name); state && state->saturated) {
    c.why_not.push_back({ReasonCode::kEngineBusy,
                         fmt::format("{} is at its admission limit (every slot busy, queue full)", e.name)});
  }
  if (const auto gaps = sql::portability_gaps(in.profile, engine_type_name(e.type)); !gaps.empty()) {
    c.why_not.push_back({ReasonCode::kNotPortable,
                         fmt::format("{} does not speak DuckDB's {} (the statement stays on an engine that does)",
                                     e.name, fmt::join(gaps, ", "))});
  }
  if (in.profile.statement_count > 1 && e.type != EngineType::kPostgres) {
    c.why_not.push_back({ReasonCode::kNotCapableKind,
                         fmt::format("{} runs one statement per request (a script of {} statements runs on a "
                                     "PostgreSQL engine, as one transaction)",
                                     e.name, in.profile.statement_count)});
  }
  if (!caps.kinds.contains(f.kind)) {
    c.why_not.push_back({ReasonCode::kNotCapableKind,
                         fmt::format("{} does not run {} statements (it runs: {})", e.name,
                                     sql::statement_kind_name(f.kind), caps.kinds.to_string())});
  }
  for (size_t i = 0; i < in.profile.tables.size(); ++i) {
    const std::string_view name = table_name(in, i);
    if (in.profile.tables[i].written) {
      // Writes go to the table's owner, when some engine declares it owns the table.
      uint64_t owners = 0;
      for (size_t j = 0; j < engines.size(); ++j) {
        const auto& patterns = engines[j].capabilities.owns_tables;
        if (std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return glob_match(p, name); })) {
          owners |= uint64_t{1} << j;
        }
      }
      if (owners != 0 && (owners & (uint64_t{1} << index)) == 0) {
        const auto owner = static_cast<size_t>(std::countr_zero(owners));
        c.why_not.push_back({ReasonCode::kNotOwner,
                             fmt::format("{} does not own {}: writes to it go to its owner {}", e.name, name,
                                         engines[owner].name)});
      }
    }
    if (i >= in.tables.size()) continue;
    const TableFacts& t = in.tables[i];
    if (t.governed && !caps.enforces_governance) {
      c.why_not.push_back({ReasonCode::kNotCapableGovernance,
                           fmt::format("{} is governed and {} cannot enforce its policies", name, e.name)});
    } else if (t.governed && e.type == EngineType::kDuckDB) {
      // lakerouter applies policies for DuckDB by rewriting queries (governance/duckdb_enforcement.h),
      // and only the policies it holds itself.
      if (!t.governed_by_policy) {
        c.why_not.push_back({ReasonCode::kNotCapableGovernance,
                             fmt::format("{} is governed by policies lakerouter does not hold (routing.tables), which "
                                         "{} cannot enforce",
                                         name, e.name)});
      } else if (in.profile.kind != sql::StatementKind::kSelect) {
        c.why_not.push_back({ReasonCode::kNotCapableGovernance,
                             fmt::format("{} is governed and {} applies its row filters and masks to queries only",
                                         name, e.name)});
      }
    }
    if (!t.format.empty() && !caps.reads_format(t.format)) {
      c.why_not.push_back({ReasonCode::kNotCapableFormat,
                           fmt::format("{} cannot {} {} tables such as {} (its formats: {})", e.name,
                                       in.profile.tables[i].read ? "read" : "write", capitalized(t.format), name,
                                       fmt::join(caps.formats, ", "))});
    }
    for (const auto& feature : t.features) {
      if (caps.cannot_read_feature(feature)) {
        c.why_not.push_back({ReasonCode::kNotCapableFormatFeature,
                             fmt::format("{} cannot read {}: it uses the {} feature {}", e.name, name,
                                         capitalized(t.format.empty() ? "table" : t.format), feature)});
      }
    }
  }
  if (caps.max_scan_bytes && f.bytes && *f.bytes > *caps.max_scan_bytes) {
    c.why_not.push_back({ReasonCode::kNotCapableScanSize,
                         fmt::format("the statement scans about {}, more than {} may scan ({})", format_bytes(*f.bytes),
                                     e.name, format_bytes(*caps.max_scan_bytes))});
  }
  c.capable = c.why_not.empty();
}

// The cost model's estimates (docs/routing.md): latency = queue + start-up + scan; the engine is
// billed for start-up + scan, at least its minimum. Start-up and throughput are the configured
// figures, or what calibration learnt for the engine and the statement's size class (only when
// the scan size is known: learnt figures of a class say nothing about a scan of unknown size).
void estimate(const EngineProfile& e, const StatementFacts& f, const RoutingInput& in, std::string_view size_class,
              Candidate& c) {
  const Pricing& p = e.pricing;
  const EngineState* state = state_of(in, e.name);
  const double queue_ms = state && state->queue_wait_ms ? *state->queue_wait_ms : p.queue_wait_ms;
  const double bytes = f.bytes.value_or(0);
  auto latency_and_cost = [&](double startup_ms, double bytes_per_second) {
    const double scan_ms = bytes / bytes_per_second * 1000.0;
    const double work_seconds = (startup_ms + scan_ms) / 1000.0;
    return std::pair{queue_ms + startup_ms + scan_ms,
                     std::max(work_seconds, p.min_billed_seconds) * p.cost_per_hour / 3600.0};
  };
  std::tie(c.est_latency_ms_static, c.est_cost_usd_static) = latency_and_cost(p.startup_ms, p.scan_bytes_per_second);
  c.est_latency_ms = c.est_latency_ms_static;
  c.est_cost_usd = c.est_cost_usd_static;
  const CalibratedFigures* learnt =
      in.calibration && !size_class.empty() ? in.calibration->find(e.name, size_class) : nullptr;
  if (!learnt) return;
  c.calibration_samples = learnt->samples;
  if (!learnt->applied) return;
  c.calibrated = true;
  std::tie(c.est_latency_ms, c.est_cost_usd) = latency_and_cost(learnt->startup_ms, learnt->bytes_per_second);
}

bool in_range(const std::optional<NumericRange>& range, std::optional<double> value) {
  return !range || (value && range->contains(*value));
}

bool flag_matches(const std::optional<bool>& wanted, bool actual) { return !wanted || *wanted == actual; }

bool rule_matches(const RuleMatch& m, const StatementFacts& f, const RoutingInput& in) {
  const sql::QueryProfile& p = in.profile;
  if (m.kinds && !m.kinds->contains(f.kind)) return false;
  if (!flag_matches(m.has_join, p.has_join()) || !flag_matches(m.has_aggregate, p.has_aggregate()) ||
      !flag_matches(m.has_window, p.has_window()) || !flag_matches(m.point_lookup, f.point_lookup) ||
      !flag_matches(m.governed, f.governed)) {
    return false;
  }
  if (!in_range(m.join_count, p.join_count) || !in_range(m.complexity, p.complexity) ||
      !in_range(m.estimated_rows, f.rows) || !in_range(m.estimated_bytes, f.bytes)) {
    return false;
  }
  if (!m.users.empty() && !contains(m.users, in.session.user)) return false;
  if (!m.groups.empty() && !any_in(m.groups, in.session.groups)) return false;
  if (!m.client_tags.empty() && !any_in(m.client_tags, in.session.client_tags)) return false;
  if (!m.fingerprints.empty() && (p.fingerprint.empty() || !contains(m.fingerprints, p.fingerprint))) return false;
  if (!m.tables.empty()) {
    bool any = false;
    for (size_t i = 0; i < p.tables.size() && !any; ++i) {
      const std::string_view name = table_name(in, i);
      any = std::any_of(m.tables.begin(), m.tables.end(), [&](const std::string& pat) { return glob_match(pat, name); });
    }
    if (!any) return false;
  }
  return true;
}

std::string estimate_text(const Candidate& c) {
  std::string text = fmt::format("about {:.0f} ms for {}", c.est_latency_ms, format_usd(c.est_cost_usd));
  if (c.calibrated) {
    text += fmt::format(", calibrated from {} run{}", c.calibration_samples, c.calibration_samples == 1 ? "" : "s");
  }
  return text;
}

}  // namespace

// ---- create: validation and precomputation --------------------------------------------------

namespace {

class Validator {
 public:
  Validator(const RoutingPolicy& policy, const std::vector<EngineProfile>& engines)
      : policy_(policy), engines_(engines) {
    for (const auto& e : engines_) names_.push_back(e.name);
  }

  Error error(int line, const std::string& what) const {
    return Error(ErrorCode::kConfigError, fmt::format("{}:{}: {}", policy_.source, line, what));
  }

  std::optional<size_t> find_engine(std::string_view name) const {
    for (size_t i = 0; i < engines_.size(); ++i) {
      if (engines_[i].name == name) return i;
    }
    return std::nullopt;
  }

  std::string unknown_engine_hint(std::string_view name) const {
    const std::string_view best = closest_name(name, std::span<const std::string>(names_));
    const std::string known = fmt::format("declared engines: {}", fmt::join(names_, ", "));
    return best.empty() ? known : fmt::format("did you mean '{}'? {}", best, known);
  }

  Status check_engines() const {
    if (engines_.empty()) return error(0, "no engine is declared (declare at least one under 'engines:')");
    if (engines_.size() > kMaxEngines) {
      return error(engines_[kMaxEngines].line, fmt::format("at most {} engines can be declared", kMaxEngines));
    }
    for (size_t i = 0; i < engines_.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (engines_[i].name == engines_[j].name) {
          return error(engines_[i].line, fmt::format("engine '{}' is declared twice (lines {} and {}); rename one",
                                                     engines_[i].name, engines_[j].line, engines_[i].line));
        }
      }
    }
    return Status::Ok();
  }

  Status check_tables() const {
    std::map<std::string_view, int> seen;
    for (const auto& t : policy_.tables) {
      if (auto [it, inserted] = seen.emplace(t.name, t.line); !inserted) {
        return error(t.line, fmt::format("table '{}' is listed twice in 'routing.tables' (lines {} and {}); "
                                         "merge the two entries",
                                         t.name, it->second, t.line));
      }
    }
    return Status::Ok();
  }

  Status check_range(const Rule& rule, const char* key, const std::optional<NumericRange>& range, double lowest) const {
    if (!range) return Status::Ok();
    NumericRange domain;
    domain.min = lowest;
    if (range->empty()) {
      return error(rule.line_of(key), fmt::format("rule '{}' can never match: {} cannot be {} at once; fix the bounds",
                                                  rule.name, key, range->to_string()));
    }
    if (range->intersect(domain).empty()) {
      return error(rule.line_of(key),
                   fmt::format("rule '{}' can never match: no statement has {} {} ({} is never below {}); "
                               "fix the bound or remove it",
                               rule.name, key, range->to_string(), key, lowest));
    }
    return Status::Ok();
  }

  Status check_rule(const Rule& rule, size_t index) const {
    const RuleMatch& m = rule.match;
    for (size_t j = 0; j < index; ++j) {
      const Rule& earlier = policy_.rules[j];
      if (earlier.name == rule.name) {
        return error(rule.line, fmt::format("rule name '{}' is used twice (lines {} and {}); give each rule its own "
                                            "name",
                                            rule.name, earlier.line, rule.line));
      }
      if (earlier.match.matches_everything()) {
        return error(rule.line, fmt::format("rule '{}' can never match: rule '{}' (line {}) above it matches every "
                                            "statement; move '{}' above it, or list fallback engines in the route "
                                            "of '{}'",
                                            rule.name, earlier.name, earlier.line, rule.name, earlier.name));
      }
    }
    if (rule.route.empty()) {
      return error(rule.line, fmt::format("rule '{}' has no route (add route: <engine> or route: [first, second])",
                                          rule.name));
    }
    KindSet route_kinds;
    for (const auto& engine : rule.route) {
      const auto found = find_engine(engine);
      if (!found) {
        return error(rule.line_of("route"), fmt::format("rule '{}' routes to unknown engine '{}' ({})", rule.name,
                                                         engine, unknown_engine_hint(engine)));
      }
      route_kinds = route_kinds | engines_[*found].capabilities.kinds;
    }
    if (Status s = check_range(rule, "join_count", m.join_count, 0); !s.ok()) return s;
    if (Status s = check_range(rule, "estimated_rows", m.estimated_rows, 0); !s.ok()) return s;
    if (Status s = check_range(rule, "estimated_bytes", m.estimated_bytes, 0); !s.ok()) return s;
    if (Status s = check_range(rule, "complexity", m.complexity, 0); !s.ok()) return s;
    if (m.has_join && m.join_count) {
      NumericRange joins;
      if (*m.has_join) joins.min = 1; else joins.max = 0;
      if (m.join_count->intersect(joins).empty()) {
        return error(rule.line_of("join_count"),
                     fmt::format("rule '{}' can never match: has_join: {} contradicts join_count: {}; remove one",
                                 rule.name, *m.has_join, m.join_count->to_string()));
      }
    }
    if (m.kinds && (*m.kinds & route_kinds).empty()) {
      return error(rule.line_of("kind"),
                   fmt::format("rule '{}' can never route: it matches kind {} but none of its engines ({}) runs "
                               "that; add an engine that does to 'route', or change 'kind'",
                               rule.name, m.kinds->to_string(), fmt::join(rule.route, ", ")));
    }
    return Status::Ok();
  }

 private:
  const RoutingPolicy& policy_;
  const std::vector<EngineProfile>& engines_;
  std::vector<std::string> names_;
};

}  // namespace

Result<Router> Router::create(RoutingPolicy policy, std::vector<EngineProfile> engines) {
  Router router;
  {
    const Validator v(policy, engines);
    if (Status s = v.check_engines(); !s.ok()) return s.error();
    if (Status s = v.check_tables(); !s.ok()) return s.error();
    if (!policy.default_engine.empty()) {
      router.default_engine_ = v.find_engine(policy.default_engine);
      if (!router.default_engine_) {
        return v.error(policy.default_engine_line,
                       fmt::format("'routing.default_engine' names unknown engine '{}' ({})", policy.default_engine,
                                   v.unknown_engine_hint(policy.default_engine)));
      }
    }
    if (!(policy.latency_target_ms > 0)) {
      return v.error(0, "'routing.latency_target_ms' must be a positive number of milliseconds");
    }
    for (size_t i = 0; i < policy.rules.size(); ++i) {
      const Rule& rule = policy.rules[i];
      if (Status s = v.check_rule(rule, i); !s.ok()) return s.error();
      CompiledRule compiled;
      compiled.rule = i;
      for (const auto& engine : rule.route) compiled.route.push_back(*v.find_engine(engine));
      compiled.description = rule.match.describe();
      router.rules_.push_back(std::move(compiled));
    }
  }
  for (const auto& e : engines) router.engine_names_.push_back(e.name);
  router.policy_ = std::move(policy);
  router.engines_ = std::move(engines);
  return router;
}

// ---- decide ---------------------------------------------------------------------------------

Decision Router::decide(const RoutingInput& in) const {
  Decision d;
  const StatementFacts facts = statement_facts(in);
  d.est_rows = facts.rows;
  d.est_bytes = facts.bytes;
  if (facts.bytes) {
    const auto& classes = policy_.calibration.size_classes;
    if (!classes.empty()) d.size_class = classes[size_class_of(classes, *facts.bytes)].name;
  }
  for (size_t i = 0; i < in.profile.tables.size() && i < in.tables.size(); ++i) {
    if (!in.profile.tables[i].read) continue;
    const TableFacts& t = in.tables[i];
    d.scans.push_back({t.name, t.rows, t.bytes, t.files, t.files_total, t.pruned_by});
  }

  // Stage 2 first: pins and rules can only choose among engines that pass it.
  d.candidates.resize(engines_.size());
  size_t capable_count = 0;
  for (size_t i = 0; i < engines_.size(); ++i) {
    Candidate& c = d.candidates[i];
    c.engine = engines_[i].name;
    check_constraints(engines_[i], i, engines_, facts, in, c);
    estimate(engines_[i], facts, in, d.size_class, c);
    capable_count += c.capable ? 1 : 0;
  }
  auto choose = [&](size_t index, DecisionStage stage) {
    d.engine = engines_[index].name;
    d.stage = stage;
  };
  auto add_exclusions = [&] {
    for (const auto& c : d.candidates) {
      if (c.capable) continue;
      std::string message = c.why_not.front().message;
      if (c.why_not.size() == 2) message += " (and 1 more reason)";
      if (c.why_not.size() > 2) message += fmt::format(" (and {} more reasons)", c.why_not.size() - 1);
      d.reasons.push_back({c.why_not.front().code, std::move(message)});
    }
  };

  // Stage 1: pinning — the most specific pin only (statement hint, request header, session).
  std::string_view pin;
  ReasonCode pin_code = ReasonCode::kPinnedByHint;
  std::string pin_source;
  if (in.profile.engine_hint && !in.profile.engine_hint->empty()) {
    pin = *in.profile.engine_hint;
    pin_source = fmt::format("the hint /*+ engine({}) */", pin);
  } else if (!in.header_engine.empty()) {
    pin = in.header_engine;
    pin_code = ReasonCode::kPinnedByHeader;
    pin_source = "the request's engine header";
  } else if (auto it = in.session.settings.find(std::string(kEngineSetting));
             it != in.session.settings.end() && !it->second.empty()) {
    pin = it->second;
    pin_code = ReasonCode::kPinnedBySession;
    pin_source = "the session setting 'engine'";
  }
  if (!pin.empty()) {
    std::optional<size_t> pinned;
    for (size_t i = 0; i < engines_.size() && !pinned; ++i) {
      if (equals_ignore_case(engines_[i].name, pin)) pinned = i;
    }
    if (!pinned) {
      const std::string_view best = closest_name(pin, std::span<const std::string>(engine_names_));
      d.reasons.push_back({ReasonCode::kPinUnknownEngine,
                           fmt::format("{} asks for engine '{}', which is not declared{} (engines: {}); ignored",
                                       pin_source, pin, best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best),
                                       fmt::join(engine_names_, ", "))});
    } else if (!d.candidates[*pinned].capable) {
      d.reasons.push_back({ReasonCode::kPinNotCapable,
                           fmt::format("{} asks for {}, but {}; routed without the pin", pin_source,
                                       engines_[*pinned].name, d.candidates[*pinned].why_not.front().message)});
    } else {
      d.reasons.push_back({pin_code, fmt::format("pinned to {} by {}", engines_[*pinned].name, pin_source)});
      add_exclusions();
      choose(*pinned, DecisionStage::kPinned);
      return d;
    }
  }
  add_exclusions();

  // Stage 3: ordered rules; the first matching rule with a capable engine routes the statement.
  for (const CompiledRule& compiled : rules_) {
    const Rule& rule = policy_.rules[compiled.rule];
    if (!rule_matches(rule.match, facts, in)) continue;
    std::string skipped;
    for (size_t index : compiled.route) {
      const Candidate& c = d.candidates[index];
      if (!c.capable) {
        skipped += fmt::format("; skipped {}: {}", c.engine, c.why_not.front().message);
        continue;
      }
      d.reasons.push_back({ReasonCode::kRuleMatched,
                           fmt::format("rule '{}' (line {}) matched ({}); routed to {}{}", rule.name, rule.line,
                                       compiled.description, c.engine, skipped)});
      d.rule = rule.name;
      choose(index, DecisionStage::kRule);
      return d;
    }
    d.reasons.push_back({ReasonCode::kRuleNoCapableEngine,
                         fmt::format("rule '{}' (line {}) matched ({}) but none of its engines can run the "
                                     "statement{}; trying the next rules",
                                     rule.name, rule.line, compiled.description, skipped)});
  }

  if (default_engine_) {
    const Candidate& c = d.candidates[*default_engine_];
    if (c.capable) {
      d.reasons.push_back({ReasonCode::kDefaultEngine,
                           fmt::format("no rule routed the statement; {} is the default engine", c.engine)});
      choose(*default_engine_, DecisionStage::kDefault);
      return d;
    }
    d.reasons.push_back({ReasonCode::kDefaultNotCapable,
                         fmt::format("the default engine {} cannot run the statement: {}; using the cost model",
                                     c.engine, c.why_not.front().message)});
  }

  // Stage 4: the cost model.
  if (capable_count == 0) {
    d.reasons.push_back({ReasonCode::kNoCapableEngine,
                         "no declared engine can run this statement (each one's reason is listed above)"});
    return d;
  }
  if (capable_count == 1) {
    for (size_t i = 0; i < engines_.size(); ++i) {
      if (!d.candidates[i].capable) continue;
      d.reasons.push_back({ReasonCode::kOnlyCandidate,
                           fmt::format("{} is the only engine that can run this statement ({})", engines_[i].name,
                                       estimate_text(d.candidates[i]))});
      choose(i, DecisionStage::kOnlyCandidate);
      return d;
    }
  }
  const double target = in.latency_target_ms.value_or(policy_.latency_target_ms);
  std::optional<size_t> cheapest, fastest, runner_up;
  for (size_t i = 0; i < engines_.size(); ++i) {
    const Candidate& c = d.candidates[i];
    if (!c.capable) continue;
    if (!fastest || c.est_latency_ms < d.candidates[*fastest].est_latency_ms) fastest = i;
    if (c.est_latency_ms > target) continue;
    auto better = [&](size_t a, size_t b) {  // cheaper, then faster; declaration order breaks ties
      const Candidate &x = d.candidates[a], &y = d.candidates[b];
      return x.est_cost_usd < y.est_cost_usd || (x.est_cost_usd == y.est_cost_usd && x.est_latency_ms < y.est_latency_ms);
    };
    if (!cheapest || better(i, *cheapest)) {
      runner_up = cheapest;
      cheapest = i;
    } else if (!runner_up || better(i, *runner_up)) {
      runner_up = i;
    }
  }
  if (cheapest) {
    const Candidate& c = d.candidates[*cheapest];
    std::string message = fmt::format("{} is the cheapest engine estimated to finish within the {:.0f} ms target ({})",
                                      c.engine, target, estimate_text(c));
    if (runner_up) {
      message += fmt::format("; next: {} ({})", d.candidates[*runner_up].engine, estimate_text(d.candidates[*runner_up]));
    }
    d.reasons.push_back({ReasonCode::kCheapestWithinTarget, std::move(message)});
    choose(*cheapest, DecisionStage::kCost);
  } else {
    const Candidate& c = d.candidates[*fastest];
    d.reasons.push_back({ReasonCode::kFastestNoneWithinTarget,
                         fmt::format("no engine is estimated to finish within the {:.0f} ms target; {} is the "
                                     "fastest ({})",
                                     target, c.engine, estimate_text(c))});
    choose(*fastest, DecisionStage::kCost);
  }
  return d;
}

}  // namespace lakerouter::routing
