// Dialect translation: the few rewrites that let a statement written for DuckDB (lakerouter's
// default dialect) run unchanged in meaning on another engine. Each rewrite edits the original
// text at positions the analyzer recorded, so everything else stays byte for byte as written.
//
// The list (docs/routing.md, "Dialects"):
//   - trino: GROUP BY <select-list alias> becomes GROUP BY <ordinal> (Trino resolves GROUP BY
//     names against the FROM tables only).
// A statement's trailing semicolons are removed for every engine (without_terminator()).
// Thread-safety: a pure function.
#pragma once

#include <string>
#include <string_view>

#include "sql/query_profile.h"

namespace lakerouter::sql {

// `sql` rewritten for an engine of `dialect`; unchanged when nothing applies.
std::string translate(std::string_view sql, const QueryProfile& profile, std::string_view dialect);

// The statement without the semicolons and whitespace that may end it: engines such as Trino
// accept one statement only without its terminator.
std::string_view without_terminator(std::string_view sql);

}  // namespace lakerouter::sql
