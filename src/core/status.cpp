#include "core/status.h"

namespace lakerouter {

std::optional<ErrorCode> error_code_from_name(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(ErrorCode::kLastCode); ++i) {
    const auto code = static_cast<ErrorCode>(i);
    if (error_code_name(code) == name) return code;
  }
  return std::nullopt;
}

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidRequest: return "INVALID_REQUEST";
    case ErrorCode::kInvalidJson: return "INVALID_JSON";
    case ErrorCode::kInvalidUtf8: return "INVALID_UTF8";
    case ErrorCode::kEmptySql: return "EMPTY_SQL";
    case ErrorCode::kBodyTooLarge: return "BODY_TOO_LARGE";
    case ErrorCode::kHeadersTooLarge: return "HEADERS_TOO_LARGE";
    case ErrorCode::kUnsupportedMediaType: return "UNSUPPORTED_MEDIA_TYPE";
    case ErrorCode::kNotFound: return "NOT_FOUND";
    case ErrorCode::kMethodNotAllowed: return "METHOD_NOT_ALLOWED";
    case ErrorCode::kRequestTimeout: return "REQUEST_TIMEOUT";
    case ErrorCode::kSyntaxError: return "SYNTAX_ERROR";
    case ErrorCode::kMultipleStatements: return "MULTIPLE_STATEMENTS";
    case ErrorCode::kUnknownTable: return "UNKNOWN_TABLE";
    case ErrorCode::kUnknownObject: return "UNKNOWN_OBJECT";
    case ErrorCode::kBindError: return "BIND_ERROR";
    case ErrorCode::kInvalidParameter: return "INVALID_PARAMETER";
    case ErrorCode::kInvalidInput: return "INVALID_INPUT";
    case ErrorCode::kTypeMismatch: return "TYPE_MISMATCH";
    case ErrorCode::kConversionError: return "CONVERSION_ERROR";
    case ErrorCode::kDivisionByZero: return "DIVISION_BY_ZERO";
    case ErrorCode::kOutOfRange: return "OUT_OF_RANGE";
    case ErrorCode::kConstraintViolation: return "CONSTRAINT_VIOLATION";
    case ErrorCode::kNotSupported: return "NOT_SUPPORTED";
    case ErrorCode::kPermissionDenied: return "PERMISSION_DENIED";
    case ErrorCode::kQueryTimeout: return "QUERY_TIMEOUT";
    case ErrorCode::kQueryCancelled: return "QUERY_CANCELLED";
    case ErrorCode::kOutOfMemory: return "OUT_OF_MEMORY";
    case ErrorCode::kEngineUnavailable: return "ENGINE_UNAVAILABLE";
    case ErrorCode::kOverloaded: return "OVERLOADED";
    case ErrorCode::kEngineError: return "ENGINE_ERROR";
    case ErrorCode::kResultTooLarge: return "RESULT_TOO_LARGE";
    case ErrorCode::kConfigError: return "CONFIG_ERROR";
    case ErrorCode::kIoError: return "IO_ERROR";
    case ErrorCode::kInternal: return "INTERNAL";
    case ErrorCode::kUnauthenticated: return "UNAUTHENTICATED";
  }
  return "INTERNAL";
}

}  // namespace lakerouter
