// Password verifiers and the hashing primitives behind them, shared by every front-end: the
// PostgreSQL protocol's SCRAM exchange (frontends/pgwire/pg_scram.h) and password checks for HTTP
// Basic authentication (governance/authenticator.h). Verifiers use PostgreSQL's
// "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>" form (RFC 5802 / RFC 7677).
// All primitives (SHA-256, HMAC, PBKDF2, random, base64) come from OpenSSL.
// Thread-safety: ScramVerifier is immutable once built; the free functions are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lakerouter {

struct ScramVerifier {
  int iterations = 4096;
  std::string salt;        // raw bytes
  std::string stored_key;  // raw 32 bytes
  std::string server_key;  // raw 32 bytes

  // Parses PostgreSQL's verifier text.
  static Result<ScramVerifier> parse(std::string_view text);
  // Derives one from a plain password (PBKDF2-HMAC-SHA256). Empty salt: 16 random bytes.
  static Result<ScramVerifier> derive(std::string_view password, std::string salt = {}, int iterations = 4096);
  std::string to_string() const;
  // True when `password` derives this verifier's StoredKey (compared in constant time).
  bool matches(std::string_view password) const;
};

std::string base64_encode(std::string_view raw);
std::optional<std::string> base64_decode(std::string_view text);

std::string sha256(std::string_view data);                          // raw 32 bytes
std::string sha256_hex(std::string_view data);                      // 64 lower-case hex digits
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes
// `n` bytes from OpenSSL's generator; empty when it fails (callers must refuse to go on).
std::string random_bytes(size_t n);
// Equal sizes and bytes, in time that depends only on the size.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace lakerouter
