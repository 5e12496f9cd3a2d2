// Lockdown: what no client statement may do, with or without an access policy. Statements from
// users cannot read or write files or URLs, change an engine's settings, load extensions, attach
// databases, call system functions that show paths, settings or other sessions, or send several
// statements in one request unless configuration allows scripts. The DuckDB engine backs this up
// with its own settings (engines/duckdb: external access off, configuration locked), so that a
// gap in the analysis is still stopped by the engine.
// Thread-safety: a pure function.
#pragma once

#include "core/status.h"
#include "sql/query_profile.h"

namespace lakerouter::governance {

struct LockdownOptions {
  // Several statements in one request (a script, run by an engine that takes scripts, e.g.
  // PostgreSQL, as one transaction). Off by default: a script is how an injected statement rides
  // along with a legitimate one. pgwire's simple Query message is split by the front-end and each
  // statement is checked on its own, as PostgreSQL itself allows.
  bool allow_scripts = false;
};

// kPermissionDenied naming what the statement may not do, or Ok. `profile` may be a script's
// (kind and tables of all its statements); each statement of an allowed script is checked again
// on its own by the pipeline.
Status check_lockdown(const sql::QueryProfile& profile, const LockdownOptions& options);

// Whether the table function `name` only computes values (range, unnest, ...): the only ones
// client statements may call.
bool is_value_table_function(std::string_view name);

}  // namespace lakerouter::governance
