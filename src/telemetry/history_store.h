// HistoryStore: the query history in one SQLite file (configuration `history:`). Its first table
// is the audit log (`audit`); query history, costs and lineage will join it. A second table,
// `state`, keeps what components learnt and should not forget at a restart (the calibration),
// as one JSON value per key.
//
// Statements never wait on disk: record() puts the record on a bounded queue and returns; one
// writer thread drains the queue in transactions (WAL mode, synchronous=NORMAL). When the queue
// is full the record is dropped, counted (Stats::dropped, also in the log, at most once a
// minute) and the statement goes on: the request path never blocks on the audit log. Records
// that a failed write loses (disk full, a locked file after the busy timeout) are counted in
// Stats::write_errors the same way.
//
// The audit table is append-only: this class has no update or delete, and a trigger refuses
// UPDATE from any connection. The one deletion is retention: once a day (and at open) the
// writer removes records older than `audit_retention_days` (0: keep everything).
//
// The schema is created or migrated at open; `schema_version` holds one row per migration
// applied. A file written by a newer lakerouter (a higher version) is refused.
//
// Thread-safety: every public method may be called from any thread, concurrently.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "telemetry/audit.h"

struct sqlite3;

namespace lakerouter::telemetry {

struct HistoryOptions {
  std::string path;                 // the SQLite file; its folder is created when missing
  bool audit = true;                // history.audit: record statements in `audit`
  int audit_retention_days = 90;    // 0: never prune
  size_t queue_capacity = 10000;    // records waiting for the writer at most
  std::chrono::milliseconds busy_timeout{5000};  // waits for a lock held by another connection
};

// GET /v1/audit's filters. `since` and `until` are canonical timestamps (parse_utc_timestamp()),
// `since` inclusive, `until` exclusive. `outcome` matches the outcome ("refused") or the error
// code ("PERMISSION_DENIED").
struct AuditQuery {
  std::optional<std::string> user = {};
  std::optional<std::string> since = {};
  std::optional<std::string> until = {};
  std::optional<std::string> outcome = {};
  std::optional<int64_t> before_id = {};  // records with a smaller id: the next page
  int limit = 100;
};

class HistoryStore final : public AuditSink {
 public:
  static constexpr int kSchemaVersion = 2;

  struct Stats {
    uint64_t accepted = 0;      // records queued
    uint64_t written = 0;       // records committed to the file
    uint64_t dropped = 0;       // refused by a full queue
    uint64_t write_errors = 0;  // lost to a failed write
    uint64_t pruned = 0;        // removed by retention
  };

  // Opens (creating or migrating) the file and starts the writer thread.
  static Result<std::unique_ptr<HistoryStore>> open(HistoryOptions options);
  struct Db;  // an open sqlite3 connection
  class Passkey {
    friend class HistoryStore;
    Passkey() = default;
  };
  HistoryStore(Passkey, HistoryOptions options, std::unique_ptr<Db> writer, std::unique_ptr<Db> reader);
  // Writes what is queued, then stops the writer.
  ~HistoryStore() override;
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  // Queues the record (never blocks on the file); dropped and counted when the queue is full.
  void record(AuditRecord record) override;

  // Newest first, at most `query.limit` records (1 to 10000).
  Result<std::vector<AuditRecord>> audit(const AuditQuery& query) const;

  // Waits until everything queued before the call is written, or `timeout` passes (false).
  bool flush(std::chrono::milliseconds timeout);

  // The value kept under `key` in `state`, replacing the previous one; written before it returns
  // (not queued: callers save state seldom, off the request path).
  Status put_state(std::string_view key, std::string_view value);
  // The value kept under `key`; nullopt when there is none.
  Result<std::optional<std::string>> get_state(std::string_view key) const;

  // Removes audit records older than the retention now (the writer also does it daily).
  // Returns the number removed.
  Result<int64_t> prune_now();

  Stats stats() const;
  int schema_version() const { return kSchemaVersion; }
  const std::string& path() const { return options_.path; }

 private:
  void run_writer();
  Status write_batch(std::vector<AuditRecord>& batch);
  Result<int64_t> prune(Db& db);

  const HistoryOptions options_;
  std::unique_ptr<Db> writer_db_;  // the writer thread's (and prune_now()'s, under write_mu_)
  std::unique_ptr<Db> reader_db_;  // audit()'s, under read_mu_
  mutable std::mutex read_mu_;
  std::mutex write_mu_;  // one user of writer_db_ at a time

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable wake_;     // the writer: records queued, or stopping
  std::condition_variable written_;  // flush(): a batch was written
  std::deque<AuditRecord> queue_;
  bool stopping_ = false;
  uint64_t done_ = 0;  // records written or lost to a write error (flush() waits on it)
  Stats stats_;
  std::chrono::steady_clock::time_point last_drop_log_{};
  std::chrono::steady_clock::time_point last_write_error_log_{};
  std::thread writer_;  // last: started once everything above exists
};

}  // namespace lakerouter::telemetry
