// The embedded DuckDB engine: one in-process database, a fixed pool of connections.
//
// Catalog tables are exposed as views (`tpch.lineitem` -> delta_scan('<path>')) so users write
// names, never paths. Extensions load from a local directory with signature checks on. Then the
// database is locked down (DuckDBEngineOptions::lock_down): only the tables' own directories can
// be read, and settings cannot change.
// Thread-safety: all public methods are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "engines/engine.h"

namespace duckdb {
class DuckDB;
class Connection;
}  // namespace duckdb

namespace lakerouter {

struct DuckDBEngineOptions {
  int threads = 0;                         // 0: DuckDB's default (all cores)
  std::string memory_limit;                // e.g. "4GB"; empty: DuckDB's default (80% of RAM)
  int pool_size = 8;                       // concurrent statements; more wait for a connection
  std::chrono::milliseconds pool_wait{10000};  // how long a statement waits for a free connection
  std::string extension_directory;         // holds v<version>/linux_amd64/*.duckdb_extension
  std::vector<std::string> load_extensions{"delta", "iceberg"};
  // After the views exist: no file or URL access outside the catalog's tables, no extension
  // loading, no setting changes (DuckDB's enable_external_access, allowed_directories and
  // lock_configuration), so that statements the analysis let through still cannot reach files.
  bool lock_down = true;
};

class DuckDBEngine final : public Engine {
 public:
  // Opens the database, loads extensions and creates one view per catalog table.
  static Result<std::unique_ptr<DuckDBEngine>> open(const DuckDBEngineOptions& options,
                                                   const Catalog& catalog);
  struct PrivateTag {
    explicit PrivateTag() = default;
  };
  DuckDBEngine(PrivateTag tag, const DuckDBEngineOptions& options);  // use open()
  ~DuckDBEngine() override;

  std::string_view name() const override { return "duckdb"; }
  std::string_view dialect() const override { return "duckdb"; }
  Result<std::unique_ptr<ResultStream>> execute(const Statement& statement,
                                                const Session& session) override;
  EngineHealth health() override;

  // A connection borrowed from the pool; returns itself on destruction.
  class Lease;

 private:
  Status expose_table(duckdb::Connection& conn, const TableInfo& table);
  static Status lock_down(duckdb::Connection& conn, const Catalog& catalog);
  std::unique_ptr<duckdb::Connection> acquire(std::chrono::milliseconds wait);
  void release(std::unique_ptr<duckdb::Connection> conn);

  DuckDBEngineOptions options_;
  std::unique_ptr<duckdb::DuckDB> db_;
  std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<duckdb::Connection>> idle_;  // guarded by mu_
};

}  // namespace lakerouter
