// Routing rules and the routing policy, as configured under `routing:`.
//
// A Rule is a `match` (every key given must hold) and a `route` (engine names in order of
// preference: the first one that can run the statement wins). Rules are tried in order; the
// first that matches and has a capable engine routes the statement. Syntax: docs/routing.md.
// Thread-safety: plain value types.
#pragma once

#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "routing/calibration.h"
#include "routing/engine_profile.h"
#include "routing/table_facts.h"

namespace lakerouter::routing {

// The values a numeric match key accepts: an interval with inclusive or exclusive ends.
// Written in YAML as comparisons: "< 1M", ">= 2", ">= 10 and <= 100", "== 3", or a plain number.
struct NumericRange {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_inclusive = true;
  bool max_inclusive = true;

  bool contains(double value) const {
    return (min_inclusive ? value >= min : value > min) && (max_inclusive ? value <= max : value < max);
  }
  bool empty() const { return min > max || (min == max && !(min_inclusive && max_inclusive)); }
  NumericRange intersect(const NumericRange& other) const;
  std::string to_string() const;  // ">= 2 and < 5"
};

// Parses the comparison syntax above. Errors say which operator is wrong and what is allowed.
Result<NumericRange> parse_range(std::string_view text);

struct RuleMatch {
  std::optional<KindSet> kinds;            // `kind`: names or groups (writes, reads, ...)
  std::vector<std::string> tables;         // any table touched matches one of these patterns
  std::vector<std::string> users;          // the session user is one of these
  std::vector<std::string> groups;         // the session user is in one of these groups
  std::vector<std::string> fingerprints;   // the statement's fingerprint is one of these
  std::vector<std::string> client_tags;    // the session carries one of these tags
  std::optional<bool> has_join;
  std::optional<bool> has_aggregate;
  std::optional<bool> has_window;
  std::optional<bool> point_lookup;        // every table read is filtered by equality on a key column
  std::optional<bool> governed;            // some table touched is governed
  std::optional<NumericRange> join_count;
  std::optional<NumericRange> estimated_rows;   // rows scanned
  std::optional<NumericRange> estimated_bytes;  // bytes scanned
  std::optional<NumericRange> complexity;

  // No key at all: matches every statement.
  bool matches_everything() const;
  // The keys given, as YAML-like text for explanations: "has_join: true, join_count: > 3".
  std::string describe() const;
};

struct Rule {
  std::string name;
  RuleMatch match;
  std::vector<std::string> route;  // engine names, most preferred first
  int line = 0;                    // of the rule; key_lines has its keys' own lines
  std::vector<std::pair<std::string, int>> key_lines;

  int line_of(std::string_view key) const;  // the key's line, else the rule's
};

struct RoutingPolicy {
  std::vector<Rule> rules;
  double latency_target_ms = 1000;  // the cost model picks the cheapest engine within this
  std::string default_engine;       // takes what no rule routes (instead of the cost model); "" for none
  int default_engine_line = 0;
  std::vector<TableHint> tables;    // routing.tables
  CalibrationOptions calibration;   // routing.calibration: learning start-up and throughput from runs
  std::string source = "<built-in default>";  // configuration file, for error messages
};

}  // namespace lakerouter::routing
