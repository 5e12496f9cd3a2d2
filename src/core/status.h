// Errors and results shared by every module.
//
// An Error carries a stable machine code (never reworded once shipped: clients match on it), a
// message a person can act on, and for SQL errors the 0-based character offset into the statement.
// Modules return Result<T> / Status instead of letting exceptions cross their boundaries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace lakerouter {

enum class ErrorCode : uint8_t {
  // Request shape (front-end) errors.
  kInvalidRequest,
  kInvalidJson,
  kInvalidUtf8,
  kEmptySql,
  kBodyTooLarge,
  kHeadersTooLarge,
  kUnsupportedMediaType,
  kNotFound,
  kMethodNotAllowed,
  kRequestTimeout,
  // SQL errors: the statement is wrong; the user fixes it.
  kSyntaxError,
  kMultipleStatements,
  kUnknownTable,
  kUnknownObject,
  kBindError,
  kInvalidParameter,
  kInvalidInput,
  kTypeMismatch,
  kConversionError,
  kDivisionByZero,
  kOutOfRange,
  kConstraintViolation,
  kNotSupported,
  kPermissionDenied,
  // Execution errors: the statement was fine, running it was not.
  kQueryTimeout,
  kQueryCancelled,
  kOutOfMemory,
  kEngineUnavailable,
  kOverloaded,
  kEngineError,
  kResultTooLarge,  // a stored (asynchronous) result beyond its configured cap
  // Configuration and internal errors.
  kConfigError,
  kIoError,
  kInternal,
  // Appended, not grouped: numeric values appear in Trino error codes (trino_encoding.cpp).
  kUnauthenticated,  // no credentials, or wrong ones: HTTP 401, SQLSTATE 28000/28P01
  // New codes go above this line.
  kLastCode = kUnauthenticated,
};

// The stable wire name of a code, e.g. "SYNTAX_ERROR".
std::string_view error_code_name(ErrorCode code);
// The code with that wire name, if any.
std::optional<ErrorCode> error_code_from_name(std::string_view name);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::optional<uint32_t> position;  // 0-based character offset into the SQL text, when known

  Error() = default;
  Error(ErrorCode c, std::string msg, std::optional<uint32_t> pos = std::nullopt)
      : code(c), message(std::move(msg)), position(pos) {}
};

// Result<T>: a value or an Error. A minimal stand-in for C++23 std::expected.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<Error>(state_); }
  Error&& error() && { return std::get<Error>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

// Status: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  static Status Ok() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

}  // namespace lakerouter

// Returns the error of a Status-returning expression from the enclosing function (which returns
// Status or any Result<T>).
#define LR_TRY(expr)                                      \
  do {                                                    \
    if (::lakerouter::Status lr_try_status_ = (expr); !lr_try_status_.ok()) return lr_try_status_.error(); \
  } while (0)
