// ResultSpill: a query result kept in a file rather than in memory, for asynchronous queries:
// written once, batch by batch, then read back by row ranges (pages) as often as clients ask.
// The file holds ResultBatches in a compact binary form of their columns (validity bytes, then
// fixed-width values or lengths + bytes), one record per batch, with an in-memory index of
// where each batch starts; the file is removed when the spill is destroyed.
// Thread-safety: append() and seal() from one writer thread; after seal(), read() from any
// number of threads at once (positioned reads on one descriptor).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result_batch.h"
#include "core/status.h"
#include "core/types.h"

namespace lakerouter::formats {

class ResultSpill {
 public:
  // Creates (truncates) the file at `path`. Appends beyond `max_bytes` fail with
  // RESULT_TOO_LARGE.
  static Result<std::unique_ptr<ResultSpill>> create(std::string path, ResultSchema schema, size_t max_bytes);

 private:
  struct Key {};  // only create() constructs

 public:
  ResultSpill(Key /*key*/, std::string path, int fd, ResultSchema schema, size_t max_bytes)
      : path_(std::move(path)), fd_(fd), schema_(std::move(schema)), max_bytes_(max_bytes) {}
  ~ResultSpill();
  ResultSpill(const ResultSpill&) = delete;
  ResultSpill& operator=(const ResultSpill&) = delete;

  Status append(const ResultBatch& batch);
  void seal() { sealed_ = true; }

  // Rows [first, first + count) (clipped to the result) into `out`, which is reset to the schema.
  Status read(int64_t first, int64_t count, ResultBatch& out) const;

  const ResultSchema& schema() const { return schema_; }
  int64_t rows() const { return rows_; }
  size_t bytes() const { return bytes_; }
  const std::string& path() const { return path_; }

 private:
  struct Chunk {
    uint64_t offset;
    uint64_t size;
    int64_t first_row;
    uint32_t rows;
  };

  std::string path_;
  int fd_;
  ResultSchema schema_;
  size_t max_bytes_;
  std::vector<Chunk> chunks_;
  std::string scratch_;  // the record being written
  int64_t rows_ = 0;
  size_t bytes_ = 0;
  bool sealed_ = false;
};

}  // namespace lakerouter::formats
