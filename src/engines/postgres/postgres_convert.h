// Conversions between PostgreSQL's text forms and lakerouter's engine-neutral types: result
// column types (from type OIDs), values (from libpq's text result format), parameters (to text),
// and SQLSTATE error classes. Internal to engines/postgres/.
//
// Header-only and free of libpq so that unit tests check every conversion without a server.
// The engine asks the server for ISO dates (DateStyle=ISO), hex bytea and the `postgres` interval
// style at connect time; the parsers below read exactly those forms.
// Thread-safety: stateless functions, safe from any thread.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include "core/result_batch.h"
#include "core/statement.h"
#include "core/status.h"
#include "core/types.h"
#include "core/value_format.h"
#include "core/value_parse.h"

namespace lakerouter::postgres_internal {

using Oid = uint32_t;  // PostgreSQL's object identifier (libpq's Oid)

// Built-in type OIDs. They are fixed in PostgreSQL's catalog (pg_type.dat) and the same on every
// server, so they need no lookup; other types (enums, extension types, their arrays) are looked up
// in pg_type once per engine.
namespace oids {
inline constexpr Oid kBool = 16;
inline constexpr Oid kBytea = 17;
inline constexpr Oid kChar = 18;
inline constexpr Oid kName = 19;
inline constexpr Oid kInt8 = 20;
inline constexpr Oid kInt2 = 21;
inline constexpr Oid kInt4 = 23;
inline constexpr Oid kText = 25;
inline constexpr Oid kOid = 26;
inline constexpr Oid kJson = 114;
inline constexpr Oid kFloat4 = 700;
inline constexpr Oid kFloat8 = 701;
inline constexpr Oid kUnknown = 705;
inline constexpr Oid kBpchar = 1042;
inline constexpr Oid kVarchar = 1043;
inline constexpr Oid kDate = 1082;
inline constexpr Oid kTime = 1083;
inline constexpr Oid kTimestamp = 1114;
inline constexpr Oid kTimestampTz = 1184;
inline constexpr Oid kInterval = 1186;
inline constexpr Oid kTimeTz = 1266;
inline constexpr Oid kNumeric = 1700;
inline constexpr Oid kVoid = 2278;
inline constexpr Oid kUuid = 2950;
inline constexpr Oid kJsonb = 3802;
}  // namespace oids

// How a column's text values become ResultBatch values.
enum class Decode : uint8_t {
  kNull,  // `void` (e.g. SELECT pg_sleep(1)): always NULL
  kBool,
  kInt,
  kFloat,
  kDecimal,
  kText,
  kBytea,
  kDate,
  kTime,
  kTimestamp,
  kTimestampTz,
  kArray,  // to a JSON array
};

// How the elements of an array become JSON values.
enum class ElementKind : uint8_t { kString, kNumber, kBool, kJson };

struct ColumnDecoder {
  ColumnType type;
  Decode decode = Decode::kText;
  ElementKind element = ElementKind::kString;  // kArray only
};

// A pg_type row, for types that are not built in.
struct PgTypeInfo {
  std::string name;      // typname; arrays start with '_'
  char type = 'b';       // typtype: b base, e enum, c composite, d domain, r range, ...
  char category = 'U';   // typcategory: A array, S string, N numeric, ...
  Oid element = 0;       // typelem of arrays
};

namespace detail {

struct BuiltinType {
  Oid oid;
  const char* sql_name;  // as PostgreSQL's format_type() spells it
  TypeId id;
  Decode decode;
};

inline constexpr BuiltinType kBuiltinTypes[] = {
    {oids::kBool, "boolean", TypeId::kBoolean, Decode::kBool},
    {oids::kBytea, "bytea", TypeId::kBlob, Decode::kBytea},
    {oids::kChar, "\"char\"", TypeId::kVarchar, Decode::kText},
    {oids::kName, "name", TypeId::kVarchar, Decode::kText},
    {oids::kInt8, "bigint", TypeId::kBigInt, Decode::kInt},
    {oids::kInt2, "smallint", TypeId::kSmallInt, Decode::kInt},
    {oids::kInt4, "integer", TypeId::kInteger, Decode::kInt},
    {oids::kText, "text", TypeId::kVarchar, Decode::kText},
    {oids::kOid, "oid", TypeId::kBigInt, Decode::kInt},  // unsigned 32-bit: needs 64
    {oids::kJson, "json", TypeId::kJson, Decode::kText},
    {oids::kFloat4, "real", TypeId::kFloat, Decode::kFloat},
    {oids::kFloat8, "double precision", TypeId::kDouble, Decode::kFloat},
    {oids::kUnknown, "unknown", TypeId::kVarchar, Decode::kText},
    {oids::kBpchar, "character", TypeId::kVarchar, Decode::kText},
    {oids::kVarchar, "character varying", TypeId::kVarchar, Decode::kText},
    {oids::kDate, "date", TypeId::kDate, Decode::kDate},
    {oids::kTime, "time without time zone", TypeId::kTime, Decode::kTime},
    {oids::kTimestamp, "timestamp without time zone", TypeId::kTimestamp, Decode::kTimestamp},
    {oids::kTimestampTz, "timestamp with time zone", TypeId::kTimestampTz, Decode::kTimestampTz},
    {oids::kInterval, "interval", TypeId::kInterval, Decode::kText},
    {oids::kTimeTz, "time with time zone", TypeId::kOther, Decode::kText},
    {oids::kNumeric, "numeric", TypeId::kOther, Decode::kText},  // see numeric_decoder()
    {oids::kVoid, "void", TypeId::kNull, Decode::kNull},
    {oids::kUuid, "uuid", TypeId::kUuid, Decode::kText},
    {oids::kJsonb, "jsonb", TypeId::kJson, Decode::kText},
    {650, "cidr", TypeId::kOther, Decode::kText},
    {869, "inet", TypeId::kOther, Decode::kText},
    {829, "macaddr", TypeId::kOther, Decode::kText},
    {790, "money", TypeId::kOther, Decode::kText},
    {142, "xml", TypeId::kOther, Decode::kText},
    {1560, "bit", TypeId::kOther, Decode::kText},
    {1562, "bit varying", TypeId::kOther, Decode::kText},
    {3614, "tsvector", TypeId::kOther, Decode::kText},
    {2249, "record", TypeId::kOther, Decode::kText},
};

// Built-in arrays of the types above (array OID, element OID).
inline constexpr std::pair<Oid, Oid> kBuiltinArrays[] = {
    {1000, oids::kBool},   {1001, oids::kBytea},     {1002, oids::kChar},        {1003, oids::kName},
    {1005, oids::kInt2},   {1007, oids::kInt4},      {1009, oids::kText},        {1014, oids::kBpchar},
    {1015, oids::kVarchar}, {1016, oids::kInt8},     {1021, oids::kFloat4},      {1022, oids::kFloat8},
    {1028, oids::kOid},    {1115, oids::kTimestamp}, {1182, oids::kDate},        {1183, oids::kTime},
    {1185, oids::kTimestampTz}, {1187, oids::kInterval}, {1231, oids::kNumeric}, {1270, oids::kTimeTz},
    {2951, oids::kUuid},   {199, oids::kJson},       {3807, oids::kJsonb},       {651, 650},
    {1041, 869},           {791, 790},
};

inline const BuiltinType* find_builtin(Oid oid) {
  for (const auto& t : kBuiltinTypes) {
    if (t.oid == oid) return &t;
  }
  return nullptr;
}

}  // namespace detail

inline ElementKind element_kind(Oid element) {
  switch (element) {
    case oids::kInt2:
    case oids::kInt4:
    case oids::kInt8:
    case oids::kOid:
    case oids::kFloat4:
    case oids::kFloat8:
    case oids::kNumeric: return ElementKind::kNumber;
    case oids::kBool: return ElementKind::kBool;
    case oids::kJson:
    case oids::kJsonb: return ElementKind::kJson;
    default: return ElementKind::kString;
  }
}

// numeric's type modifier packs precision and scale (PostgreSQL 15 allows a negative scale and
// one larger than the precision). Exact DECIMAL holds 38 digits at most; anything else, including
// numeric without a modifier (sum(), avg(), round() results), stays PostgreSQL's exact text.
inline ColumnDecoder numeric_decoder(int32_t typmod) {
  constexpr int32_t kVarHdrSz = 4;
  if (typmod < kVarHdrSz) return {ColumnType{TypeId::kOther, 0, 0, "numeric"}, Decode::kText};
  const int32_t packed = typmod - kVarHdrSz;
  const int precision = (packed >> 16) & 0xffff;
  const int scale = ((packed & 0x7ff) ^ 1024) - 1024;
  const std::string sql_name = fmt::format("numeric({},{})", precision, scale);
  if (precision < 1 || precision > 38 || scale < 0 || scale > precision) {
    return {ColumnType{TypeId::kOther, 0, 0, sql_name}, Decode::kText};
  }
  return {ColumnType{TypeId::kDecimal, static_cast<uint8_t>(precision), static_cast<uint8_t>(scale), sql_name},
          Decode::kDecimal};
}

inline std::string builtin_sql_name(const detail::BuiltinType& t, int32_t typmod) {
  constexpr int32_t kVarHdrSz = 4;
  if ((t.oid == oids::kVarchar || t.oid == oids::kBpchar) && typmod >= kVarHdrSz) {
    return fmt::format("{}({})", t.sql_name, typmod - kVarHdrSz);
  }
  return t.sql_name;
}

// The decoder of a built-in type, or nullopt when `oid` needs a pg_type lookup.
inline std::optional<ColumnDecoder> builtin_decoder(Oid oid, int32_t typmod) {
  if (oid == oids::kNumeric) return numeric_decoder(typmod);
  if (const auto* t = detail::find_builtin(oid)) {
    return ColumnDecoder{ColumnType{t->id, 0, 0, builtin_sql_name(*t, typmod)}, t->decode};
  }
  for (const auto& [array, element] : detail::kBuiltinArrays) {
    if (array != oid) continue;
    return ColumnDecoder{ColumnType{TypeId::kJson, 0, 0, std::string(detail::find_builtin(element)->sql_name) + "[]"},
                         Decode::kArray, element_kind(element)};
  }
  return std::nullopt;
}

// The decoder of a type that is not built in, from its pg_type row: arrays become JSON, enums and
// string-like types (citext, ...) text, the rest PostgreSQL's text form.
inline ColumnDecoder catalog_decoder(const PgTypeInfo& info) {
  if (info.category == 'A' && info.element != 0) {
    const std::string base = info.name.starts_with('_') ? info.name.substr(1) : info.name;
    const auto* builtin = detail::find_builtin(info.element);
    return {ColumnType{TypeId::kJson, 0, 0, (builtin ? builtin->sql_name : base) + std::string("[]")},
            Decode::kArray, element_kind(info.element)};
  }
  if (info.type == 'e' || info.category == 'S') return {ColumnType{TypeId::kVarchar, 0, 0, info.name}, Decode::kText};
  return {ColumnType{TypeId::kOther, 0, 0, info.name}, Decode::kText};
}

// --- Parsing PostgreSQL's text forms -------------------------------------------------------------

namespace detail {

// A forward-only reader over one value's text.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return pos_ == s_.size(); }
  char peek() const { return done() ? '\0' : s_[pos_]; }
  bool take(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  // Reads between min and max decimal digits.
  bool digits(size_t min, size_t max, int64_t& out, size_t* count = nullptr) {
    size_t n = 0;
    int64_t v = 0;
    while (n < max && !done() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      v = v * 10 + (s_[pos_] - '0');
      ++pos_;
      ++n;
    }
    if (n < min) return false;
    out = v;
    if (count) *count = n;
    return true;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

inline constexpr int64_t kMicrosPerDay = kSecondsPerDay * kMicrosPerSecond;

// Strips PostgreSQL's " BC" era suffix; years BC count from 1 (1 BC is astronomical year 0).
inline bool strip_bc(std::string_view& text) {
  if (!text.ends_with(" BC")) return false;
  text.remove_suffix(3);
  return true;
}

inline bool read_date(Cursor& c, bool bc, int64_t& days) {
  int64_t y = 0, m = 0, d = 0;
  if (!c.digits(4, 9, y) || !c.take('-') || !c.digits(2, 2, m) || !c.take('-') || !c.digits(2, 2, d)) return false;
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  days = days_from_civil(bc ? 1 - y : y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return true;
}

// HH:MM:SS[.ffffff]; 24:00:00 is a valid time of day in PostgreSQL.
inline bool read_time_of_day(Cursor& c, int64_t& micros) {
  int64_t h = 0, m = 0, s = 0, frac = 0;
  size_t frac_digits = 0;
  if (!c.digits(2, 2, h) || !c.take(':') || !c.digits(2, 2, m) || !c.take(':') || !c.digits(2, 2, s)) return false;
  if (c.take('.') && !c.digits(1, 6, frac, &frac_digits)) return false;
  for (size_t i = frac_digits; i < 6; ++i) frac *= 10;
  if (h > 24 || m > 59 || s > 60) return false;
  micros = ((h * 60 + m) * 60 + s) * kMicrosPerSecond + frac;
  return true;
}

// A UTC offset: +HH[:MM[:SS]] (historical zones have odd minutes and seconds).
inline bool read_offset(Cursor& c, int64_t& seconds) {
  const bool negative = c.peek() == '-';
  if (!c.take('+') && !c.take('-')) return false;
  int64_t h = 0, m = 0, s = 0;
  if (!c.digits(2, 2, h)) return false;
  if (c.take(':') && !c.digits(2, 2, m)) return false;
  if (c.take(':') && !c.digits(2, 2, s)) return false;
  seconds = (negative ? -1 : 1) * (h * 3600 + m * 60 + s);
  return true;
}

}  // namespace detail

// Days since 1970-01-01 of a date in ISO form ("2024-02-29", "0044-03-15 BC", "infinity").
inline std::optional<int64_t> parse_date(std::string_view text) {
  if (text == "infinity") return kInfiniteDays;
  if (text == "-infinity") return -kInfiniteDays;
  const bool bc = detail::strip_bc(text);
  detail::Cursor c(text);
  int64_t days = 0;
  if (!detail::read_date(c, bc, days) || !c.done()) return std::nullopt;
  return days;
}

// Microseconds since midnight of "13:45:00[.5]".
inline std::optional<int64_t> parse_time(std::string_view text) {
  detail::Cursor c(text);
  int64_t micros = 0;
  if (!detail::read_time_of_day(c, micros) || !c.done()) return std::nullopt;
  return micros;
}

// Microseconds since the epoch of "2024-02-29 13:45:00[.123456][+02[:30]][ BC]", in UTC when
// `with_zone` (the offset is then required).
inline std::optional<int64_t> parse_timestamp(std::string_view text, bool with_zone) {
  if (text == "infinity") return kInfiniteMicros;
  if (text == "-infinity") return -kInfiniteMicros;
  const bool bc = detail::strip_bc(text);
  detail::Cursor c(text);
  int64_t days = 0, micros = 0, offset = 0;
  if (!detail::read_date(c, bc, days) || !c.take(' ') || !detail::read_time_of_day(c, micros)) return std::nullopt;
  if (with_zone && !detail::read_offset(c, offset)) return std::nullopt;
  if (!c.done()) return std::nullopt;
  return days * detail::kMicrosPerDay + micros - offset * kMicrosPerSecond;
}

inline std::optional<int64_t> parse_int(std::string_view text) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

// PostgreSQL prints floats exactly (shortest round-trip form) and "NaN", "Infinity", "-Infinity".
inline std::optional<double> parse_float(std::string_view text) {
  if (text == "NaN") return std::nan("");
  if (text == "Infinity") return HUGE_VAL;
  if (text == "-Infinity") return -HUGE_VAL;
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  // Out of range means a subnormal or huge value that from_chars refuses; PostgreSQL never prints
  // one it could not read back, so it is a parse failure of ours, reported as such.
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

// bytea in hex output form ("\x00ff") to its bytes.
inline std::optional<std::string> parse_bytea(std::string_view text) {
  if (!text.starts_with("\\x") || text.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 2 - 1);
  for (size_t i = 2; i < text.size(); i += 2) {
    const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

inline void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char ch : s) {
    switch (ch) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<int>(ch));
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

namespace detail {

// A JSON number as PostgreSQL prints integers, numerics and floats (not NaN or Infinity).
inline bool is_json_number(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (!digits()) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

inline void append_element(std::string& out, std::string_view value, bool quoted, ElementKind kind) {
  if (!quoted && value == "NULL") {
    out.append("null");
    return;
  }
  switch (kind) {
    case ElementKind::kNumber:
      if (is_json_number(value)) return void(out.append(value));
      break;  // NaN, Infinity: as strings
    case ElementKind::kBool:
      if (value == "t" || value == "f") return void(out.append(value == "t" ? "true" : "false"));
      break;
    case ElementKind::kJson: return void(out.append(value));
    case ElementKind::kString: break;
  }
  append_json_string(out, value);
}

// Reads one array level ("{...}") at text[pos] into JSON; pos ends after its '}'.
inline bool array_level_to_json(std::string_view text, size_t& pos, ElementKind kind, std::string& out, int depth) {
  if (depth > 6 || pos >= text.size() || text[pos] != '{') return false;  // PostgreSQL allows 6 dimensions
  ++pos;
  out.push_back('[');
  if (pos < text.size() && text[pos] == '}') {
    ++pos;
    out.push_back(']');
    return true;
  }
  std::string element;
  while (pos < text.size()) {
    if (text[pos] == '{') {
      if (!array_level_to_json(text, pos, kind, out, depth + 1)) return false;
    } else {
      element.clear();
      const bool quoted = text[pos] == '"';
      if (quoted) {
        for (++pos; pos < text.size() && text[pos] != '"'; ++pos) {
          if (text[pos] == '\\' && pos + 1 < text.size()) ++pos;
          element.push_back(text[pos]);
        }
        if (pos >= text.size()) return false;
        ++pos;  // the closing quote
      } else {
        while (pos < text.size() && text[pos] != ',' && text[pos] != '}') element.push_back(text[pos++]);
      }
      append_element(out, element, quoted, kind);
    }
    if (pos >= text.size()) return false;
    if (text[pos] == '}') {
      ++pos;
      out.push_back(']');
      return true;
    }
    if (text[pos] != ',') return false;
    ++pos;
    out.push_back(',');
  }
  return false;
}

}  // namespace detail

// An array's text form ("{1,2,NULL}", "{{a,\"b c\"}}", "[0:1]={1,2}") as a JSON array; nested
// arrays become nested JSON arrays. Elements of numeric, boolean and json types keep their JSON
// types; all others become strings.
inline std::optional<std::string> array_to_json(std::string_view text, ElementKind kind) {
  if (text.starts_with('[')) {  // explicit bounds: "[0:1]={1,2}"
    const size_t eq = text.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    text.remove_prefix(eq + 1);
  }
  std::string out;
  size_t pos = 0;
  if (!detail::array_level_to_json(text, pos, kind, out, 1) || pos != text.size()) return std::nullopt;
  return out;
}

// Appends one value in libpq's text format to `out`; false when the text is not of the form the
// decoder expects.
inline bool append_value(std::string_view text, const ColumnDecoder& decoder, ColumnData& out) {
  auto put = [](const auto& parsed, auto&& append) {
    if (!parsed) return false;
    append(*parsed);
    return true;
  };
  auto int64 = [&out](int64_t v) { out.append_int64(v); };
  switch (decoder.decode) {
    case Decode::kNull: out.append_null(); return true;
    case Decode::kBool:
      if (text != "t" && text != "f") return false;
      out.append_int64(text == "t" ? 1 : 0);
      return true;
    case Decode::kInt: return put(parse_int(text), int64);
    case Decode::kFloat: return put(parse_float(text), [&out](double v) { out.append_double(v); });
    case Decode::kDecimal:
      return put(parse_decimal(text, decoder.type.scale), [&out](__int128 v) { out.append_int128(v); });
    case Decode::kText: out.append_string(text); return true;
    case Decode::kBytea: return put(parse_bytea(text), [&out](const std::string& v) { out.append_string(v); });
    case Decode::kDate: return put(parse_date(text), int64);
    case Decode::kTime: return put(parse_time(text), int64);
    case Decode::kTimestamp: return put(parse_timestamp(text, false), int64);
    case Decode::kTimestampTz: return put(parse_timestamp(text, true), int64);
    case Decode::kArray:
      return put(array_to_json(text, decoder.element), [&out](const std::string& v) { out.append_string(v); });
  }
  return false;
}

// --- Parameters ----------------------------------------------------------------------------------

// A parameter in PostgreSQL's text input form; nullopt is SQL NULL. Types are left to the server,
// which infers them from where each $n appears (as for psql and pgwire clients), so `id = $1`
// reads "42" as an integer and `created_at < $1` reads an ISO string as a timestamp.
inline Result<std::optional<std::string>> to_text_param(const ParamValue& param, size_t index) {
  return std::visit(
      [index](const auto& v) -> Result<std::optional<std::string>> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return std::optional<std::string>();
        } else if constexpr (std::is_same_v<T, bool>) {
          return std::optional<std::string>(v ? "true" : "false");
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return std::optional<std::string>(std::to_string(v));
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isnan(v)) return std::optional<std::string>("NaN");
          if (std::isinf(v)) return std::optional<std::string>(v > 0 ? "Infinity" : "-Infinity");
          return std::optional<std::string>(fmt::format("{}", v));  // shortest exact form
        } else {
          // libpq passes text parameters as C strings: a NUL would silently cut the value short.
          if (v.find('\0') != std::string::npos) {
            return Error(ErrorCode::kInvalidParameter,
                         fmt::format("parameter ${} contains a NUL character, which PostgreSQL text cannot hold",
                                     index + 1));
          }
          return std::optional<std::string>(v);
        }
      },
      param);
}

// --- Errors --------------------------------------------------------------------------------------

// The lakerouter code of a PostgreSQL SQLSTATE (Appendix A of PostgreSQL's manual). 57014
// (query_canceled) is a timeout when the server's statement_timeout fired, else a cancellation.
inline ErrorCode code_for_sqlstate(std::string_view state, std::string_view message) {
  if (state.size() != 5) return ErrorCode::kEngineError;
  const std::string_view cls = state.substr(0, 2);
  if (state == "42601") {
    return message.find("multiple commands") != std::string_view::npos ? ErrorCode::kMultipleStatements
                                                                        : ErrorCode::kSyntaxError;
  }
  if (state == "42P01") return ErrorCode::kUnknownTable;
  if (state == "42883" || state == "42704" || state == "3F000") return ErrorCode::kUnknownObject;
  if (state == "42P02" || state == "42P18" || state == "08P01") return ErrorCode::kInvalidParameter;
  if (state == "42804" || state == "42846") return ErrorCode::kTypeMismatch;
  if (state == "42501" || cls == "28") return ErrorCode::kPermissionDenied;
  if (state == "22012") return ErrorCode::kDivisionByZero;
  if (state == "22003" || state == "22008" || state == "22015") return ErrorCode::kOutOfRange;
  if (state == "22P02" || state == "22007" || state == "22018") return ErrorCode::kConversionError;
  if (state == "0A000") return ErrorCode::kNotSupported;
  if (state == "57014") {
    return message.find("statement timeout") != std::string_view::npos ? ErrorCode::kQueryTimeout
                                                                       : ErrorCode::kQueryCancelled;
  }
  if (state == "53200") return ErrorCode::kOutOfMemory;
  if (state == "53300") return ErrorCode::kOverloaded;  // too_many_connections
  if (cls == "08" || state == "57P01" || state == "57P02" || state == "57P03") return ErrorCode::kEngineUnavailable;
  if (cls == "22") return ErrorCode::kInvalidInput;
  if (cls == "23") return ErrorCode::kConstraintViolation;
  // Duplicates (42P07 relation exists, 42710, ...) have no lakerouter code of their own.
  if (state == "42P07" || state == "42710" || state == "42P06" || state == "42723" || state == "42P04") {
    return ErrorCode::kEngineError;
  }
  if (cls == "42") return ErrorCode::kBindError;  // unknown column 42703, grouping 42803, ambiguity 42702, ...
  return ErrorCode::kEngineError;
}

// True for SQLSTATEs after which the server closes the session: the connection is gone.
inline bool is_connection_sqlstate(std::string_view state) {
  return state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03";
}

}  // namespace lakerouter::postgres_internal
