// Reading the routing parts of the configuration file: an engine's `capabilities` and `pricing`
// (under `engines.<name>`), and the `routing:` section (rules, tables, latency target, default
// engine). Syntax errors are reported here with file and line; checks that need the whole
// configuration (unknown engines, rules that can never match) are Router::create()'s.
// See docs/routing.md for every key.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

#include "core/status.h"
#include "core/yaml_reader.h"
#include "routing/engine_profile.h"
#include "routing/rules.h"

namespace lakerouter::routing {

// Reads `capabilities:` and `pricing:` of the engine declaration `node` (at `where`, e.g.
// "engines.trino") over the defaults already in `profile`.
Status read_engine_profile(const YamlReader& reader, const YAML::Node& node, const std::string& where,
                           EngineProfile& profile);

// Reads the `routing:` section.
Status read_routing_policy(const YamlReader& reader, const YAML::Node& node, RoutingPolicy& policy);

}  // namespace lakerouter::routing
