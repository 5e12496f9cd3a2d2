// Trino protocol requests: the X-Trino-* headers (and their legacy X-Presto-* names) as a
// lakerouter Session, and the statements the front-end answers itself because they only change
// client-side state (USE, SET SESSION, RESET SESSION).
//
// Session properties: `lakerouter.<name>` sets lakerouter's own setting <name> (e.g.
// `lakerouter.engine` pins the engine, as the setting `engine` does on the other front-ends);
// any other property <p> is kept as setting `trino.<p>`, which the Trino engine forwards to Trino.
// `query_max_run_time` (an airlift duration such as "30s") also sets the session's timeout.
// A client tag `lakerouter.engine=<name>` pins the engine like the HTTP API's X-Lakerouter-Engine.
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/statement.h"
#include "core/status.h"
#include "frontends/http/exchange.h"
#include "governance/identity.h"

namespace lakerouter::trino_protocol {

// Prefix of session properties that are lakerouter settings, and the client tag that pins an engine.
inline constexpr std::string_view kLakerouterPrefix = "lakerouter.";
inline constexpr std::string_view kEngineTag = "lakerouter.engine=";

// Percent-decoding as Trino clients encode header values ('+' stays '+'); kInvalidRequest on a
// malformed escape.
Result<std::string> url_decode(std::string_view text);
std::string url_encode(std::string_view text);

// "a=1,b=x%2Cy" (possibly over several header lines) as name -> decoded value.
Result<std::map<std::string, std::string>> parse_session_properties(const std::vector<std::string_view>& header_values);
// "a, b,c" as ["a","b","c"] (empty entries dropped).
std::vector<std::string> parse_client_tags(const std::vector<std::string_view>& header_values);
// An airlift duration ("1.5m", "30s", "250ms"); nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Applies one session property to the session (see the header comment for the names).
Status apply_session_property(Session& session, const std::string& name, const std::string& value);

// Every value of a header, trying X-Trino-<suffix> then X-Presto-<suffix>.
std::vector<std::string_view> header_values(const http::Request& req, std::string_view suffix);
std::string header_value(const http::Request& req, std::string_view suffix);

// The session of a statement request, run as `identity` (the front-end authenticated the request
// and checked X-Trino-User against it). kInvalidRequest when a header is malformed.
Result<Session> read_session(const http::Request& req, const governance::Identity& identity, const std::string& peer);

// Statements the front-end answers itself, or (EXECUTE) turns into a statement with parameters:
//   USE [catalog.]schema | SET SESSION p = literal | RESET SESSION p
//   PREPARE name FROM statement | EXECUTE name [USING literal, ...]
//   EXECUTE IMMEDIATE 'statement' [USING literal, ...] | DEALLOCATE PREPARE name
//   DESCRIBE INPUT name | DESCRIBE OUTPUT name
struct ClientStatement {
  enum class Kind : uint8_t {
    kUse, kSetSession, kResetSession, kPrepare, kExecute, kDeallocate, kDescribeInput, kDescribeOutput,
  };
  Kind kind = Kind::kUse;
  std::string catalog;  // USE: empty when only a schema is named
  std::string schema;
  std::string name;     // SET/RESET SESSION: the property; the others: the prepared statement's name
  std::string value;    // SET SESSION: the literal's value as text
  // PREPARE: the statement after FROM, as written; EXECUTE IMMEDIATE: the string's value.
  std::string statement;
  uint32_t statement_position = 0;  // PREPARE: character offset of `statement` in the text
  bool immediate = false;           // EXECUTE IMMEDIATE
  // EXECUTE: the text after USING (empty without USING), and its character offset in the text.
  std::string parameters;
  uint32_t parameters_position = 0;
};

// nullopt when `sql` is not one of them; a kSyntaxError (with position) when it starts like one
// but is malformed.
Result<std::optional<ClientStatement>> parse_client_statement(std::string_view sql);

// The updateType Trino reports for a client statement ("USE", "SET SESSION", "PREPARE", ...).
std::string_view update_type(ClientStatement::Kind kind);

}  // namespace lakerouter::trino_protocol
