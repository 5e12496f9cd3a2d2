// EXPLAIN ROUTE <statement>: lakerouter's own statement, answered by the router itself with the
// routing decision as rows (server/explain_route.h) instead of running the statement.
// DuckDB's grammar has no such statement, so it is recognized here, before parsing.
// Thread-safety: a pure function.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace lakerouter::sql {

// When `sql` is EXPLAIN ROUTE followed by a statement (keywords in any case, with whitespace or
// comments around them), the character offset where that statement begins.
std::optional<size_t> explain_route_target(std::string_view sql);

}  // namespace lakerouter::sql
