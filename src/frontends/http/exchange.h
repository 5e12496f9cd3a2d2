// Exchange: one HTTP request and its response, as handlers see it. The transport behind it
// (Boost.Beast in http_server.cpp) owns sockets, parsing limits and timeouts.
// Not thread-safe: one handler thread drives an exchange.
#pragma once

#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "core/cancel_token.h"
#include "core/status.h"
#include "governance/identity.h"

namespace lakerouter::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

class Exchange {
 public:
  virtual ~Exchange() = default;

  virtual const Request& request() const = 0;
  virtual const std::string& peer() const = 0;

  // Cancelled by the transport when the client disconnects while the handler runs, so that a
  // query nobody waits for stops on its engine.
  virtual CancelToken& cancel_token() = 0;

  // An extra header for the next response (e.g. Allow on 405).
  virtual void add_header(std::string name, std::string value) = 0;

  // A whole response. Returns false when the client is gone.
  virtual bool respond(unsigned status, std::string_view content_type, std::string body) = 0;

  // A streamed response (chunked transfer encoding): begin, any number of writes, end.
  virtual bool begin_stream(unsigned status, std::string_view content_type) = 0;
  virtual bool write(std::string_view data) = 0;
  virtual bool end_stream() = 0;

  // Who sent the request, once authenticated (frontends/http/http_auth.h); anonymous before.
  const governance::Identity& identity() const { return identity_; }
  void set_identity(governance::Identity identity) { identity_ = std::move(identity); }

 private:
  governance::Identity identity_;
};

// The HTTP status for an error code (400 for anything the client must fix, 5xx only for
// failures on our side or an engine's).
unsigned http_status(ErrorCode code);

// Responds with the error document and its status.
bool respond_error(Exchange& exchange, const Error& error, std::string_view query_id = {});

}  // namespace lakerouter::http
