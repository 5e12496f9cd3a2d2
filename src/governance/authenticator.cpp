#include "governance/authenticator.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>
#include <optional>

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/ascii.h"

namespace lakerouter::governance {
namespace {

using json = nlohmann::json;

// Longer "tokens" are refused before any work: no real token is this long.
constexpr size_t kMaxTokenBytes = size_t{16} * 1024;

Error unauthenticated(std::string message) { return Error(ErrorCode::kUnauthenticated, std::move(message)); }

// Names longer than this are refused: they only bloat logs and audit records.
constexpr size_t kMaxUserBytes = 256;

// C0 controls, DEL and the C1 controls (UTF-8 C2 80..C2 9F): a name holding one could forge log lines.
bool has_control_characters(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9f) return true;
  }
  return false;
}

// A NumericDate claim (exp, nbf) as whole seconds since 1970, or nullopt: floats, strings and
// values outside 0..2^40 (year 36811) are refused rather than converted, which would be undefined
// or overflow.
std::optional<int64_t> seconds_claim(const json& value) {
  constexpr uint64_t kMaxSeconds = uint64_t{1} << 40;
  if (value.is_number_unsigned()) {
    const auto v = value.get<uint64_t>();
    if (v <= kMaxSeconds) return static_cast<int64_t>(v);
  } else if (value.is_number_integer()) {
    const auto v = value.get<int64_t>();
    if (v >= 0 && static_cast<uint64_t>(v) <= kMaxSeconds) return v;
  }
  return std::nullopt;
}

int64_t saturating_add(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return sum;
}

// header.payload.signature, each part base64url: the shape of a JWS in compact form.
bool looks_like_jwt(std::string_view token) {
  if (std::count(token.begin(), token.end(), '.') != 2) return false;
  return std::all_of(token.begin(), token.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

struct JwtFree {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
struct CFree {
  void operator()(char* p) const { std::free(p); }  // NOLINT(cppcoreguidelines-no-malloc): libjwt's strings
};

bool is_hmac(jwt_alg_t alg) { return alg == JWT_ALG_HS256 || alg == JWT_ALG_HS384 || alg == JWT_ALG_HS512; }

Status check_public_key(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return Error(ErrorCode::kInternal, "out of memory reading the JWT public key");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr),
                                                          &EVP_PKEY_free);
  if (!key) {
    return Error(ErrorCode::kConfigError, "'auth.jwt.public_key_file' is not a PEM public key (-----BEGIN PUBLIC "
                                          "KEY-----); export it with: openssl pkey -in key.pem -pubout");
  }
  return Status::Ok();
}

// A claim that is a string or a list of strings, as a list.
std::vector<std::string> string_list(const json& value) {
  std::vector<std::string> out;
  if (value.is_string()) out.push_back(value.get<std::string>());
  if (value.is_array()) {
    for (const auto& v : value) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

}  // namespace

std::string_view anonymous_access_name(AnonymousAccess access) {
  switch (access) {
    case AnonymousAccess::kNone: return "none";
    case AnonymousAccess::kLoopback: return "loopback";
    case AnonymousAccess::kAny: return "any";
  }
  return "none";
}

bool is_loopback_address(std::string_view peer) {
  const auto loopback = [](std::string_view text) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string(text), ec);
    if (ec) return std::optional<bool>();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
      return std::optional<bool>(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).is_loopback());
    }
    return std::optional<bool>(address.is_loopback());
  };
  if (peer.starts_with('[')) {  // [v6]:port
    const size_t close = peer.find(']');
    return close != std::string_view::npos && loopback(peer.substr(1, close - 1)).value_or(false);
  }
  // One colon: IPv4 with a port; more: a bare IPv6 address (ports come only in brackets, else
  // "::1:80" would be ambiguous).
  if (std::count(peer.begin(), peer.end(), ':') == 1) peer = peer.substr(0, peer.find(':'));
  return loopback(peer).value_or(false);
}

std::optional<std::pair<std::string, std::string>> decode_basic(std::string_view encoded) {
  auto decoded = base64_decode(trim_token(encoded));
  if (!decoded) return std::nullopt;
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

Authenticator::Authenticator(AuthOptions options, const UserDirectory& users)
    : options_(std::move(options)), users_(users) {}

Authenticator::~Authenticator() = default;

Result<std::unique_ptr<Authenticator>> Authenticator::create(AuthOptions options, const UserDirectory& users) {
  if (options.jwt.enabled) {
    const jwt_alg_t alg = jwt_str_alg(options.jwt.algorithm.c_str());
    if (alg == JWT_ALG_INVAL || alg == JWT_ALG_NONE) {
      return Error(ErrorCode::kConfigError, fmt::format("'auth.jwt.algorithm' must be HS256, HS384, HS512, RS256, "
                                                        "RS384, RS512, ES256, ES384 or ES512, not '{}'",
                                                        options.jwt.algorithm));
    }
    if (options.jwt.key.empty()) {
      return Error(ErrorCode::kConfigError, is_hmac(alg) ? "'auth.jwt' needs the shared secret: secret_env"
                                                         : "'auth.jwt' needs the issuer's public key: public_key_file");
    }
    if (!is_hmac(alg)) LR_TRY(check_public_key(options.jwt.key));
  }
  auto a = std::make_unique<Authenticator>(std::move(options), users);
  // Every password becomes a verifier, so that checking one costs the same PBKDF2 for every user
  // (and for unknown names, against the decoy).
  for (const auto& u : users.all()) {
    if (!u.scram_sha256.empty()) {
      auto v = ScramVerifier::parse(u.scram_sha256);
      if (!v.ok()) return Error(ErrorCode::kConfigError, fmt::format("user '{}': {}", u.name, v.error().message));
      a->verifiers_[u.name] = std::move(*v);
    } else if (!u.password.empty()) {
      auto v = ScramVerifier::derive(u.password);
      if (!v.ok()) return v.error();
      a->verifiers_[u.name] = std::move(*v);
    }
  }
  auto decoy = ScramVerifier::derive(random_bytes(16));
  if (!decoy.ok()) return decoy.error();
  a->decoy_ = std::move(*decoy);
  return a;
}

Identity Authenticator::account_identity(const UserAccount& account, std::string method) const {
  return Identity{account.name, account.groups, std::move(method)};
}

bool anonymous_admits(AnonymousAccess access, std::string_view peer) {
  switch (access) {
    case AnonymousAccess::kNone: return false;
    case AnonymousAccess::kLoopback: return is_loopback_address(peer);
    case AnonymousAccess::kAny: return true;
  }
  return false;
}

bool Authenticator::anonymous_allowed(std::string_view peer) const { return anonymous_admits(options_.anonymous, peer); }

Result<Identity> Authenticator::anonymous(std::string_view peer) const {
  if (anonymous_allowed(peer)) return Identity{std::string(kAnonymousUser), {}, "anonymous"};
  return unauthenticated("authentication required: send Authorization: Basic (user and password) or Bearer "
                         "(an API token or a JWT)");
}

Result<Identity> Authenticator::password(std::string_view user, std::string_view password) const {
  const UserAccount* account = users_.find(user);
  const auto it = verifiers_.find(user);
  if (!account || it == verifiers_.end()) {
    (void)decoy_.matches(password);  // same cost as a known user
    return unauthenticated("wrong user name or password");
  }
  if (!it->second.matches(password)) return unauthenticated("wrong user name or password");
  return account_identity(*account, "password");
}

Result<Identity> Authenticator::api_token(std::string_view token) const {
  if (token.empty() || token.size() > kMaxTokenBytes) return unauthenticated("unknown or revoked API token");
  const std::string hash = sha256_hex(token);
  const UserAccount* found = nullptr;
  // Every configured hash is compared, without stopping at a match: the time does not tell which.
  for (const auto& account : users_.all()) {
    for (const auto& t : account.api_tokens) {
      if (constant_time_equal(hash, t.sha256) && !found) found = &account;
    }
  }
  if (!found) return unauthenticated("unknown or revoked API token");
  return account_identity(*found, "api-token");
}

Result<Identity> Authenticator::jwt(std::string_view token) const {
  const JwtOptions& o = options_.jwt;
  if (!o.enabled) return unauthenticated("JWTs are not accepted: the configuration has no auth.jwt");
  if (token.size() > kMaxTokenBytes || !looks_like_jwt(token)) return unauthenticated("malformed JWT");
  const jwt_alg_t expected = jwt_str_alg(o.algorithm.c_str());
  jwt_t* raw = nullptr;
  const std::string text(token);
  const int rc = jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(o.key.data()),
                            static_cast<int>(o.key.size()));
  const std::unique_ptr<jwt_t, JwtFree> decoded(raw);
  if (rc != 0 || !decoded) return unauthenticated("the JWT's signature does not verify with the configured key");
  // libjwt verifies with the algorithm the token names: insist on ours, so that a token "signed"
  // with HS256 and the public key as secret (or alg none) never passes.
  if (jwt_get_alg(decoded.get()) != expected) {
    return unauthenticated(fmt::format("the JWT is signed with {}, not {} (auth.jwt.algorithm)",
                                       jwt_alg_str(jwt_get_alg(decoded.get())), o.algorithm));
  }
  const std::unique_ptr<char, CFree> grants_text(jwt_get_grants_json(decoded.get(), nullptr));
  if (!grants_text) return unauthenticated("the JWT has no claims");
  const json claims = json::parse(grants_text.get(), nullptr, /*allow_exceptions=*/false);
  if (!claims.is_object()) return unauthenticated("the JWT's claims are not a JSON object");

  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t leeway = o.leeway.count();
  const auto not_seconds = [](std::string_view claim) {
    return unauthenticated(fmt::format("the JWT's '{}' claim is not a whole number of seconds (since 1970, at most "
                                       "2^40)",
                                       claim));
  };
  const auto exp = claims.find("exp");
  if (exp == claims.end()) return unauthenticated("the JWT has no expiry ('exp' claim)");
  const auto exp_s = seconds_claim(*exp);
  if (!exp_s) return not_seconds("exp");
  if (now > saturating_add(*exp_s, leeway)) return unauthenticated("the JWT has expired");
  if (const auto nbf = claims.find("nbf"); nbf != claims.end()) {
    const auto nbf_s = seconds_claim(*nbf);
    if (!nbf_s) return not_seconds("nbf");
    if (saturating_add(now, leeway) < *nbf_s) return unauthenticated("the JWT is not valid yet ('nbf')");
  }
  if (!o.issuer.empty()) {
    const auto iss = claims.find("iss");
    if (iss == claims.end() || !iss->is_string() || iss->get<std::string>() != o.issuer) {
      return unauthenticated("the JWT comes from another issuer than auth.jwt.issuer");
    }
  }
  if (!o.audience.empty()) {
    const auto aud = claims.find("aud");
    const auto audiences = aud == claims.end() ? std::vector<std::string>() : string_list(*aud);
    if (std::find(audiences.begin(), audiences.end(), o.audience) == audiences.end()) {
      return unauthenticated("the JWT is meant for another audience than auth.jwt.audience");
    }
  }
  const auto user = claims.find(o.user_claim);
  if (user == claims.end() || !user->is_string() || user->get<std::string>().empty()) {
    return unauthenticated(fmt::format("the JWT names no user: its '{}' claim (auth.jwt.user_claim) is missing or "
                                       "not a string",
                                       o.user_claim));
  }
  std::string name = user->get<std::string>();
  // The reasons name the claim, never its value (it may be anything) nor the token.
  if (name == kAnonymousUser) {
    return unauthenticated(fmt::format("the JWT's '{}' claim names 'anonymous', the reserved user of clients "
                                       "without credentials",
                                       o.user_claim));
  }
  if (name.size() > kMaxUserBytes) {
    return unauthenticated(fmt::format("the JWT's '{}' claim is longer than {} bytes", o.user_claim, kMaxUserBytes));
  }
  if (has_control_characters(name)) {
    return unauthenticated(fmt::format("the JWT's '{}' claim holds control characters", o.user_claim));
  }
  Identity identity{std::move(name), {}, "jwt"};
  if (const auto groups = claims.find(o.groups_claim); groups != claims.end()) identity.groups = string_list(*groups);
  // A user who also has an account keeps its configured groups.
  if (const UserAccount* account = users_.find(identity.user)) {
    for (const auto& g : account->groups) {
      if (std::find(identity.groups.begin(), identity.groups.end(), g) == identity.groups.end()) {
        identity.groups.push_back(g);
      }
    }
  }
  return identity;
}

Result<Identity> Authenticator::bearer(std::string_view token) const {
  token = trim_token(token);
  if (options_.jwt.enabled && looks_like_jwt(token)) return jwt(token);
  return api_token(token);
}

Result<Identity> Authenticator::http_authorization(std::string_view header, std::string_view peer) const {
  header = trim_token(header);
  if (header.empty()) return anonymous(peer);
  if (header.size() > kMaxTokenBytes) return unauthenticated("the Authorization header is longer than 16 KiB");
  // "<scheme> <credentials>": the scheme ends at the first space or tab (RFC 9110 allows both).
  const size_t gap = header.find_first_of(" \t");
  const std::string_view scheme = header.substr(0, gap);
  const std::string_view credentials =
      gap == std::string_view::npos ? std::string_view() : trim_token(header.substr(gap));
  if (ascii_iequals(scheme, "Basic")) {
    if (credentials.empty()) return unauthenticated("Basic credentials missing: expected base64 of user:password");
    auto decoded = decode_basic(credentials);
    if (!decoded) return unauthenticated("malformed Basic credentials: expected base64 of user:password");
    return password(decoded->first, decoded->second);
  }
  if (ascii_iequals(scheme, "Bearer")) {
    if (credentials.empty()) return unauthenticated("Bearer token missing: expected an API token or a JWT");
    return bearer(credentials);
  }
  return unauthenticated("unsupported Authorization scheme: use Basic (user and password) or Bearer (an API token "
                         "or a JWT)");
}

std::string_view trim_token(std::string_view token) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t first = token.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return token.substr(first, token.find_last_not_of(kSpace) - first + 1);
}

std::string Authenticator::challenge() { return R"(Basic realm="lakerouter", Bearer realm="lakerouter")"; }

}  // namespace lakerouter::governance
