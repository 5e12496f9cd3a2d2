// Pieces of the Trino engine that need no server: the text forms Trino's client protocol uses for
// values, error locations, and parameter literals. Internal to engines/trino/ (and its tests).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/statement.h"
#include "core/status.h"

namespace lakerouter::trino_internal {

// "2024-02-29", "-0044-03-15", "+12345-01-01" -> days since 1970-01-01.
std::optional<int64_t> parse_date(std::string_view text);

// "13:45:00", "01:02:03.123456789" -> microseconds since midnight (finer digits are truncated).
std::optional<int64_t> parse_time(std::string_view text);

// "2024-01-02 03:04:05[.ffffff...]" -> microseconds since the epoch.
std::optional<int64_t> parse_timestamp(std::string_view text);

// "2024-07-01 12:00:00.000 America/New_York", "... +05:30", "... UTC" -> UTC microseconds since
// the epoch. A local time that occurs twice (DST ends) is read as the earlier instant, as
// java.time does; one that does not occur (DST starts) moves forward by the gap.
Result<int64_t> parse_timestamp_tz(std::string_view text);

// Trino's error location (1-based line; 1-based column counted in UTF-16 code units, as Java
// does) -> 0-based character (code point) offset into `sql`; nullopt when it lies outside.
std::optional<uint32_t> location_to_offset(std::string_view sql, int64_t line, int64_t column);

// Trino's message without the "line L:C: " prefix it folds in (the location goes to Error::position).
std::string strip_location(std::string_view message);

// The SQL literal that stands for a parameter value in EXECUTE IMMEDIATE ... USING.
std::string render_literal(const ParamValue& value);

// The statement sent for `sql` with parameters, and the map of its error locations back into
// `sql` (nullopt for a location in the wrapper itself, e.g. a wrong parameter count).
std::string wrap_with_parameters(std::string_view sql, const std::vector<ParamValue>& params);
std::optional<uint32_t> wrapped_location_to_offset(std::string_view sql, bool syntax_error, int64_t line,
                                                   int64_t column);

}  // namespace lakerouter::trino_internal
