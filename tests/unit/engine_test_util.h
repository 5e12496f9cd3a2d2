// Helpers for tests that run statements on engines: a result read to its end in a comparable
// text form, and a statement run to completion on a throw-away embedded DuckDB (to write fixture
// files with COPY).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalog/catalog.h"
#include "core/result_stream.h"
#include "engines/duckdb/duckdb_engine.h"
#include "test_util.h"

namespace lakerouter::testing {

struct Rows {
  ResultSchema schema;
  std::vector<std::vector<std::string>> values;  // cells as the test's CellText renders them
  std::vector<size_t> batch_sizes;               // rows per next() that produced rows
  std::optional<int64_t> rows_changed;

  size_t batches() const { return batch_sizes.size(); }
};

// How a test renders one cell (each engine's tests pick the form their assertions use).
using CellText = std::string (*)(const ColumnData& column, const ColumnType& type, size_t row);

// Reads `stream` to its end, or returns its first error.
inline Result<Rows> drain(ResultStream& stream, CellText cell) {
  Rows rows;
  ResultBatch batch;
  while (true) {
    batch.clear();
    auto more = stream.next(batch);
    if (!more.ok()) return more.error();
    rows.schema = stream.schema();
    if (!*more) break;
    rows.batch_sizes.push_back(batch.row_count());
    EXPECT_EQ(batch.column_count(), rows.schema.size());
    for (size_t r = 0; r < batch.row_count(); ++r) {
      std::vector<std::string> line;
      for (size_t c = 0; c < batch.column_count(); ++c) line.push_back(cell(batch.column(c), rows.schema[c].type, r));
      rows.values.push_back(std::move(line));
    }
  }
  rows.rows_changed = stream.rows_changed();
  return rows;
}

// Runs `sql` to completion on a fresh in-memory DuckDB (e.g. COPY ... TO a fixture file).
inline void run_on_duckdb(const std::string& sql) {
  DuckDBEngineOptions options;
  options.extension_directory = extension_dir();
  options.load_extensions = {};
  options.pool_size = 1;
  options.lock_down = false;  // fixtures write files, which a locked-down engine refuses
  auto engine = DuckDBEngine::open(options, Catalog());
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  auto stream = (*engine)->execute(Statement{sql}, Session());
  ASSERT_TRUE(stream.ok()) << sql << ": " << stream.error().message;
  ResultBatch batch;
  while (true) {
    auto more = (*stream)->next(batch);
    ASSERT_TRUE(more.ok()) << sql << ": " << more.error().message;
    if (!*more) break;
  }
}

}  // namespace lakerouter::testing
