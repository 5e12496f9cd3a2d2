// Portability: whether a statement written in DuckDB's dialect (lakerouter's) runs unchanged in
// meaning on an engine of another dialect. Routing leaves out the engines a statement is not
// portable to (NOT_PORTABLE), so such a statement stays where it was written to run; the few
// functions that only change their name are renamed instead (sql/dialect.h).
//
// The lists are in portability.cpp and docs/routing.md ("Dialects"); they name what users write
// and another engine lacks or reads differently — not every difference, which would be endless.
// Thread-safety: pure functions over constant tables.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sql/query_profile.h"

namespace lakerouter::sql {

// What keeps the statement from running on `dialect` ("postgres", "trino", "databricks"), one
// phrase each ("QUALIFY", "median()"); empty when it is portable. DuckDB itself: always empty.
std::vector<std::string> portability_gaps(const QueryProfile& profile, std::string_view dialect);

// The name a DuckDB function has in `dialect`, when only the name differs (arg_max -> max_by).
std::optional<std::string_view> renamed_function(std::string_view dialect, std::string_view name);

}  // namespace lakerouter::sql
