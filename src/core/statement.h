// What a front-end hands the pipeline: the statement, its parameters, and who sent it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace lakerouter {

// A bound parameter value, as clients send them (JSON scalars, pgwire text values).
using ParamValue = std::variant<std::monostate, bool, int64_t, double, std::string>;

struct Statement {
  Statement() = default;
  explicit Statement(std::string text, std::vector<ParamValue> values = {})
      : sql(std::move(text)), params(std::move(values)) {}

  std::string sql;
  std::vector<ParamValue> params;
  // Several statements to run in order as one unit (the pipeline sets it for engines that take
  // scripts: PostgreSQL runs them as one transaction).
  bool script = false;
  // False for lakerouter's own probes (pgwire's Describe runs the statement under LIMIT 0): the
  // audit log records what clients ran, once.
  bool audited = true;
};

struct Session {
  std::string user = "anonymous";
  std::vector<std::string> groups;
  std::vector<std::string> client_tags;
  std::map<std::string, std::string> settings;  // the client's SET values (pgwire SET, X-Trino-Session)
  std::string catalog;  // the client's current catalog and schema (X-Trino-Catalog/Schema, USE)
  std::string schema;
  std::string engine_request;  // an engine the request names (HTTP X-Lakerouter-Engine), a routing pin
  std::string frontend;        // "http", "pgwire", "trino"
  std::string source_address;  // peer address, for audit
  std::optional<std::chrono::milliseconds> timeout;  // per-request override of the engine default
};

}  // namespace lakerouter
