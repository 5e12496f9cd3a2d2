#include "sql/explain_route.h"

#include <cctype>

namespace lakerouter::sql {

namespace {

// Skips whitespace and SQL comments (-- to end of line, /* ... */) from `pos`.
size_t skip_blank(std::string_view s, size_t pos) {
  while (pos < s.size()) {
    if (std::isspace(static_cast<unsigned char>(s[pos]))) {
      ++pos;
    } else if (s.substr(pos, 2) == "--") {
      const size_t end = s.find('\n', pos);
      pos = end == std::string_view::npos ? s.size() : end + 1;
    } else if (s.substr(pos, 2) == "/*") {
      const size_t end = s.find("*/", pos + 2);
      pos = end == std::string_view::npos ? s.size() : end + 2;
    } else {
      break;
    }
  }
  return pos;
}

// The keyword at `pos` (case-insensitive, not followed by an identifier character).
bool keyword_at(std::string_view s, size_t pos, std::string_view keyword) {
  if (s.size() - pos < keyword.size()) return false;
  for (size_t i = 0; i < keyword.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[pos + i])) != keyword[i]) return false;
  }
  const size_t after = pos + keyword.size();
  return after == s.size() || !(std::isalnum(static_cast<unsigned char>(s[after])) || s[after] == '_');
}

}  // namespace

std::optional<size_t> explain_route_target(std::string_view sql) {
  size_t pos = skip_blank(sql, 0);
  if (!keyword_at(sql, pos, "explain")) return std::nullopt;
  pos = skip_blank(sql, pos + 7);
  if (!keyword_at(sql, pos, "route")) return std::nullopt;
  pos += 5;
  // "route" must end at a blank or comment: EXPLAIN ROUTE(...) is not this statement.
  if (pos < sql.size() && !std::isspace(static_cast<unsigned char>(sql[pos])) && sql.substr(pos, 2) != "--" &&
      sql.substr(pos, 2) != "/*") {
    return std::nullopt;
  }
  return pos;
}

}  // namespace lakerouter::sql
