// The Databricks SQL engine: statements run on a SQL warehouse through the Statement Execution
// API 2.0 (REST over HTTPS, JSON).
//
// execute() POSTs {host}/api/2.0/sql/statements with the statement, warehouse_id, catalog and
// schema, disposition INLINE, format JSON_ARRAY, wait_timeout (e.g. "10s") and on_wait_timeout
// CONTINUE: a statement that ends within wait_timeout answers at once; otherwise execute() polls
// GET /api/2.0/sql/statements/{id} (first after poll_interval, then backing off to
// max_poll_interval) until the state is SUCCEEDED, so that SQL errors come back from execute()
// as they do on DuckDB. After its own deadline execute() returns the stream anyway and next()
// polls on. next() hands out the first chunk of rows (in the SUCCEEDED response), then GETs
// /result/chunks/{n} following next_chunk_internal_link (else next_chunk_index) to the last.
// cancel() POSTs /api/2.0/sql/statements/{id}/cancel, as does dropping an unfinished stream.
//
// Request mapping:
// - Authorization: Bearer <token>, the token read at open() from the environment variable named
//   by `token_env` (a personal access token or an OAuth access token). It never appears in a log
//   or an error message: server text that echoes it is redacted.
// - Statement::params: the API binds named markers only, so positional markers (? or $1, $2, ...,
//   outside literals and comments) are rewritten as :p1, :p2, ... and the values sent as
//   parameters typed BIGINT, DOUBLE, BOOLEAN or STRING (NULL without a value). Error positions
//   are mapped back into the caller's text.
// - Session::timeout bounds how long execute() waits, and the POST's wait_timeout is kept below
//   it, so the statement id is known (and the statement cancellable) before the deadline.
//
// Types map from manifest.schema.columns[] (type_name, type_text, type_precision/scale) as
// databricks_values.cpp (column_type) says: TIMESTAMP is an instant (UTC), TIMESTAMP_NTZ a
// local date-time, ARRAY/MAP/STRUCT/VARIANT their JSON text, BINARY bytes (base64 on the wire).
// FAILED statements map onto core codes by their error class ("[TABLE_OR_VIEW_NOT_FOUND] ..."),
// else SQLSTATE, else the service's error_code. HTTP: 401/403 -> PERMISSION_DENIED; 429/502/503/
// 504 are retried with backoff, then ENGINE_UNAVAILABLE; 404, connection failures ->
// ENGINE_UNAVAILABLE (so the pipeline may fail a read over to another engine).
//
// Tested against tests/contract/databricks_contract_server.py, a contract server replaying the
// documented API (Databricks itself cannot run in the test environment).
//
// Thread-safety: DatabricksEngine's methods are thread-safe. A stream follows ResultStream's
// contract (next() on one thread, cancel() from any thread); cancel() never waits for the
// network: it aborts the transfer in flight and hands the cancel request to the engine's
// canceller thread. A stream keeps the engine's shared HTTP state alive, so it may outlive the
// engine.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "engines/engine.h"

namespace lakerouter {

struct DatabricksEngineOptions {
  std::string name = "databricks";
  std::string host;                        // the workspace, https://adb-1234.5.azuredatabricks.net
                                           // (http:// only for test servers; a bare host means https)
  std::string warehouse_id;                // the SQL warehouse that runs the statements
  std::string token_env = "DATABRICKS_TOKEN";  // the NAME of the variable holding the token
  std::string catalog;                     // default catalog; empty: the warehouse's
  std::string schema;                      // default schema; empty: the warehouse's
  std::chrono::milliseconds connect_timeout{5000};   // TCP (and TLS) connect, per HTTP request
  std::chrono::milliseconds request_timeout{30000};  // one HTTP exchange (the POST: plus its
                                                     // wait_timeout); also how long execute()
                                                     // waits for the statement's schema
  std::chrono::milliseconds wait_timeout{10000};     // the POST's wait_timeout: 0, or 5 s to 50 s
  std::chrono::milliseconds poll_interval{100};      // first wait between status polls
  std::chrono::milliseconds max_poll_interval{2000};  // the backoff's bound
};

class DatabricksEngine final : public Engine {
 public:
  // Checks the options and reads the token, without contacting Databricks (the warehouse may
  // start later). CONFIG_ERROR when the host or warehouse is malformed or the variable is unset.
  static Result<std::unique_ptr<DatabricksEngine>> open(const DatabricksEngineOptions& options);

  struct Shared;  // HTTP handles, the credentials and the canceller, shared with the streams
  struct PrivateTag {
    explicit PrivateTag() = default;
  };
  DatabricksEngine(PrivateTag tag, std::shared_ptr<Shared> shared);  // use open()
  ~DatabricksEngine() override;

  std::string_view name() const override;
  std::string_view dialect() const override { return "databricks"; }
  Result<std::unique_ptr<ResultStream>> execute(const Statement& statement, const Session& session) override;

  // Ready when GET {host}/api/2.0/sql/warehouses/{warehouse_id} answers state RUNNING.
  EngineHealth health() override;

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace lakerouter
