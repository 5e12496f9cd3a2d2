// Options of the PostgreSQL wire protocol front-end (configuration `server.pgwire`).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "governance/identity.h"

namespace lakerouter::pgwire {

enum class AuthMethod {
  kScramSha256,  // the default: passwords never cross the wire
  kPassword,     // cleartext password; refused at start-up unless TLS is configured
  kTrust,        // clients auth.anonymous admits need no password, but a name that is no configured
                 // account runs as "anonymous"; accounts, and every other client, use SCRAM-SHA-256
};

struct PgwireOptions {
  bool enabled = true;
  std::string host = "127.0.0.1";
  int port = 5433;                  // 0 picks a free port
  std::string tls_cert;             // PEM files; both set: SSLRequest is accepted and TLS is used
  std::string tls_key;
  bool require_tls = false;         // refuse clients that do not ask for TLS (only with a certificate)
  AuthMethod auth = AuthMethod::kScramSha256;
  // `auth.anonymous`: admitted clients may log in as "anonymous" (an unconfigured name) without a password.
  governance::AnonymousAccess anonymous = governance::AnonymousAccess::kNone;
  size_t max_message_bytes = size_t{64} << 20;  // a longer declared message length closes the connection
  int max_connections = 256;
  int io_threads = 2;
  std::chrono::milliseconds startup_timeout{10000};  // from connect to authenticated
};

}  // namespace lakerouter::pgwire
