#include "routing/policy_config.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/ascii.h"
#include "routing/decision.h"

namespace lakerouter::routing {

namespace {

Status read_kinds(const YamlReader& r, const YAML::Node& node, const std::string& where, KindSet& out) {
  if (!node.IsScalar() && !node.IsSequence()) {
    return r.error(node, fmt::format("'{}' must be a kind or a list of kinds, e.g. [select, explain] or writes", where));
  }
  std::vector<YAML::Node> items;
  if (node.IsScalar()) {
    items.push_back(node);
  } else {
    for (const auto& item : node) items.push_back(item);
  }
  if (items.empty()) return r.error(node, fmt::format("'{}' must name at least one statement kind", where));
  KindSet kinds;
  for (const auto& item : items) {
    const std::optional<KindSet> parsed = item.IsScalar() ? parse_kinds(item.Scalar()) : std::nullopt;
    if (!parsed) {
      const auto names = kind_names();
      const std::string_view best = closest_name(ascii_lower(YamlReader::describe(item)), std::span(names));
      return r.error(item, fmt::format("unknown statement kind '{}' in '{}' ({})", YamlReader::describe(item), where,
                                       best.empty() ? fmt::format("kinds: {}", fmt::join(names, ", "))
                                                    : fmt::format("did you mean '{}'?", best)));
    }
    kinds = kinds | *parsed;
  }
  out = kinds;
  return Status::Ok();
}

Status read_flag(const YamlReader& r, const YAML::Node& map, const char* key, const std::string& where,
                 std::optional<bool>& out) {
  if (!map[key]) return Status::Ok();
  bool value = false;
  LR_TRY(r.get(map, key, where, value));
  out = value;
  return Status::Ok();
}

Status read_range(const YamlReader& r, const YAML::Node& map, const char* key, const std::string& where,
                  std::optional<NumericRange>& out) {
  const YAML::Node node = map[key];
  if (!node) return Status::Ok();
  if (!node.IsScalar()) {
    return r.error(node, fmt::format("'{}.{}' must be a comparison such as \">= 2\", \"< 1M\" or \">= 10 and < 100\"",
                                     where, key));
  }
  auto range = parse_range(node.Scalar());
  if (!range.ok()) return r.error(node, fmt::format("'{}.{}': {}", where, key, range.error().message));
  out = *range;
  return Status::Ok();
}

Status read_match(const YamlReader& r, const YAML::Node& node, const std::string& where, Rule& rule) {
  LR_TRY(r.check_keys(node, where,
                      {"kind", "tables", "users", "groups", "fingerprint", "client_tags", "has_join", "has_aggregate",
                       "has_window", "point_lookup", "governed", "join_count", "estimated_rows", "estimated_bytes",
                       "complexity"}));
  for (const auto& kv : node) rule.key_lines.emplace_back(kv.first.as<std::string>(), YamlReader::line_of(kv.first));
  RuleMatch& m = rule.match;
  if (node["kind"]) {
    KindSet kinds;
    LR_TRY(read_kinds(r, node["kind"], where + ".kind", kinds));
    m.kinds = kinds;
  }
  LR_TRY(r.get_strings(node, "tables", where, m.tables));
  for (auto& t : m.tables) t = ascii_lower(t);  // the analyzer reports table names in lower case
  LR_TRY(r.get_strings(node, "users", where, m.users));
  LR_TRY(r.get_strings(node, "groups", where, m.groups));
  LR_TRY(r.get_strings(node, "fingerprint", where, m.fingerprints));
  LR_TRY(r.get_strings(node, "client_tags", where, m.client_tags));
  LR_TRY(read_flag(r, node, "has_join", where, m.has_join));
  LR_TRY(read_flag(r, node, "has_aggregate", where, m.has_aggregate));
  LR_TRY(read_flag(r, node, "has_window", where, m.has_window));
  LR_TRY(read_flag(r, node, "point_lookup", where, m.point_lookup));
  LR_TRY(read_flag(r, node, "governed", where, m.governed));
  LR_TRY(read_range(r, node, "join_count", where, m.join_count));
  LR_TRY(read_range(r, node, "estimated_rows", where, m.estimated_rows));
  LR_TRY(read_range(r, node, "estimated_bytes", where, m.estimated_bytes));
  LR_TRY(read_range(r, node, "complexity", where, m.complexity));
  for (const char* key : {"tables", "users", "groups", "fingerprint", "client_tags"}) {
    if (const YAML::Node list = node[key]; list && list.IsSequence() && list.size() == 0) {
      return r.error(list, fmt::format("rule '{}' can never match: '{}.{}' is an empty list; list values or "
                                       "remove the key",
                                       rule.name, where, key));
    }
  }
  return Status::Ok();
}

Status read_rule(const YamlReader& r, const YAML::Node& node, size_t index, Rule& rule) {
  const std::string where = fmt::format("routing.rules[{}]", index);
  LR_TRY(r.check_keys(node, where, {"name", "match", "route"}));
  rule.line = YamlReader::line_of(node);
  LR_TRY(r.get(node, "name", where, rule.name));
  if (rule.name.empty()) {
    return r.error(node, fmt::format("'{}' needs a 'name' (explanations quote it), e.g. name: joins-to-trino", where));
  }
  const std::string rule_where = fmt::format("rule '{}'", rule.name);
  if (const YAML::Node match = node["match"]; match && !match.IsNull()) {
    LR_TRY(read_match(r, match, fmt::format("rules.{}.match", rule.name), rule));
  }
  if (!node["route"]) {
    return r.error(node, fmt::format("{} has no 'route' (add route: <engine> or route: [first, second])", rule_where));
  }
  rule.key_lines.emplace_back("route", YamlReader::line_of(node["route"]));
  LR_TRY(r.get_strings(node, "route", fmt::format("rules.{}", rule.name), rule.route));
  if (rule.route.empty()) {
    return r.error(node["route"], fmt::format("{} has an empty 'route' (name at least one engine)", rule_where));
  }
  return Status::Ok();
}

Status read_table_hint(const YamlReader& r, const YAML::Node& node, TableHint& hint) {
  const std::string where = "routing.tables[]";
  LR_TRY(r.check_keys(node, where, {"name", "format", "features", "governed", "key_columns", "rows", "bytes"}));
  hint.line = YamlReader::line_of(node);
  LR_TRY(r.get(node, "name", where, hint.name));
  if (hint.name.empty()) return r.error(node, "each entry of 'routing.tables' needs a 'name' (schema.table or a pattern)");
  hint.name = ascii_lower(hint.name);
  if (node["format"]) {
    std::string format;
    LR_TRY(r.get(node, "format", where, format));
    hint.format = ascii_lower(format);
  }
  if (node["features"]) {
    hint.features.emplace();
    LR_TRY(r.get_strings(node, "features", where, *hint.features));
  }
  if (node["key_columns"]) {
    hint.key_columns.emplace();
    LR_TRY(r.get_strings(node, "key_columns", where, *hint.key_columns));
    for (auto& c : *hint.key_columns) c = ascii_lower(c);
  }
  LR_TRY(read_flag(r, node, "governed", where, hint.governed));
  for (const char* key : {"rows", "bytes"}) {
    if (!node[key]) continue;
    double value = 0;
    LR_TRY(r.get_quantity(node, key, where, 0, value));
    (std::string_view(key) == "rows" ? hint.rows : hint.bytes) = static_cast<int64_t>(value);
  }
  return Status::Ok();
}

Status read_size_classes(const YamlReader& r, const YAML::Node& node, std::vector<SizeClass>& out) {
  const std::string where = "routing.calibration.size_classes";
  if (!node.IsSequence() || node.size() == 0) {
    return r.error(node, fmt::format("'{}' must be a list of classes from the smallest, each up to the scan size "
                                     "where the next starts, the last open-ended: [{{name: tiny, below: 1MB}}, "
                                     "{{name: small, below: 32MB}}, {{name: large}}]",
                                     where));
  }
  std::vector<SizeClass> classes;
  std::vector<int> lines;
  const size_t count = node.size();
  for (size_t i = 0; i < count; ++i) {
    const YAML::Node entry = node[i];
    if (!entry.IsMap()) {
      return r.error(entry, fmt::format("each entry of '{}' must be a mapping such as {{name: small, below: 32MB}}", where));
    }
    LR_TRY(r.check_keys(entry, where + "[]", {"name", "below"}));
    SizeClass c;
    LR_TRY(r.get(entry, "name", where + "[]", c.name));
    if (c.name.empty()) return r.error(entry, fmt::format("each entry of '{}' needs a 'name' (explanations and GET "
                                                          "/v1/calibration show it)",
                                                          where));
    for (size_t j = 0; j < classes.size(); ++j) {
      if (classes[j].name == c.name) {
        return r.error(entry, fmt::format("size class '{}' is listed twice (lines {} and {}); rename one", c.name,
                                          lines[j], YamlReader::line_of(entry)));
      }
    }
    const bool last = i + 1 == count;
    if (entry["below"]) {
      if (last) {
        return r.error(entry["below"], fmt::format("the last size class '{}' must not have 'below': it takes every "
                                                   "larger scan (add an open-ended class such as {{name: large}} "
                                                   "after it)",
                                                   c.name));
      }
      double below = 0;
      LR_TRY(r.get_quantity(entry, "below", where + "[]", 1, below));
      if (!classes.empty() && below <= *classes.back().below_bytes) {
        return r.error(entry["below"], fmt::format("size class '{}' ends below {}, which is not above where '{}' "
                                                   "ends ({}); list the classes from the smallest",
                                                   c.name, format_bytes(below), classes.back().name,
                                                   format_bytes(*classes.back().below_bytes)));
      }
      c.below_bytes = below;
    } else if (!last) {
      return r.error(entry, fmt::format("size class '{}' needs 'below' (the estimated scan size where the next class "
                                        "starts, e.g. below: 32MB); only the last class is open-ended",
                                        c.name));
    }
    lines.push_back(YamlReader::line_of(entry));
    classes.push_back(std::move(c));
  }
  out = std::move(classes);
  return Status::Ok();
}

Status read_calibration(const YamlReader& r, const YAML::Node& node, CalibrationOptions& out) {
  const std::string where = "routing.calibration";
  if (node.IsNull()) return Status::Ok();
  if (!node.IsMap()) {
    return r.error(node, fmt::format("'{}' must be a mapping such as {{enabled: true, alpha: 0.2, min_samples: 3}}",
                                     where));
  }
  LR_TRY(r.check_keys(node, where, {"enabled", "alpha", "min_samples", "size_classes"}));
  LR_TRY(r.get(node, "enabled", where, out.enabled));
  if (node["alpha"]) {
    LR_TRY(r.get(node, "alpha", where, out.alpha));
    if (!(out.alpha > 0 && out.alpha <= 1)) {
      return r.error(node["alpha"], fmt::format("'{}.alpha' must be more than 0 and at most 1, not {} (the weight "
                                                "of the newest run: 0.2 lets about the last 10 runs count, 1 only "
                                                "the last)",
                                                where, YamlReader::describe(node["alpha"])));
    }
  }
  if (node["min_samples"]) {
    LR_TRY(r.get(node, "min_samples", where, out.min_samples));
    if (out.min_samples < 1) {
      return r.error(node["min_samples"], fmt::format("'{}.min_samples' must be at least 1, not {} (the runs an "
                                                      "engine needs in a size class before its learnt figures are "
                                                      "used)",
                                                      where, out.min_samples));
    }
  }
  if (const YAML::Node classes = node["size_classes"]) LR_TRY(read_size_classes(r, classes, out.size_classes));
  return Status::Ok();
}

}  // namespace

Status read_engine_profile(const YamlReader& r, const YAML::Node& node, const std::string& where,
                           EngineProfile& profile) {
  if (const YAML::Node caps = node["capabilities"]) {
    const std::string w = where + ".capabilities";
    LR_TRY(r.check_keys(caps, w,
                        {"kinds", "formats", "unsupported_features", "max_scan_bytes", "enforces_governance",
                         "owns_tables"}));
    Capabilities& c = profile.capabilities;
    if (caps["kinds"]) LR_TRY(read_kinds(r, caps["kinds"], w + ".kinds", c.kinds));
    LR_TRY(r.get_strings(caps, "formats", w, c.formats));
    for (auto& f : c.formats) f = ascii_lower(f);
    LR_TRY(r.get_strings(caps, "unsupported_features", w, c.unsupported_features));
    if (const YAML::Node max = caps["max_scan_bytes"]; max && max.IsNull()) {
      c.max_scan_bytes.reset();  // `max_scan_bytes: null` lifts the type's default limit
    } else if (max) {
      double bytes = 0;
      LR_TRY(r.get_quantity(caps, "max_scan_bytes", w, 0, bytes));
      c.max_scan_bytes = bytes;
    }
    LR_TRY(r.get(caps, "enforces_governance", w, c.enforces_governance));
    LR_TRY(r.get_strings(caps, "owns_tables", w, c.owns_tables));
    for (auto& t : c.owns_tables) t = ascii_lower(t);
  }
  if (const YAML::Node pricing = node["pricing"]) {
    const std::string w = where + ".pricing";
    LR_TRY(r.check_keys(pricing, w,
                        {"cost_per_hour", "min_billed_seconds", "startup_ms", "scan_bytes_per_second",
                         "queue_wait_ms"}));
    Pricing& p = profile.pricing;
    LR_TRY(r.get_quantity(pricing, "cost_per_hour", w, 0, p.cost_per_hour));
    LR_TRY(r.get_quantity(pricing, "min_billed_seconds", w, 0, p.min_billed_seconds));
    LR_TRY(r.get_quantity(pricing, "startup_ms", w, 0, p.startup_ms));
    LR_TRY(r.get_quantity(pricing, "scan_bytes_per_second", w, 1, p.scan_bytes_per_second));
    LR_TRY(r.get_quantity(pricing, "queue_wait_ms", w, 0, p.queue_wait_ms));
  }
  return Status::Ok();
}

Status read_routing_policy(const YamlReader& r, const YAML::Node& node, RoutingPolicy& policy) {
  policy.source = r.file();
  if (node.IsNull()) return Status::Ok();
  LR_TRY(r.check_keys(node, "routing", {"latency_target_ms", "default_engine", "tables", "rules", "calibration"}));
  if (node["latency_target_ms"]) {
    LR_TRY(r.get_quantity(node, "latency_target_ms", "routing", 0, policy.latency_target_ms));
    if (!(policy.latency_target_ms > 0)) {
      return r.error(node["latency_target_ms"], "'routing.latency_target_ms' must be more than 0 milliseconds");
    }
  }
  if (node["default_engine"]) {
    LR_TRY(r.get(node, "default_engine", "routing", policy.default_engine));
    policy.default_engine_line = YamlReader::line_of(node["default_engine"]);
  }
  if (const YAML::Node tables = node["tables"]) {
    if (!tables.IsSequence()) return r.error(tables, "'routing.tables' must be a list of tables (- name: schema.table)");
    for (const auto& t : tables) {
      TableHint hint;
      LR_TRY(read_table_hint(r, t, hint));
      policy.tables.push_back(std::move(hint));
    }
  }
  if (const YAML::Node calibration = node["calibration"]) LR_TRY(read_calibration(r, calibration, policy.calibration));
  if (const YAML::Node rules = node["rules"]) {
    if (!rules.IsSequence()) return r.error(rules, "'routing.rules' must be a list of rules (- name: ..., match: ..., route: ...)");
    size_t index = 0;
    for (const auto& node_rule : rules) {
      Rule rule;
      LR_TRY(read_rule(r, node_rule, index++, rule));
      policy.rules.push_back(std::move(rule));
    }
  }
  return Status::Ok();
}

}  // namespace lakerouter::routing
