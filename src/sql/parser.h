// SQL parsing with DuckDB's own grammar (the engine that runs most queries), so that what the
// router accepts is exactly what DuckDB accepts, with DuckDB's error positions.
// Thread-safety: free functions, safe to call concurrently.
#pragma once

#include <string_view>
#include <vector>

#include "core/status.h"

namespace lakerouter::sql {

enum class StatementKind : uint8_t {
  kSelect, kInsert, kUpdate, kDelete, kMerge, kCreate, kDrop, kAlter, kCopy, kSet, kExplain,
  kTransaction, kPragma, kCall, kAttach, kLoad, kOther,
};

std::string_view statement_kind_name(StatementKind kind);

struct ParsedSql {
  std::vector<StatementKind> statements;  // one entry per statement in the text
  struct Span {
    size_t offset = 0;  // byte offset of the statement in the text
    size_t length = 0;  // bytes, without the terminating ';'
  };
  std::vector<Span> spans;  // one entry per statement, for front-ends that run them one by one
};

// Splits and parses the text. An empty text (or only comments) is kEmptySql; a syntax error is
// kSyntaxError with DuckDB's character position.
Result<ParsedSql> parse(std::string_view sql);

}  // namespace lakerouter::sql
