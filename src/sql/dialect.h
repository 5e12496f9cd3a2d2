// Dialect translation: the few rewrites that let a statement written for DuckDB (lakerouter's
// default dialect) run unchanged in meaning on another engine. Each rewrite edits the original
// text at positions the analyzer recorded, so everything else stays byte for byte as written.
//
// The list (docs/routing.md, "Dialects"):
//   - trino: GROUP BY <select-list alias> becomes GROUP BY <ordinal> (Trino resolves GROUP BY
//     names against the FROM tables only).
//   - functions that only differ in name (sql/portability.h): arg_max -> max_by, ifnull -> coalesce.
//   - any engine: a table the engine keeps in another catalog gets that catalog in front of its
//     name (`tpch_iceberg.orders` -> `"iceberg"."tpch_iceberg".orders` on Trino), so that table
//     names are the same for users whichever engine runs the statement.
//   - duckdb: PostgreSQL catalog queries (psql's \d, \dt, \l ...) that name what DuckDB's
//     pg_catalog lacks are rewritten on the parse tree and printed back (sql/pg_compat.h); only
//     then is the text not the client's own.
// A statement's trailing semicolons are removed for every engine (without_terminator()).
// Thread-safety: a pure function.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "sql/query_profile.h"

namespace lakerouter::sql {

// Where an engine keeps one of the statement's tables: in `catalog`, under `schema`.
struct EngineTableName {
  std::string catalog;  // empty: the engine resolves the name as written
  std::string schema;   // for references written without one
};

// `sql` rewritten for an engine of `dialect`. `tables[i]`, when given, says where the engine keeps
// profile.tables[i]; every FROM/JOIN reference to it written without a catalog gets one.
// Unchanged when nothing applies.
std::string translate(std::string_view sql, const QueryProfile& profile, std::string_view dialect,
                      std::span<const EngineTableName> tables = {});

// The statement without the semicolons and whitespace that may end it: engines such as Trino
// accept one statement only without its terminator.
std::string_view without_terminator(std::string_view sql);

}  // namespace lakerouter::sql
