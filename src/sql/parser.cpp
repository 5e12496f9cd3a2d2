#include "sql/parser.h"

#include <algorithm>
#include <charconv>

#include "core/utf8.h"
#include "sql/duckdb_parse.h"

namespace lakerouter::sql {

std::string_view statement_kind_name(StatementKind kind) {
  switch (kind) {
    case StatementKind::kSelect: return "SELECT";
    case StatementKind::kInsert: return "INSERT";
    case StatementKind::kUpdate: return "UPDATE";
    case StatementKind::kDelete: return "DELETE";
    case StatementKind::kMerge: return "MERGE";
    case StatementKind::kCreate: return "CREATE";
    case StatementKind::kDrop: return "DROP";
    case StatementKind::kAlter: return "ALTER";
    case StatementKind::kCopy: return "COPY";
    case StatementKind::kSet: return "SET";
    case StatementKind::kExplain: return "EXPLAIN";
    case StatementKind::kTransaction: return "TRANSACTION";
    case StatementKind::kPragma: return "PRAGMA";
    case StatementKind::kCall: return "CALL";
    case StatementKind::kAttach: return "ATTACH";
    case StatementKind::kLoad: return "LOAD";
    case StatementKind::kOther: return "OTHER";
  }
  return "OTHER";
}

namespace internal {

StatementKind to_statement_kind(duckdb::StatementType type) {
  using duckdb::StatementType;
  switch (type) {
    case StatementType::SELECT_STATEMENT: return StatementKind::kSelect;
    case StatementType::INSERT_STATEMENT: return StatementKind::kInsert;
    case StatementType::UPDATE_STATEMENT: return StatementKind::kUpdate;
    case StatementType::DELETE_STATEMENT: return StatementKind::kDelete;
    case StatementType::MERGE_INTO_STATEMENT: return StatementKind::kMerge;
    case StatementType::CREATE_STATEMENT:
    case StatementType::CREATE_FUNC_STATEMENT: return StatementKind::kCreate;
    case StatementType::DROP_STATEMENT:
    case StatementType::DETACH_STATEMENT: return StatementKind::kDrop;
    case StatementType::ALTER_STATEMENT: return StatementKind::kAlter;
    case StatementType::COPY_STATEMENT:
    case StatementType::COPY_DATABASE_STATEMENT:
    case StatementType::EXPORT_STATEMENT: return StatementKind::kCopy;
    case StatementType::SET_STATEMENT:
    case StatementType::VARIABLE_SET_STATEMENT: return StatementKind::kSet;
    case StatementType::EXPLAIN_STATEMENT: return StatementKind::kExplain;
    case StatementType::TRANSACTION_STATEMENT: return StatementKind::kTransaction;
    case StatementType::PRAGMA_STATEMENT: return StatementKind::kPragma;
    case StatementType::CALL_STATEMENT: return StatementKind::kCall;
    case StatementType::ATTACH_STATEMENT: return StatementKind::kAttach;
    case StatementType::LOAD_STATEMENT:
    case StatementType::UPDATE_EXTENSIONS_STATEMENT: return StatementKind::kLoad;
    default: return StatementKind::kOther;
  }
}


Status run_parser(std::string_view sql, duckdb::Parser& parser) {
  // The grammar stops at a NUL character: refuse it rather than silently drop what follows.
  if (auto nul = sql.find('\0'); nul != std::string_view::npos) {
    return Error(ErrorCode::kSyntaxError, "the statement holds a NUL character",
                 static_cast<uint32_t>(utf8_char_offset(sql, nul)));
  }
  try {
    parser.ParseQuery(std::string(sql));
  } catch (const std::exception& e) {
    duckdb::ErrorData error(e);
    std::optional<uint32_t> position;
    if (auto it = error.ExtraInfo().find("position"); it != error.ExtraInfo().end()) {
      uint32_t p = 0;
      if (std::from_chars(it->second.data(), it->second.data() + it->second.size(), p).ec == std::errc()) position = p;
    }
    return Error(ErrorCode::kSyntaxError, error.RawMessage(), position);
  }
  if (parser.statements.empty()) return Error(ErrorCode::kEmptySql, "the SQL text holds no statement");
  return Status::Ok();
}

}  // namespace internal

namespace internal {
namespace {

// The tree parse() kept, and the text it is of (without a terminating ';').
struct KeptTree {
  std::string text;
  duckdb::vector<duckdb::unique_ptr<duckdb::SQLStatement>> statements;
};
thread_local KeptTree kept;

}  // namespace

bool take_parsed(std::string_view sql, duckdb::vector<duckdb::unique_ptr<duckdb::SQLStatement>>& statements) {
  if (kept.statements.empty() || kept.text != sql) return false;
  statements = std::move(kept.statements);
  kept.statements.clear();
  kept.text.clear();
  return true;
}

}  // namespace internal

Result<ParsedSql> parse(std::string_view sql) {
  duckdb::Parser parser;
  internal::kept.statements.clear();
  if (Status s = internal::run_parser(sql, parser); !s.ok()) return s.error();
  ParsedSql parsed;
  size_t next = 0;  // DuckDB reports each statement's length but not always its location
  for (const auto& stmt : parser.statements) {
    parsed.statements.push_back(internal::to_statement_kind(stmt->type));
    size_t offset = stmt->stmt_location > 0 ? static_cast<size_t>(stmt->stmt_location) : next;
    const size_t length = std::min(static_cast<size_t>(stmt->stmt_length), sql.size() - std::min(offset, sql.size()));
    parsed.spans.push_back({offset, length});
    next = offset + length;
    if (next < sql.size() && sql[next] == ';') ++next;
  }
  if (parsed.spans.size() == 1 && parsed.spans[0].offset == 0) {  // positions in the tree hold for the span too
    internal::kept.text.assign(sql.substr(0, parsed.spans[0].length));
    internal::kept.statements = std::move(parser.statements);
  }
  return parsed;
}

}  // namespace lakerouter::sql
