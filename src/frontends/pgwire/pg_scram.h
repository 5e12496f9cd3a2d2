// SCRAM-SHA-256 (RFC 5802 / RFC 7677) on the server side, as PostgreSQL speaks it: verifiers in
// PostgreSQL's "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>" form, and the
// two-round exchange. No channel binding (only SCRAM-SHA-256 is advertised, never -PLUS).
// Thread-safety: one ScramExchange per connection.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "governance/scram_verifier.h"

namespace lakerouter::pgwire {

// The verifier and primitives live in governance/ (HTTP Basic authentication checks passwords
// against the same verifiers); the names stay reachable here.
using lakerouter::base64_decode;
using lakerouter::base64_encode;
using lakerouter::ScramVerifier;

// One authentication exchange. Unknown users run the same exchange against a made-up verifier
// and fail at the proof, so that the answer does not reveal which user names exist.
class ScramExchange {
 public:
  // `verifier` null: the user is unknown. `server_nonce` empty: a random one (tests fix it).
  ScramExchange(const ScramVerifier* verifier, std::string_view user, std::string server_nonce = {});

  // The client-first-message -> the server-first-message, or an error (malformed message,
  // channel binding asked for).
  Result<std::string> first(std::string_view client_first);
  // The client-final-message -> the server-final-message ("v=..."); an error when the proof is
  // wrong (kPermissionDenied) or the message malformed (kInvalidRequest).
  Result<std::string> final(std::string_view client_final);

 private:
  ScramVerifier verifier_;
  bool known_ = false;
  std::string server_nonce_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;
  std::string gs2_header_;
};

}  // namespace lakerouter::pgwire
