// The PostgreSQL engine: statements run on a PostgreSQL server through libpq.
//
// - Connections are made lazily (open() only checks the DSN, so lakerouter starts while the
//   server is down) and pooled up to `pool_size`; idle ones older than `idle_timeout` are closed
//   when the pool is next touched. A connection that broke, or that a statement left inside a
//   transaction, is closed instead of pooled, so the pool heals itself after a server restart.
// - Each connection keeps its statements prepared on the server, keyed by SQL text (named
//   prepared statements, at most `prepared_statements_per_connection`, least recently used
//   evicted). execute() prepares and describes, so statement errors and the result's schema come
//   before any row; parameters ($1, $2, ...) are sent as text, their types inferred by the server.
//   A text without parameters is prepared only when it comes to a connection a second time and
//   the cache has room; otherwise it runs unprepared, in one round trip, and its errors and
//   schema come with the first next(). (Texts with inlined literals, such as lookups by id in
//   simple-query mode, would otherwise cost a prepare, a describe and an eviction each.) A type
//   the engine has not met yet (an enum, a domain) is looked up once the statement ends; only a
//   first result larger than `batch_rows` reads such a column as text, that one time.)
// - Rows stream in single-row mode and are handed out `batch_rows` at a time, so memory does not
//   grow with the result.
// - Cancellation sends PostgreSQL's cancel request (PQcancel); Session::timeout (else
//   `statement_timeout`) becomes the server's statement_timeout, so the server stops a query
//   even if lakerouter's own deadline were missed.
// - Errors carry PostgreSQL's SQLSTATE and message; syntax errors their 0-based position. No
//   message ever repeats the password from the DSN.
//
// Every connection runs with DateStyle=ISO, IntervalStyle=postgres, bytea_output=hex and
// client_encoding=UTF8 (lakerouter reads values in those forms); the DSN's own `options` are kept.
// Each statement runs on its own (autocommit). A script (Statement::script: several statements in
// one request, e.g. BEGIN; INSERT ...; UPDATE ...; COMMIT) runs through the simple query protocol
// as one transaction, all or nothing; its answer is the last statement's rows (held in memory)
// and the rows its writes changed. A script that leaves a transaction open is rolled back and
// refused. A connection whose session a statement changed
// (SET, RESET, DISCARD, DEALLOCATE, PREPARE, LISTEN, or a BEGIN left open) is closed afterwards,
// so that nothing carries over to the next request; temporary tables do stay with theirs.
//
// Thread-safety: all public methods are thread-safe. A stream is read by one consumer thread; its
// cancel() may be called from any thread, at any time. Streams keep the pool alive, so they may
// outlive the engine.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "engines/engine.h"

namespace lakerouter {

namespace postgres_internal {
class Pool;
}

struct PostgresEngineOptions {
  std::string name = "postgres";
  // A libpq connection string: a URI (postgresql://user:password@host:port/dbname?sslmode=...)
  // or key=value pairs. Messages never repeat its password.
  std::string dsn;
  int pool_size = 8;                                   // connections at most; more statements wait
  std::chrono::milliseconds pool_wait{10000};          // for a free connection, then kOverloaded
  std::chrono::milliseconds idle_timeout{60000};       // an idle connection is closed after this
  std::chrono::milliseconds connect_timeout{5000};     // also bounds health()'s SELECT 1
  std::chrono::milliseconds statement_timeout{0};      // when the session sets none; 0: the server's
  int prepared_statements_per_connection = 256;
  int batch_rows = 2048;                               // rows per ResultStream::next()
};

struct PostgresPoolStats {
  int open = 0;  // connections open, idle or in use
  int idle = 0;
};

class PostgresEngine final : public Engine {
 public:
  // Checks the options and the DSN's syntax (kConfigError); connects to nothing.
  static Result<std::unique_ptr<PostgresEngine>> open(const PostgresEngineOptions& options);
  struct PrivateTag {
    explicit PrivateTag() = default;
  };
  PostgresEngine(PrivateTag tag, std::string name, std::shared_ptr<postgres_internal::Pool> pool);  // use open()
  ~PostgresEngine() override;

  std::string_view name() const override { return name_; }
  std::string_view dialect() const override { return "postgres"; }

  // Errors: kEngineUnavailable when the server cannot be reached, kOverloaded when every
  // connection stayed busy for pool_wait, else the statement's own error (see postgres_convert.h).
  Result<std::unique_ptr<ResultStream>> execute(const Statement& statement, const Session& session) override;

  // Ready when a pooled or new connection answers SELECT 1 within connect_timeout (so also not
  // ready when every connection stays busy that long).
  EngineHealth health() override;

  PostgresPoolStats pool_stats() const;

 private:
  Result<std::unique_ptr<ResultStream>> try_execute(const Statement& statement, const Session& session,
                                                    bool& connection_was_reused);

  std::string name_;
  std::shared_ptr<postgres_internal::Pool> pool_;
};

}  // namespace lakerouter
