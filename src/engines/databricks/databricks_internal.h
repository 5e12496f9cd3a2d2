// Pieces of the Databricks engine that need no server: the manifest's column types, the text forms
// of JSON_ARRAY values, parameter markers, and the mapping of Databricks errors onto core codes.
// Internal to engines/databricks/ (and its tests). Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/statement.h"
#include "core/status.h"
#include "core/types.h"

namespace lakerouter::databricks_internal {

// --- Types ----------------------------------------------------------------------------------------

// A manifest column (manifest.schema.columns[]) as a core type. `type_name` is the API's base type
// (INT, LONG, DECIMAL, TIMESTAMP_NTZ, ...); when it is missing or unknown, `type_text` (the SQL
// spelling, e.g. "decimal(10,2)", "array<int>") decides. Precision and scale come from the
// column's type_precision/type_scale, else from type_text.
ColumnType column_type(std::string_view type_name, std::string_view type_text, std::optional<int64_t> precision,
                       std::optional<int64_t> scale);

// --- Values in JSON_ARRAY text form -----------------------------------------------------------------

// "2024-02-29", "-0044-03-15", "+12345-01-01" -> days since 1970-01-01.
std::optional<int64_t> parse_date(std::string_view text);

// "2024-01-02T03:04:05[.fffffffff]" (or with a space for the 'T') -> microseconds since the epoch.
// With `zoned`, an offset may follow ("Z", "+05:30", "-0800", "+01") and the result is UTC; a
// timestamp without one is read as UTC (the warehouse's default session time zone). Without
// `zoned`, an offset is refused (TIMESTAMP_NTZ has none). Digits past microseconds are truncated.
std::optional<int64_t> parse_timestamp(std::string_view text, bool zoned);

// "1.5", "1.0E10", "NaN", "Infinity", "-Infinity" -> double.
std::optional<double> parse_double(std::string_view text);

// Base64 (BINARY values) -> bytes.
std::optional<std::string> decode_base64(std::string_view text);

// --- Parameters -------------------------------------------------------------------------------------

// A statement whose positional markers (? or $1, $2, ...; never both) became the named markers
// :p1, :p2, ... that the Statement Execution API binds, with a map from positions in the sent
// text back to the caller's.
struct RewrittenStatement {
  std::string sql;
  struct Edit {
    uint32_t sent_at = 0;   // code-point offset of the named marker in `sql`
    uint32_t sent_len = 0;  // its length in code points (":p12" is 4)
    uint32_t orig_at = 0;   // the positional marker's offset in the caller's text
    uint32_t orig_len = 0;  // and its length ("?" is 1, "$12" is 3)
  };
  std::vector<Edit> edits;

  // A code-point offset into `sql` as an offset into the caller's text (a position inside a
  // marker maps onto the start of the caller's marker).
  uint32_t to_original(uint32_t sent) const;
};

// Rewrites `sql` for `param_count` values. Markers inside string literals, quoted identifiers and
// comments are left alone. INVALID_PARAMETER when the markers do not match the values (counts,
// or ? mixed with $n).
Result<RewrittenStatement> rewrite_parameters(std::string_view sql, size_t param_count);

// The API's parameter for a value: the SQL type it is bound as ("" for NULL, which is sent
// without a value) and its text.
struct ParameterText {
  std::string type;
  std::optional<std::string> value;  // nullopt: NULL
};
ParameterText parameter_text(const ParamValue& value);

// --- Errors -----------------------------------------------------------------------------------------

// A FAILED statement's error: its message (which starts with the error class, e.g.
// "[TABLE_OR_VIEW_NOT_FOUND] ..."), the service's error_code (BAD_REQUEST, ...) and the SQLSTATE.
ErrorCode code_of_statement_error(std::string_view message, std::string_view error_code, std::string_view sql_state);

// "[PARSE_SYNTAX_ERROR] ... (line 1, pos 7)" / "...; line 2 pos 4" -> 1-based line and 0-based
// column (Spark's origin), when the message carries one.
struct Location {
  int64_t line = 0;
  int64_t pos = 0;
};
std::optional<Location> find_location(std::string_view message);

// A location as a code-point offset into `sql`; nullopt when it lies outside.
std::optional<uint32_t> location_to_offset(std::string_view sql, const Location& location);

// `text` with every occurrence of `secret` replaced by "[REDACTED]" (nothing when `secret` is
// empty): server text that may echo the credentials never reaches a message or a log.
std::string redact(std::string_view text, std::string_view secret);

}  // namespace lakerouter::databricks_internal
