// Parsing the text forms engines send values in (the counterpart of value_format.h): exact
// decimals, and ISO dates and times read piece by piece from the front of a string_view, so that
// each engine's converter composes the forms its server writes (Trino's "2024-01-02 03:04:05.5",
// Databricks' "2024-01-02T03:04:05Z", ...).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lakerouter {

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kSecondsPerDay = 86'400;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil, the
// algorithm std::chrono uses, without its +-32767 year limit).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

// The unscaled value of "[+-]digits[.digits]" with `scale` digits after the point ("-12.50" at
// scale 2 -> -1250); nullopt for more fraction digits than `scale`, more than 38 digits, or
// anything else (NaN, exponents).
std::optional<__int128> parse_decimal(std::string_view text, int scale);

// Readers that consume what they read from the front of `s`; on failure `s` is left somewhere
// inside the text, and the caller gives up on it.
namespace iso {

// Exactly `digits` decimal digits (with digits == 0: one to 18).
std::optional<int64_t> take_number(std::string_view& s, size_t digits = 0);
bool take_char(std::string_view& s, char c);
// ".fffffffff" as microseconds (digits past the sixth dropped); 0 when no '.' follows.
std::optional<int64_t> take_fraction(std::string_view& s);
// "[+-]YYYY-MM-DD" (years past 9999 are written +12345) as days since 1970-01-01.
std::optional<int64_t> take_date(std::string_view& s);
// "HH:MM:SS[.f]" as microseconds since midnight.
std::optional<int64_t> take_time(std::string_view& s);

}  // namespace iso
}  // namespace lakerouter
