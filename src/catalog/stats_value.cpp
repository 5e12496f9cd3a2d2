#include "catalog/stats_value.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "core/ascii.h"

namespace lakerouter {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Parses exactly `n` digits at s[pos].
std::optional<int> digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// "YYYY-MM-DD" at the start of s.
bool is_date_prefix(std::string_view s) {
  auto y = digits(s, 0, 4), m = digits(s, 5, 2), d = digits(s, 8, 2);
  return y && m && d && s[4] == '-' && s[7] == '-' && *m >= 1 && *m <= 12 && *d >= 1 && *d <= 31;
}

// "YYYY-MM-DD[( |T)HH:MM[:SS[.f...]]][Z|+00[:00]|-00[:00]]" to "YYYY-MM-DD HH:MM:SS.ffffff".
// Other UTC offsets are not converted: such values are not canonicalized (nothing prunes on them).
std::optional<std::string> canonical_timestamp(std::string_view s) {
  if (!is_date_prefix(s)) return std::nullopt;
  std::string out(s.substr(0, 10));
  int hour = 0, minute = 0, second = 0;
  std::string fraction;
  size_t pos = 10;
  if (pos < s.size() && (s[pos] == ' ' || s[pos] == 'T')) {
    auto h = digits(s, pos + 1, 2), m = digits(s, pos + 4, 2);
    if (!h || !m || s[pos + 3] != ':') return std::nullopt;
    hour = *h;
    minute = *m;
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      auto sec = digits(s, pos + 1, 2);
      if (!sec) return std::nullopt;
      second = *sec;
      pos += 3;
      if (pos < s.size() && s[pos] == '.') {
        ++pos;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) fraction += s[pos++];
      }
    }
  }
  std::string_view zone = s.substr(pos);
  if (!(zone.empty() || zone == "Z" || zone == "+00" || zone == "+00:00" || zone == "-00" || zone == "-00:00" ||
        zone == " UTC" || zone == "+0000")) {
    return std::nullopt;
  }
  fraction.resize(6, '0');  // microseconds: truncate nanoseconds, pad milliseconds
  return fmt::format("{} {:02}:{:02}:{:02}.{}", out, hour, minute, second, fraction);
}

// A finite or infinite number; NaN is not one (SQL orders it above every number, which a bound
// compared as a double would not).
std::optional<double> parse_number(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || std::isnan(v)) return std::nullopt;
  return v;
}

// "[+-]digits[.digits]" as "[-]int[.frac]" without leading zeros in int or trailing zeros in frac;
// nullopt for anything else (exponents, inf), which then compares as a double.
std::optional<std::string> canonical_decimal(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  const size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  auto all_digits = [](std::string_view d) {
    return std::all_of(d.begin(), d.end(), [](unsigned char c) { return std::isdigit(c); });
  };
  if ((whole.empty() && fraction.empty()) || !all_digits(whole) || !all_digits(fraction)) return std::nullopt;
  while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  std::string out = whole.empty() ? "0" : std::string(whole);
  if (!fraction.empty()) out += "." + std::string(fraction);
  if (negative && out != "0") out.insert(0, "-");
  return out;
}

// Orders two canonical decimals.
int compare_decimals(std::string_view a, std::string_view b) {
  const bool neg_a = a.starts_with('-'), neg_b = b.starts_with('-');
  if (neg_a != neg_b) return neg_a ? -1 : 1;
  if (neg_a) {
    a.remove_prefix(1);
    b.remove_prefix(1);
  }
  const std::string_view int_a = a.substr(0, a.find('.')), int_b = b.substr(0, b.find('.'));
  int c = 0;
  if (int_a.size() != int_b.size()) {
    c = int_a.size() < int_b.size() ? -1 : 1;
  } else {
    c = a.compare(b);  // same integer width: digit order, then the fraction's (trailing zeros removed)
    c = c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  return neg_a ? -c : c;
}

}  // namespace

ValueKind value_kind_of_delta_type(std::string_view type) {
  const std::string t = ascii_lower(trim(type));
  if (t == "long" || t == "integer" || t == "short" || t == "byte") return ValueKind::kInteger;
  if (t == "float" || t == "double") return ValueKind::kFloat;
  if (t.starts_with("decimal")) return ValueKind::kDecimal;
  if (t == "string") return ValueKind::kString;
  if (t == "date") return ValueKind::kDate;
  if (t == "timestamp" || t == "timestamp_ntz") return ValueKind::kTimestamp;
  if (t == "boolean") return ValueKind::kBoolean;
  return ValueKind::kOther;
}

ValueKind value_kind_of_iceberg_type(std::string_view type) {
  const std::string t = ascii_lower(trim(type));
  if (t == "int" || t == "long") return ValueKind::kInteger;
  if (t == "float" || t == "double") return ValueKind::kFloat;
  if (t.starts_with("decimal")) return ValueKind::kDecimal;
  if (t == "string") return ValueKind::kString;
  if (t == "date") return ValueKind::kDate;
  if (t == "timestamp" || t == "timestamptz") return ValueKind::kTimestamp;
  if (t == "boolean") return ValueKind::kBoolean;
  return ValueKind::kOther;  // time, uuid, fixed, binary, nested types, timestamp_ns
}

ValueKind value_kind_of_sql_type(std::string_view type) {
  const std::string t = ascii_lower(trim(type));
  if (t == "tinyint" || t == "smallint" || t == "integer" || t == "bigint" || t == "hugeint" || t == "utinyint" ||
      t == "usmallint" || t == "uinteger" || t == "ubigint" || t == "int" || t == "int4" || t == "int8") {
    return ValueKind::kInteger;
  }
  if (t == "float" || t == "double" || t == "real") return ValueKind::kFloat;
  if (t.starts_with("decimal") || t.starts_with("numeric")) return ValueKind::kDecimal;
  if (t == "varchar" || t.starts_with("varchar(") || t == "text" || t == "string") return ValueKind::kString;
  if (t == "date") return ValueKind::kDate;
  if (t.starts_with("timestamp")) return ValueKind::kTimestamp;
  if (t == "boolean" || t == "bool") return ValueKind::kBoolean;
  return ValueKind::kOther;
}

std::optional<StatValue> make_stat_value(ValueKind kind, std::string_view text) {
  switch (kind) {
    case ValueKind::kInteger:
    case ValueKind::kFloat:
    case ValueKind::kDecimal: {
      text = trim(text);
      auto number = parse_number(text);
      if (!number) return std::nullopt;
      if (kind != ValueKind::kFloat) {
        if (auto exact = canonical_decimal(text)) return StatValue{std::move(*exact), *number, true};
      }
      return StatValue{std::string(text), *number};
    }
    case ValueKind::kBoolean: {
      const std::string t = ascii_lower(trim(text));
      if (t == "true" || t == "t" || t == "1") return StatValue{"true", 1};
      if (t == "false" || t == "f" || t == "0") return StatValue{"false", 0};
      return std::nullopt;
    }
    case ValueKind::kDate: {
      text = trim(text);
      if (!is_date_prefix(text)) return std::nullopt;
      // A timestamp literal compared with a date column equals its date only at midnight; at
      // any other time the date alone would prune wrongly (d < '1995-02-01 12:00' holds for
      // 1995-02-01), so such a value prunes nothing.
      if (text.size() > 10) {
        auto timestamp = canonical_timestamp(text);
        if (!timestamp || !timestamp->ends_with(" 00:00:00.000000")) return std::nullopt;
      }
      return StatValue{std::string(text.substr(0, 10)), 0};
    }
    case ValueKind::kTimestamp: {
      auto canonical = canonical_timestamp(trim(text));
      if (!canonical) return std::nullopt;
      return StatValue{std::move(*canonical), 0};
    }
    case ValueKind::kString: return StatValue{std::string(text), 0};
    case ValueKind::kOther: return std::nullopt;
  }
  return std::nullopt;
}

int compare_stat_values(ValueKind kind, const StatValue& a, const StatValue& b) {
  switch (kind) {
    case ValueKind::kInteger:
    case ValueKind::kFloat:
    case ValueKind::kDecimal:
    case ValueKind::kBoolean:
      if (a.exact && b.exact) return compare_decimals(a.text, b.text);
      return a.number < b.number ? -1 : a.number > b.number ? 1 : 0;
    default: {
      // Byte order, as Parquet, Delta and Iceberg order UTF-8 strings; dates and timestamps in
      // canonical form order the same way.
      const int c = a.text.compare(b.text);
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
  }
}

}  // namespace lakerouter
