// Conversions between DuckDB's C++ types and lakerouter's engine-neutral ones. Internal to
// engines/duckdb/.
#pragma once

#include "core/result_batch.h"
#include "core/statement.h"
#include "core/status.h"
#include "core/types.h"
#include "duckdb.hpp"

namespace lakerouter::duckdb_internal {

ColumnType to_column_type(const duckdb::LogicalType& type);

// Appends the chunk's rows to `batch` (whose columns match the chunk's types).
void append_chunk(duckdb::DataChunk& chunk, ResultBatch& batch);

// Maps a DuckDB error to a lakerouter error; `timed_out` tells an interrupt by the deadline
// from a cancellation.
Error to_error(const duckdb::ErrorData& error, bool timed_out = false);

duckdb::Value to_value(const ParamValue& param);

}  // namespace lakerouter::duckdb_internal
