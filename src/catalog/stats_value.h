// Typed comparison of statistics values: min/max bounds and partition values come as text in
// each format's own spelling (Delta JSON stats, Iceberg binary bounds decoded to text, DuckDB's
// rendering of Parquet footers) and are put in one canonical form per ValueKind, so that a
// predicate's literal compares with them the same way whatever the table format.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string_view>

#include "catalog/table_stats.h"

namespace lakerouter {

// The ValueKind of a column type as each format spells it.
ValueKind value_kind_of_delta_type(std::string_view type);    // long, decimal(15,2), timestamp_ntz, ...
ValueKind value_kind_of_iceberg_type(std::string_view type);  // long, decimal(15, 2), timestamptz, ...
ValueKind value_kind_of_sql_type(std::string_view type);      // BIGINT, DECIMAL(15,2), TIMESTAMP WITH TIME ZONE, ...

// The canonical value of `text` for a column of `kind`, or nullopt when it is not a value of that
// kind (then nothing is pruned on it). Canonical forms: numbers as parsed, booleans true/false,
// dates YYYY-MM-DD, timestamps "YYYY-MM-DD HH:MM:SS.ffffff" in UTC, strings unchanged.
std::optional<StatValue> make_stat_value(ValueKind kind, std::string_view text);

// <0, 0 or >0 as a is less than, equal to or greater than b; both canonical values of `kind`.
int compare_stat_values(ValueKind kind, const StatValue& a, const StatValue& b);

}  // namespace lakerouter
