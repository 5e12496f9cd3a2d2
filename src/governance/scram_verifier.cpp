#include "governance/scram_verifier.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <charconv>

namespace lakerouter {
namespace {
constexpr size_t kKeyLen = 32;
}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
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

std::string sha256_hex(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string raw = sha256(data);
  std::string out;
  out.reserve(raw.size() * 2);
  for (const char c : raw) {
    const auto b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // Without randomness salts and nonces are unsafe; a fixed value would be worse than failing.
    out.clear();
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

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
  v.stored_key = sha256(hmac_sha256(salted_view, "Client Key"));
  v.server_key = hmac_sha256(salted_view, "Server Key");
  OPENSSL_cleanse(salted.data(), salted.size());
  return v;
}

std::string ScramVerifier::to_string() const {
  return "SCRAM-SHA-256$" + std::to_string(iterations) + ":" + base64_encode(salt) + "$" + base64_encode(stored_key) +
         ":" + base64_encode(server_key);
}

bool ScramVerifier::matches(std::string_view password) const {
  auto derived = derive(password, salt, iterations);
  return derived.ok() && constant_time_equal(derived->stored_key, stored_key);
}

}  // namespace lakerouter
