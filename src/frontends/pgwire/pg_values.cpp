#include "frontends/pgwire/pg_values.h"

#include <boost/endian/conversion.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "core/ascii.h"
#include "core/value_format.h"
#include "core/value_parse.h"

namespace lakerouter::pgwire {
namespace {

// PostgreSQL's epoch for binary dates and timestamps: 2000-01-01.
constexpr int64_t kPgEpochDays = 10957;
constexpr int64_t kPgEpochMicros = kPgEpochDays * kSecondsPerDay * kMicrosPerSecond;

template <typename T>
void put_be(std::string& out, T v) {
  using U = std::make_unsigned_t<T>;
  const U b = boost::endian::native_to_big(static_cast<U>(v));
  out.append(reinterpret_cast<const char*>(&b), sizeof(U));
}

template <typename T>
std::optional<T> get_be(std::string_view data) {
  using U = std::make_unsigned_t<T>;
  if (data.size() != sizeof(U)) return std::nullopt;
  U v = 0;
  std::memcpy(&v, data.data(), sizeof(U));
  return static_cast<T>(boost::endian::big_to_native(v));
}

// PostgreSQL's boolin: any case, surrounding whitespace, and unambiguous prefixes of
// true/false/yes/no/on/off (pgjdbc's setBoolean sends 'TRUE').
std::optional<bool> parse_pg_bool(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return std::nullopt;
  const std::string s = ascii_lower(text.substr(first, text.find_last_not_of(kSpace) - first + 1));
  const auto prefix_of = [&s](std::string_view word, size_t min_len) {
    return s.size() >= min_len && word.starts_with(s);
  };
  if (s == "1" || prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2)) return true;
  if (s == "0" || prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2)) return false;
  return std::nullopt;
}

void append_float_text(std::string& out, double v, bool single) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "Infinity" : "-Infinity";
  } else if (single) {
    fmt::format_to(std::back_inserter(out), "{}", static_cast<float>(v));
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

// PostgreSQL prints "1992-01-31 13:45:00[.123456][+00]"; core/value_format writes ISO 8601.
void append_pg_timestamp(std::string& out, int64_t micros, bool utc) {
  const size_t start = out.size();
  append_timestamp(out, micros, false);
  const size_t t = out.find('T', start);
  if (t == std::string::npos) return;  // infinity
  out[t] = ' ';
  if (utc) out += "+00";
}

constexpr char kHex[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A blob parameter as DuckDB's blob text ("\xDE\xAD"), which casts to BLOB/BYTEA exactly.
std::string blob_param(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() * 4);
  for (unsigned char c : raw) {
    out += "\\x";
    out.push_back(static_cast<char>(std::toupper(kHex[c >> 4])));
    out.push_back(static_cast<char>(std::toupper(kHex[c & 15])));
  }
  return out;
}

Error bad_param(size_t index, std::string_view what) {
  return Error(ErrorCode::kInvalidParameter, fmt::format("parameter ${}: {}", index + 1, what));
}

}  // namespace

PgType pg_type(const ColumnType& type) {
  switch (type.id) {
    case TypeId::kBoolean: return {oid::kBool, 1, -1};
    case TypeId::kTinyInt:
    case TypeId::kSmallInt: return {oid::kInt2, 2, -1};
    case TypeId::kInteger: return {oid::kInt4, 4, -1};
    case TypeId::kBigInt: return {oid::kInt8, 8, -1};
    case TypeId::kHugeInt: return {oid::kNumeric, -1, -1};
    case TypeId::kFloat: return {oid::kFloat4, 4, -1};
    case TypeId::kDouble: return {oid::kFloat8, 8, -1};
    case TypeId::kDecimal:
      return {oid::kNumeric, -1, type.precision > 0 ? ((int32_t{type.precision} << 16) | type.scale) + 4 : -1};
    case TypeId::kBlob: return {oid::kBytea, -1, -1};
    case TypeId::kDate: return {oid::kDate, 4, -1};
    case TypeId::kTime: return {oid::kTime, 8, -1};
    case TypeId::kTimestamp: return {oid::kTimestamp, 8, -1};
    case TypeId::kTimestampTz: return {oid::kTimestampTz, 8, -1};
    case TypeId::kUuid: return {oid::kUuid, 16, -1};
    case TypeId::kJson: return {oid::kJson, -1, -1};
    // Intervals arrive as text in the engine's own spelling: sent as text rather than guessed at.
    case TypeId::kInterval:
    case TypeId::kVarchar:
    case TypeId::kNull:
    case TypeId::kOther: return {oid::kText, -1, -1};
  }
  return {oid::kText, -1, -1};
}

void append_text(std::string& out, const ColumnType& type, const ColumnData& col, size_t row) {
  switch (type.id) {
    case TypeId::kBoolean: out.push_back(col.int64_at(row) != 0 ? 't' : 'f'); return;
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kInteger:
    case TypeId::kBigInt: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, col.int64_at(row));
      out.append(buf, r.ptr);
      return;
    }
    case TypeId::kHugeInt:
      if (col.kind() == PhysicalKind::kInt128) {
        append_int128(out, col.int128_at(row));
      } else {
        out += col.string_at(row);
      }
      return;
    case TypeId::kFloat:
    case TypeId::kDouble: append_float_text(out, col.double_at(row), type.id == TypeId::kFloat); return;
    case TypeId::kDecimal: append_decimal(out, col.int128_at(row), type.scale); return;
    case TypeId::kDate: append_date(out, col.int64_at(row)); return;
    case TypeId::kTime: append_time(out, col.int64_at(row)); return;
    case TypeId::kTimestamp: append_pg_timestamp(out, col.int64_at(row), false); return;
    case TypeId::kTimestampTz: append_pg_timestamp(out, col.int64_at(row), true); return;
    case TypeId::kBlob: {
      const auto v = col.string_at(row);
      out += "\\x";
      for (unsigned char c : v) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
      return;
    }
    default: break;
  }
  switch (col.kind()) {  // text-held types, and any type held unexpectedly
    case PhysicalKind::kString: out += col.string_at(row); return;
    case PhysicalKind::kInt64: out += std::to_string(col.int64_at(row)); return;
    case PhysicalKind::kInt128: append_int128(out, col.int128_at(row)); return;
    case PhysicalKind::kDouble: append_float_text(out, col.double_at(row), false); return;
  }
}

void append_numeric_binary(std::string& out, __int128 unscaled, int scale) {
  // Base-10000 digits with the decimal point on a digit boundary: pad the fraction to a multiple
  // of four decimal digits.
  const bool negative = unscaled < 0;
  unsigned __int128 mag = negative ? static_cast<unsigned __int128>(-(unscaled + 1)) + 1 : static_cast<unsigned __int128>(unscaled);
  int pad = (4 - scale % 4) % 4;
  for (int i = 0; i < pad; ++i) mag *= 10;  // fits: at most 38 + 3 digits < 2^128
  const int frac_groups = (scale + pad) / 4;
  std::vector<int16_t> groups;  // least significant first
  while (mag > 0) {
    groups.push_back(static_cast<int16_t>(mag % 10000));
    mag /= 10000;
  }
  while (static_cast<int>(groups.size()) < frac_groups) groups.push_back(0);
  int weight = static_cast<int>(groups.size()) - frac_groups - 1;
  // Trailing zero groups (least significant) need not be sent; leading zeros are dropped too.
  size_t lo = 0;
  while (lo < groups.size() && groups[lo] == 0) ++lo;
  size_t hi = groups.size();
  while (hi > lo && groups[hi - 1] == 0) {
    --hi;
    --weight;
  }
  if (lo == hi) weight = 0;
  put_be<int16_t>(out, static_cast<int16_t>(hi - lo));
  put_be<int16_t>(out, static_cast<int16_t>(weight));
  put_be<uint16_t>(out, negative ? 0x4000 : 0x0000);
  put_be<int16_t>(out, static_cast<int16_t>(scale));
  for (size_t i = hi; i > lo; --i) put_be<int16_t>(out, groups[i - 1]);
}

void append_binary(std::string& out, const ColumnType& type, const ColumnData& col, size_t row) {
  switch (type.id) {
    case TypeId::kBoolean: out.push_back(col.int64_at(row) != 0 ? 1 : 0); return;
    case TypeId::kTinyInt:
    case TypeId::kSmallInt: put_be<int16_t>(out, static_cast<int16_t>(col.int64_at(row))); return;
    case TypeId::kInteger: put_be<int32_t>(out, static_cast<int32_t>(col.int64_at(row))); return;
    case TypeId::kBigInt: put_be<int64_t>(out, col.int64_at(row)); return;
    case TypeId::kHugeInt:
      if (col.kind() == PhysicalKind::kInt128) {
        append_numeric_binary(out, col.int128_at(row), 0);
      } else if (auto v = parse_decimal(col.string_at(row), 0)) {
        append_numeric_binary(out, *v, 0);
      }
      return;
    case TypeId::kFloat: {
      const float f = static_cast<float>(col.double_at(row));
      uint32_t bits = 0;
      std::memcpy(&bits, &f, 4);
      put_be<uint32_t>(out, bits);
      return;
    }
    case TypeId::kDouble: {
      const double d = col.double_at(row);
      uint64_t bits = 0;
      std::memcpy(&bits, &d, 8);
      put_be<uint64_t>(out, bits);
      return;
    }
    case TypeId::kDecimal: append_numeric_binary(out, col.int128_at(row), type.scale); return;
    case TypeId::kDate: {
      const int64_t d = col.int64_at(row);
      int32_t v = 0;
      if (d == kInfiniteDays) {
        v = std::numeric_limits<int32_t>::max();
      } else if (d == -kInfiniteDays) {
        v = std::numeric_limits<int32_t>::min();
      } else {
        v = static_cast<int32_t>(d - kPgEpochDays);
      }
      put_be<int32_t>(out, v);
      return;
    }
    case TypeId::kTime: put_be<int64_t>(out, col.int64_at(row)); return;
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: {
      const int64_t t = col.int64_at(row);
      int64_t v = 0;
      if (t == kInfiniteMicros) {
        v = std::numeric_limits<int64_t>::max();
      } else if (t == -kInfiniteMicros) {
        v = std::numeric_limits<int64_t>::min();
      } else {
        v = t - kPgEpochMicros;
      }
      put_be<int64_t>(out, v);
      return;
    }
    case TypeId::kUuid: {
      std::string raw;
      for (char c : col.string_at(row)) {
        if (c != '-') raw.push_back(c);
      }
      for (size_t i = 0; i + 1 < raw.size() && i < 32; i += 2) {
        out.push_back(static_cast<char>((hex_value(raw[i]) << 4) | hex_value(raw[i + 1])));
      }
      return;
    }
    default: break;
  }
  // bytea, text, json and the other text-held types: binary is the bytes themselves.
  if (col.kind() == PhysicalKind::kString) {
    out += col.string_at(row);
  } else {
    append_text(out, type, col, row);
  }
}

Result<ParamValue> decode_param(int32_t type_oid, bool binary, std::string_view data, size_t index) {
  if (binary) {
    switch (type_oid) {
      case oid::kBool:
        if (data.size() != 1) return bad_param(index, "a binary bool is one byte");
        return ParamValue(data[0] != 0);
      case oid::kInt2: {
        auto v = get_be<int16_t>(data);
        if (!v) return bad_param(index, "a binary int2 is 2 bytes");
        return ParamValue(int64_t{*v});
      }
      case oid::kInt4:
      case oid::kOid: {
        auto v = get_be<int32_t>(data);
        if (!v) return bad_param(index, "a binary int4 is 4 bytes");
        return ParamValue(int64_t{*v});
      }
      case oid::kInt8: {
        auto v = get_be<int64_t>(data);
        if (!v) return bad_param(index, "a binary int8 is 8 bytes");
        return ParamValue(*v);
      }
      case oid::kFloat4: {
        auto v = get_be<uint32_t>(data);
        if (!v) return bad_param(index, "a binary float4 is 4 bytes");
        float f = 0;
        std::memcpy(&f, &*v, 4);
        return ParamValue(static_cast<double>(f));
      }
      case oid::kFloat8: {
        auto v = get_be<uint64_t>(data);
        if (!v) return bad_param(index, "a binary float8 is 8 bytes");
        double d = 0;
        std::memcpy(&d, &*v, 8);
        return ParamValue(d);
      }
      case oid::kDate: {
        auto v = get_be<int32_t>(data);
        if (!v) return bad_param(index, "a binary date is 4 bytes");
        std::string s;
        append_date(s, int64_t{*v} + kPgEpochDays);
        return ParamValue(std::move(s));
      }
      case oid::kTimestamp:
      case oid::kTimestampTz: {
        auto v = get_be<int64_t>(data);
        if (!v) return bad_param(index, "a binary timestamp is 8 bytes");
        std::string s;
        append_pg_timestamp(s, *v + kPgEpochMicros, type_oid == oid::kTimestampTz);
        return ParamValue(std::move(s));
      }
      case oid::kNumeric: {
        // ndigits, weight, sign, dscale, then base-10000 digits.
        if (data.size() < 8) return bad_param(index, "a binary numeric has an 8-byte header");
        const auto ndigits = *get_be<int16_t>(data.substr(0, 2));
        const auto weight = *get_be<int16_t>(data.substr(2, 2));
        const auto sign = *get_be<uint16_t>(data.substr(4, 2));
        const auto dscale = *get_be<int16_t>(data.substr(6, 2));
        if (ndigits < 0 || dscale < 0 || data.size() != 8 + 2 * static_cast<size_t>(ndigits)) {
          return bad_param(index, "malformed binary numeric");
        }
        if (sign == 0xC000) return ParamValue(std::string("NaN"));
        if (sign != 0 && sign != 0x4000) return bad_param(index, "malformed binary numeric sign");
        std::string int_part;
        std::string frac_part;
        for (int i = 0; i < ndigits; ++i) {
          const auto d = *get_be<int16_t>(data.substr(8 + 2 * static_cast<size_t>(i), 2));
          if (d < 0 || d > 9999) return bad_param(index, "malformed binary numeric digit");
          const std::string four = fmt::format("{:04d}", d);
          if (weight - i >= 0) {
            int_part += four;
          } else {
            // Digits after the point; a gap between weight and the first digit is zeros.
            frac_part += four;
          }
        }
        if (weight >= ndigits) int_part.append(4 * static_cast<size_t>(weight - ndigits + 1), '0');
        if (weight < -1) frac_part.insert(0, 4 * static_cast<size_t>(-1 - weight), '0');
        while (int_part.size() > 1 && int_part[0] == '0') int_part.erase(0, 1);
        if (int_part.empty()) int_part = "0";
        frac_part.resize(static_cast<size_t>(dscale), '0');
        std::string s = (sign == 0x4000 ? "-" : "") + int_part;
        if (dscale > 0) s += "." + frac_part;
        return ParamValue(std::move(s));
      }
      case oid::kBytea: return ParamValue(blob_param(data));
      default: return ParamValue(std::string(data));  // text, varchar, unknown, json, ...
    }
  }
  switch (type_oid) {
    case oid::kBool: {
      if (auto b = parse_pg_bool(data)) return ParamValue(*b);
      return bad_param(index, fmt::format("'{}' is not a boolean", data));
    }
    case oid::kInt2:
    case oid::kInt4:
    case oid::kInt8:
    case oid::kOid: {
      int64_t v = 0;
      auto r = std::from_chars(data.data(), data.data() + data.size(), v);
      if (r.ec != std::errc() || r.ptr != data.data() + data.size()) {
        return bad_param(index, fmt::format("'{}' is not an integer", data));
      }
      return ParamValue(v);
    }
    case oid::kFloat4:
    case oid::kFloat8: {
      if (data == "NaN") return ParamValue(std::numeric_limits<double>::quiet_NaN());
      if (data == "Infinity") return ParamValue(std::numeric_limits<double>::infinity());
      if (data == "-Infinity") return ParamValue(-std::numeric_limits<double>::infinity());
      double v = 0;
      auto r = std::from_chars(data.data(), data.data() + data.size(), v);
      if (r.ec != std::errc() || r.ptr != data.data() + data.size()) {
        return bad_param(index, fmt::format("'{}' is not a number", data));
      }
      return ParamValue(v);
    }
    case oid::kBytea: {
      if (!data.starts_with("\\x")) return ParamValue(std::string(data));  // escape format: as is
      std::string raw;
      data.remove_prefix(2);
      if (data.size() % 2 != 0) return bad_param(index, "odd number of hex digits in bytea");
      for (size_t i = 0; i < data.size(); i += 2) {
        const int hi = hex_value(data[i]);
        const int lo = hex_value(data[i + 1]);
        if (hi < 0 || lo < 0) return bad_param(index, "invalid hex digit in bytea");
        raw.push_back(static_cast<char>((hi << 4) | lo));
      }
      return ParamValue(blob_param(raw));
    }
    default: return ParamValue(std::string(data));
  }
}

}  // namespace lakerouter::pgwire
