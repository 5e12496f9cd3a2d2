#include "catalog/scan_estimate.h"

#include <algorithm>

#include "catalog/stats_value.h"

namespace lakerouter {

namespace {

using sql::PredicateOp;

// A predicate made ready to test against files: its column resolved, its values canonical.
struct FilePredicate {
  const sql::Predicate* source = nullptr;
  size_t column = 0;
  ValueKind kind = ValueKind::kOther;
  std::optional<size_t> partition;  // identity partition column holding this column, if any
  std::vector<StatValue> values;
  std::string like_prefix;  // kLike: the literal text before the first wildcard
  bool like_exact = false;  // kLike without wildcards: an equality
};

// What one file holds of one column: its value range and how many of its values are NULL.
struct ColumnRange {
  const StatValue* min = nullptr;
  const StatValue* max = nullptr;
  std::optional<int64_t> null_count;
  bool all_null = false;  // a NULL partition, or a null count equal to the file's rows
};

std::optional<FilePredicate> prepare(const TableStats& stats, const sql::Predicate& p) {
  auto column = stats.column_index(p.column);
  if (!column) return std::nullopt;
  FilePredicate fp;
  fp.source = &p;
  fp.column = *column;
  fp.kind = stats.columns[*column].kind;
  for (size_t i = 0; i < stats.partition_columns.size(); ++i) {
    const auto& pc = stats.partition_columns[i];
    if (pc.transform == "identity" && pc.source_column == column) fp.partition = i;
  }
  if (p.op == PredicateOp::kIsNull || p.op == PredicateOp::kIsNotNull) return fp;
  if (p.values.empty()) return std::nullopt;  // parameters: values unknown until execution
  if (p.op == PredicateOp::kLike) {
    if (fp.kind != ValueKind::kString) return std::nullopt;
    const std::string& pattern = p.values.front();
    const size_t wildcard = pattern.find_first_of("%_");
    fp.like_prefix = pattern.substr(0, wildcard);
    fp.like_exact = wildcard == std::string::npos;
    if (fp.like_prefix.empty()) return std::nullopt;
    return fp;
  }
  for (const auto& text : p.values) {
    auto v = make_stat_value(fp.kind, text);
    if (!v) return std::nullopt;  // not comparable with this column: rules nothing out
    fp.values.push_back(std::move(*v));
  }
  if (p.op == PredicateOp::kBetween && fp.values.size() != 2) return std::nullopt;
  return fp;
}

ColumnRange range_in(const DataFile& file, const FilePredicate& p) {
  ColumnRange r;
  if (p.partition && *p.partition < file.partition_values.size()) {
    const auto& value = file.partition_values[*p.partition];
    if (value) {
      r.min = r.max = &*value;
      r.null_count = 0;
    } else {
      r.all_null = true;  // a NULL partition: every row is NULL in this column
    }
    return r;
  }
  auto it = std::lower_bound(file.bounds.begin(), file.bounds.end(), p.column,
                             [](const ColumnBounds& b, size_t column) { return b.column < column; });
  if (it == file.bounds.end() || it->column != p.column) return r;
  if (it->min && it->max) {
    r.min = &*it->min;
    r.max = &*it->max;
  }
  r.null_count = it->null_count;
  r.all_null = it->null_count && file.rows && *file.rows > 0 && *it->null_count >= *file.rows;
  return r;
}

// False only when no row of the file can satisfy the predicate.
bool may_match(const FilePredicate& p, const ColumnRange& r) {
  switch (p.source->op) {
    case PredicateOp::kIsNull: return r.all_null || !(r.null_count && *r.null_count == 0);
    case PredicateOp::kIsNotNull: return !r.all_null;
    default: break;
  }
  if (r.all_null) return false;  // comparisons with NULL are never true
  if (!r.min || !r.max) return true;
  auto cmp = [&](const StatValue& a, const StatValue& b) { return compare_stat_values(p.kind, a, b); };
  const StatValue& min = *r.min;
  const StatValue& max = *r.max;
  switch (p.source->op) {
    case PredicateOp::kEq: return cmp(p.values[0], min) >= 0 && cmp(p.values[0], max) <= 0;
    case PredicateOp::kIn:
      return std::any_of(p.values.begin(), p.values.end(),
                         [&](const StatValue& v) { return cmp(v, min) >= 0 && cmp(v, max) <= 0; });
    case PredicateOp::kNe: return !(cmp(min, max) == 0 && cmp(min, p.values[0]) == 0);
    case PredicateOp::kLt: return cmp(min, p.values[0]) < 0;
    case PredicateOp::kLe: return cmp(min, p.values[0]) <= 0;
    case PredicateOp::kGt: return cmp(max, p.values[0]) > 0;
    case PredicateOp::kGe: return cmp(max, p.values[0]) >= 0;
    case PredicateOp::kBetween: return cmp(max, p.values[0]) >= 0 && cmp(min, p.values[1]) <= 0;
    case PredicateOp::kLike: {
      const StatValue prefix{p.like_prefix, 0};
      if (p.like_exact) return cmp(prefix, min) >= 0 && cmp(prefix, max) <= 0;
      // Strings starting with the prefix sort at or after it, and before any larger string
      // that does not start with it.
      if (cmp(max, prefix) < 0) return false;
      return cmp(min, prefix) <= 0 || min.text.starts_with(p.like_prefix);
    }
    default: return true;
  }
}

}  // namespace

ScanEstimate estimate_scan(const TableStats& stats, std::span<const sql::Predicate> predicates) {
  ScanEstimate e;
  if (stats.data_files.empty()) {  // totals only: nothing to prune with
    e.rows = stats.rows;
    e.bytes = stats.bytes;
    e.files = e.files_total = stats.files;
    return e;
  }
  std::vector<FilePredicate> prepared;
  for (const auto& p : predicates) {
    if (auto fp = prepare(stats, p)) prepared.push_back(std::move(*fp));
  }
  std::vector<bool> pruned_any(prepared.size(), false);
  e.rows = 0;
  e.files_total = static_cast<int64_t>(stats.data_files.size());
  for (const auto& file : stats.data_files) {
    bool keep = true;
    for (size_t i = 0; i < prepared.size() && keep; ++i) {
      if (!may_match(prepared[i], range_in(file, prepared[i]))) {
        keep = false;
        pruned_any[i] = true;
      }
    }
    if (!keep) continue;
    ++e.files;
    e.bytes += file.bytes;
    if (e.rows && file.rows) {
      *e.rows += *file.rows;
    } else {
      e.rows.reset();
    }
  }
  for (size_t i = 0; i < prepared.size(); ++i) {
    const std::string& column = prepared[i].source->column;
    if (pruned_any[i] && std::find(e.pruned_by.begin(), e.pruned_by.end(), column) == e.pruned_by.end()) {
      e.pruned_by.push_back(column);
    }
  }
  return e;
}

}  // namespace lakerouter
