// The Trino engine: statements go to a Trino coordinator through its client REST protocol.
//
// execute() POSTs the statement to {url}/v1/statement and follows `nextUri` until Trino knows the
// result's columns (or fails, or finishes), so that syntax errors and unknown tables come back
// from execute() as they do on DuckDB; next() then follows `nextUri` page by page and turns each
// page's `data` rows into a ResultBatch. cancel() stops the query on Trino (DELETE of its
// `nextUri`), as does dropping an unfinished stream.
//
// Request mapping:
// - X-Trino-User: Session::user, or options.user when the session is "anonymous".
// - X-Trino-Catalog / X-Trino-Schema / X-Trino-Time-Zone / X-Trino-Source: from the options.
// - X-Trino-Client-Tags: Session::client_tags (a tag must not hold a comma).
// - X-Trino-Session: every Session::settings key that starts with "trino." (the prefix is
//   dropped: "trino.join_distribution_type" -> join_distribution_type, "trino.delta.x" -> the
//   delta catalog's x); other settings belong to lakerouter and are not sent. Session::timeout
//   becomes query_max_run_time (Trino's wall-clock limit, queueing included) unless a setting
//   names it.
// - Statement::params: the protocol has no bind parameters, so a statement with parameters runs
//   as EXECUTE IMMEDIATE '<sql>' USING <literals> (what the JDBC driver does); values become typed
//   literals (BIGINT '1', DOUBLE '2.5', 'text', TRUE, NULL). Error positions are mapped back into
//   the caller's SQL text.
//
// Types map onto core types as described in trino_engine.cpp (to_column_type). Timestamps with
// time zone arrive as local time plus zone name; named zones are converted to UTC with the
// system's tz database (/usr/share/zoneinfo, Debian's tzdata).
//
// Thread-safety: TrinoEngine's methods are thread-safe. A stream follows ResultStream's contract
// (next() on one thread, cancel() from any thread); cancel() never waits for the network: it
// aborts the transfer in flight and hands the DELETE to the engine's canceller thread. A stream
// keeps the engine's shared HTTP state alive, so it may outlive the engine.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "engines/engine.h"

namespace lakerouter {

struct TrinoEngineOptions {
  std::string name = "trino";
  std::string url;                        // the coordinator, http(s)://host:port[/path]
  std::string user = "lakerouter";        // X-Trino-User for anonymous sessions
  std::string catalog = "delta";          // X-Trino-Catalog; empty: none
  std::string schema;                     // X-Trino-Schema; empty: none (names are then schema.table)
  // Trino's catalog for each table format (catalog_for()): lake tables are registered under
  // their lakerouter schema.table names in these catalogs.
  std::map<std::string, std::string> catalogs = {
      {"delta", "delta"}, {"iceberg", "iceberg"}, {"parquet", "hive"}, {"postgres", "postgresql"}};
  std::string time_zone = "UTC";          // X-Trino-Time-Zone; empty: the coordinator's own zone
  std::string source = "lakerouter";      // X-Trino-Source, shown in Trino's query list
  std::chrono::milliseconds connect_timeout{5000};   // TCP (and TLS) connect, per HTTP request
  std::chrono::milliseconds request_timeout{30000};  // one HTTP exchange; also how long execute()
                                                     // waits for Trino to plan the statement
};

class TrinoEngine final : public Engine {
 public:
  // Checks the options (the URL above all) without contacting Trino: the server may come up later.
  static Result<std::unique_ptr<TrinoEngine>> open(const TrinoEngineOptions& options);

  struct Shared;  // HTTP handles and the canceller, shared with the streams
  struct PrivateTag {
    explicit PrivateTag() = default;
  };
  TrinoEngine(PrivateTag tag, std::shared_ptr<Shared> shared);  // use open()
  ~TrinoEngine() override;

  std::string_view name() const override;
  std::string_view dialect() const override { return "trino"; }
  Result<std::unique_ptr<ResultStream>> execute(const Statement& statement, const Session& session) override;

  // Ready when GET {url}/v1/info answers "starting": false.
  EngineHealth health() override;

  std::string catalog_for(std::string_view format) const override;

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace lakerouter
