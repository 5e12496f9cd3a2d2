// Engine: the one interface every execution engine implements (DuckDB, PostgreSQL, Trino, ...).
//
// An engine turns SQL into a ResultStream; it knows nothing of front-ends or routing.
// Thread-safety: implementations are shared by all request threads and must be thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/result_stream.h"
#include "core/statement.h"
#include "core/status.h"

namespace lakerouter {

struct EngineHealth {
  bool ready = false;
  std::string detail;  // why not ready, or a short summary
};

class Engine {
 public:
  virtual ~Engine() = default;

  virtual std::string_view name() const = 0;

  // The SQL dialect statements must be written in: "duckdb", "postgres", "trino", "databricks".
  virtual std::string_view dialect() const = 0;

  // Prepares the statement and returns its stream. Errors in the statement (syntax, unknown
  // table, bad parameters) are returned here, before any row; execution errors come from next().
  virtual Result<std::unique_ptr<ResultStream>> execute(const Statement& statement,
                                                        const Session& session) = 0;

  virtual EngineHealth health() = 0;

  // The engine's catalog that holds the tables of a format ("delta", "iceberg", "parquet",
  // "postgres") under their lakerouter names, e.g. Trino's "iceberg"; empty: the names resolve as
  // written (the engine's own default catalog). The pipeline puts it in front of table names.
  virtual std::string catalog_for(std::string_view /*format*/) const { return {}; }
};

}  // namespace lakerouter
