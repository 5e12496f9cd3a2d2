// ASCII case folding for identifiers and keywords (table, column and engine names, type names).
// Deliberately not locale-aware: SQL folds unquoted identifiers the same way everywhere.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace lakerouter {

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace lakerouter
