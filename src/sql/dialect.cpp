#include "sql/dialect.h"

#include <algorithm>
#include <cctype>

namespace lakerouter::sql {

namespace {

// Length of the identifier written at `offset` if it spells `name` (quoted or not), else 0.
size_t written_length(std::string_view sql, size_t offset, std::string_view name) {
  if (offset >= sql.size()) return 0;
  if (sql[offset] == '"') {
    const size_t close = sql.find('"', offset + 1);
    return close != std::string_view::npos && sql.substr(offset + 1, close - offset - 1) == name ? close - offset + 1 : 0;
  }
  if (sql.size() - offset < name.size()) return 0;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(sql[offset + i])) != std::tolower(static_cast<unsigned char>(name[i]))) {
      return 0;
    }
  }
  return name.size();
}

}  // namespace

std::string translate(std::string_view sql, const QueryProfile& profile, std::string_view dialect) {
  std::string out(sql);
  if (dialect != "trino" || profile.group_alias_refs.empty()) return out;
  auto refs = profile.group_alias_refs;
  std::sort(refs.begin(), refs.end(), [](const auto& a, const auto& b) { return a.offset > b.offset; });
  for (const auto& ref : refs) {  // from the end, so earlier offsets stay valid
    const size_t length = written_length(out, ref.offset, ref.name);
    if (length == 0) continue;  // the text is not what the parser saw: leave it
    out.replace(ref.offset, length, std::to_string(ref.ordinal));
  }
  return out;
}

std::string_view without_terminator(std::string_view sql) {
  while (!sql.empty() && (std::isspace(static_cast<unsigned char>(sql.back())) || sql.back() == ';')) {
    sql.remove_suffix(1);
  }
  return sql;
}

}  // namespace lakerouter::sql
