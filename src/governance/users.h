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

struct UserAccount {
  std::string name;
  std::vector<std::string> groups;
  // One of the two secrets (config validation ensures at least one for a login user):
  std::string password;        // plain text, from `password_env` (or `password` for demos)
  std::string scram_sha256;    // a PostgreSQL-style verifier "SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>"
  int line = 0;                // where the account is declared, for messages
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
