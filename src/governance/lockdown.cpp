#include "governance/lockdown.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace lakerouter::governance {

namespace {

using sql::StatementKind;

// Table functions that compute rows from their arguments alone. Everything else that DuckDB
// offers reads files or URLs (read_parquet, glob, delta_scan ...), runs SQL text (query,
// query_table) or shows the system (duckdb_settings, duckdb_databases, pragma_* ...).
constexpr std::array<std::string_view, 6> kValueTableFunctions = {
    "generate_series", "json_each", "json_tree", "range", "unnest", "generate_subscripts"};

// Scalar functions that show the server rather than data.
constexpr std::array<std::string_view, 3> kSystemFunctions = {"current_setting", "getenv", "getvariable"};

// A name DuckDB would read as a file or URL (its replacement scans): `FROM 'data.csv'`,
// `FROM "/etc/passwd"`, `FROM 's3://bucket/x.parquet'`.
bool looks_like_a_file(const sql::TableNameRef& ref) {
  if (ref.first_part.find_first_of("/\\:") != std::string::npos) return true;
  return ref.parts == 1 && ref.first_part.find('.') != std::string::npos;
}

}  // namespace

bool is_value_table_function(std::string_view name) {
  return std::find(kValueTableFunctions.begin(), kValueTableFunctions.end(), name) != kValueTableFunctions.end();
}

Status check_lockdown(const sql::QueryProfile& profile, const LockdownOptions& options) {
  if (profile.statement_count > 1 && !options.allow_scripts) {
    return Error(ErrorCode::kMultipleStatements,
                 fmt::format("the request holds {} statements; send one statement per request (scripts are off: "
                             "governance.allow_scripts)",
                             profile.statement_count));
  }
  switch (profile.kind) {
    case StatementKind::kAttach:
    case StatementKind::kLoad:
    case StatementKind::kPragma:
    case StatementKind::kCall:
    case StatementKind::kSet:
    case StatementKind::kOther:
      return Error(ErrorCode::kPermissionDenied,
                   fmt::format("{} statements are not run for clients: they reach files, extensions, settings or "
                               "the engine itself rather than tables",
                               sql::statement_kind_name(profile.kind)));
    default: break;
  }
  for (const auto& fn : profile.table_functions) {
    if (!is_value_table_function(fn)) {
      return Error(ErrorCode::kPermissionDenied,
                   fmt::format("the table function {}() is not available to clients (only range, generate_series, "
                               "generate_subscripts, unnest, json_each and json_tree are: others read files or "
                               "URLs, run SQL text or show the system); name a table instead",
                               fn));
    }
  }
  for (const auto& fn : profile.functions) {
    if (std::find(kSystemFunctions.begin(), kSystemFunctions.end(), fn) != kSystemFunctions.end()) {
      return Error(ErrorCode::kPermissionDenied,
                   fmt::format("the function {}() is not available to clients: it shows the server's settings", fn));
    }
  }
  for (const auto& table : profile.tables) {
    for (const auto& ref : table.name_refs) {
      if (looks_like_a_file(ref)) {
        return Error(ErrorCode::kPermissionDenied,
                     fmt::format("'{}' reads a file or URL directly; only the tables lakerouter knows can be "
                                 "queried",
                                 ref.first_part));
      }
    }
  }
  return Status::Ok();
}

}  // namespace lakerouter::governance
