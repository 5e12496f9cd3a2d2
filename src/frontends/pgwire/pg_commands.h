// The statements the PostgreSQL front-end answers itself instead of routing: client settings
// (SET, RESET, SHOW), transaction control (BEGIN/COMMIT/ROLLBACK: lakerouter tracks the block
// for ReadyForQuery but runs each statement on its own), DISCARD, DEALLOCATE, LISTEN, and
// `SELECT version()`. Also the client settings themselves, with their checks.
// Recognising them needs only their leading keywords, read with a small tokenizer that skips
// comments and understands quoted identifiers and strings; everything else goes to the pipeline
// (and DuckDB's grammar).
// Thread-safety: value types; one ClientSettings per connection.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lakerouter::pgwire {

enum class CommandKind : uint8_t {
  kNone,  // not a front-end command: route it
  kSet, kReset, kShow, kBegin, kCommit, kRollback, kDiscard, kDeallocate, kUnsupported, kVersion,
};

struct Command {
  CommandKind kind = CommandKind::kNone;
  std::string name;   // setting (lower-case), "all", prepared statement name
  std::string value;  // SET's value, quotes removed, list items joined with ", "
  std::string tag;    // CommandComplete tag for the simple cases
};

// Classifies one statement's text (no trailing ';' needed).
Command classify(std::string_view sql);

// The highest $n placeholder outside quotes and comments (0: none).
int count_placeholders(std::string_view sql);

// One client setting as SHOW ALL lists it.
struct SettingRow {
  std::string name;
  std::string value;
  std::string description;
};

class ClientSettings {
 public:
  explicit ClientSettings(std::string user);

  // Checks and stores a value (SET, or a start-up parameter when `startup`: start-up values that
  // lakerouter cannot honour, such as another time zone, are ignored instead of refused).
  Status set(std::string_view name, std::string_view value, bool startup = false);
  void reset(std::string_view name);  // "all" resets every setting
  std::optional<std::string> get(std::string_view name) const;
  std::vector<SettingRow> all() const;

  // Derived values.
  bool explain() const { return explain_; }
  const std::string& engine() const { return engine_; }
  std::optional<std::chrono::milliseconds> timeout() const { return timeout_; }

  // The settings reported in ParameterStatus at start-up and whenever SET changes them.
  static bool reported(std::string_view name);
  // The canonical spelling of a setting ("datestyle" -> "DateStyle").
  static std::string canonical(std::string_view name);

 private:
  std::map<std::string, std::string, std::less<>> values_;  // lower-case name -> value
  std::map<std::string, std::string, std::less<>> defaults_;
  bool explain_ = false;
  std::string engine_;
  std::optional<std::chrono::milliseconds> timeout_;
};

}  // namespace lakerouter::pgwire

namespace lakerouter::pgwire {
// The CommandComplete tag of a DDL statement from its leading words: "CREATE TABLE", "DROP VIEW".
std::string ddl_tag(std::string_view sql);
}  // namespace lakerouter::pgwire
