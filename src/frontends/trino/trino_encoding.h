// Trino wire encoding: lakerouter's result types as Trino types (name and typeSignature), values
// as Trino's JSON encoding writes them, and lakerouter errors as Trino QueryError objects.
// What the official clients parse (trino-python-client's mapper, the Java client's
// JsonDecodingUtils) decides the shapes: integers are JSON numbers, real/double are JSON floats
// (always with a '.' or exponent: the Java decoders refuse integer tokens for them), decimals,
// dates and times are strings, varbinary is base64.
// Thread-safety: free functions and value types; safe to use from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/result_batch.h"
#include "core/status.h"
#include "core/types.h"

namespace lakerouter::trino_protocol {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// The Trino type of a column, e.g. "decimal(15,2)", "timestamp(6) with time zone".
std::string trino_type_name(const ColumnType& type);

// Writes the column's typeSignature object {"rawType":..., "arguments":[...]}.
void write_type_signature(JsonWriter& w, const ColumnType& type);

// Writes one value of `col` at `row` (null included) as Trino encodes it. `scratch` is reused.
void write_value(JsonWriter& w, const ColumnData& col, const ColumnType& type, size_t row, std::string& scratch);

// Text forms, exposed for tests: "1992-01-31 13:45:00.000000" (with " UTC" when utc), "13:45:00.000000".
void append_trino_timestamp(std::string& out, int64_t micros_since_epoch, bool utc);
void append_trino_time(std::string& out, int64_t micros_since_midnight);
// A float as a JSON number token that parses as a float: "1.0", "0.1", "1e+300".
void append_json_float(std::string& out, double value, bool single_precision);

// A lakerouter error as Trino names it.
struct TrinoErrorCode {
  int code = 0;
  std::string_view name;  // Trino's StandardErrorCode name when one means the same, else lakerouter's
  std::string_view type;  // USER_ERROR, INTERNAL_ERROR, INSUFFICIENT_RESOURCES, EXTERNAL
};
TrinoErrorCode trino_error_code(ErrorCode code);

// 1-based line and column of a 0-based character (code point) offset into `sql`.
struct SqlLocation {
  int line = 1;
  int column = 1;
};
SqlLocation sql_location(std::string_view sql, uint32_t char_offset);

// Writes a QueryError object: message, errorCode, errorName, errorType, errorLocation (when the
// error has a position into `sql`), failureInfo.
void write_error(JsonWriter& w, const Error& error, std::string_view sql);

}  // namespace lakerouter::trino_protocol
