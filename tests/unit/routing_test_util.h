// Helpers for the routing tests: QueryProfiles built by hand (independent of the analyzer) and
// routers built from YAML text, the way users write policies.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "core/yaml_reader.h"
#include "routing/policy_config.h"
#include "routing/router.h"
#include "sql/query_profile.h"

namespace lakerouter::testing {

// A QueryProfile as the analyzer would produce it, built fluently.
class ProfileBuilder {
 public:
  explicit ProfileBuilder(sql::StatementKind kind = sql::StatementKind::kSelect) { p_.kind = kind; }

  ProfileBuilder& reads(std::string table, std::vector<sql::Predicate> predicates = {}) {
    p_.tables.push_back({std::move(table), true, false, 1, std::move(predicates)});
    return *this;
  }
  ProfileBuilder& writes(std::string table) {
    p_.tables.push_back({std::move(table), false, true, 1, {}});
    return *this;
  }
  ProfileBuilder& joins(int n) {
    p_.join_count = n;
    p_.join_types.assign(static_cast<size_t>(n), sql::JoinType::kInner);
    return *this;
  }
  ProfileBuilder& aggregate() {
    p_.aggregate_count = 1;
    p_.has_group_by = true;
    return *this;
  }
  ProfileBuilder& window() {
    p_.window_count = 1;
    return *this;
  }
  ProfileBuilder& complexity(double c) {
    p_.complexity = c;
    return *this;
  }
  ProfileBuilder& hint(std::string engine) {
    p_.engine_hint = std::move(engine);
    return *this;
  }
  ProfileBuilder& fingerprint(std::string f) {
    p_.fingerprint = std::move(f);
    return *this;
  }
  sql::QueryProfile build() const { return p_; }

 private:
  sql::QueryProfile p_;
};

inline sql::Predicate eq(std::string column) { return {std::move(column), sql::PredicateOp::kEq, {"42"}}; }
inline sql::Predicate gt(std::string column) { return {std::move(column), sql::PredicateOp::kGt, {"42"}}; }

// Reads `engines:` (each entry: default profile of its `type`, or duckdb) and `routing:` from a
// YAML document with the routing module's own readers.
inline Result<routing::Router> router_from_yaml(const std::string& yaml, const std::string& file = "test.yaml") {
  const YAML::Node root = YAML::Load(yaml);
  const YamlReader reader(file);
  std::vector<routing::EngineProfile> engines;
  for (const auto& kv : root["engines"]) {
    const auto name = kv.first.as<std::string>();
    const auto type = kv.second["type"] ? routing::parse_engine_type(kv.second["type"].as<std::string>())
                                        : routing::parse_engine_type(name);
    if (!type) return Error(ErrorCode::kConfigError, "test: engine without a type: " + name);
    routing::EngineProfile profile = routing::default_engine_profile(name, *type);
    profile.line = YamlReader::line_of(kv.first);
    if (Status s = routing::read_engine_profile(reader, kv.second, "engines." + name, profile); !s.ok()) {
      return s.error();
    }
    engines.push_back(std::move(profile));
  }
  routing::RoutingPolicy policy;
  policy.source = file;
  if (root["routing"]) {
    if (Status s = routing::read_routing_policy(reader, root["routing"], policy); !s.ok()) return s.error();
  }
  return routing::Router::create(std::move(policy), std::move(engines));
}

// Routes `profile` with the router's own table facts (routing.tables), as the pipeline will.
inline routing::Decision route(const routing::Router& router, const sql::QueryProfile& profile,
                               const Session& session = {}) {
  const auto tables = routing::resolve_tables(profile, Catalog{}, router.policy().tables);
  return router.decide({.profile = profile, .session = session, .tables = tables});
}

inline std::string explain(const routing::Decision& d) {
  std::string out = "engine=" + d.engine + " stage=" + std::string(routing::decision_stage_name(d.stage)) + "\n";
  for (const auto& r : d.reasons) out += "  " + std::string(routing::reason_code_name(r.code)) + ": " + r.message + "\n";
  return out;
}

}  // namespace lakerouter::testing
