#include "frontends/pgwire/pg_scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <charconv>

namespace lakerouter::pgwire {
namespace {

constexpr size_t kKeyLen = 32;

std::string hmac(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out.data(), &len);
  return {reinterpret_cast<const char*>(out.data()), len};
}

std::string sha256(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return {reinterpret_cast<const char*>(out.data()), out.size()};
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // Without randomness SCRAM is unsafe; a fixed value would be worse than failing loudly later.
    out.clear();
  }
  return out;
}

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

}  // namespace

std::string base64_encode(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * (text.size() / 4) + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  for (size_t i = text.size(); i > 0 && text[i - 1] == '=' && len > 0; --i) --len;
  out.resize(len);
  return out;
}

Result<ScramVerifier> ScramVerifier::parse(std::string_view text) {
  const auto bad = [&] { return Error(ErrorCode::kConfigError, "a scram_sha256 verifier must read "
                                                               "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>"); };
  constexpr std::string_view kPrefix = "SCRAM-SHA-256$";
  if (!text.starts_with(kPrefix)) return bad();
  text.remove_prefix(kPrefix.size());
  const size_t colon1 = text.find(':');
  const size_t dollar = text.find('$');
  if (colon1 == std::string_view::npos || dollar == std::string_view::npos || dollar < colon1) return bad();
  const size_t colon2 = text.find(':', dollar);
  if (colon2 == std::string_view::npos) return bad();
  ScramVerifier v;
  auto iter = text.substr(0, colon1);
  if (std::from_chars(iter.data(), iter.data() + iter.size(), v.iterations).ec != std::errc() || v.iterations < 1) {
    return bad();
  }
  auto salt = base64_decode(text.substr(colon1 + 1, dollar - colon1 - 1));
  auto stored = base64_decode(text.substr(dollar + 1, colon2 - dollar - 1));
  auto server = base64_decode(text.substr(colon2 + 1));
  if (!salt || !stored || !server || salt->empty() || stored->size() != kKeyLen || server->size() != kKeyLen) return bad();
  v.salt = std::move(*salt);
  v.stored_key = std::move(*stored);
  v.server_key = std::move(*server);
  return v;
}

Result<ScramVerifier> ScramVerifier::derive(std::string_view password, std::string salt, int iterations) {
  if (salt.empty()) salt = random_bytes(16);
  if (salt.empty()) return Error(ErrorCode::kInternal, "no random bytes for a SCRAM salt");
  std::array<unsigned char, kKeyLen> salted{};
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                        EVP_sha256(), static_cast<int>(salted.size()), salted.data()) != 1) {
    return Error(ErrorCode::kInternal, "PBKDF2 failed");
  }
  const std::string_view salted_view(reinterpret_cast<const char*>(salted.data()), salted.size());
  ScramVerifier v;
  v.iterations = iterations;
  v.salt = std::move(salt);
  v.stored_key = sha256(hmac(salted_view, "Client Key"));
  v.server_key = hmac(salted_view, "Server Key");
  OPENSSL_cleanse(salted.data(), salted.size());
  return v;
}

std::string ScramVerifier::to_string() const {
  return "SCRAM-SHA-256$" + std::to_string(iterations) + ":" + base64_encode(salt) + "$" + base64_encode(stored_key) +
         ":" + base64_encode(server_key);
}

ScramExchange::ScramExchange(const ScramVerifier* verifier, std::string_view user, std::string server_nonce)
    : server_nonce_(std::move(server_nonce)) {
  if (verifier) {
    verifier_ = *verifier;
    known_ = true;
  } else {
    // A salt that looks stable per user name (so probing twice gives the same answer) and keys
    // that no proof matches.
    verifier_.salt = sha256(std::string("lakerouter-unknown-user:") + std::string(user)).substr(0, 16);
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
