#include "frontends/pgwire/pg_scram.h"

#include <openssl/crypto.h>

namespace lakerouter::pgwire {
namespace {

constexpr size_t kKeyLen = 32;

std::string hmac(std::string_view key, std::string_view data) { return hmac_sha256(key, data); }

// The value of attribute `name` ("r", "c", "p", ...) in a comma-separated SCRAM message.
std::optional<std::string_view> attribute(std::string_view msg, char name) {
  size_t pos = 0;
  while (pos <= msg.size()) {
    size_t comma = msg.find(',', pos);
    if (comma == std::string_view::npos) comma = msg.size();
    auto part = msg.substr(pos, comma - pos);
    if (part.size() >= 2 && part[0] == name && part[1] == '=') return part.substr(2);
    pos = comma + 1;
  }
  return std::nullopt;
}

// The printable nonce characters of RFC 5802 (no ','): base64 of random bytes qualifies.
std::string make_nonce() { return base64_encode(random_bytes(18)); }

// The salt shown for an unknown user: stable per name for this process (probing twice gives the
// same answer, as for a real user), keyed with a secret made once per process so that nobody can
// compute it and tell unknown names from known ones. 16 bytes, as derived verifiers have.
std::string decoy_salt(std::string_view user) {
  static const std::string key = random_bytes(32);
  return hmac_sha256(key, user).substr(0, 16);
}

}  // namespace

ScramExchange::ScramExchange(const ScramVerifier* verifier, std::string_view user, std::string server_nonce)
    : server_nonce_(std::move(server_nonce)) {
  if (verifier) {
    verifier_ = *verifier;
    known_ = true;
  } else {
    // A salt like a real one, keys that no proof matches, and the default iteration count.
    verifier_.salt = decoy_salt(user);
    verifier_.stored_key = random_bytes(kKeyLen);
    verifier_.server_key = random_bytes(kKeyLen);
  }
  if (server_nonce_.empty()) server_nonce_ = make_nonce();
}

Result<std::string> ScramExchange::first(std::string_view client_first) {
  // gs2-header: "n,," (no channel binding) or "y,," (client supports it, server did not offer).
  if (client_first.starts_with("p=")) {
    return Error(ErrorCode::kInvalidRequest, "SCRAM channel binding is not supported; use SCRAM-SHA-256");
  }
  if (!(client_first.starts_with("n,") || client_first.starts_with("y,"))) {
    return Error(ErrorCode::kInvalidRequest, "malformed SCRAM client-first-message");
  }
  const size_t second_comma = client_first.find(',', 2);
  if (second_comma == std::string_view::npos) return Error(ErrorCode::kInvalidRequest, "malformed SCRAM client-first-message");
  gs2_header_ = std::string(client_first.substr(0, second_comma + 1));
  client_first_bare_ = std::string(client_first.substr(second_comma + 1));
  auto client_nonce = attribute(client_first_bare_, 'r');
  if (!client_nonce || client_nonce->empty()) return Error(ErrorCode::kInvalidRequest, "SCRAM client nonce missing");
  nonce_ = std::string(*client_nonce) + server_nonce_;
  server_first_ = "r=" + nonce_ + ",s=" + base64_encode(verifier_.salt) + ",i=" + std::to_string(verifier_.iterations);
  return server_first_;
}

Result<std::string> ScramExchange::final(std::string_view client_final) {
  if (server_first_.empty()) return Error(ErrorCode::kInvalidRequest, "SCRAM final message before the first");
  const size_t proof_at = client_final.rfind(",p=");
  if (proof_at == std::string_view::npos) return Error(ErrorCode::kInvalidRequest, "SCRAM proof missing");
  const auto without_proof = client_final.substr(0, proof_at);
  auto channel = attribute(without_proof, 'c');
  auto nonce = attribute(without_proof, 'r');
  auto proof = base64_decode(client_final.substr(proof_at + 3));
  if (!channel || !nonce || !proof) return Error(ErrorCode::kInvalidRequest, "malformed SCRAM client-final-message");
  if (base64_decode(*channel) != gs2_header_ || *nonce != nonce_) {
    return Error(ErrorCode::kInvalidRequest, "SCRAM channel binding or nonce mismatch");
  }
  const std::string auth_message = client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  const std::string client_signature = hmac(verifier_.stored_key, auth_message);
  if (proof->size() != client_signature.size()) return Error(ErrorCode::kPermissionDenied, "wrong SCRAM proof");
  std::string client_key(client_signature.size(), '\0');
  for (size_t i = 0; i < client_key.size(); ++i) client_key[i] = static_cast<char>((*proof)[i] ^ client_signature[i]);
  const std::string stored = sha256(client_key);
  if (!known_ || CRYPTO_memcmp(stored.data(), verifier_.stored_key.data(), stored.size()) != 0) {
    return Error(ErrorCode::kPermissionDenied, "wrong SCRAM proof");
  }
  return "v=" + base64_encode(hmac(verifier_.server_key, auth_message));
}

}  // namespace lakerouter::pgwire
