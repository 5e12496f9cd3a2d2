#include "core/value_parse.h"

#include <algorithm>
#include <charconv>

namespace lakerouter {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<__int128> parse_decimal(std::string_view text, int scale) {
  const bool negative = iso::take_char(text, '-');
  if (!negative) iso::take_char(text, '+');
  __int128 v = 0;
  int digits = 0;
  int fraction_digits = -1;  // -1 until the '.'
  for (char c : text) {
    if (c == '.' && fraction_digits < 0) {
      fraction_digits = 0;
      continue;
    }
    if (c < '0' || c > '9' || ++digits > 38) return std::nullopt;
    v = v * 10 + (c - '0');
    if (fraction_digits >= 0) ++fraction_digits;
  }
  if (digits == 0 || fraction_digits > scale) return std::nullopt;
  for (int i = std::max(fraction_digits, 0); i < scale; ++i) v *= 10;
  return negative ? -v : v;
}

namespace iso {

std::optional<int64_t> take_number(std::string_view& s, size_t digits) {
  const size_t limit = digits != 0 ? digits : 18;
  size_t n = 0;
  while (n < s.size() && n < limit && s[n] >= '0' && s[n] <= '9') ++n;
  if (n == 0 || (digits != 0 && n != digits)) return std::nullopt;
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + n, v);
  s.remove_prefix(n);
  return v;
}

bool take_char(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

std::optional<int64_t> take_fraction(std::string_view& s) {
  if (!take_char(s, '.')) return 0;
  int64_t micros = 0;
  size_t n = 0;
  for (; n < s.size() && s[n] >= '0' && s[n] <= '9'; ++n) {
    if (n < 6) micros = micros * 10 + (s[n] - '0');
  }
  if (n == 0) return std::nullopt;
  for (size_t i = n; i < 6; ++i) micros *= 10;
  s.remove_prefix(n);
  return micros;
}

std::optional<int64_t> take_date(std::string_view& s) {
  const bool negative = take_char(s, '-');
  if (!negative) take_char(s, '+');
  auto year = take_number(s);
  if (!year || !take_char(s, '-')) return std::nullopt;
  auto month = take_number(s, 2);
  if (!month || *month < 1 || *month > 12 || !take_char(s, '-')) return std::nullopt;
  auto day = take_number(s, 2);
  if (!day || *day < 1 || *day > 31) return std::nullopt;
  return days_from_civil(negative ? -*year : *year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
}

std::optional<int64_t> take_time(std::string_view& s) {
  auto h = take_number(s, 2);
  if (!h || !take_char(s, ':')) return std::nullopt;
  auto m = take_number(s, 2);
  if (!m || !take_char(s, ':')) return std::nullopt;
  auto sec = take_number(s, 2);
  if (!sec || *h > 23 || *m > 59 || *sec > 60) return std::nullopt;
  auto frac = take_fraction(s);
  if (!frac) return std::nullopt;
  return ((*h * 60 + *m) * 60 + *sec) * kMicrosPerSecond + *frac;
}

}  // namespace iso
}  // namespace lakerouter
