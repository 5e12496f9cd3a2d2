#include "frontends/http/http_auth.h"

#include <spdlog/spdlog.h>

namespace lakerouter::http {

bool is_open_endpoint(std::string_view path) { return path == "/health" || path == "/ready"; }

bool authenticate(Exchange& exchange, const governance::Authenticator& authenticator) {
  const auto& req = exchange.request();
  const std::string_view target(req.target().data(), req.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  if (is_open_endpoint(path)) return true;
  const auto header = req[boost::beast::http::field::authorization];
  auto identity = authenticator.http_authorization(std::string_view(header.data(), header.size()), exchange.peer());
  if (!identity.ok()) {
    // The reason names no secret; the header itself is never logged.
    spdlog::info("HTTP {} {} from {}: 401: {}", std::string_view(req.method_string()), path, exchange.peer(),
                 identity.error().message);
    exchange.add_header("WWW-Authenticate", governance::Authenticator::challenge());
    respond_error(exchange, identity.error());
    return false;
  }
  exchange.set_identity(std::move(*identity));
  return true;
}

}  // namespace lakerouter::http
