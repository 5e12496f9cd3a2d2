// Authentication: passwords, API tokens, JWTs (HS256, RS256, ES256 in JOSE form), anonymous access,
// Authorization headers, the `auth:` / `api_tokens:` configuration, and SCRAM for unknown users.
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <cstdlib>
#include <limits>
#include <memory>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config_test_util.h"
#include "frontends/pgwire/pg_scram.h"
#include "governance/authenticator.h"
#include "server/config.h"

namespace lakerouter::governance {
namespace {

using json = nlohmann::json;

constexpr std::string_view kSecret = "an-hs256-secret-of-at-least-32-bytes!";
constexpr std::string_view kToken = "lr_token_for_unit_tests_0123456789";

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

UserDirectory test_users() {
  UserAccount alice{"alice", {"analysts"}, "alice-pw", "", 1, {}};
  UserAccount bob{"bob", {"admins"}, "", ScramVerifier::derive("bob-pw")->to_string(), 2, {}};
  UserAccount carol{"carol", {"etl"}, "", "", 3, {ApiToken{"ci", sha256_hex(kToken), 4}}};
  return UserDirectory({alice, bob, carol});
}

std::unique_ptr<Authenticator> make(const UserDirectory& users, AuthOptions options = {}) {
  auto a = Authenticator::create(std::move(options), users);
  EXPECT_TRUE(a.ok()) << a.error().message;
  return a.ok() ? std::move(*a) : nullptr;
}

std::string basic(std::string_view user, std::string_view password) {
  return "Basic " + base64_encode(std::string(user) + ":" + std::string(password));
}

void expect_unauthenticated(const Result<Identity>& r, std::string_view secret = {}) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  if (!secret.empty()) {
    EXPECT_EQ(r.error().message.find(secret), std::string::npos) << r.error().message;
  }
}

// --- JWT helpers ------------------------------------------------------------------------------------

struct JwtFree {
  void operator()(jwt_t* j) const { jwt_free(j); }
};

// A token signed by libjwt with `alg` and `key` (HS secret or private key PEM), with `claims`.
std::string sign(jwt_alg_t alg, std::string_view key, const json& claims) {
  jwt_t* raw = nullptr;
  EXPECT_EQ(jwt_new(&raw), 0);
  std::unique_ptr<jwt_t, JwtFree> j(raw);
  EXPECT_EQ(jwt_add_grants_json(j.get(), claims.dump().c_str()), 0);
  EXPECT_EQ(jwt_set_alg(j.get(), alg, reinterpret_cast<const unsigned char*>(key.data()), static_cast<int>(key.size())), 0);
  char* text = jwt_encode_str(j.get());
  std::string out = text ? text : "";
  std::free(text);  // NOLINT(cppcoreguidelines-no-malloc): libjwt's string
  return out;
}

std::string base64url(std::string_view raw) {
  std::string s = base64_encode(raw);
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

// An HS256 token over `payload` exactly as given: libjwt would refuse to sign some claims (null).
std::string sign_hs256_text(std::string_view key, const std::string& payload) {
  const std::string input = base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url(payload);
  return input + "." + base64url(hmac_sha256(key, input));
}

json claims_for(std::string_view user, int64_t exp_in_s = 600) {
  return {{"sub", user}, {"exp", now_s() + exp_in_s}, {"groups", {"analysts", "emea"}}};
}

AuthOptions jwt_options(std::string algorithm, std::string key) {
  AuthOptions o;
  o.jwt.enabled = true;
  o.jwt.algorithm = std::move(algorithm);
  o.jwt.key = std::move(key);
  return o;
}

// HS256 with a configured issuer and audience, and claims for dave that name both.
AuthOptions idp_options() {
  AuthOptions o = jwt_options("HS256", std::string(kSecret));
  o.jwt.issuer = "https://idp.example";
  o.jwt.audience = "lakerouter";
  return o;
}

json idp_claims_for(std::string_view user) {
  json claims = claims_for(user);
  claims["iss"] = "https://idp.example";
  claims["aud"] = "lakerouter";
  return claims;
}

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

std::string pem(EVP_PKEY* key, bool is_private) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (is_private) {
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PUBKEY(bio.get(), key);
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<size_t>(len)};
}

// --- passwords, tokens, anonymous ---------------------------------------------------------------------

TEST(Auth, PasswordsOfPlainAndScramUsers) {
  const auto users = test_users();
  auto auth = make(users);
  auto alice = auth->password("alice", "alice-pw");
  ASSERT_TRUE(alice.ok()) << alice.error().message;
  EXPECT_EQ(alice->user, "alice");
  EXPECT_EQ(alice->groups, std::vector<std::string>{"analysts"});
  EXPECT_EQ(alice->method, "password");
  auto bob = auth->password("bob", "bob-pw");
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(bob->groups, std::vector<std::string>{"admins"});

  expect_unauthenticated(auth->password("alice", "wrong-pw"), "wrong-pw");
  expect_unauthenticated(auth->password("bob", "alice-pw"), "alice-pw");
  expect_unauthenticated(auth->password("mallory", "alice-pw"), "alice-pw");
  expect_unauthenticated(auth->password("carol", ""));  // a token-only user has no password
  // The same message whether the user exists or not.
  EXPECT_EQ(auth->password("alice", "x").error().message, auth->password("nobody", "x").error().message);
}

TEST(Auth, ApiTokensAreComparedByHash) {
  const auto users = test_users();
  auto auth = make(users);
  auto carol = auth->bearer(kToken);
  ASSERT_TRUE(carol.ok()) << carol.error().message;
  EXPECT_EQ(carol->user, "carol");
  EXPECT_EQ(carol->method, "api-token");
  expect_unauthenticated(auth->bearer(std::string(kToken) + "x"), kToken);
  expect_unauthenticated(auth->bearer(""));
  expect_unauthenticated(auth->bearer(sha256_hex(kToken)));  // the hash itself is not the token
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2
}

TEST(Auth, HttpAuthorizationHeader) {
  const auto users = test_users();
  auto auth = make(users);
  EXPECT_EQ(auth->http_authorization(basic("alice", "alice-pw"), "10.0.0.1:5000")->user, "alice");
  EXPECT_EQ(auth->http_authorization("bearer " + std::string(kToken), "10.0.0.1:5000")->user, "carol");
  expect_unauthenticated(auth->http_authorization(basic("alice", "nope-pw"), "127.0.0.1:1"), "nope-pw");
  expect_unauthenticated(auth->http_authorization("Basic !!!!", "127.0.0.1:1"));
  expect_unauthenticated(auth->http_authorization("Basic " + base64_encode("no-colon"), "127.0.0.1:1"));
  expect_unauthenticated(auth->http_authorization("Digest username=alice", "127.0.0.1:1"));
  expect_unauthenticated(auth->http_authorization("", "127.0.0.1:1"));  // anonymous: none (the default)
  EXPECT_FALSE(Authenticator::challenge().empty());
}

// The reason a refused header gets, for the checks on what it says.
std::string refusal(const Authenticator& auth, std::string_view header) {
  auto r = auth.http_authorization(header, "10.0.0.1:1");
  EXPECT_FALSE(r.ok()) << header;
  if (r.ok()) return {};
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  return r.error().message;
}

TEST(Auth, HttpAuthorizationSchemesWithoutCredentials) {
  const auto users = test_users();
  auto auth = make(users);
  for (const char* header : {"Basic", "Basic ", "basic\t", "Basic \t "}) {
    EXPECT_NE(refusal(*auth, header).find("Basic credentials missing"), std::string::npos) << header;
  }
  for (const char* header : {"Bearer", "Bearer ", "BEARER\t", "Bearer  \t"}) {
    EXPECT_NE(refusal(*auth, header).find("Bearer token missing"), std::string::npos) << header;
  }
  EXPECT_NE(refusal(*auth, "Basicx abc").find("unsupported Authorization scheme"), std::string::npos);
  // A tab separates the scheme as well as a space does; extra blanks are ignored.
  EXPECT_EQ(auth->http_authorization("Basic\t" + base64_encode("alice:alice-pw"), "10.0.0.1:1")->user, "alice");
  EXPECT_EQ(auth->http_authorization("Bearer \t " + std::string(kToken) + " \t", "10.0.0.1:1")->user, "carol");
}

TEST(Auth, MalformedAndOversizedAuthorizationValues) {
  const auto users = test_users();
  auto auth = make(users);
  // base64 whose length is no multiple of 4, or with characters outside the alphabet.
  for (const char* header : {"Basic YWxpY2U6YWxpY2UtcHc", "Basic abc", "Basic YWxpY2U6YWxpY2UtcHc==="}) {
    EXPECT_NE(refusal(*auth, header).find("malformed Basic credentials"), std::string::npos) << header;
  }
  const std::string huge(20 * 1024, 'A');
  for (const std::string& header : {"Basic " + huge, "Bearer " + huge, "Bearer " + huge + "." + huge + "." + huge,
                                    "Digest " + huge}) {
    const std::string why = refusal(*auth, header);
    EXPECT_NE(why.find("longer than 16 KiB"), std::string::npos) << why;
    EXPECT_EQ(why.find(huge.substr(0, 64)), std::string::npos);
  }
  // Just under the limit the credentials are checked (and refused) as usual.
  expect_unauthenticated(auth->http_authorization("Bearer " + std::string(16 * 1024 - 8, 'b'), "10.0.0.1:1"));
}

TEST(Auth, TrimTokenStripsTheBlanksAroundAToken) {
  EXPECT_EQ(trim_token(" \t tok en\r\n"), "tok en");
  EXPECT_EQ(trim_token("\r\n"), "");
  EXPECT_EQ(trim_token(""), "");
  const auto users = test_users();
  auto auth = make(users);
  EXPECT_EQ(auth->bearer(std::string(kToken) + "\r\n")->user, "carol");  // what `hash-token` hashes
}

TEST(Auth, AnonymousAccessFollowsTheSetting) {
  const auto users = test_users();
  AuthOptions loopback;
  loopback.anonymous = AnonymousAccess::kLoopback;
  auto auth = make(users, loopback);
  for (const char* peer : {"127.0.0.1:5000", "127.1.2.3:1", "[::1]:80", "::1", "::ffff:127.0.0.1", "[::ffff:127.0.0.1]:9"}) {
    auto id = auth->http_authorization("", peer);
    ASSERT_TRUE(id.ok()) << peer;
    EXPECT_EQ(id->user, "anonymous");
    EXPECT_TRUE(id->anonymous());
    EXPECT_TRUE(id->groups.empty());
  }
  for (const char* peer : {"10.0.0.1:5000", "[2001:db8::1]:80", "::ffff:10.0.0.1", "::1:80", "unknown", ""}) {
    expect_unauthenticated(auth->http_authorization("", peer));
  }
  // Credentials that are given are checked, even where anonymous access is allowed.
  expect_unauthenticated(auth->http_authorization(basic("alice", "bad"), "127.0.0.1:1"));
  AuthOptions any;
  any.anonymous = AnonymousAccess::kAny;
  EXPECT_TRUE(make(users, any)->anonymous("10.0.0.1:5000").ok());
}

// --- JWT ---------------------------------------------------------------------------------------------

TEST(AuthJwt, Hs256ClaimsAreChecked) {
  const auto users = test_users();
  auto auth = make(users, idp_options());
  json claims = idp_claims_for("dave");
  claims["aud"] = {"other", "lakerouter"};
  const std::string good = sign(JWT_ALG_HS256, kSecret, claims);
  auto dave = auth->bearer(good);
  ASSERT_TRUE(dave.ok()) << dave.error().message;
  EXPECT_EQ(dave->user, "dave");
  EXPECT_EQ(dave->groups, (std::vector<std::string>{"analysts", "emea"}));
  EXPECT_EQ(dave->method, "jwt");
  EXPECT_TRUE(auth->http_authorization("Bearer " + good, "10.0.0.1:1").ok());

  const auto rejected = [&](json c, std::string_view why) {
    const std::string token = sign(JWT_ALG_HS256, kSecret, c);
    auto r = auth->bearer(token);
    expect_unauthenticated(r, token);
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
    }
  };
  json expired = claims;
  expired["exp"] = now_s() - 3600;
  rejected(expired, "expired");
  json no_exp = claims;
  no_exp.erase("exp");
  rejected(no_exp, "expiry");
  json early = claims;
  early["nbf"] = now_s() + 3600;
  rejected(early, "not valid yet");
  json other_issuer = claims;
  other_issuer["iss"] = "https://evil.example";
  rejected(other_issuer, "issuer");
  json other_audience = claims;
  other_audience["aud"] = "someone-else";
  rejected(other_audience, "audience");
  json no_user = claims;
  no_user.erase("sub");
  rejected(no_user, "'sub'");

  // Signed with another secret; tampered payload; alg none.
  const std::string forged = sign(JWT_ALG_HS256, "another-secret-of-at-least-32-bytes!!", claims);
  expect_unauthenticated(auth->bearer(forged), forged);
  std::string tampered = good;
  const size_t dot = tampered.find('.');
  tampered.replace(dot + 1, tampered.find('.', dot + 1) - dot - 1,
                   base64url(json{{"sub", "admin"}, {"exp", now_s() + 600}}.dump()));
  expect_unauthenticated(auth->bearer(tampered));
  const std::string none = base64url(R"({"alg":"none","typ":"JWT"})") + "." + base64url(claims.dump()) + ".";
  expect_unauthenticated(auth->bearer(none));
}

TEST(AuthJwt, AnotherHmacAlgorithmIsRefused) {
  const auto users = test_users();
  auto auth = make(users, jwt_options("HS256", std::string(kSecret)));
  // The right secret, but HS512: the token must use the configured algorithm.
  const std::string hs512 = sign(JWT_ALG_HS512, kSecret, claims_for("dave"));
  auto r = auth->bearer(hs512);
  expect_unauthenticated(r, hs512);
  if (!r.ok()) {
    EXPECT_NE(r.error().message.find("HS512, not HS256"), std::string::npos) << r.error().message;
  }
  EXPECT_TRUE(auth->bearer(sign(JWT_ALG_HS256, kSecret, claims_for("dave"))).ok());
}

TEST(AuthJwt, TimeClaimsMustBeWholeSeconds) {
  const auto users = test_users();
  AuthOptions o = jwt_options("HS256", std::string(kSecret));
  o.jwt.leeway = std::chrono::seconds(3600);
  auto auth = make(users, o);
  const auto refused = [&](const char* claim, const json& value, std::string_view why) {
    json c = claims_for("dave");
    c[claim] = value;
    const std::string token = sign_hs256_text(kSecret, c.dump());
    auto r = auth->bearer(token);
    expect_unauthenticated(r, token);
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find(why), std::string::npos) << claim << ": " << r.error().message;
    }
  };
  const double soon = static_cast<double>(now_s() + 600) + 0.5;
  for (const char* claim : {"exp", "nbf"}) {
    const std::string why = std::string("'") + claim + "' claim is not a whole number of seconds";
    refused(claim, soon, why);
    refused(claim, std::to_string(now_s() + 600), why);  // a string
    refused(claim, 1e300, why);
    // Beyond what libjwt's JSON parser holds (a signed 64-bit integer): refused while decoding.
    refused(claim, std::numeric_limits<uint64_t>::max(), "");
    refused(claim, std::numeric_limits<int64_t>::max(), why);
    refused(claim, (int64_t{1} << 40) + 1, why);
    refused(claim, -1, why);
    refused(claim, nullptr, why);
    refused(claim, json::array({now_s() + 600}), why);
  }
  EXPECT_TRUE(auth->bearer(sign_hs256_text(kSecret, claims_for("dave").dump())).ok());  // the signer itself
  // At the edges the comparisons saturate instead of overflowing: 2^40 is far in the future.
  json far = claims_for("dave");
  far["exp"] = int64_t{1} << 40;
  EXPECT_TRUE(auth->bearer(sign(JWT_ALG_HS256, kSecret, far)).ok());
  far["nbf"] = 0;
  EXPECT_TRUE(auth->bearer(sign(JWT_ALG_HS256, kSecret, far)).ok());
  o.jwt.leeway = std::chrono::seconds(std::numeric_limits<int64_t>::max());
  auto lenient = make(users, o);
  json early = claims_for("dave");
  early["nbf"] = int64_t{1} << 40;
  EXPECT_TRUE(lenient->bearer(sign(JWT_ALG_HS256, kSecret, early)).ok());  // no overflow of now + leeway
}

TEST(AuthJwt, ConfiguredIssuerAndAudienceMustBePresent) {
  const auto users = test_users();
  auto auth = make(users, idp_options());
  json claims = idp_claims_for("dave");
  ASSERT_TRUE(auth->bearer(sign(JWT_ALG_HS256, kSecret, claims)).ok());
  json no_iss = claims;
  no_iss.erase("iss");
  expect_unauthenticated(auth->bearer(sign(JWT_ALG_HS256, kSecret, no_iss)));
  json no_aud = claims;
  no_aud.erase("aud");
  expect_unauthenticated(auth->bearer(sign(JWT_ALG_HS256, kSecret, no_aud)));
  json wrong_types = claims;
  wrong_types["iss"] = json::array({"https://idp.example"});
  wrong_types["aud"] = 7;
  expect_unauthenticated(auth->bearer(sign(JWT_ALG_HS256, kSecret, wrong_types)));
}

TEST(AuthJwt, UserNamesThatAreReservedTooLongOrHoldControls) {
  const auto users = test_users();
  auto auth = make(users, jwt_options("HS256", std::string(kSecret)));
  const auto refused = [&](const std::string& user, std::string_view why) {
    const std::string token = sign(JWT_ALG_HS256, kSecret, claims_for(user));
    auto r = auth->bearer(token);
    expect_unauthenticated(r, token);
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
      if (user != kAnonymousUser) {  // the name is not echoed
        EXPECT_EQ(r.error().message.find(user), std::string::npos);
      }
    }
  };
  refused("anonymous", "names 'anonymous'");
  refused(std::string(257, 'u'), "longer than 256 bytes");
  refused("alice\nINFO forged log line", "control characters");
  // A NUL in a claim: refused (libjwt's JSON parser already declines it).
  expect_unauthenticated(auth->bearer(sign_hs256_text(kSecret, R"({"sub":"nul\u0000byte","exp":)" +
                                                                   std::to_string(now_s() + 600) + "}")));
  refused("tab\there", "control characters");
  refused("del\x7f", "control characters");
  refused("c1\xc2\x85next-line", "control characters");  // U+0085, NEL
  EXPECT_TRUE(auth->bearer(sign(JWT_ALG_HS256, kSecret, claims_for(std::string(256, 'u')))).ok());
  EXPECT_EQ(auth->bearer(sign(JWT_ALG_HS256, kSecret, claims_for("jos\xc3\xa9")))->user, "jos\xc3\xa9");
  EXPECT_EQ(auth->bearer(sign(JWT_ALG_HS256, kSecret, claims_for("Anonymous")))->user, "Anonymous");
}

TEST(AuthJwt, UserClaimGroupsClaimAndConfiguredGroups) {
  const auto users = test_users();
  AuthOptions o = jwt_options("HS256", std::string(kSecret));
  o.jwt.user_claim = "preferred_username";
  o.jwt.groups_claim = "roles";
  auto auth = make(users, o);
  auto alice = auth->jwt(sign(JWT_ALG_HS256, kSecret, {{"preferred_username", "alice"}, {"exp", now_s() + 60},
                                                       {"roles", "auditors"}}));
  ASSERT_TRUE(alice.ok()) << alice.error().message;
  EXPECT_EQ(alice->user, "alice");
  // A user with an account keeps its configured groups besides the token's.
  EXPECT_EQ(alice->groups, (std::vector<std::string>{"auditors", "analysts"}));
}

TEST(AuthJwt, WithoutJwtConfigABearerJwtIsAnUnknownToken) {
  const auto users = test_users();
  auto auth = make(users);
  expect_unauthenticated(auth->bearer(sign(JWT_ALG_HS256, kSecret, claims_for("dave"))));
}

TEST(AuthJwt, Rs256WithAPublicKeyAndNoAlgorithmConfusion) {
  PKey key(EVP_RSA_gen(2048), &EVP_PKEY_free);
  ASSERT_TRUE(key);
  const std::string private_pem = pem(key.get(), true);
  const std::string public_pem = pem(key.get(), false);
  const auto users = test_users();
  auto auth = make(users, jwt_options("RS256", public_pem));
  auto erin = auth->bearer(sign(JWT_ALG_RS256, private_pem, claims_for("erin")));
  ASSERT_TRUE(erin.ok()) << erin.error().message;
  EXPECT_EQ(erin->user, "erin");
  // HS256 "signed" with the public key as the secret: the classic confusion attack.
  expect_unauthenticated(auth->bearer(sign(JWT_ALG_HS256, public_pem, claims_for("admin"))));
  // Another key pair.
  PKey other(EVP_RSA_gen(2048), &EVP_PKEY_free);
  expect_unauthenticated(auth->bearer(sign(JWT_ALG_RS256, pem(other.get(), true), claims_for("erin"))));
}

// ES256 as identity providers issue it (RFC 7518: R || S, not DER), signed here with OpenSSL.
TEST(AuthJwt, Es256InJoseForm) {
  PKey key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  ASSERT_TRUE(key);
  const auto users = test_users();
  auto auth = make(users, jwt_options("ES256", pem(key.get(), false)));
  const std::string signing_input =
      base64url(R"({"alg":"ES256","typ":"JWT"})") + "." + base64url(claims_for("frank").dump());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  ASSERT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()), 1);
  size_t der_len = 0;
  ASSERT_EQ(EVP_DigestSign(ctx.get(), nullptr, &der_len,
                           reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()), 1);
  std::string der(der_len, '\0');
  ASSERT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len,
                           reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()), 1);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)),
                                                            &ECDSA_SIG_free);
  ASSERT_TRUE(sig);
  std::string rs(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), reinterpret_cast<unsigned char*>(rs.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), reinterpret_cast<unsigned char*>(rs.data()) + 32, 32);
  auto frank = auth->bearer(signing_input + "." + base64url(rs));
  ASSERT_TRUE(frank.ok()) << frank.error().message;
  EXPECT_EQ(frank->user, "frank");
}

TEST(AuthJwt, CreateRefusesBadKeys) {
  const auto users = test_users();
  auto bad_alg = Authenticator::create(jwt_options("HS999", std::string(kSecret)), users);
  ASSERT_FALSE(bad_alg.ok());
  EXPECT_NE(bad_alg.error().message.find("auth.jwt.algorithm"), std::string::npos);
  auto not_pem = Authenticator::create(jwt_options("RS256", "not a key"), users);
  ASSERT_FALSE(not_pem.ok());
  EXPECT_NE(not_pem.error().message.find("PEM public key"), std::string::npos);
}

// --- configuration ---------------------------------------------------------------------------------

using lakerouter::testing::TempDir;

Result<Config> load(const TempDir& dir, const std::string& yaml) { return lakerouter::testing::load_yaml(dir, yaml); }

TEST(AuthConfig, AnonymousDefaultsToLoopbackOnlyForTheDemo) {
  TempDir dir;
  auto demo = default_config("/nonexistent");
  EXPECT_EQ(demo.auth.anonymous, AnonymousAccess::kLoopback);
  EXPECT_TRUE(demo.auth.anonymous_by_default);
  // A configuration file requires credentials unless it says otherwise, whatever else it holds:
  // a reverse proxy on the same host makes every client a loopback one.
  auto empty = load(dir, "");
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(empty->auth.anonymous, AnonymousAccess::kNone);
  auto no_users = load(dir, "server: {http: {host: 127.0.0.1}}\n");
  ASSERT_TRUE(no_users.ok()) << no_users.error().message;
  EXPECT_EQ(no_users->auth.anonymous, AnonymousAccess::kNone);
  ::setenv("LR_AUTH_TEST_SECRET", std::string(kSecret).c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  auto jwt_only = load(dir, "auth: {jwt: {algorithm: HS256, secret_env: LR_AUTH_TEST_SECRET}}\n");
  ASSERT_TRUE(jwt_only.ok()) << jwt_only.error().message;
  EXPECT_EQ(jwt_only->auth.anonymous, AnonymousAccess::kNone);
  auto explicit_loopback = load(dir, "auth: {anonymous: loopback}\n");
  ASSERT_TRUE(explicit_loopback.ok());
  EXPECT_EQ(explicit_loopback->auth.anonymous, AnonymousAccess::kLoopback);
  EXPECT_FALSE(explicit_loopback->auth.anonymous_by_default);
  auto with_users = load(dir, "users: [{name: alice, password: pw}]\n");
  ASSERT_TRUE(with_users.ok()) << with_users.error().message;
  EXPECT_EQ(with_users->auth.anonymous, AnonymousAccess::kNone);
  auto public_host = load(dir, "server: {http: {host: 0.0.0.0}}\n");
  ASSERT_TRUE(public_host.ok());
  EXPECT_EQ(public_host->auth.anonymous, AnonymousAccess::kNone);
  auto explicit_any = load(dir, "users: [{name: alice, password: pw}]\nauth: {anonymous: any}\n");
  ASSERT_TRUE(explicit_any.ok());
  EXPECT_EQ(explicit_any->auth.anonymous, AnonymousAccess::kAny);
  EXPECT_FALSE(explicit_any->auth.anonymous_by_default);
  auto explicit_none = load(dir, "auth: {anonymous: none}\n");
  ASSERT_TRUE(explicit_none.ok());
  EXPECT_EQ(explicit_none->auth.anonymous, AnonymousAccess::kNone);
}

TEST(AuthConfig, ApiTokensAndJwt) {
  TempDir dir;
  const std::string hash = sha256_hex(kToken);
  ::setenv("LR_AUTH_TEST_SECRET", std::string(kSecret).c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  auto c = load(dir, "users:\n  - name: carol\n    api_tokens: [{name: ci, sha256: " + hash +
                         "}]\nauth:\n  jwt: {algorithm: HS256, secret_env: LR_AUTH_TEST_SECRET, issuer: idp, "
                         "audience: lr, user_claim: email, leeway_s: 5}\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->users.at(0).api_tokens.size(), 1u);
  EXPECT_EQ(c->users[0].api_tokens[0].sha256, hash);
  EXPECT_EQ(c->users[0].api_tokens[0].name, "ci");
  EXPECT_TRUE(c->auth.jwt.enabled);
  EXPECT_EQ(c->auth.jwt.key, kSecret);
  EXPECT_EQ(c->auth.jwt.user_claim, "email");
  EXPECT_EQ(c->auth.jwt.groups_claim, "groups");
  EXPECT_EQ(c->auth.jwt.leeway, std::chrono::seconds(5));
}

TEST(AuthConfig, MistakesAreExplained) {
  TempDir dir;
  using lakerouter::testing::expect_config_error;
  const std::string hash = sha256_hex(kToken);
  expect_config_error(load(dir, "auth: {anonymous: maybe}\n"), "lakerouter.yaml:1: 'auth.anonymous' must be none");
  expect_config_error(load(dir, "auth: {anonimous: any}\n"), "did you mean 'anonymous'");
  expect_config_error(load(dir, "users: [{name: c, api_tokens: [{sha256: abc}]}]\n"), "must be 64 hex digits");
  expect_config_error(load(dir, "users: [{name: c, api_tokens: [" + hash + "]}]\n"), "hash-token");
  expect_config_error(load(dir, "users:\n  - {name: c, api_tokens: [{sha256: " + hash + "}]}\n  - {name: d, "
                                "api_tokens: [{sha256: " + hash + "}]}\n"),
                      "listed on line 2 already");
  expect_config_error(load(dir, "users: [{name: anonymous, password: x}]\n"), "'anonymous' is the name");
  expect_config_error(load(dir, "auth: {jwt: {algorithm: HS256}}\n"), "secret_env");
  expect_config_error(load(dir, "auth: {jwt: {algorithm: HS256, secret_env: LR_AUTH_TEST_UNSET}}\n"), "is not set");
  ::setenv("LR_AUTH_TEST_SHORT", "short", 1);  // NOLINT(concurrency-mt-unsafe)
  expect_config_error(load(dir, "auth: {jwt: {algorithm: HS256, secret_env: LR_AUTH_TEST_SHORT}}\n"), "32 bytes");
  expect_config_error(load(dir, "auth: {jwt: {algorithm: PS256}}\n"),
                      "lakerouter.yaml:1: 'auth.jwt.algorithm' must be one of HS256, HS384, HS512, RS256, RS384, "
                      "RS512, ES256, ES384, ES512, not 'PS256'");
  expect_config_error(load(dir, "auth: {jwt: {secret_env: LR_AUTH_TEST_SECRET}}\n"),
                      "'auth.jwt.algorithm' is required: one of");
  expect_config_error(load(dir, "users:\n  - name: x\n    scram_sha256: \"SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA\"\n"),
                      "lakerouter.yaml:3: 'users[0].scram_sha256' must be a verifier");
  expect_config_error(load(dir, "server: {pgwire: {auth: trust}}\n"), "'auth.anonymous: none' forbids");
  expect_config_error(load(dir, "auth: {jwt: {algorithm: RS256, public_key_file: missing.pem}}\n"), "cannot read");
  lakerouter::testing::write_file(dir.path() / "bad.pem", "not a key\n");
  expect_config_error(load(dir, "auth: {jwt: {algorithm: RS256, public_key_file: bad.pem}}\n"), "PEM public key");
  expect_config_error(load(dir, "users: [{name: a, password: p}]\nserver: {pgwire: {auth: trust}}\n"),
                      "'auth.anonymous: none' forbids");
}

// --- SCRAM for unknown users ------------------------------------------------------------------------------

// The salt of an unknown user's server-first-message: s=<base64> from "r=...,s=...,i=...".
std::string scram_salt_of(const ScramVerifier* verifier, std::string_view user) {
  pgwire::ScramExchange exchange(verifier, user, "server-nonce");
  auto first = exchange.first("n,,n=,r=client-nonce");
  EXPECT_TRUE(first.ok());
  if (!first.ok()) return {};
  EXPECT_NE(first->find(",i=4096"), std::string::npos) << *first;  // the default iteration count
  const size_t s = first->find(",s=") + 3;
  return *base64_decode(first->substr(s, first->find(",i=") - s));
}

TEST(AuthScram, UnknownUsersGetAStableSaltNobodyCanCompute) {
  const std::string ghost = scram_salt_of(nullptr, "ghost");
  EXPECT_EQ(ghost.size(), 16u);  // as long as a derived verifier's
  EXPECT_EQ(scram_salt_of(nullptr, "ghost"), ghost);  // asking twice tells nothing
  EXPECT_NE(scram_salt_of(nullptr, "ghost2"), ghost);
  // Keyed with a secret of this process: not the unkeyed hash of the name a client could compute.
  EXPECT_NE(ghost, sha256("lakerouter-unknown-user:ghost").substr(0, 16));
  EXPECT_NE(ghost, sha256("ghost").substr(0, 16));
  EXPECT_NE(ghost, hmac_sha256("", "ghost").substr(0, 16));
  auto known = ScramVerifier::derive("pw");
  ASSERT_TRUE(known.ok());
  EXPECT_EQ(scram_salt_of(&*known, "alice"), known->salt);
}

}  // namespace
}  // namespace lakerouter::governance
