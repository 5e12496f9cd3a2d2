#include "core/value_format.h"

#include <fmt/format.h>

#include "core/value_parse.h"

namespace lakerouter {

namespace {

constexpr int64_t kMicrosPerDay = kSecondsPerDay * kMicrosPerSecond;

// Floor division, so that instants before the epoch land on the right day.
int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days).
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = floor_div(z, 146097);
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

}  // namespace

void append_date(std::string& out, int64_t days) {
  // DuckDB's and PostgreSQL's infinite dates.
  if (days == kInfiniteDays || days == -kInfiniteDays) {
    out.append(days > 0 ? "infinity" : "-infinity");
    return;
  }
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  if (y >= 0 && y <= 9999) {
    fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}", y, m, d);
  } else {
    fmt::format_to(std::back_inserter(out), "{:+05}-{:02}-{:02}", y, m, d);  // ISO 8601 expanded year
  }
}

void append_time(std::string& out, int64_t micros) {
  const int64_t secs = micros / kMicrosPerSecond;
  const int64_t frac = micros % kMicrosPerSecond;
  fmt::format_to(std::back_inserter(out), "{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
  if (frac != 0) fmt::format_to(std::back_inserter(out), ".{:06}", frac);
}

void append_timestamp(std::string& out, int64_t micros, bool utc) {
  if (micros == kInfiniteMicros || micros == -kInfiniteMicros) {
    out.append(micros > 0 ? "infinity" : "-infinity");
    return;
  }
  const int64_t days = floor_div(micros, kMicrosPerDay);
  append_date(out, days);
  out.push_back('T');
  append_time(out, micros - days * kMicrosPerDay);
  if (utc) out.push_back('Z');
}

void append_int128(std::string& out, __int128 value) {
  char buf[41];
  char* p = buf + sizeof(buf);
  const bool negative = value < 0;
  auto magnitude = negative ? -static_cast<unsigned __int128>(value) : static_cast<unsigned __int128>(value);
  do {
    *--p = static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
  } while (magnitude != 0);
  if (negative) out.push_back('-');
  out.append(p, buf + sizeof(buf));
}

void append_decimal(std::string& out, __int128 unscaled, int scale) {
  if (scale <= 0) return append_int128(out, unscaled);
  std::string digits;
  const bool negative = unscaled < 0;
  append_int128(digits, negative ? -unscaled : unscaled);
  if (digits.size() <= static_cast<size_t>(scale)) digits.insert(0, scale + 1 - digits.size(), '0');
  if (negative) out.push_back('-');
  out.append(digits, 0, digits.size() - scale);
  out.push_back('.');
  out.append(digits, digits.size() - scale);
}

}  // namespace lakerouter
