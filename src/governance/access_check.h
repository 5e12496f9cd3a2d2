// Access checks: what a statement reads and writes, against the policy, before any engine sees
// it. Reads need SELECT; INSERT, UPDATE and DELETE their privilege; DDL (CREATE, DROP, ALTER)
// OWNERSHIP. A table the user may read under a row filter, column masks or hidden columns is
// marked governed, so that routing only offers engines that enforce those (routing/router.cpp).
// Thread-safety: a free function over immutable inputs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/statement.h"
#include "core/status.h"
#include "governance/duckdb_enforcement.h"
#include "governance/policy.h"
#include "routing/table_facts.h"
#include "sql/query_profile.h"

namespace lakerouter::governance {

// The policy's name for a lakerouter table: the catalog holding its format (`catalogs`: table
// format -> catalog, as the Trino engine names them), then schema and table.
TableName policy_name(const routing::TableFacts& table, const std::map<std::string, std::string>& catalogs);

// kPermissionDenied naming the table, the user and the missing privilege; marks governed tables
// and, when `governed` is given, appends what applies to each (for enforcement on DuckDB).
// EXPLAIN of a governed table is refused: plans and their row counts show what filters remove.
// One statement: a script is checked statement by statement (Pipeline). While a policy is in
// force it also refuses what it cannot check: unknown or ambiguous table names, table functions
// other than range/generate_series/unnest, and ATTACH, LOAD, PRAGMA, CALL, SET and COPY.
Status check_access(const Policy& policy, const Session& session, const sql::QueryProfile& profile,
                    std::vector<routing::TableFacts>& tables, const std::map<std::string, std::string>& catalogs,
                    std::vector<GovernedTable>* governed = nullptr);

}  // namespace lakerouter::governance
