#include "frontends/trino/trino_encoding.h"

#include <cmath>
#include <iterator>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "core/value_format.h"

namespace lakerouter::trino_protocol {

namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = int64_t{86400} * kMicrosPerSecond;
constexpr int kTimePrecision = 6;        // lakerouter holds microseconds
constexpr int64_t kVarcharUnbounded = 2147483647;  // Trino's length of an unbounded varchar
constexpr int kMaxDecimalPrecision = 38;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

void write_string(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// The raw type and its numeric arguments, the parts of both the name and the typeSignature.
struct TypeParts {
  TypeParts(std::string_view r, std::initializer_list<int> a = {}, std::string_view s = {}) : raw(r), suffix(s) {
    for (const int v : a) args[arg_count++] = v;
  }
  std::string_view raw;
  int args[2] = {0, 0};
  int arg_count = 0;
  std::string_view suffix;  // " with time zone" goes after the arguments in the name
};

TypeParts type_parts(const ColumnType& type) {
  switch (type.id) {
    case TypeId::kNull: return {"unknown"};
    case TypeId::kBoolean: return {"boolean"};
    case TypeId::kTinyInt: return {"tinyint"};
    case TypeId::kSmallInt: return {"smallint"};
    case TypeId::kInteger: return {"integer"};
    case TypeId::kBigInt: return {"bigint"};
    case TypeId::kHugeInt: return {"decimal", {kMaxDecimalPrecision, 0}};
    case TypeId::kFloat: return {"real"};
    case TypeId::kDouble: return {"double"};
    case TypeId::kDecimal: {
      const int precision = type.precision == 0 ? kMaxDecimalPrecision : std::min<int>(type.precision, kMaxDecimalPrecision);
      return {"decimal", {precision, std::min<int>(type.scale, precision)}};
    }
    case TypeId::kBlob: return {"varbinary"};
    case TypeId::kDate: return {"date"};
    case TypeId::kTime: return {"time", {kTimePrecision}};
    case TypeId::kTimestamp: return {"timestamp", {kTimePrecision}};
    case TypeId::kTimestampTz: return {"timestamp with time zone", {kTimePrecision}, " with time zone"};
    case TypeId::kUuid: return {"uuid"};
    case TypeId::kJson: return {"json"};
    // Intervals come as engine text ("1 day 02:00:00"), which no Trino interval type parses.
    case TypeId::kVarchar:
    case TypeId::kInterval:
    case TypeId::kOther: break;
  }
  return {"varchar"};
}

void write_base64(JsonWriter& w, std::string_view bytes, std::string& scratch) {
  scratch.resize(4 * ((bytes.size() + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(scratch.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  w.String(scratch.data(), static_cast<rapidjson::SizeType>(n));
}

void write_float(JsonWriter& w, double v, bool single_precision, std::string& scratch) {
  if (std::isnan(v)) {
    w.String("NaN");
  } else if (std::isinf(v)) {
    w.String(v > 0 ? "Infinity" : "-Infinity");
  } else {
    scratch.clear();
    append_json_float(scratch, v, single_precision);
    w.RawValue(scratch.data(), scratch.size(), rapidjson::kNumberType);
  }
}

}  // namespace

std::string trino_type_name(const ColumnType& type) {
  const TypeParts p = type_parts(type);
  if (p.arg_count == 0) return std::string(p.raw);
  const std::string_view base = p.raw.substr(0, p.raw.size() - p.suffix.size());
  if (p.arg_count == 1) return fmt::format("{}({}){}", base, p.args[0], p.suffix);
  return fmt::format("{}({},{}){}", base, p.args[0], p.args[1], p.suffix);
}

void write_type_signature(JsonWriter& w, const ColumnType& type) {
  const TypeParts p = type_parts(type);
  w.StartObject();
  w.Key("rawType");
  write_string(w, p.raw);
  w.Key("arguments");
  w.StartArray();
  auto long_argument = [&w](int64_t value) {
    w.StartObject();
    w.Key("kind");
    w.String("LONG");
    w.Key("value");
    w.Int64(value);
    w.EndObject();
  };
  if (p.raw == "varchar") long_argument(kVarcharUnbounded);
  for (int i = 0; i < p.arg_count; ++i) long_argument(p.args[i]);
  w.EndArray();
  w.EndObject();
}

void append_trino_time(std::string& out, int64_t micros) {
  append_time(out, micros);  // core's formatter; Trino always spells the six fraction digits
  if (micros % kMicrosPerSecond == 0) out.append(".000000");
}

void append_trino_timestamp(std::string& out, int64_t micros, bool utc) {
  if (micros == kInfiniteMicros || micros == -kInfiniteMicros) {
    out.append(micros > 0 ? "infinity" : "-infinity");
    return;
  }
  const int64_t days = floor_div(micros, kMicrosPerDay);
  append_date(out, days);
  out.push_back(' ');
  append_trino_time(out, micros - days * kMicrosPerDay);
  if (utc) out.append(" UTC");
}

void append_json_float(std::string& out, double value, bool single_precision) {
  const size_t start = out.size();
  // The shortest text that reads back as the same value; a real prints as the float it is.
  if (single_precision) {
    fmt::format_to(std::back_inserter(out), "{}", static_cast<float>(value));
  } else {
    fmt::format_to(std::back_inserter(out), "{}", value);
  }
  if (out.find_first_of(".e", start) == std::string::npos) out.append(".0");
}

void write_value(JsonWriter& w, const ColumnData& col, const ColumnType& type, size_t row, std::string& scratch) {
  if (col.is_null(row)) {
    w.Null();
    return;
  }
  scratch.clear();
  switch (type.id) {
    case TypeId::kNull: w.Null(); return;
    case TypeId::kBoolean: w.Bool(col.int64_at(row) != 0); return;
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kInteger:
    case TypeId::kBigInt: w.Int64(col.int64_at(row)); return;
    case TypeId::kHugeInt: append_int128(scratch, col.int128_at(row)); break;
    case TypeId::kDecimal: append_decimal(scratch, col.int128_at(row), type.scale); break;
    case TypeId::kFloat: write_float(w, col.double_at(row), true, scratch); return;
    case TypeId::kDouble: write_float(w, col.double_at(row), false, scratch); return;
    case TypeId::kDate: append_date(scratch, col.int64_at(row)); break;
    case TypeId::kTime: append_trino_time(scratch, col.int64_at(row)); break;
    case TypeId::kTimestamp: append_trino_timestamp(scratch, col.int64_at(row), false); break;
    case TypeId::kTimestampTz: append_trino_timestamp(scratch, col.int64_at(row), true); break;
    case TypeId::kBlob: write_base64(w, col.string_at(row), scratch); return;
    case TypeId::kVarchar:
    case TypeId::kInterval:
    case TypeId::kUuid:
    case TypeId::kJson:  // Trino sends json values as their text
    case TypeId::kOther: write_string(w, col.string_at(row)); return;
  }
  write_string(w, scratch);
}

TrinoErrorCode trino_error_code(ErrorCode code) {
  constexpr std::string_view kUser = "USER_ERROR";
  constexpr std::string_view kInternal = "INTERNAL_ERROR";
  constexpr std::string_view kResources = "INSUFFICIENT_RESOURCES";
  constexpr std::string_view kExternal = "EXTERNAL";
  // Connector-style codes (Trino reserves 0x0100_0000 and up for them) for lakerouter's own
  // engine errors, which have no Trino equivalent.
  constexpr int kExternalBase = 0x0100'0000;
  switch (code) {
    case ErrorCode::kSyntaxError:
    case ErrorCode::kMultipleStatements:
    case ErrorCode::kEmptySql: return {1, "SYNTAX_ERROR", kUser};
    case ErrorCode::kQueryCancelled: return {3, "USER_CANCELED", kUser};
    case ErrorCode::kPermissionDenied: return {4, "PERMISSION_DENIED", kUser};
    case ErrorCode::kUnauthenticated: return {4, "PERMISSION_DENIED", kUser};  // Trino has no separate code
    case ErrorCode::kNotFound: return {5, "NOT_FOUND", kUser};
    case ErrorCode::kDivisionByZero: return {8, "DIVISION_BY_ZERO", kUser};
    case ErrorCode::kConversionError: return {9, "INVALID_CAST_ARGUMENT", kUser};
    case ErrorCode::kNotSupported: return {13, "NOT_SUPPORTED", kUser};
    case ErrorCode::kConstraintViolation: return {16, "CONSTRAINT_VIOLATION", kUser};
    case ErrorCode::kOutOfRange: return {19, "NUMERIC_VALUE_OUT_OF_RANGE", kUser};
    case ErrorCode::kUnknownTable: return {46, "TABLE_NOT_FOUND", kUser};
    case ErrorCode::kTypeMismatch: return {58, "TYPE_MISMATCH", kUser};
    case ErrorCode::kInvalidParameter: return {80, "INVALID_PARAMETER_USAGE", kUser};
    case ErrorCode::kInvalidRequest:
    case ErrorCode::kInvalidJson:
    case ErrorCode::kInvalidUtf8:
    case ErrorCode::kBodyTooLarge:
    case ErrorCode::kHeadersTooLarge:
    case ErrorCode::kUnsupportedMediaType:
    case ErrorCode::kMethodNotAllowed:
    case ErrorCode::kRequestTimeout:
    case ErrorCode::kUnknownObject:
    case ErrorCode::kBindError:
    case ErrorCode::kInvalidInput: return {0, error_code_name(code), kUser};
    case ErrorCode::kQueryTimeout: return {131075, "EXCEEDED_TIME_LIMIT", kResources};
    case ErrorCode::kOutOfMemory: return {131073, "EXCEEDED_GLOBAL_MEMORY_LIMIT", kResources};
    case ErrorCode::kOverloaded: return {131074, "QUERY_QUEUE_FULL", kResources};
    case ErrorCode::kEngineUnavailable:
    case ErrorCode::kEngineError: return {kExternalBase + static_cast<int>(code), error_code_name(code), kExternal};
    default: break;  // configuration, I/O and internal errors, and codes newer than this table
  }
  return {65536, "GENERIC_INTERNAL_ERROR", kInternal};
}

SqlLocation sql_location(std::string_view sql, uint32_t char_offset) {
  SqlLocation loc;
  uint32_t chars = 0;
  for (size_t i = 0; i < sql.size() && chars < char_offset; ++i) {
    const auto byte = static_cast<uint8_t>(sql[i]);
    if ((byte & 0xC0) == 0x80) continue;  // continuation bytes belong to the character before
    ++chars;
    if (byte == '\n') {
      ++loc.line;
      loc.column = 1;
    } else {
      ++loc.column;
    }
  }
  return loc;
}

void write_error(JsonWriter& w, const Error& error, std::string_view sql) {
  const TrinoErrorCode code = trino_error_code(error.code);
  // Clients print the message alone: never leave it empty.
  const std::string message =
      error.message.empty() ? fmt::format("{} (no message from the engine)", error_code_name(error.code)) : error.message;
  auto write_location = [&] {
    if (!error.position) return;
    const SqlLocation loc = sql_location(sql, *error.position);
    w.Key("errorLocation");
    w.StartObject();
    w.Key("lineNumber");
    w.Int(loc.line);
    w.Key("columnNumber");
    w.Int(loc.column);
    w.EndObject();
  };
  w.StartObject();
  w.Key("message");
  write_string(w, message);
  w.Key("errorCode");
  w.Int(code.code);
  w.Key("errorName");
  write_string(w, code.name);
  w.Key("errorType");
  write_string(w, code.type);
  write_location();
  // The Java client requires type, suppressed and stack; "type" is where Trino names the Java
  // exception, here lakerouter's stable error code.
  w.Key("failureInfo");
  w.StartObject();
  w.Key("type");
  write_string(w, fmt::format("lakerouter.{}", error_code_name(error.code)));
  w.Key("message");
  write_string(w, message);
  w.Key("suppressed");
  w.StartArray();
  w.EndArray();
  w.Key("stack");
  w.StartArray();
  w.EndArray();
  write_location();
  w.EndObject();
  w.EndObject();
}

}  // namespace lakerouter::trino_protocol
