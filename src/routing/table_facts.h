// TableFacts: what the router needs to know about each table a statement touches (format and
// its features, governance, size, key columns), resolved from the catalog before routing so that
// the Router itself stays a pure function of its input.
//
// TableHint is the `routing.tables` configuration: facts the catalog does not hold (yet), such as
// key columns, governance, format features, or tables that live in PostgreSQL rather than the
// lake. A hint overrides what the catalog says for the fields it sets.
// Thread-safety: value types and a pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "sql/query_profile.h"

namespace lakerouter::routing {

struct TableFacts {
  std::string name;     // qualified when the table is known ("tpch.orders"), else as written
  bool known = false;   // found in the catalog or in routing.tables
  std::string format;   // delta, iceberg, parquet, postgres; "" when unknown
  std::vector<std::string> features;  // format features in use, e.g. deletionVectors
  bool governed = false;              // has policies (filters, masks) an engine must enforce
  // The policies are lakerouter's own (governance.rules_file), so lakerouter can apply them by
  // rewriting the statement for DuckDB. A table marked governed by a routing.tables hint has
  // policies only its warehouse knows (e.g. Unity Catalog): DuckDB cannot run it.
  bool governed_by_policy = false;
  // What the statement scans of the table: the files left after partition and min/max pruning
  // (catalog/scan_estimate.h), times the number of times the statement names the table.
  std::optional<int64_t> rows;
  std::optional<int64_t> bytes;
  int64_t files = 0;
  int64_t files_total = 0;
  std::vector<std::string> pruned_by;  // columns whose predicates ruled files out
  std::optional<int64_t> table_rows;   // the whole table
  std::optional<int64_t> table_bytes;
  std::vector<std::string> key_columns;  // lower-case; equality on one makes a point lookup
};

struct TableHint {
  std::string name = {};  // "schema.table", or a pattern with * and ? ("finance.*")
  std::optional<std::string> format = {};
  std::optional<std::vector<std::string>> features = {};
  std::optional<bool> governed = {};
  std::optional<std::vector<std::string>> key_columns = {};
  std::optional<int64_t> rows = {};
  std::optional<int64_t> bytes = {};
  int line = 0;
};

// `*` matches any run of characters (dots included), `?` any one character; exact otherwise.
bool glob_match(std::string_view pattern, std::string_view text);

// One TableFacts per profile.tables entry, in the same order. A name without a schema resolves to
// the catalog table of that name when exactly one schema has it. One hint applies per table: the
// one with its exact name, else the first pattern that matches; a hint's rows or bytes replace
// the estimate. A table named more than once is estimated without pruning (a predicate may hold
// for one reference only).
std::vector<TableFacts> resolve_tables(const sql::QueryProfile& profile, const Catalog& catalog,
                                       std::span<const TableHint> hints);

}  // namespace lakerouter::routing
