// Types, JSON_ARRAY value texts, parameter markers and errors of the Statement Execution API: the
// parts of the Databricks engine that need no server (declared in databricks_internal.h).
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "core/ascii.h"
#include "core/value_parse.h"
#include "engines/databricks/databricks_internal.h"

namespace lakerouter::databricks_internal {
namespace {

using iso::take_char;
using iso::take_date;
using iso::take_number;
using iso::take_time;

// --- Types ----------------------------------------------------------------------------------------

// The API's type_name values, and the SQL spellings type_text uses for the same types.
TypeId type_id(std::string_view lower) {
  static const std::map<std::string_view, TypeId, std::less<>> kIds = {
      {"boolean", TypeId::kBoolean},
      {"byte", TypeId::kTinyInt},        {"tinyint", TypeId::kTinyInt},
      {"short", TypeId::kSmallInt},      {"smallint", TypeId::kSmallInt},
      {"int", TypeId::kInteger},         {"integer", TypeId::kInteger},
      {"long", TypeId::kBigInt},         {"bigint", TypeId::kBigInt},
      {"float", TypeId::kFloat},         {"real", TypeId::kFloat},
      {"double", TypeId::kDouble},
      {"decimal", TypeId::kDecimal},     {"dec", TypeId::kDecimal},  {"numeric", TypeId::kDecimal},
      {"string", TypeId::kVarchar},      {"char", TypeId::kVarchar}, {"varchar", TypeId::kVarchar},
      {"binary", TypeId::kBlob},
      {"date", TypeId::kDate},
      // TIMESTAMP is an instant (shown in the session's time zone); TIMESTAMP_NTZ a wall-clock time.
      {"timestamp", TypeId::kTimestampTz}, {"timestamp_ltz", TypeId::kTimestampTz},
      {"timestamp_ntz", TypeId::kTimestamp},
      {"interval", TypeId::kInterval},
      {"array", TypeId::kJson},          {"map", TypeId::kJson},     {"struct", TypeId::kJson},
      {"variant", TypeId::kJson},
      {"null", TypeId::kNull},           {"void", TypeId::kNull},
  };
  auto it = kIds.find(lower);
  return it == kIds.end() ? TypeId::kOther : it->second;  // USER_DEFINED_TYPE, GEOGRAPHY, ...: as text
}

// "decimal(10,2)" -> "decimal"; "ARRAY<INT>" -> "array"; "interval day to second" -> "interval".
std::string base_type(std::string_view type_text) {
  const size_t end = type_text.find_first_of("(< ");
  return ascii_lower(type_text.substr(0, end));
}

// The two numbers of "decimal(p,s)".
std::optional<std::pair<int64_t, int64_t>> decimal_arguments(std::string_view type_text) {
  const size_t open = type_text.find('(');
  const size_t comma = type_text.find(',', open);
  const size_t close = type_text.find(')', comma);
  if (open == std::string_view::npos || comma == std::string_view::npos || close == std::string_view::npos) {
    return std::nullopt;
  }
  auto number = [](std::string_view s) -> std::optional<int64_t> {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
  };
  auto p = number(type_text.substr(open + 1, comma - open - 1));
  auto s = number(type_text.substr(comma + 1, close - comma - 1));
  if (!p || !s) return std::nullopt;
  return std::make_pair(*p, *s);
}

// --- Value texts ----------------------------------------------------------------------------------

// "Z", "+05:30", "-0800", "+01" -> seconds east of UTC.
std::optional<int64_t> take_offset(std::string_view& s) {
  if (take_char(s, 'Z')) return 0;
  if (s.empty() || (s.front() != '+' && s.front() != '-')) return std::nullopt;
  const bool west = s.front() == '-';
  s.remove_prefix(1);
  auto h = take_number(s, 2);
  if (!h) return std::nullopt;
  int64_t m = 0;
  if (!s.empty()) {
    take_char(s, ':');
    auto minutes = take_number(s, 2);
    if (!minutes) return std::nullopt;
    m = *minutes;
  }
  if (*h > 18 || m > 59) return std::nullopt;
  const int64_t seconds = (*h * 60 + m) * 60;
  return west ? -seconds : seconds;
}

size_t utf8_length(unsigned char lead) { return lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1; }
bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// --- Parameter markers ----------------------------------------------------------------------------

bool is_identifier_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The end of a quoted literal or identifier that starts at `i`. Strings ('...' and "...", which
// Databricks SQL reads as strings) take backslash escapes and doubled quotes; `identifiers` take
// doubled backticks.
size_t skip_quoted(std::string_view sql, size_t i) {
  const char quote = sql[i];
  for (size_t j = i + 1; j < sql.size(); ++j) {
    if (sql[j] == '\\' && quote != '`') {
      ++j;
    } else if (sql[j] == quote) {
      if (j + 1 < sql.size() && sql[j + 1] == quote) {
        ++j;
      } else {
        return j + 1;
      }
    }
  }
  return sql.size();
}

// The end of a /* ... */ comment starting at `i`; Databricks SQL nests them.
size_t skip_block_comment(std::string_view sql, size_t i) {
  int depth = 0;
  for (size_t j = i; j + 1 < sql.size(); ++j) {
    if (sql[j] == '/' && sql[j + 1] == '*') {
      ++depth;
      ++j;
    } else if (sql[j] == '*' && sql[j + 1] == '/') {
      ++j;
      if (--depth == 0) return j + 1;
    }
  }
  return sql.size();
}

// --- Errors ---------------------------------------------------------------------------------------

// Databricks error classes (the "[NAME]" or "[NAME.SUBCLASS]" that starts a message).
std::optional<ErrorCode> code_of_class(std::string_view error_class) {
  static const std::map<std::string_view, ErrorCode, std::less<>> kCodes = {
      {"PARSE_SYNTAX_ERROR", ErrorCode::kSyntaxError},
      {"PARSE_EMPTY_STATEMENT", ErrorCode::kSyntaxError},
      {"TABLE_OR_VIEW_NOT_FOUND", ErrorCode::kUnknownTable},
      {"SCHEMA_NOT_FOUND", ErrorCode::kUnknownTable},  // a table reference in a missing schema
      {"CATALOG_NOT_FOUND", ErrorCode::kUnknownTable},
      {"NO_SUCH_CATALOG_EXCEPTION", ErrorCode::kUnknownTable},
      {"UNRESOLVED_ROUTINE", ErrorCode::kUnknownObject},
      {"ROUTINE_NOT_FOUND", ErrorCode::kUnknownObject},
      {"UNRESOLVED_COLUMN", ErrorCode::kBindError},  // what DuckDB's binder reports for the same
      {"UNRESOLVED_FIELD", ErrorCode::kBindError},
      {"AMBIGUOUS_REFERENCE", ErrorCode::kBindError},
      {"AMBIGUOUS_COLUMN_OR_FIELD", ErrorCode::kBindError},
      {"MISSING_AGGREGATION", ErrorCode::kBindError},
      {"MISSING_GROUP_BY", ErrorCode::kBindError},
      {"UNBOUND_SQL_PARAMETER", ErrorCode::kInvalidParameter},
      {"DATATYPE_MISMATCH", ErrorCode::kTypeMismatch},
      {"CAST_INVALID_INPUT", ErrorCode::kConversionError},
      {"DIVIDE_BY_ZERO", ErrorCode::kDivisionByZero},
      {"INTERVAL_DIVIDED_BY_ZERO", ErrorCode::kDivisionByZero},
      {"ARITHMETIC_OVERFLOW", ErrorCode::kOutOfRange},
      {"CAST_OVERFLOW", ErrorCode::kOutOfRange},
      {"NUMERIC_VALUE_OUT_OF_RANGE", ErrorCode::kOutOfRange},
      {"INSUFFICIENT_PERMISSIONS", ErrorCode::kPermissionDenied},
      {"UNSUPPORTED_FEATURE", ErrorCode::kNotSupported},
      {"DELTA_VIOLATE_CONSTRAINT_WITH_VALUES", ErrorCode::kConstraintViolation},
      {"DELTA_NOT_NULL_CONSTRAINT_VIOLATED", ErrorCode::kConstraintViolation},
  };
  auto it = kCodes.find(error_class);
  if (it == kCodes.end()) return std::nullopt;
  return it->second;
}

std::optional<ErrorCode> code_of_sql_state(std::string_view state) {
  static const std::map<std::string_view, ErrorCode, std::less<>> kCodes = {
      {"42601", ErrorCode::kSyntaxError},        {"42P01", ErrorCode::kUnknownTable},
      {"3F000", ErrorCode::kUnknownTable},       {"42704", ErrorCode::kUnknownTable},
      {"42703", ErrorCode::kBindError},          {"42702", ErrorCode::kBindError},
      {"42883", ErrorCode::kUnknownObject},      {"42P02", ErrorCode::kInvalidParameter},
      {"42804", ErrorCode::kTypeMismatch},       {"42K09", ErrorCode::kTypeMismatch},
      {"22012", ErrorCode::kDivisionByZero},     {"22018", ErrorCode::kConversionError},
      {"22P02", ErrorCode::kConversionError},    {"22007", ErrorCode::kConversionError},
      {"22003", ErrorCode::kOutOfRange},         {"42501", ErrorCode::kPermissionDenied},
      {"0A000", ErrorCode::kNotSupported},       {"57014", ErrorCode::kQueryCancelled},
  };
  if (state.size() == 5 && state.starts_with("23")) return ErrorCode::kConstraintViolation;
  auto it = kCodes.find(state);
  if (it == kCodes.end()) return std::nullopt;
  return it->second;
}

// The service's own codes, for failures that are not the statement's.
ErrorCode code_of_service_error(std::string_view code) {
  static const std::map<std::string_view, ErrorCode, std::less<>> kCodes = {
      {"CANCELLED", ErrorCode::kQueryCancelled},
      {"DEADLINE_EXCEEDED", ErrorCode::kQueryTimeout},
      {"RESOURCE_EXHAUSTED", ErrorCode::kOverloaded},
      {"TEMPORARILY_UNAVAILABLE", ErrorCode::kEngineUnavailable},
      {"SERVICE_UNDER_MAINTENANCE", ErrorCode::kEngineUnavailable},
      {"WORKSPACE_TEMPORARILY_UNAVAILABLE", ErrorCode::kEngineUnavailable},
      {"PERMISSION_DENIED", ErrorCode::kPermissionDenied},
      {"UNAUTHENTICATED", ErrorCode::kPermissionDenied},
  };
  auto it = kCodes.find(code);
  return it == kCodes.end() ? ErrorCode::kEngineError : it->second;
}

}  // namespace

ColumnType column_type(std::string_view type_name, std::string_view type_text, std::optional<int64_t> precision,
                       std::optional<int64_t> scale) {
  ColumnType out;
  out.id = type_name.empty() ? TypeId::kOther : type_id(ascii_lower(type_name));
  if (out.id == TypeId::kOther && !type_text.empty()) out.id = type_id(base_type(type_text));
  out.sql_name = type_text.empty() ? std::string(type_name) : std::string(type_text);  // Databricks' spelling
  if (out.id == TypeId::kDecimal) {
    if (!precision || !scale) {
      if (auto args = decimal_arguments(type_text)) {
        precision = args->first;
        scale = args->second;
      }
    }
    // DECIMAL without arguments is DECIMAL(10,0).
    out.precision = static_cast<uint8_t>(std::clamp<int64_t>(precision.value_or(10), 1, 38));
    out.scale = static_cast<uint8_t>(std::clamp<int64_t>(scale.value_or(0), 0, out.precision));
  }
  return out;
}

std::optional<int64_t> parse_date(std::string_view text) {
  auto days = take_date(text);
  return days && text.empty() ? days : std::nullopt;
}

std::optional<int64_t> parse_timestamp(std::string_view text, bool zoned) {
  auto days = take_date(text);
  if (!days || !(take_char(text, 'T') || take_char(text, ' '))) return std::nullopt;
  auto time = take_time(text);
  if (!time) return std::nullopt;
  int64_t offset = 0;
  if (!text.empty()) {
    if (!zoned) return std::nullopt;
    auto parsed = take_offset(text);
    if (!parsed || !text.empty()) return std::nullopt;
    offset = *parsed;
  }
  return (*days * kSecondsPerDay - offset) * kMicrosPerSecond + *time;
}

std::optional<double> parse_double(std::string_view text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity" || text == "+Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  if (text.starts_with('+')) text.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t padding = 0;  // EVP_DecodeBlock counts the bytes of '=' padding as zeros
  for (size_t i = text.size(); i > 0 && padding < 2 && text[i - 1] == '='; --i) ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

uint32_t RewrittenStatement::to_original(uint32_t sent) const {
  int64_t delta = 0;
  for (const auto& e : edits) {
    if (sent < e.sent_at) break;
    if (sent < e.sent_at + e.sent_len) return e.orig_at;
    delta += static_cast<int64_t>(e.sent_len) - static_cast<int64_t>(e.orig_len);
  }
  return static_cast<uint32_t>(std::max<int64_t>(0, static_cast<int64_t>(sent) - delta));
}

Result<RewrittenStatement> rewrite_parameters(std::string_view sql, size_t param_count) {
  RewrittenStatement out;
  out.sql.reserve(sql.size() + 2 * param_count);
  uint32_t orig_cp = 0;
  uint32_t sent_cp = 0;
  size_t questions = 0;
  int64_t max_dollar = 0;
  bool dollars = false;
  auto copy = [&](size_t from, size_t to) {
    for (size_t k = from; k < to; ++k) {
      out.sql.push_back(sql[k]);
      if (!is_continuation(sql[k])) {
        ++orig_cp;
        ++sent_cp;
      }
    }
  };
  auto emit = [&](int64_t number, size_t orig_len) {
    const std::string marker = fmt::format(":p{}", number);
    out.edits.push_back({sent_cp, static_cast<uint32_t>(marker.size()), orig_cp, static_cast<uint32_t>(orig_len)});
    out.sql += marker;
    sent_cp += static_cast<uint32_t>(marker.size());
    orig_cp += static_cast<uint32_t>(orig_len);
  };
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    size_t end = i + 1;
    if (c == '\'' || c == '"' || c == '`') {
      end = skip_quoted(sql, i);
    } else if (c == '-' && next == '-') {
      end = std::min(sql.find('\n', i), sql.size());
    } else if (c == '/' && next == '*') {
      end = skip_block_comment(sql, i);
    } else if (c == '$' && next == '$') {  // $$ ... $$ bodies of functions
      const size_t close = sql.find("$$", i + 2);
      end = close == std::string_view::npos ? sql.size() : close + 2;
    } else if (c == '?') {
      emit(static_cast<int64_t>(++questions), 1);
      ++i;
      continue;
    } else if (c == '$' && std::isdigit(static_cast<unsigned char>(next)) && (i == 0 || !is_identifier_char(sql[i - 1]))) {
      std::string_view digits = sql.substr(i + 1);
      const size_t before = digits.size();
      auto number = take_number(digits);
      const size_t len = 1 + (before - digits.size());
      if (!number || *number < 1) {
        return Error(ErrorCode::kInvalidParameter, "parameter markers are numbered from $1");
      }
      dollars = true;
      max_dollar = std::max(max_dollar, *number);
      emit(*number, len);
      i += len;
      continue;
    }
    copy(i, end);
    i = end;
  }
  if (questions > 0 && dollars) {
    return Error(ErrorCode::kInvalidParameter, "the statement mixes ? and $n parameter markers; use one kind");
  }
  const size_t markers = dollars ? static_cast<size_t>(max_dollar) : questions;
  if (markers != param_count) {
    return Error(ErrorCode::kInvalidParameter,
                 fmt::format("the statement has {} parameter marker{} but {} value{} were given", markers,
                             markers == 1 ? "" : "s", param_count, param_count == 1 ? "" : "s"));
  }
  return out;
}

ParameterText parameter_text(const ParamValue& value) {
  return std::visit(
      [](const auto& v) -> ParameterText {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return {"", std::nullopt};
        } else if constexpr (std::is_same_v<T, bool>) {
          return {"BOOLEAN", std::string(v ? "true" : "false")};
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return {"BIGINT", std::to_string(v)};  // typed as DuckDB binds it
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isnan(v)) return {"DOUBLE", std::string("NaN")};
          if (std::isinf(v)) return {"DOUBLE", std::string(v > 0 ? "Infinity" : "-Infinity")};
          return {"DOUBLE", fmt::format("{}", v)};  // shortest text that reads back as the same double
        } else {
          return {"STRING", v};
        }
      },
      value);
}

ErrorCode code_of_statement_error(std::string_view message, std::string_view error_code, std::string_view sql_state) {
  std::string_view m = message;
  while (!m.empty() && std::isspace(static_cast<unsigned char>(m.front()))) m.remove_prefix(1);
  if (m.starts_with('[')) {
    const size_t close = m.find(']');
    if (close != std::string_view::npos) {
      std::string_view error_class = m.substr(1, close - 1);
      error_class = error_class.substr(0, error_class.find('.'));  // UNRESOLVED_COLUMN.WITH_SUGGESTION
      if (auto code = code_of_class(error_class)) return *code;
    }
  }
  std::string_view state = sql_state;
  if (state.empty()) {  // messages also end with "SQLSTATE: 42P01"
    const size_t at = message.find("SQLSTATE: ");
    if (at != std::string_view::npos) state = message.substr(at + 10, 5);
  }
  if (auto code = code_of_sql_state(state)) return *code;
  return code_of_service_error(error_code);
}

std::optional<Location> find_location(std::string_view message) {
  for (size_t at = message.find("line "); at != std::string_view::npos; at = message.find("line ", at + 1)) {
    std::string_view rest = message.substr(at + 5);
    auto line = take_number(rest);
    if (!line) continue;
    take_char(rest, ',');
    if (!rest.starts_with(" pos ")) continue;
    rest.remove_prefix(5);
    auto pos = take_number(rest);
    if (!pos) continue;
    return Location{*line, *pos};
  }
  return std::nullopt;
}

std::optional<uint32_t> location_to_offset(std::string_view sql, const Location& location) {
  if (location.line < 1 || location.pos < 0) return std::nullopt;
  size_t at = 0;
  for (int64_t l = 1; l < location.line; ++l) {
    const size_t newline = sql.find('\n', at);
    if (newline == std::string_view::npos) return std::nullopt;
    at = newline + 1;
  }
  uint32_t chars = static_cast<uint32_t>(std::count_if(sql.begin(), sql.begin() + static_cast<std::ptrdiff_t>(at),
                                                       [](char c) { return !is_continuation(c); }));
  for (int64_t p = 0; p < location.pos; ++p) {
    if (at >= sql.size() || sql[at] == '\n') return std::nullopt;
    at += utf8_length(static_cast<unsigned char>(sql[at]));
    ++chars;
  }
  return chars;
}

std::string redact(std::string_view text, std::string_view secret) {
  std::string out(text);
  if (secret.empty()) return out;
  for (size_t at = out.find(secret); at != std::string::npos; at = out.find(secret, at)) {
    out.replace(at, secret.size(), "[REDACTED]");
    at += 10;
  }
  return out;
}

}  // namespace lakerouter::databricks_internal
