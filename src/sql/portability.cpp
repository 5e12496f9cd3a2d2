#include "sql/portability.h"

#include <algorithm>
#include <array>

namespace lakerouter::sql {

namespace {

struct Rename {
  std::string_view dialect;
  std::string_view duckdb;
  std::string_view other;
};

// Same arguments, same meaning, another name.
constexpr std::array kRenames = {
    Rename{"trino", "arg_max", "max_by"},   Rename{"trino", "arg_min", "min_by"},
    Rename{"trino", "argmax", "max_by"},    Rename{"trino", "argmin", "min_by"},
    Rename{"trino", "ifnull", "coalesce"},  Rename{"trino", "datediff", "date_diff"},
    Rename{"postgres", "ifnull", "coalesce"},
    Rename{"databricks", "arg_max", "max_by"}, Rename{"databricks", "arg_min", "min_by"},
};

// DuckDB functions the dialect lacks, or has with other arguments or another meaning.
constexpr std::string_view kDuckDBOnlyEverywhere[] = {
    "epoch", "epoch_ms", "epoch_us", "epoch_ns", "strftime", "strptime", "time_bucket", "list_value",
    "list_pack", "struct_pack", "list_aggregate", "list_sort", "list_distinct", "list_contains", "list_has",
    "list_filter", "list_transform", "list_reduce", "string_split", "str_split", "string_split_regex",
    "regexp_full_match", "generate_series", "today", "hash", "quantile", "quantile_cont", "quantile_disc",
};
constexpr std::string_view kNotInTrino[] = {
    "median", "mode", "list", "first", "last", "string_agg", "group_concat", "printf", "contains", "len",
    "regexp_matches", "md5", "make_date", "date_add", "date_sub", "to_timestamp", "unnest", "range",
};
constexpr std::string_view kNotInPostgres[] = {
    "median", "mode", "list", "first", "last", "arg_max", "arg_min", "argmax", "argmin", "max_by", "min_by",
    "count_if", "contains", "datediff", "date_diff", "regexp_matches", "printf", "len", "range",
};
constexpr std::string_view kNotInDatabricks[] = {"list", "group_concat"};

// DuckDB-only syntax (QueryProfile::duckdb_syntax) that the dialect does accept.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kSyntaxAccepted = {{
    {"postgres", ":: cast"},
    {"databricks", ":: cast"},
    {"databricks", "QUALIFY"},
    {"databricks", "GROUP BY ALL"},
}};

template <size_t N>
bool listed(const std::string_view (&list)[N], std::string_view name) {
  return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

bool lacks_function(std::string_view dialect, std::string_view name) {
  if (renamed_function(dialect, name)) return false;
  if (listed(kDuckDBOnlyEverywhere, name)) return true;
  if (dialect == "trino") return listed(kNotInTrino, name);
  if (dialect == "postgres") return listed(kNotInPostgres, name);
  if (dialect == "databricks") return listed(kNotInDatabricks, name);
  return false;
}

}  // namespace

std::optional<std::string_view> renamed_function(std::string_view dialect, std::string_view name) {
  for (const auto& r : kRenames) {
    if (r.dialect == dialect && r.duckdb == name) return r.other;
  }
  return std::nullopt;
}

std::vector<std::string> portability_gaps(const QueryProfile& profile, std::string_view dialect) {
  std::vector<std::string> gaps;
  if (dialect == "duckdb") return gaps;
  for (const auto& syntax : profile.duckdb_syntax) {
    const bool accepted = std::find(kSyntaxAccepted.begin(), kSyntaxAccepted.end(),
                                    std::pair<std::string_view, std::string_view>(dialect, syntax)) !=
                          kSyntaxAccepted.end();
    if (!accepted) gaps.push_back(syntax);
  }
  for (const auto& fn : profile.functions) {
    if (lacks_function(dialect, fn)) gaps.push_back(fn + "()");
  }
  // Catalog views describe the lake as DuckDB exposes it (sql/pg_compat.h); another engine would
  // answer with its own tables, or not know the schema.
  for (const auto& table : profile.tables) {
    if (table.name.starts_with("pg_catalog.") || table.name.starts_with("information_schema.")) {
      gaps.push_back(table.name);
    }
  }
  return gaps;
}

}  // namespace lakerouter::sql
