#include "frontends/http/exchange.h"

#include "frontends/http/json_result_writer.h"

namespace lakerouter::http {

unsigned http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnknownTable:
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kMethodNotAllowed: return 405;
    case ErrorCode::kRequestTimeout: return 408;
    case ErrorCode::kBodyTooLarge: return 413;
    case ErrorCode::kResultTooLarge: return 507;  // the stored result's cap: stream it instead
    case ErrorCode::kHeadersTooLarge: return 431;
    case ErrorCode::kUnsupportedMediaType: return 415;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kConstraintViolation: return 409;
    case ErrorCode::kQueryCancelled: return 499;  // client closed request (nginx convention)
    case ErrorCode::kQueryTimeout: return 504;
    case ErrorCode::kOutOfMemory:
    case ErrorCode::kEngineUnavailable:
    case ErrorCode::kOverloaded: return 503;
    case ErrorCode::kEngineError:
    case ErrorCode::kIoError: return 502;
    case ErrorCode::kConfigError:
    case ErrorCode::kInternal: return 500;
    default: return 400;
  }
}

bool respond_error(Exchange& exchange, const Error& error, std::string_view query_id) {
  // An engine at its admission limit frees up within seconds: tell clients when to come back.
  if (error.code == ErrorCode::kOverloaded) exchange.add_header("Retry-After", "1");
  return exchange.respond(http_status(error.code), "application/json", error_json(error, query_id));
}

}  // namespace lakerouter::http
