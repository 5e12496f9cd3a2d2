#include "frontends/trino/trino_params.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "core/utf8.h"
#include "duckdb.hpp"
#include "duckdb/parser/expression/cast_expression.hpp"
#include "duckdb/parser/expression/constant_expression.hpp"
#include "duckdb/parser/expression/function_expression.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/query_node/select_node.hpp"
#include "duckdb/parser/statement/select_statement.hpp"
#include "frontends/trino/trino_request.h"

namespace lakerouter::trino_protocol {

namespace {

constexpr std::string_view kSelect = "SELECT ";  // the USING list is parsed as this SELECT's list

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Raw bytes as the "\xAB" text that DuckDB and PostgreSQL read as a blob (as pgwire passes bytea).
std::string blob_text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 4);
  for (const unsigned char c : bytes) fmt::format_to(std::back_inserter(out), "\\x{:02X}", static_cast<unsigned>(c));
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class ValueReader {
 public:
  explicit ValueReader(std::string_view text) : text_(text) {}

  Result<ParamValue> read(const duckdb::ParsedExpression& e, size_t index) {
    using duckdb::ExpressionClass;
    switch (e.GetExpressionClass()) {
      case ExpressionClass::CONSTANT: {
        const auto& value = e.Cast<duckdb::ConstantExpression>().value;
        // The grammar reads X'AB' as the text "xAB": only the source tells it from 'xAB'.
        if (value.type().id() == duckdb::LogicalTypeId::VARCHAR && !value.IsNull() && is_hex_literal(e)) {
          return hex_blob(duckdb::StringValue::Get(value), index);
        }
        return from_value(value, index);
      }
      case ExpressionClass::CAST: return read_cast(e.Cast<duckdb::CastExpression>(), index);
      case ExpressionClass::FUNCTION: return read_function(e.Cast<duckdb::FunctionExpression>(), index);
      default: return unsupported(e, index);
    }
  }

 private:
  // Character offset of `e` in the USING list.
  std::optional<uint32_t> position(const duckdb::ParsedExpression& e) const {
    const auto location = e.GetQueryLocation();
    if (!location.IsValid() || location.GetIndex() < kSelect.size()) return std::nullopt;
    return static_cast<uint32_t>(location.GetIndex() - kSelect.size());
  }

  bool is_hex_literal(const duckdb::ParsedExpression& e) const {
    const auto at = position(e);
    if (!at) return false;
    // DuckDB's locations are byte offsets; the list is ASCII up to a literal's start in practice,
    // and a wrong guess only makes the check fail.
    const size_t byte = *at;
    return byte + 1 < text_.size() && (text_[byte] == 'x' || text_[byte] == 'X') && text_[byte + 1] == '\'';
  }

  Result<ParamValue> hex_blob(const std::string& text, size_t index) const {
    const std::string_view digits = std::string_view(text).substr(1);  // without the leading 'x'
    if (digits.size() % 2 != 0) {
      return Error(ErrorCode::kInvalidParameter,
                   fmt::format("parameter {}: X'{}' has an odd number of hex digits", index + 1, digits));
    }
    std::string bytes;
    for (size_t i = 0; i < digits.size(); i += 2) {
      const int hi = hex_value(digits[i]);
      const int lo = hex_value(digits[i + 1]);
      if (hi < 0 || lo < 0) {
        return Error(ErrorCode::kInvalidParameter,
                     fmt::format("parameter {}: X'{}' holds a character that is not a hex digit", index + 1, digits));
      }
      bytes.push_back(static_cast<char>(hi * 16 + lo));
    }
    return ParamValue(blob_text(bytes));
  }

  Error unsupported(const duckdb::ParsedExpression& e, size_t index) const {
    return Error(ErrorCode::kNotSupported,
                 fmt::format("parameter {}: only literal values can be bound (a number, 'text', true/false, NULL, "
                             "DATE/TIMESTAMP/DECIMAL '...', X'...', or a CAST of one), not {}",
                             index + 1, e.ToString()),
                 position(e));
  }

  static Result<ParamValue> from_value(const duckdb::Value& value, size_t index) {
    using duckdb::LogicalTypeId;
    if (value.IsNull()) return ParamValue(std::monostate{});
    switch (value.type().id()) {
      case LogicalTypeId::BOOLEAN: return ParamValue(value.GetValue<bool>());
      case LogicalTypeId::TINYINT:
      case LogicalTypeId::SMALLINT:
      case LogicalTypeId::INTEGER:
      case LogicalTypeId::BIGINT:
      case LogicalTypeId::UTINYINT:
      case LogicalTypeId::USMALLINT:
      case LogicalTypeId::UINTEGER: return ParamValue(value.GetValue<int64_t>());
      case LogicalTypeId::UBIGINT:
      case LogicalTypeId::HUGEINT:
      case LogicalTypeId::UHUGEINT: {
        duckdb::Value narrowed;
        std::string ignored;
        if (value.DefaultTryCastAs(duckdb::LogicalType::BIGINT, narrowed, &ignored)) {
          return ParamValue(narrowed.GetValue<int64_t>());
        }
        return ParamValue(value.ToString());  // beyond BIGINT: the engine reads the digits
      }
      case LogicalTypeId::FLOAT:
      case LogicalTypeId::DOUBLE: return ParamValue(value.GetValue<double>());
      case LogicalTypeId::VARCHAR: return ParamValue(duckdb::StringValue::Get(value));
      case LogicalTypeId::BLOB: return ParamValue(blob_text(duckdb::StringValue::Get(value)));
      case LogicalTypeId::DECIMAL:
      case LogicalTypeId::DATE:
      case LogicalTypeId::TIME:
      case LogicalTypeId::TIMESTAMP:
      case LogicalTypeId::TIMESTAMP_TZ:
      case LogicalTypeId::UUID:
      case LogicalTypeId::INTERVAL: return ParamValue(value.ToString());
      default:
        return Error(ErrorCode::kNotSupported,
                     fmt::format("parameter {}: values of type {} cannot be bound", index + 1, value.type().ToString()));
    }
  }

  Result<ParamValue> read_cast(const duckdb::CastExpression& cast, size_t index) {
    using duckdb::LogicalTypeId;
    if (cast.child->GetExpressionClass() != duckdb::ExpressionClass::CONSTANT) return unsupported(cast, index);
    const auto& child = cast.child->Cast<duckdb::ConstantExpression>().value;
    if (child.IsNull()) return ParamValue(std::monostate{});
    duckdb::LogicalType type = cast.cast_type;
    if (type.IsUnbound()) type = duckdb::UnboundType::TryDefaultBind(type);
    switch (type.id()) {
      // Text the engine converts by the placeholder's type: converting here could lose a time
      // zone name (TIMESTAMP '... Europe/Paris') or a decimal's scale.
      case LogicalTypeId::DECIMAL:
      case LogicalTypeId::DATE:
      case LogicalTypeId::TIME:
      case LogicalTypeId::TIME_TZ:
      case LogicalTypeId::TIMESTAMP:
      case LogicalTypeId::TIMESTAMP_SEC:
      case LogicalTypeId::TIMESTAMP_MS:
      case LogicalTypeId::TIMESTAMP_NS:
      case LogicalTypeId::TIMESTAMP_TZ:
      case LogicalTypeId::INTERVAL:
      case LogicalTypeId::UUID: return ParamValue(child.ToString());
      case LogicalTypeId::BOOLEAN:
      case LogicalTypeId::TINYINT:
      case LogicalTypeId::SMALLINT:
      case LogicalTypeId::INTEGER:
      case LogicalTypeId::BIGINT:
      case LogicalTypeId::HUGEINT:
      case LogicalTypeId::FLOAT:
      case LogicalTypeId::DOUBLE:
      case LogicalTypeId::VARCHAR:
      case LogicalTypeId::BLOB: {
        duckdb::Value converted;
        std::string error;
        if (!child.DefaultTryCastAs(type, converted, &error, /*strict=*/false)) {
          return Error(ErrorCode::kInvalidParameter,
                       fmt::format("parameter {}: {} is not a valid {} ({})", index + 1, child.ToSQLString(),
                                   type.ToString(), error),
                       position(cast));
        }
        return from_value(converted, index);
      }
      default:
        return Error(ErrorCode::kNotSupported,
                     fmt::format("parameter {}: values of type {} cannot be bound", index + 1, type.ToString()),
                     position(cast));
    }
  }

  // nan(), infinity() and -infinity(): how clients write the doubles SQL has no literal for.
  Result<ParamValue> read_function(const duckdb::FunctionExpression& fn, size_t index) {
    if (!fn.schema.empty() || !fn.catalog.empty()) return unsupported(fn, index);
    if (fn.children.empty() && fn.function_name == "nan") return ParamValue(std::numeric_limits<double>::quiet_NaN());
    if (fn.children.empty() && fn.function_name == "infinity") return ParamValue(std::numeric_limits<double>::infinity());
    if (fn.function_name == "-" && fn.children.size() == 1) {
      auto inner = read(*fn.children[0], index);
      if (!inner.ok()) return inner.error();
      if (const auto* d = std::get_if<double>(&*inner)) return ParamValue(-*d);
      if (const auto* i = std::get_if<int64_t>(&*inner); i && *i != std::numeric_limits<int64_t>::min()) {
        return ParamValue(-*i);
      }
    }
    return unsupported(fn, index);
  }

  std::string_view text_;
};

// Form decoding: '+' is a space, then percent-escapes.
Result<std::string> form_decode(std::string_view text) {
  std::string plus_free(text);
  std::replace(plus_free.begin(), plus_free.end(), '+', ' ');
  return url_decode(plus_free);
}

}  // namespace

Result<std::map<std::string, std::string>> parse_prepared_statements(const std::vector<std::string_view>& header_values) {
  std::map<std::string, std::string> out;
  for (const std::string_view header : header_values) {
    size_t start = 0;
    while (start <= header.size()) {
      const size_t comma = header.find(',', start);
      const std::string_view item =
          trim(header.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
      start = comma == std::string_view::npos ? header.size() + 1 : comma + 1;
      if (item.empty()) continue;
      const size_t eq = item.find('=');
      if (eq == std::string_view::npos || trim(item.substr(0, eq)).empty()) {
        return Error(ErrorCode::kInvalidRequest,
                     fmt::format("X-Trino-Prepared-Statement entry '{}' is not name=statement", item.substr(0, 80)));
      }
      auto name = form_decode(trim(item.substr(0, eq)));
      if (!name.ok()) return name.error();
      auto statement = form_decode(trim(item.substr(eq + 1)));
      if (!statement.ok()) return statement.error();
      out[std::move(*name)] = std::move(*statement);
    }
  }
  return out;
}

Result<std::vector<ParamValue>> parse_parameter_values(std::string_view list) {
  if (list.find('\0') != std::string_view::npos) {
    return Error(ErrorCode::kSyntaxError, "the parameter values hold a NUL character",
                 static_cast<uint32_t>(utf8_char_offset(list, list.find('\0'))));
  }
  duckdb::Parser parser;
  try {
    parser.ParseQuery(std::string(kSelect) + std::string(list));
  } catch (const std::exception& e) {
    const duckdb::ErrorData error(e);
    std::optional<uint32_t> position;
    if (auto it = error.ExtraInfo().find("position"); it != error.ExtraInfo().end()) {
      uint32_t p = 0;
      if (std::from_chars(it->second.data(), it->second.data() + it->second.size(), p).ec == std::errc() &&
          p >= kSelect.size()) {
        position = p - static_cast<uint32_t>(kSelect.size());
      }
    }
    return Error(ErrorCode::kSyntaxError, fmt::format("the values after USING: {}", error.RawMessage()), position);
  }
  // Exactly a list of expressions: "1; DROP TABLE t" or "1 FROM t" is not a value list.
  const auto* select = parser.statements.size() == 1 && parser.statements[0]->type == duckdb::StatementType::SELECT_STATEMENT
                           ? &parser.statements[0]->Cast<duckdb::SelectStatement>()
                           : nullptr;
  const auto* node = select && select->node->type == duckdb::QueryNodeType::SELECT_NODE
                         ? &select->node->Cast<duckdb::SelectNode>()
                         : nullptr;
  if (!node || node->from_table->type != duckdb::TableReferenceType::EMPTY_FROM || node->where_clause ||
      node->having || node->qualify || node->sample || !node->groups.group_expressions.empty() ||
      !node->modifiers.empty() || !node->cte_map.map.empty()) {
    return Error(ErrorCode::kSyntaxError, "USING takes a comma-separated list of values and nothing else");
  }
  std::vector<ParamValue> values;
  ValueReader reader(list);
  try {
    for (size_t i = 0; i < node->select_list.size(); ++i) {
      auto value = reader.read(*node->select_list[i], i);
      if (!value.ok()) return value.error();
      values.push_back(std::move(*value));
    }
  } catch (const std::exception& e) {  // DuckDB's conversions report failures by throwing
    return Error(ErrorCode::kInvalidParameter,
                 fmt::format("the values after USING: {}", duckdb::ErrorData(e).RawMessage()));
  }
  return values;
}

}  // namespace lakerouter::trino_protocol
