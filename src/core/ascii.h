// ASCII case folding for identifiers and keywords (table, column and engine names, type names,
// HTTP scheme and media-type names).
// Deliberately not locale-aware: SQL folds unquoted identifiers the same way everywhere.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace lakerouter {

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = ascii_lower(c);
  return out;
}

// Equal ignoring ASCII case: HTTP scheme and media-type names, keywords.
inline bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

}  // namespace lakerouter
