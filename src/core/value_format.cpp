#include "core/value_format.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

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

// Writes `value` as exactly `width` digits (zero-padded) at `p`; callers guarantee it fits.
// Results are encoded value by value, millions of times per second: no fmt, no allocation.
void put_digits(char* p, uint64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// The decimal digits of `magnitude`, written backwards ending at `end`; returns the first digit.
char* digits_backwards(char* end, unsigned __int128 magnitude) {
  char* p = end;
  // 64-bit divisions while the value fits: far cheaper than 128-bit ones.
  while (magnitude > UINT64_MAX) {
    *--p = static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
  }
  auto small = static_cast<uint64_t>(magnitude);
  do {
    *--p = static_cast<char>('0' + small % 10);
    small /= 10;
  } while (small != 0);
  return p;
}

}  // namespace

void append_date(std::string& out, int64_t days) {
  // DuckDB's and PostgreSQL's infinite dates.
  if (days == kInfiniteDays || days == -kInfiniteDays) {
    out.append(days > 0 ? "infinity" : "-infinity");
    return;
  }
  // Large results repeat dates (a few thousand distinct days in millions of rows): a small
  // direct-mapped cache per thread beats the calendar arithmetic.
  struct Slot {
    int64_t days = std::numeric_limits<int64_t>::min();
    std::array<char, 10> text{};
  };
  thread_local std::array<Slot, 1024> cache;
  Slot& slot = cache[static_cast<uint64_t>(days) % cache.size()];
  if (slot.days == days) {
    out.append(slot.text.data(), slot.text.size());
    return;
  }
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  if (y >= 0 && y <= 9999) {
    std::array<char, 10> buf = {'0', '0', '0', '0', '-', '0', '0', '-', '0', '0'};
    put_digits(buf.data(), static_cast<uint64_t>(y), 4);
    put_digits(buf.data() + 5, m, 2);
    put_digits(buf.data() + 8, d, 2);
    out.append(buf.data(), buf.size());
    slot.days = days;
    slot.text = buf;
  } else {
    fmt::format_to(std::back_inserter(out), "{:+05}-{:02}-{:02}", y, m, d);  // ISO 8601 expanded year
  }
}

void append_time(std::string& out, int64_t micros) {
  const int64_t secs = micros / kMicrosPerSecond;
  const int64_t frac = micros % kMicrosPerSecond;
  const int64_t hours = secs / 3600;
  if (micros < 0 || hours > 99) {  // not a time of day (e.g. an interval's): the general path
    fmt::format_to(std::back_inserter(out), "{:02}:{:02}:{:02}", hours, secs / 60 % 60, secs % 60);
    if (frac != 0) fmt::format_to(std::back_inserter(out), ".{:06}", frac);
    return;
  }
  char buf[15] = {'0', '0', ':', '0', '0', ':', '0', '0', '.'};
  put_digits(buf, static_cast<uint64_t>(hours), 2);
  put_digits(buf + 3, static_cast<uint64_t>(secs / 60 % 60), 2);
  put_digits(buf + 6, static_cast<uint64_t>(secs % 60), 2);
  if (frac == 0) {
    out.append(buf, 8);
    return;
  }
  put_digits(buf + 9, static_cast<uint64_t>(frac), 6);
  out.append(buf, sizeof(buf));
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
  const bool negative = value < 0;
  const auto magnitude = negative ? -static_cast<unsigned __int128>(value) : static_cast<unsigned __int128>(value);
  char* first = digits_backwards(buf + sizeof(buf), magnitude);
  if (negative) out.push_back('-');
  out.append(first, buf + sizeof(buf));
}

void append_decimal(std::string& out, __int128 unscaled, int scale) {
  if (scale <= 0) return append_int128(out, unscaled);
  char buf[80];  // 39 digits, zero padding up to the scale (at most 38 here), the point
  char* const end = buf + sizeof(buf);
  const bool negative = unscaled < 0;
  const auto magnitude =
      negative ? -static_cast<unsigned __int128>(unscaled) : static_cast<unsigned __int128>(unscaled);
  char* first = digits_backwards(end, magnitude);
  const auto scale_digits = static_cast<ptrdiff_t>(std::min(scale, 38));
  while (end - first <= scale_digits) *--first = '0';  // at least one digit before the point
  if (negative) out.push_back('-');
  out.append(first, end - scale_digits);
  out.push_back('.');
  out.append(end - scale_digits, end);
}

}  // namespace lakerouter
