// Text forms of typed values, shared by all encoders: ISO 8601 dates and times, exact decimals.
#pragma once

#include <cstdint>
#include <string>

namespace lakerouter {

// Infinite dates and timestamps, as engines encode them; they format as "infinity"/"-infinity".
inline constexpr int64_t kInfiniteDays = 2147483647;
inline constexpr int64_t kInfiniteMicros = 9223372036854775807;

// Appends to `out`; every function handles the full range of its input (no calendar limits).
void append_date(std::string& out, int64_t days_since_epoch);                 // 1992-01-31
void append_time(std::string& out, int64_t micros_since_midnight);           // 13:45:00[.123456]
void append_timestamp(std::string& out, int64_t micros_since_epoch, bool utc); // 1992-01-31T13:45:00[.123456][Z]
void append_decimal(std::string& out, __int128 unscaled, int scale);          // -12.50
void append_int128(std::string& out, __int128 value);

}  // namespace lakerouter
