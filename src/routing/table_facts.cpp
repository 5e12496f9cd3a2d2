#include "routing/table_facts.h"

#include <algorithm>

#include "catalog/scan_estimate.h"

namespace lakerouter::routing {

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matching with one backtrack point (the last '*'): linear for table-name patterns.
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace {

const TableInfo* find_in_catalog(const Catalog& catalog, std::string_view name) {
  if (name.find('.') != std::string_view::npos) return catalog.find(name);
  const TableInfo* found = nullptr;
  for (const auto& table : catalog.tables()) {
    if (table.name != name) continue;
    if (found) return nullptr;  // ambiguous: the engine's own resolution decides, not us
    found = &table;
  }
  return found;
}

const TableHint* find_hint(std::span<const TableHint> hints, std::string_view name) {
  for (const auto& hint : hints) {
    if (hint.name == name) return &hint;
  }
  for (const auto& hint : hints) {
    if (glob_match(hint.name, name)) return &hint;
  }
  return nullptr;
}

}  // namespace

std::vector<TableFacts> resolve_tables(const sql::QueryProfile& profile, const Catalog& catalog,
                                       std::span<const TableHint> hints) {
  std::vector<TableFacts> facts(profile.tables.size());
  for (size_t i = 0; i < profile.tables.size(); ++i) {
    TableFacts& f = facts[i];
    f.name = profile.tables[i].name;
    const sql::TableAccess& access = profile.tables[i];
    if (const TableInfo* table = find_in_catalog(catalog, f.name)) {
      const TableStats& stats = *table->stats;
      f.name = table->qualified_name();
      f.known = true;
      f.format = table_format_name(table->format);
      f.features = stats.features;
      f.key_columns = table->key_columns;
      f.table_rows = stats.rows;
      f.table_bytes = stats.bytes;
      const int times = std::max(1, access.references);
      const auto scan = estimate_scan(stats, times == 1 ? std::span<const sql::Predicate>(access.predicates)
                                                        : std::span<const sql::Predicate>());
      if (scan.rows) f.rows = *scan.rows * times;
      f.bytes = scan.bytes * times;
      f.files = scan.files;
      f.files_total = scan.files_total;
      f.pruned_by = scan.pruned_by;
    }
    if (const TableHint* hint = find_hint(hints, f.name)) {
      f.known = true;
      if (hint->format) f.format = *hint->format;
      if (hint->features) f.features = *hint->features;
      if (hint->governed) f.governed = *hint->governed;
      if (hint->key_columns) f.key_columns = *hint->key_columns;
      if (hint->rows) f.rows = f.table_rows = hint->rows;
      if (hint->bytes) f.bytes = f.table_bytes = hint->bytes;
    }
  }
  return facts;
}

}  // namespace lakerouter::routing
