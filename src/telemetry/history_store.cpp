#include "telemetry/history_store.h"

#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

namespace lakerouter::telemetry {

namespace {

constexpr size_t kMaxBatch = 512;  // records per transaction
constexpr auto kPruneEvery = std::chrono::hours(24);
constexpr auto kDropLogEvery = std::chrono::minutes(1);

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct Finalize {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, Finalize>;

// The migrations, in order: migration i (0-based) brings the schema to version i + 1. Never edit
// one that has shipped; add the next.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  ts TEXT NOT NULL,                 -- UTC ISO 8601 with milliseconds: when the statement arrived
  query_id TEXT NOT NULL,
  "user" TEXT NOT NULL,
  "groups" TEXT NOT NULL,           -- JSON array
  source_address TEXT NOT NULL,
  frontend TEXT NOT NULL,           -- http, pgwire, trino
  fingerprint TEXT NOT NULL,        -- '' when the text does not parse
  kind TEXT NOT NULL,
  "tables" TEXT NOT NULL,           -- JSON array
  engine TEXT NOT NULL,             -- '' when no engine ran it
  decision TEXT NOT NULL,
  policies TEXT NOT NULL,           -- JSON object
  "rows" INTEGER NOT NULL,
  rows_changed INTEGER,
  outcome TEXT NOT NULL,            -- ok, refused, failed, cancelled, incomplete
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  elapsed_ms REAL NOT NULL
);
CREATE INDEX audit_ts ON audit(ts);
CREATE INDEX audit_user_ts ON audit("user", ts);
CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql",
    R"sql(
CREATE TABLE state (
  "key" TEXT PRIMARY KEY,           -- what the value is: 'calibration'
  value TEXT NOT NULL,              -- JSON, written and read by its owner
  updated TEXT NOT NULL             -- UTC ISO 8601 with milliseconds
);
)sql",
};
static_assert(std::size(kMigrations) == HistoryStore::kSchemaVersion);

constexpr const char* kColumns =
    R"(id, ts, query_id, "user", "groups", source_address, frontend, fingerprint, kind, "tables", engine, decision,
       policies, "rows", rows_changed, outcome, error_code, error_message, elapsed_ms)";

Error db_error(sqlite3* db, std::string_view what) {
  return Error(ErrorCode::kIoError, fmt::format("history store: {}: {}", what, sqlite3_errmsg(db)));
}

std::string json_array(const std::vector<std::string>& items) { return nlohmann::json(items).dump(); }

std::vector<std::string> from_json_array(const char* text) {
  std::vector<std::string> out;
  if (!text) return out;
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array()) return out;
  for (const auto& v : doc) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string column_text(sqlite3_stmt* stmt, int col) {
  const auto* text = sqlite3_column_text(stmt, col);
  return text ? std::string(reinterpret_cast<const char*>(text)) : std::string();
}

}  // namespace

struct HistoryStore::Db {
  std::unique_ptr<sqlite3, CloseDb> handle;

  sqlite3* get() const { return handle.get(); }

  Status exec(const char* sql) const {
    char* message = nullptr;
    if (sqlite3_exec(get(), sql, nullptr, nullptr, &message) == SQLITE_OK) return Status::Ok();
    Error error(ErrorCode::kIoError, fmt::format("history store: {}", message ? message : sqlite3_errmsg(get())));
    sqlite3_free(message);
    return error;
  }

  Result<StmtPtr> prepare(const std::string& sql) const {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(get(), sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK) {
      return db_error(get(), "prepare");
    }
    return StmtPtr(stmt);
  }

  static Result<std::unique_ptr<Db>> open(const std::string& path, std::chrono::milliseconds busy_timeout,
                                          bool read_only = false) {
    sqlite3* raw = nullptr;
    const int mode = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, mode | SQLITE_OPEN_NOMUTEX, nullptr);
    auto db = std::make_unique<Db>(Db{std::unique_ptr<sqlite3, CloseDb>(raw)});
    if (rc != SQLITE_OK) {
      return Error(ErrorCode::kIoError, fmt::format("history store: cannot open {}: {}", path,
                                                    raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout.count()));
    return db;
  }
};

Result<std::unique_ptr<HistoryStore>> HistoryStore::open(HistoryOptions options) {
  if (options.path.empty()) return Error(ErrorCode::kConfigError, "history store: no path");
  if (options.queue_capacity < 1) options.queue_capacity = 1;
  const std::filesystem::path file(options.path);
  if (file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) {
      return Error(ErrorCode::kIoError, fmt::format("history store: cannot create the folder {}: {}",
                                                    file.parent_path().string(), ec.message()));
    }
  }
  auto writer = Db::open(options.path, options.busy_timeout);
  if (!writer.ok()) return writer.error();
  Db& db = **writer;
  // WAL: readers (GET /v1/audit, the sqlite3 shell) never block the writer, nor it them.
  // synchronous=NORMAL: a power cut may lose the last transactions, never corrupt the file.
  auto wal = db.prepare("PRAGMA journal_mode=WAL");
  if (!wal.ok()) return wal.error();
  if (sqlite3_step(wal->get()) != SQLITE_ROW || column_text(wal->get(), 0) != "wal") {
    return Error(ErrorCode::kIoError, fmt::format("history store: {} cannot use write-ahead logging (WAL): {}",
                                                  options.path, sqlite3_errmsg(db.get())));
  }
  wal->reset();
  LR_TRY(db.exec("PRAGMA synchronous=NORMAL"));
  LR_TRY(db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"));
  auto version = db.prepare("SELECT coalesce(max(version), 0) FROM schema_version");
  if (!version.ok()) return version.error();
  if (sqlite3_step(version->get()) != SQLITE_ROW) return db_error(db.get(), "reading schema_version");
  const int current = sqlite3_column_int(version->get(), 0);
  version->reset();
  if (current > kSchemaVersion) {
    return Error(ErrorCode::kConfigError,
                 fmt::format("history store: {} has schema version {}, written by a newer lakerouter (this one "
                             "knows up to {}); use that version, or another history.path",
                             options.path, current, kSchemaVersion));
  }
  for (int v = current + 1; v <= kSchemaVersion; ++v) {
    LR_TRY(db.exec("BEGIN IMMEDIATE"));
    // Another process opening the same new file may have migrated it since the read above.
    auto again = db.prepare("SELECT coalesce(max(version), 0) FROM schema_version");
    if (!again.ok() || sqlite3_step(again->get()) != SQLITE_ROW) {
      (void)db.exec("ROLLBACK");
      return again.ok() ? db_error(db.get(), "reading schema_version") : again.error();
    }
    const int now_at = sqlite3_column_int(again->get(), 0);
    again->reset();  // finalizes: no statement may stay open across COMMIT
    if (now_at >= v) {
      LR_TRY(db.exec("COMMIT"));
      continue;
    }
    Status applied = db.exec(kMigrations[v - 1]);
    if (applied.ok()) {
      applied = db.exec(fmt::format("INSERT INTO schema_version VALUES ({}, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))", v)
                            .c_str());
    }
    if (!applied.ok()) {
      (void)db.exec("ROLLBACK");
      return Error(applied.error().code,
                   fmt::format("{} (migrating {} to schema version {})", applied.error().message, options.path, v));
    }
    LR_TRY(db.exec("COMMIT"));
    spdlog::info("history store: {} migrated to schema version {}", options.path, v);
  }
  auto reader = Db::open(options.path, options.busy_timeout, /*read_only=*/true);
  if (!reader.ok()) return reader.error();
  auto store = std::make_unique<HistoryStore>(Passkey{}, std::move(options), std::move(*writer), std::move(*reader));
  if (store->options_.audit_retention_days > 0) {
    if (auto pruned = store->prune_now(); !pruned.ok()) spdlog::warn("{}", pruned.error().message);
  }
  return store;
}

HistoryStore::HistoryStore(Passkey /*only open()*/, HistoryOptions options, std::unique_ptr<Db> writer, std::unique_ptr<Db> reader)
    : options_(std::move(options)), writer_db_(std::move(writer)), reader_db_(std::move(reader)) {
  writer_ = std::thread([this] { run_writer(); });
}

HistoryStore::~HistoryStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  const Stats s = stats();
  if (s.dropped > 0 || s.write_errors > 0) {
    spdlog::warn("history store: {} audit records dropped (queue full) and {} lost to write errors since start",
                 s.dropped, s.write_errors);
  }
}

Status HistoryStore::put_state(std::string_view key, std::string_view value) {
  std::lock_guard lock(write_mu_);
  auto upsert = writer_db_->prepare(
      R"(INSERT INTO state ("key", value, updated) VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         ON CONFLICT ("key") DO UPDATE SET value = excluded.value, updated = excluded.updated)");
  if (!upsert.ok()) return upsert.error();
  sqlite3_bind_text(upsert->get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(upsert->get(), 2, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(upsert->get()) != SQLITE_DONE) return db_error(writer_db_->get(), fmt::format("saving {}", key));
  return Status::Ok();
}

Result<std::optional<std::string>> HistoryStore::get_state(std::string_view key) const {
  std::lock_guard lock(read_mu_);
  auto select = reader_db_->prepare(R"(SELECT value FROM state WHERE "key" = ?)");
  if (!select.ok()) return select.error();
  sqlite3_bind_text(select->get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(select->get());
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return db_error(reader_db_->get(), fmt::format("reading {}", key));
  return std::optional<std::string>(column_text(select->get(), 0));
}

void HistoryStore::record(AuditRecord record) {
  std::unique_lock lock(mu_);
  if (queue_.size() >= options_.queue_capacity || stopping_) {
    ++stats_.dropped;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_drop_log_ >= kDropLogEvery) {
      last_drop_log_ = now;
      const uint64_t dropped = stats_.dropped;
      lock.unlock();
      spdlog::warn("history store: the audit queue is full ({} records waiting for {}); audit record of query {} "
                   "dropped ({} dropped since start)",
                   options_.queue_capacity, options_.path, record.query_id, dropped);
    }
    return;
  }
  queue_.push_back(std::move(record));
  ++stats_.accepted;
  lock.unlock();
  wake_.notify_one();
}

void HistoryStore::run_writer() {
  auto next_prune = std::chrono::steady_clock::now() + kPruneEvery;
  std::vector<AuditRecord> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait_until(lock, next_prune, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (!batch.empty()) {
      const Status written = write_batch(batch);
      std::lock_guard lock(mu_);
      done_ += batch.size();
      if (written.ok()) {
        stats_.written += batch.size();
      } else {
        stats_.write_errors += batch.size();
        // A full disk fails every batch: say so once a minute, not once a batch, on that disk.
        const auto now = std::chrono::steady_clock::now();
        if (now - last_write_error_log_ >= kDropLogEvery) {
          last_write_error_log_ = now;
          spdlog::error("{}; {} audit records lost ({} since start)", written.error().message, batch.size(),
                        stats_.write_errors);
        }
      }
      batch.clear();
    }
    written_.notify_all();
    if (std::chrono::steady_clock::now() >= next_prune) {
      next_prune = std::chrono::steady_clock::now() + kPruneEvery;
      if (auto pruned = prune_now(); !pruned.ok()) spdlog::warn("{}", pruned.error().message);
    }
  }
}

Status HistoryStore::write_batch(std::vector<AuditRecord>& batch) {
  std::lock_guard lock(write_mu_);
  Db& db = *writer_db_;
  LR_TRY(db.exec("BEGIN IMMEDIATE"));
  auto insert = db.prepare(
      R"(INSERT INTO audit (ts, query_id, "user", "groups", source_address, frontend, fingerprint, kind, "tables",
         engine, decision, policies, "rows", rows_changed, outcome, error_code, error_message, elapsed_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?))");
  if (!insert.ok()) {
    (void)db.exec("ROLLBACK");
    return insert.error();
  }
  sqlite3_stmt* stmt = insert->get();
  for (const auto& r : batch) {
    int i = 0;
    auto text = [&](const std::string& v) { sqlite3_bind_text(stmt, ++i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); };
    text(r.ts);
    text(r.query_id);
    text(r.user);
    text(json_array(r.groups));
    text(r.source_address);
    text(r.frontend);
    text(r.fingerprint);
    text(r.kind);
    text(json_array(r.tables));
    text(r.engine);
    text(r.decision);
    text(r.policies.empty() ? std::string("{}") : r.policies);
    sqlite3_bind_int64(stmt, ++i, r.rows);
    if (r.rows_changed) {
      sqlite3_bind_int64(stmt, ++i, *r.rows_changed);
    } else {
      sqlite3_bind_null(stmt, ++i);
    }
    text(std::string(audit_outcome_name(r.outcome)));
    text(r.error_code);
    text(r.error_message);
    sqlite3_bind_double(stmt, ++i, r.elapsed_ms);
    if (sqlite3_step(stmt) != SQLITE_DONE) {
      Error error = db_error(db.get(), "writing audit records to " + options_.path);
      insert->reset();  // finalized before the rollback
      (void)db.exec("ROLLBACK");
      return error;
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
  insert->reset();
  if (Status committed = db.exec("COMMIT"); !committed.ok()) {
    (void)db.exec("ROLLBACK");
    return committed;
  }
  return Status::Ok();
}

Result<int64_t> HistoryStore::prune_now() {
  if (options_.audit_retention_days <= 0) return int64_t{0};
  std::lock_guard lock(write_mu_);
  Db& db = *writer_db_;
  const auto cutoff = utc_timestamp(std::chrono::system_clock::now() - std::chrono::hours(24) * options_.audit_retention_days);
  auto del = db.prepare("DELETE FROM audit WHERE ts < ?");
  if (!del.ok()) return del.error();
  sqlite3_bind_text(del->get(), 1, cutoff.data(), static_cast<int>(cutoff.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(del->get()) != SQLITE_DONE) return db_error(db.get(), "pruning audit records");
  const int64_t removed = sqlite3_changes64(db.get());
  if (removed > 0) {
    spdlog::info("history store: removed {} audit records older than {} days (history.audit_retention_days)", removed,
                 options_.audit_retention_days);
  }
  std::lock_guard stats_lock(mu_);
  stats_.pruned += static_cast<uint64_t>(removed);
  return removed;
}

Result<std::vector<AuditRecord>> HistoryStore::audit(const AuditQuery& query) const {
  std::string sql = fmt::format("SELECT {} FROM audit WHERE 1 = 1", kColumns);
  std::vector<std::string> binds;
  if (query.user) {
    sql += R"( AND "user" = ?)";
    binds.push_back(*query.user);
  }
  if (query.since) {
    sql += " AND ts >= ?";
    binds.push_back(*query.since);
  }
  if (query.until) {
    sql += " AND ts < ?";
    binds.push_back(*query.until);
  }
  if (query.outcome) {
    sql += " AND (outcome = ? OR error_code = ?)";
    binds.push_back(*query.outcome);
    binds.push_back(*query.outcome);
  }
  if (query.before_id) {
    sql += " AND id < ?";
    binds.push_back(std::to_string(*query.before_id));  // compared as a number: id has INTEGER affinity
  }
  // In the order written (a record is written when its statement ends), newest first: ids page
  // without gaps, where two records may share a millisecond of `ts`.
  sql += fmt::format(" ORDER BY id DESC LIMIT {}", std::clamp(query.limit, 1, 10000));
  std::lock_guard lock(read_mu_);
  auto stmt = reader_db_->prepare(sql);
  if (!stmt.ok()) return stmt.error();
  for (size_t i = 0; i < binds.size(); ++i) {
    sqlite3_bind_text(stmt->get(), static_cast<int>(i + 1), binds[i].data(), static_cast<int>(binds[i].size()),
                      SQLITE_TRANSIENT);
  }
  std::vector<AuditRecord> out;
  int rc = 0;
  sqlite3_stmt* s = stmt->get();
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    AuditRecord r;
    int c = 0;
    r.id = sqlite3_column_int64(s, c++);
    r.ts = column_text(s, c++);
    r.query_id = column_text(s, c++);
    r.user = column_text(s, c++);
    r.groups = from_json_array(reinterpret_cast<const char*>(sqlite3_column_text(s, c++)));
    r.source_address = column_text(s, c++);
    r.frontend = column_text(s, c++);
    r.fingerprint = column_text(s, c++);
    r.kind = column_text(s, c++);
    r.tables = from_json_array(reinterpret_cast<const char*>(sqlite3_column_text(s, c++)));
    r.engine = column_text(s, c++);
    r.decision = column_text(s, c++);
    r.policies = column_text(s, c++);
    r.rows = sqlite3_column_int64(s, c++);
    if (sqlite3_column_type(s, c) != SQLITE_NULL) r.rows_changed = sqlite3_column_int64(s, c);
    ++c;
    r.outcome = parse_audit_outcome(column_text(s, c++)).value_or(AuditOutcome::kFailed);
    r.error_code = column_text(s, c++);
    r.error_message = column_text(s, c++);
    r.elapsed_ms = sqlite3_column_double(s, c++);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return db_error(reader_db_->get(), "reading the audit log");
  return out;
}

bool HistoryStore::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const uint64_t target = stats_.accepted;
  return written_.wait_for(lock, timeout, [&] { return done_ >= target; });
}

HistoryStore::Stats HistoryStore::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace lakerouter::telemetry
