// TrinoFrontend: the Trino client protocol on the HTTP port (POST /v1/statement, nextUri
// paging, DELETE to cancel, GET /v1/info), so that the trino CLI, the Python client, the JDBC
// driver and Trino Gateway treat lakerouter as a Trino coordinator. See docs/trino-protocol.md.
// Authentication: X-Trino-User with Basic (password) or Bearer (API token or JWT) credentials, or
// none where auth.anonymous admits the client (it then runs as "anonymous"); 401 with
// WWW-Authenticate: Basic otherwise. Paging and cancelling a query needs its owner's credentials.
// Thread-safety: handle() is thread-safe.
#pragma once

#include <memory>

#include "frontends/http/exchange.h"
#include "frontends/trino/trino_protocol_options.h"
#include "governance/authenticator.h"
#include "server/pipeline.h"

namespace lakerouter::trino_protocol {

class TrinoFrontend {
 public:
  // The pipeline and authenticator must outlive the front-end.
  TrinoFrontend(TrinoProtocolOptions options, Pipeline& pipeline, const governance::Authenticator& authenticator);
  ~TrinoFrontend();

  // Handles the request when it belongs to the Trino protocol (/v1/statement..., /v1/info...)
  // and returns true; returns false (and touches nothing) for any other request.
  bool handle(http::Exchange& exchange);
  // Cancels every query still open.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lakerouter::trino_protocol
