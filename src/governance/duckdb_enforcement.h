// Enforcement on DuckDB: a query that reads governed tables (row filters, column masks, hidden
// columns) is changed on its parse tree so that DuckDB itself applies the policy. Each reference
// to a governed table, at any depth, becomes a subquery over the table:
//
//   crm.customers AS c   ->   (SELECT * EXCLUDE (balance) REPLACE ('***' AS email)
//                              FROM crm.customers WHERE region = 'EUROPE') AS c
//
// so every path to the table's data (`*`, aliases, CTEs, subqueries, set operations, EXCLUDE,
// COLUMNS(...), window functions, the table's row as a struct, DESCRIBE and SUMMARIZE) sees only
// the rows and values the policy leaves. The filter and masks come from the policy file and are
// parsed as DuckDB expressions; `current_user` in them is the session's user. The user's SQL is
// never concatenated with anything: the statement is printed back from the changed tree.
//
// What this cannot stop by itself, and who does (docs/governance.md, "Threat model"):
//   - DuckDB may evaluate a query's own predicates before the row filter (its optimizer reorders
//     filters), so an error raised for a hidden row could carry that row's values:
//     withhold_details() keeps only the error's kind for governed statements.
//   - Plans and their row counts (EXPLAIN, EXPLAIN ANALYZE) show what the filter removed: the
//     access check refuses them for governed tables.
//   - Files, settings and system functions reach data without naming the table: lockdown
//     (governance/lockdown.h) and DuckDB's own settings (engines/duckdb) stop those.
// Thread-safety: pure functions.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result_stream.h"
#include "core/status.h"
#include "governance/policy.h"

namespace lakerouter::governance {

// A table with policies for this statement's user, by lakerouter's (and DuckDB's) name for it.
struct GovernedTable {
  std::string schema;
  std::string table;
  TableAccess access;  // the rule that applies: filter, masks, hidden columns
};

// `sql` (one query) with every reference to a table of `tables` replaced as above, printed back
// from the parse tree. kNotSupported for statements other than queries, and for references the
// rewrite cannot make safe (time travel on a governed table, an unknown kind of table reference);
// kConfigError when a filter or mask does not parse as a DuckDB expression. Fails closed: never
// returns a text that still reads a governed table directly.
Result<std::string> enforce_on_duckdb(std::string_view sql, std::span<const GovernedTable> tables,
                                      std::string_view user);

// An engine's error for a statement over governed tables. Errors about the statement's text
// (syntax, names, types, parameters) keep their message; errors raised while rows are processed
// (conversions, invalid input, ranges, engine failures) keep only their code, since their message
// may quote a value of a hidden row or column. Positions are dropped: they point into the
// rewritten text, not the client's.
Error withhold_details(Error error);

// `stream` with every error it returns passed through withhold_details().
std::unique_ptr<ResultStream> withholding_details(std::unique_ptr<ResultStream> stream);

}  // namespace lakerouter::governance
