#include "sql/dialect.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "sql/pg_compat.h"
#include "sql/portability.h"

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

// A double-quoted identifier: safe whatever the name holds.
std::string double_quoted(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

}  // namespace

std::string translate(std::string_view sql, const QueryProfile& profile, std::string_view dialect,
                      std::span<const EngineTableName> tables) {
  // Every edit replaces `length` bytes at `offset`; applied from the end, earlier offsets hold.
  struct Edit {
    size_t offset;
    size_t length;
    std::string text;
  };
  std::vector<Edit> edits;
  if (dialect == "trino") {
    for (const auto& ref : profile.group_alias_refs) {
      const size_t length = written_length(sql, ref.offset, ref.name);
      if (length == 0) continue;  // the text is not what the parser saw: leave it
      edits.push_back({ref.offset, length, std::to_string(ref.ordinal)});
    }
  }
  for (const auto& ref : profile.function_refs) {
    const auto renamed = renamed_function(dialect, ref.name);
    if (!renamed) continue;
    const size_t length = written_length(sql, ref.offset, ref.name);
    if (length != 0) edits.push_back({ref.offset, length, std::string(*renamed)});
  }
  for (size_t i = 0; i < tables.size() && i < profile.tables.size(); ++i) {
    const EngineTableName& target = tables[i];
    if (target.catalog.empty()) continue;
    for (const auto& ref : profile.tables[i].name_refs) {
      if (ref.parts >= 3 || written_length(sql, ref.offset, ref.first_part) == 0) continue;
      std::string prefix = double_quoted(target.catalog) + ".";
      if (ref.parts == 1) prefix += double_quoted(target.schema) + ".";
      edits.push_back({ref.offset, 0, std::move(prefix)});
    }
  }
  std::string out(sql);
  std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.offset > b.offset; });
  for (const auto& edit : edits) out.replace(edit.offset, edit.length, edit.text);
  if (dialect == "duckdb" && needs_pg_compat(profile)) {
    // A client's catalog query (psql's \d ...): see sql/pg_compat.h. One that cannot be rewritten
    // runs as written, and DuckDB reports what it lacks.
    if (auto rewritten = pg_compat_rewrite(out); rewritten.ok()) return std::move(*rewritten);
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
