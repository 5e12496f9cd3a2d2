#include "catalog/stats_value.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

#include <fmt/format.h>

namespace lakerouter {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

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

std::optional<double> parse_number(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

ValueKind value_kind_of_delta_type(std::string_view type) {
  const std::string t = lower(trim(type));
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
  const std::string t = lower(trim(type));
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
  const std::string t = lower(trim(type));
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
      return StatValue{std::string(text), *number};
    }
    case ValueKind::kBoolean: {
      const std::string t = lower(trim(text));
      if (t == "true" || t == "t" || t == "1") return StatValue{"true", 1};
      if (t == "false" || t == "f" || t == "0") return StatValue{"false", 0};
      return std::nullopt;
    }
    case ValueKind::kDate: {
      text = trim(text);
      if (!is_date_prefix(text)) return std::nullopt;
      // A timestamp literal compared with a date column keeps only its date (conservative for
      // ranges: the day itself is never pruned).
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
    case ValueKind::kBoolean: return a.number < b.number ? -1 : a.number > b.number ? 1 : 0;
    default: {
      // Byte order, as Parquet, Delta and Iceberg order UTF-8 strings; dates and timestamps in
      // canonical form order the same way.
      const int c = a.text.compare(b.text);
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
  }
}

}  // namespace lakerouter
