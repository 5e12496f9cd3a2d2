// SQL analysis: one statement's text -> QueryProfile, by walking DuckDB's parse tree.
// Thread-safety: free functions, safe to call concurrently.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "sql/query_profile.h"

namespace lakerouter::sql {

// Analyzes exactly one statement (kMultipleStatements otherwise; syntax errors with positions).
Result<QueryProfile> analyze(std::string_view sql);

// Analyzes a text of one or more statements as one unit (a script such as BEGIN; INSERT ...;
// UPDATE ...; COMMIT): tables, functions and the rest of every statement together, the count in
// statement_count, and as `kind` the first statement that neither reads nor is BEGIN/COMMIT (else
// the first read), so that routing treats a script that writes as a write, and a script is
// read-only only when all its statements read.
Result<QueryProfile> analyze_script(std::string_view sql);

// A digest of the statement's structure with its literals masked: the same query with other
// constants, spacing, letter case or comments gets the same fingerprint (16 hex digits). It
// hashes DuckDB's parse tree, so it is stable for one DuckDB version. "" if it does not parse.
std::string fingerprint(std::string_view sql);

// Whether `name` (lower-case) is an aggregate function in DuckDB's function catalog.
bool is_aggregate_function(std::string_view name);

}  // namespace lakerouter::sql
