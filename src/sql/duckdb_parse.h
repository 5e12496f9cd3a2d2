// Shared by parser.cpp and analyzer.cpp: running DuckDB's parser and translating what it says.
// Internal to sql/.
#pragma once

#include <string_view>

#include "core/status.h"
#include "duckdb.hpp"
#include "duckdb/parser/parser.hpp"
#include "sql/parser.h"

namespace lakerouter::sql::internal {

StatementKind to_statement_kind(duckdb::StatementType type);

// Parses `sql` into `parser`; NUL characters and syntax errors become kSyntaxError with the
// character position, and a text without statements kEmptySql.
Status run_parser(std::string_view sql, duckdb::Parser& parser);

// parse() keeps the tree of a one-statement text for the calling thread; analysis of the same
// text then takes it instead of parsing again (a front-end splits a text, then the pipeline
// analyzes it: the pgwire simple-query path). Returns false when the last parse on this thread
// was of another text.
bool take_parsed(std::string_view sql, duckdb::vector<duckdb::unique_ptr<duckdb::SQLStatement>>& statements);

}  // namespace lakerouter::sql::internal
