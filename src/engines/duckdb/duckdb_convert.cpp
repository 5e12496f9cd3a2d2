#include "engines/duckdb/duckdb_convert.h"

#include <charconv>

#include <nlohmann/json.hpp>

namespace lakerouter::duckdb_internal {
using duckdb::LogicalTypeId;

ColumnType to_column_type(const duckdb::LogicalType& type) {
  ColumnType out;
  out.sql_name = type.ToString();
  switch (type.id()) {
    case LogicalTypeId::SQLNULL: out.id = TypeId::kNull; break;
    case LogicalTypeId::BOOLEAN: out.id = TypeId::kBoolean; break;
    case LogicalTypeId::TINYINT: out.id = TypeId::kTinyInt; break;
    case LogicalTypeId::SMALLINT:
    case LogicalTypeId::UTINYINT: out.id = TypeId::kSmallInt; break;
    case LogicalTypeId::INTEGER:
    case LogicalTypeId::USMALLINT: out.id = TypeId::kInteger; break;
    case LogicalTypeId::BIGINT:
    case LogicalTypeId::UINTEGER: out.id = TypeId::kBigInt; break;
    case LogicalTypeId::UBIGINT:
    case LogicalTypeId::HUGEINT: out.id = TypeId::kHugeInt; break;
    case LogicalTypeId::FLOAT: out.id = TypeId::kFloat; break;
    case LogicalTypeId::DOUBLE: out.id = TypeId::kDouble; break;
    case LogicalTypeId::DECIMAL:
      out.id = TypeId::kDecimal;
      out.precision = duckdb::DecimalType::GetWidth(type);
      out.scale = duckdb::DecimalType::GetScale(type);
      break;
    case LogicalTypeId::CHAR:
    case LogicalTypeId::VARCHAR:
    case LogicalTypeId::ENUM: out.id = TypeId::kVarchar; break;
    case LogicalTypeId::BLOB: out.id = TypeId::kBlob; break;
    case LogicalTypeId::DATE: out.id = TypeId::kDate; break;
    case LogicalTypeId::TIME: out.id = TypeId::kTime; break;
    case LogicalTypeId::TIMESTAMP:
    case LogicalTypeId::TIMESTAMP_SEC:
    case LogicalTypeId::TIMESTAMP_MS:
    case LogicalTypeId::TIMESTAMP_NS: out.id = TypeId::kTimestamp; break;
    case LogicalTypeId::TIMESTAMP_TZ: out.id = TypeId::kTimestampTz; break;
    case LogicalTypeId::INTERVAL: out.id = TypeId::kInterval; break;
    case LogicalTypeId::UUID: out.id = TypeId::kUuid; break;
    case LogicalTypeId::LIST:
    case LogicalTypeId::ARRAY:
    case LogicalTypeId::STRUCT:
    case LogicalTypeId::MAP:
    case LogicalTypeId::UNION: out.id = TypeId::kJson; break;
    default: out.id = TypeId::kOther; break;
  }
  return out;
}

namespace {

__int128 to_int128(duckdb::hugeint_t h) {
  return static_cast<__int128>(static_cast<unsigned __int128>(static_cast<uint64_t>(h.upper)) << 64 |
                               static_cast<unsigned __int128>(h.lower));
}

nlohmann::json value_to_json(const duckdb::Value& v) {
  if (v.IsNull()) return nullptr;
  const auto& type = v.type();
  switch (type.id()) {
    case LogicalTypeId::BOOLEAN: return v.GetValue<bool>();
    case LogicalTypeId::TINYINT:
    case LogicalTypeId::SMALLINT:
    case LogicalTypeId::INTEGER:
    case LogicalTypeId::BIGINT:
    case LogicalTypeId::UTINYINT:
    case LogicalTypeId::USMALLINT:
    case LogicalTypeId::UINTEGER: return v.GetValue<int64_t>();
    case LogicalTypeId::UBIGINT: return v.GetValue<uint64_t>();
    case LogicalTypeId::FLOAT:
    case LogicalTypeId::DOUBLE: return v.GetValue<double>();
    case LogicalTypeId::LIST:
    case LogicalTypeId::ARRAY: {
      auto arr = nlohmann::json::array();
      const auto& children = type.id() == LogicalTypeId::LIST ? duckdb::ListValue::GetChildren(v)
                                                               : duckdb::ArrayValue::GetChildren(v);
      for (const auto& child : children) arr.push_back(value_to_json(child));
      return arr;
    }
    case LogicalTypeId::STRUCT: {
      auto obj = nlohmann::json::object();
      const auto& children = duckdb::StructValue::GetChildren(v);
      for (size_t i = 0; i < children.size(); ++i) {
        obj[duckdb::StructType::GetChildName(type, i)] = value_to_json(children[i]);
      }
      return obj;
    }
    case LogicalTypeId::MAP: {  // a list of {key, value} structs
      auto arr = nlohmann::json::array();
      for (const auto& entry : duckdb::ListValue::GetChildren(v)) {
        const auto& kv = duckdb::StructValue::GetChildren(entry);
        arr.push_back({{"key", value_to_json(kv[0])}, {"value", value_to_json(kv[1])}});
      }
      return arr;
    }
    case LogicalTypeId::UNION: return value_to_json(duckdb::UnionValue::GetValue(v));
    default: return v.ToString();
  }
}

template <typename T, typename F>
void append_flat(duckdb::Vector& vec, idx_t n, ColumnData& out, F&& append) {
  const auto* data = duckdb::FlatVector::GetData<T>(vec);
  const auto& mask = duckdb::FlatVector::Validity(vec);
  for (idx_t i = 0; i < n; ++i) {
    if (mask.RowIsValid(i)) {
      append(data[i]);
    } else {
      out.append_null();
    }
  }
}

void append_vector(duckdb::Vector& vec, idx_t n, ColumnData& out) {
  const auto& type = vec.GetType();
  auto i64 = [&](auto v) { out.append_int64(static_cast<int64_t>(v)); };
  switch (type.id()) {
    case LogicalTypeId::BOOLEAN: return append_flat<bool>(vec, n, out, i64);
    case LogicalTypeId::TINYINT: return append_flat<int8_t>(vec, n, out, i64);
    case LogicalTypeId::SMALLINT: return append_flat<int16_t>(vec, n, out, i64);
    case LogicalTypeId::INTEGER: return append_flat<int32_t>(vec, n, out, i64);
    case LogicalTypeId::BIGINT: return append_flat<int64_t>(vec, n, out, i64);
    case LogicalTypeId::UTINYINT: return append_flat<uint8_t>(vec, n, out, i64);
    case LogicalTypeId::USMALLINT: return append_flat<uint16_t>(vec, n, out, i64);
    case LogicalTypeId::UINTEGER: return append_flat<uint32_t>(vec, n, out, i64);
    case LogicalTypeId::UBIGINT:
      return append_flat<uint64_t>(vec, n, out, [&](uint64_t v) { out.append_int128(static_cast<__int128>(v)); });
    case LogicalTypeId::HUGEINT:
      return append_flat<duckdb::hugeint_t>(vec, n, out, [&](duckdb::hugeint_t v) { out.append_int128(to_int128(v)); });
    case LogicalTypeId::DECIMAL: {
      auto i128 = [&](auto v) { out.append_int128(static_cast<__int128>(v)); };
      switch (type.InternalType()) {
        case duckdb::PhysicalType::INT16: return append_flat<int16_t>(vec, n, out, i128);
        case duckdb::PhysicalType::INT32: return append_flat<int32_t>(vec, n, out, i128);
        case duckdb::PhysicalType::INT64: return append_flat<int64_t>(vec, n, out, i128);
        default:
          return append_flat<duckdb::hugeint_t>(vec, n, out,
                                                [&](duckdb::hugeint_t v) { out.append_int128(to_int128(v)); });
      }
    }
    case LogicalTypeId::FLOAT:
      return append_flat<float>(vec, n, out, [&](float v) { out.append_double(static_cast<double>(v)); });
    case LogicalTypeId::DOUBLE: return append_flat<double>(vec, n, out, [&](double v) { out.append_double(v); });
    case LogicalTypeId::DATE:
      return append_flat<duckdb::date_t>(vec, n, out, [&](duckdb::date_t v) { out.append_int64(v.days); });
    case LogicalTypeId::TIME:
      return append_flat<duckdb::dtime_t>(vec, n, out, [&](duckdb::dtime_t v) { out.append_int64(v.micros); });
    case LogicalTypeId::TIMESTAMP:
    case LogicalTypeId::TIMESTAMP_TZ:
      return append_flat<duckdb::timestamp_t>(vec, n, out, [&](duckdb::timestamp_t v) { out.append_int64(v.value); });
    case LogicalTypeId::TIMESTAMP_SEC:
      return append_flat<duckdb::timestamp_t>(vec, n, out,
                                              [&](duckdb::timestamp_t v) { out.append_int64(v.value * 1000000); });
    case LogicalTypeId::TIMESTAMP_MS:
      return append_flat<duckdb::timestamp_t>(vec, n, out,
                                              [&](duckdb::timestamp_t v) { out.append_int64(v.value * 1000); });
    case LogicalTypeId::TIMESTAMP_NS:  // truncated to microseconds, the common unit of all engines
      return append_flat<duckdb::timestamp_t>(vec, n, out,
                                              [&](duckdb::timestamp_t v) { out.append_int64(v.value / 1000); });
    case LogicalTypeId::CHAR:
    case LogicalTypeId::VARCHAR:
    case LogicalTypeId::BLOB:
      return append_flat<duckdb::string_t>(vec, n, out, [&](const duckdb::string_t& v) {
        out.append_string(std::string_view(v.GetData(), v.GetSize()));
      });
    default:
      break;
  }
  // Slow path for the rest: nested values as JSON, others in DuckDB's text form.
  const bool nested = to_column_type(type).id == TypeId::kJson;
  for (idx_t i = 0; i < n; ++i) {
    auto value = vec.GetValue(i);
    if (value.IsNull()) {
      out.append_null();
    } else {
      out.append_string(nested ? value_to_json(value).dump() : value.ToString());
    }
  }
}

std::optional<uint32_t> error_position(const duckdb::ErrorData& error) {
  const auto& extra = error.ExtraInfo();
  auto it = extra.find("position");
  if (it == extra.end()) return std::nullopt;
  uint32_t pos = 0;
  auto [ptr, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), pos);
  if (ec != std::errc()) return std::nullopt;
  return pos;
}

}  // namespace

void append_chunk(duckdb::DataChunk& chunk, ResultBatch& batch) {
  const idx_t n = chunk.size();
  for (idx_t c = 0; c < chunk.ColumnCount(); ++c) {
    auto& col = batch.column(c);
    col.reserve(col.size() + n);
    append_vector(chunk.data[c], n, col);
  }
}

Error to_error(const duckdb::ErrorData& error, bool timed_out) {
  using duckdb::ExceptionType;
  // Pool connections run with errors_as_json, which keeps the SQL position as a field instead of
  // folding it into the text; the human message is then one field of that JSON.
  std::string message = error.RawMessage();
  if (message.starts_with("{")) {
    auto doc = nlohmann::json::parse(message, nullptr, /*allow_exceptions=*/false);
    if (doc.is_object() && doc.contains("exception_message") && doc["exception_message"].is_string()) {
      message = doc["exception_message"].get<std::string>();
    }
  }
  const auto position = error_position(error);
  const auto& extra = error.ExtraInfo();
  auto extra_is = [&](const char* key, std::string_view value) {
    auto it = extra.find(key);
    return it != extra.end() && it->second == value;
  };
  ErrorCode code = ErrorCode::kEngineError;
  switch (error.Type()) {
    case ExceptionType::PARSER:
    case ExceptionType::SYNTAX: code = ErrorCode::kSyntaxError; break;
    case ExceptionType::CATALOG:
      // Every missing catalog entry (functions, types, ...) is a catalog error; tables and views
      // get their own code. A table in a missing schema comes without structured fields.
      code = extra_is("type", "Table") || extra_is("type", "View") || message.starts_with("Table with name")
                 ? ErrorCode::kUnknownTable
                 : ErrorCode::kUnknownObject;
      break;
    case ExceptionType::BINDER: code = ErrorCode::kBindError; break;
    case ExceptionType::CONVERSION: code = ErrorCode::kConversionError; break;
    case ExceptionType::MISMATCH_TYPE:
    case ExceptionType::INVALID_TYPE: code = ErrorCode::kTypeMismatch; break;
    case ExceptionType::DIVIDE_BY_ZERO: code = ErrorCode::kDivisionByZero; break;
    case ExceptionType::OUT_OF_RANGE:
    case ExceptionType::DECIMAL: code = ErrorCode::kOutOfRange; break;
    case ExceptionType::CONSTRAINT: code = ErrorCode::kConstraintViolation; break;
    case ExceptionType::NOT_IMPLEMENTED: code = ErrorCode::kNotSupported; break;
    case ExceptionType::PERMISSION: code = ErrorCode::kPermissionDenied; break;
    case ExceptionType::INTERRUPT: code = timed_out ? ErrorCode::kQueryTimeout : ErrorCode::kQueryCancelled; break;
    case ExceptionType::OUT_OF_MEMORY: code = ErrorCode::kOutOfMemory; break;
    case ExceptionType::PARAMETER_NOT_RESOLVED:
    case ExceptionType::PARAMETER_NOT_ALLOWED: code = ErrorCode::kInvalidParameter; break;
    case ExceptionType::INVALID_INPUT: code = ErrorCode::kInvalidInput; break;
    case ExceptionType::IO: code = ErrorCode::kIoError; break;
    default: code = ErrorCode::kEngineError; break;
  }
  if (code == ErrorCode::kQueryTimeout) message = "the query ran past its time limit and was stopped";
  if (code == ErrorCode::kQueryCancelled) message = "the query was cancelled";
  return Error(code, std::move(message), position);
}

duckdb::Value to_value(const ParamValue& param) {
  return std::visit(
      [](const auto& v) -> duckdb::Value {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return duckdb::Value();
        } else if constexpr (std::is_same_v<T, bool>) {
          return duckdb::Value::BOOLEAN(v);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return duckdb::Value::BIGINT(v);
        } else if constexpr (std::is_same_v<T, double>) {
          return duckdb::Value::DOUBLE(v);
        } else {
          return duckdb::Value(v);
        }
      },
      param);
}

}  // namespace lakerouter::duckdb_internal
