// Identity: who a client proved to be (governance/authenticator.h), as front-ends carry it to the
// Session, and the anonymous-access setting every front-end applies. Plain values; the functions
// (defined in authenticator.cpp) are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lakerouter::governance {

inline constexpr std::string_view kAnonymousUser = "anonymous";

// Who may connect without credentials (`auth.anonymous`).
enum class AnonymousAccess { kNone, kLoopback, kAny };
std::string_view anonymous_access_name(AnonymousAccess access);

// True for 127.0.0.0/8, ::1 and ::ffff:127.x.y.z; `peer` may carry a port ("127.0.0.1:5000",
// "[::1]:5000"; a bare IPv6 address has none).
bool is_loopback_address(std::string_view peer);
// Whether `access` lets a client at `peer` in without credentials.
bool anonymous_admits(AnonymousAccess access, std::string_view peer);

struct Identity {
  std::string user{kAnonymousUser};
  std::vector<std::string> groups;
  std::string method = "anonymous";  // "password", "api-token", "jwt", "anonymous" (for logs; never a secret)
  bool anonymous() const { return method == "anonymous"; }
};

}  // namespace lakerouter::governance
