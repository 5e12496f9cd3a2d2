// Users: the accounts lakerouter knows (configuration `users:`), shared by every front-end.
// Front-ends authenticate a client against them and put the name and groups in the Session;
// governance (policies, audit) reads the Session, never this list.
// Thread-safety: immutable after configuration is loaded; safe to read from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lakerouter {

// An HTTP API token of a user (`api_tokens:`): only its SHA-256 is configured, never the token.
struct ApiToken {
  std::string name;    // a label for people ("laptop", "ci"); may be empty
  std::string sha256;  // 64 lower-case hex digits of SHA-256(token)
  int line = 0;
};

struct UserAccount {
  std::string name;
  std::vector<std::string> groups;
  // At most one of the two secrets (a user with neither logs in only with an API token or a JWT):
  std::string password;        // plain text, from `password_env` (or `password` for demos)
  std::string scram_sha256;    // a PostgreSQL-style verifier "SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>"
  int line = 0;                // where the account is declared, for messages
  std::vector<ApiToken> api_tokens;  // bearer tokens for HTTP and the Trino protocol
};

class UserDirectory {
 public:
  UserDirectory() = default;
  explicit UserDirectory(std::vector<UserAccount> users) : users_(std::move(users)) {}

  const UserAccount* find(std::string_view name) const {
    for (const auto& u : users_) {
      if (u.name == name) return &u;
    }
    return nullptr;
  }
  const std::vector<UserAccount>& all() const { return users_; }
  bool empty() const { return users_.empty(); }

 private:
  std::vector<UserAccount> users_;
};

}  // namespace lakerouter
