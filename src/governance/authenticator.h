// Authenticator: who is asking. Every front-end turns the credentials a client presents into an
// Identity here, or refuses the client:
//   - passwords (HTTP and Trino-protocol Basic) against the user's password or SCRAM verifier;
//   - HTTP API tokens (Bearer) against the SHA-256 hashes configured per user (`api_tokens`);
//   - JSON Web Tokens (Bearer), signed with the configured key (`auth.jwt`), checked with libjwt;
//   - no credentials at all: the "anonymous" identity, only where `auth.anonymous` admits the
//     client's address.
// Errors are kUnauthenticated and never contain the presented secret.
// Thread-safety: immutable after create(); every method may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "governance/identity.h"
#include "governance/scram_verifier.h"
#include "governance/users.h"

namespace lakerouter::governance {

// `auth.jwt`: bearer tokens issued by an identity provider.
struct JwtOptions {
  bool enabled = false;
  std::string algorithm;        // HS256/384/512, RS256/384/512, ES256/384/512
  std::string key;              // HS*: the shared secret; RS*/ES*: the public key (PEM)
  std::string issuer;           // required `iss` when set
  std::string audience;         // required in `aud` (string or list) when set
  std::string user_claim = "sub";
  std::string groups_claim = "groups";
  std::chrono::seconds leeway{60};  // clock skew allowed for exp and nbf
};

struct AuthOptions {
  AnonymousAccess anonymous = AnonymousAccess::kNone;
  bool anonymous_by_default = false;  // chosen because the configuration says nothing (the demo)
  JwtOptions jwt;
};

class Authenticator {
 public:
  // Parses the users' SCRAM verifiers and the JWT key; errors are configuration errors.
  // `users` must outlive the authenticator.
  static Result<std::unique_ptr<Authenticator>> create(AuthOptions options, const UserDirectory& users);
  Authenticator(AuthOptions options, const UserDirectory& users);  // unchecked: use create()
  ~Authenticator();
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  const AuthOptions& options() const { return options_; }

  // The anonymous identity when `peer` may connect without credentials, else kUnauthenticated.
  Result<Identity> anonymous(std::string_view peer) const;
  bool anonymous_allowed(std::string_view peer) const;

  // A user name and password. Unknown users take as long as known ones.
  Result<Identity> password(std::string_view user, std::string_view password) const;
  // An API token or, when `auth.jwt` is configured and the token has a JWT's shape, a JWT.
  Result<Identity> bearer(std::string_view token) const;
  Result<Identity> api_token(std::string_view token) const;
  Result<Identity> jwt(std::string_view token) const;
  // The value of an HTTP Authorization header ("Basic ..." or "Bearer ..."); empty: anonymous(peer).
  Result<Identity> http_authorization(std::string_view header, std::string_view peer) const;

  // The WWW-Authenticate challenge for a 401 ("Basic realm=..., Bearer ...").
  static std::string challenge();

 private:
  Identity account_identity(const UserAccount& account, std::string method) const;

  AuthOptions options_;
  const UserDirectory& users_;
  std::map<std::string, ScramVerifier, std::less<>> verifiers_;  // users with a scram_sha256 verifier
  ScramVerifier decoy_;  // run for unknown users so that timing does not tell names apart
};

// `token` without the spaces, tabs, CRs and LFs around it: what bearer() compares, and what
// `lakerouter hash-token` hashes.
std::string_view trim_token(std::string_view token);

// Splits "user:password" (the decoded Basic credentials); nullopt without a colon.
std::optional<std::pair<std::string, std::string>> decode_basic(std::string_view encoded);

}  // namespace lakerouter::governance
