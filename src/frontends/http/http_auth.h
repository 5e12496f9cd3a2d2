// Authentication of the HTTP API (docs/api.md): every endpoint but GET /health and GET /ready
// needs credentials (Authorization: Basic or Bearer) unless `auth.anonymous` admits the client.
// The Trino protocol authenticates on its own (frontends/trino/), with its own challenge.
// Thread-safety: stateless; the authenticator is thread-safe.
#pragma once

#include <string_view>

#include "frontends/http/exchange.h"
#include "governance/authenticator.h"

namespace lakerouter::http {

// True for the endpoints that stay open without credentials (liveness and readiness probes).
bool is_open_endpoint(std::string_view path);

// Sets the exchange's identity and returns true when the request may go on; otherwise answers
// 401 UNAUTHENTICATED with a WWW-Authenticate challenge and returns false.
bool authenticate(Exchange& exchange, const governance::Authenticator& authenticator);

}  // namespace lakerouter::http
