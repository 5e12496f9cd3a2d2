// RowsStream: a ResultStream over rows that are already in memory (answers the router gives
// itself, such as EXPLAIN ROUTE, and PostgreSQL scripts, which ran to their end), so that
// front-ends encode them like any engine's result. Nothing runs any more, so cancel() has
// nothing to stop: the answer is handed out whole (a script that committed is not reported as
// cancelled).
// Thread-safety: as ResultStream.
#pragma once

#include <utility>

#include "core/result_stream.h"

namespace lakerouter {

class RowsStream final : public ResultStream {
 public:
  RowsStream(ResultSchema schema, ResultBatch rows, std::optional<int64_t> rows_changed = std::nullopt)
      : schema_(std::move(schema)), rows_(std::move(rows)), rows_changed_(rows_changed) {}

  const ResultSchema& schema() const override { return schema_; }

  Result<bool> next(ResultBatch& batch) override {
    if (done_) {
      batch.reset(schema_);
      return false;
    }
    done_ = true;
    batch = std::move(rows_);
    return batch.row_count() > 0;
  }

  void cancel(bool /*timed_out*/) override {}
  std::optional<int64_t> rows_changed() const override { return rows_changed_; }

 private:
  ResultSchema schema_;
  ResultBatch rows_;
  std::optional<int64_t> rows_changed_;
  bool done_ = false;
};

}  // namespace lakerouter
