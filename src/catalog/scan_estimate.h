// Scan estimates: how much of a table a statement reads, after ruling out the data files that its
// predicates cannot match — by partition value and by each file's min/max bounds and null
// counts, all from metadata. An estimate of what the engine scans, not of the rows it returns.
// Thread-safety: a pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catalog/table_stats.h"
#include "sql/query_profile.h"

namespace lakerouter {

struct ScanEstimate {
  std::optional<int64_t> rows;  // rows in the files left; unknown when a file's count is unknown
  int64_t bytes = 0;
  int64_t files = 0;
  int64_t files_total = 0;
  std::vector<std::string> pruned_by;  // columns whose predicates ruled files out, in predicate order

  bool pruned() const { return files < files_total; }
};

// `predicates` are AND-ed (sql::TableAccess::predicates). Predicates on columns the table does not
// have, or with values that are parameters or not of the column's type, rule nothing out.
ScanEstimate estimate_scan(const TableStats& stats, std::span<const sql::Predicate> predicates);

}  // namespace lakerouter
