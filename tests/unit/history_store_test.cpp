// The history store (SQLite) and the audit records the pipeline writes to it.
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/rows_stream.h"
#include "telemetry/audit.h"
#include "telemetry/history_store.h"

namespace lakerouter::telemetry {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A folder of its own per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            fmt::format("lakerouter_history_{}_{}_{}", info->test_suite_name(), info->name(), ::getpid());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path file(const char* name) const { return path_ / name; }

 private:
  fs::path path_;
};

HistoryOptions options_for(const fs::path& file) {
  HistoryOptions o;
  o.path = file.string();
  return o;
}

AuditRecord make_record(std::string user, std::string ts, AuditOutcome outcome = AuditOutcome::kOk,
                        std::string error_code = "") {
  AuditRecord r;
  r.ts = std::move(ts);
  r.query_id = "q_" + user;
  r.user = std::move(user);
  r.groups = {"analysts", "emea"};
  r.source_address = "127.0.0.1:40000";
  r.frontend = "pgwire";
  r.fingerprint = "0123456789abcdef";
  r.kind = "select";
  r.tables = {"tpch.orders", "tpch.customer"};
  r.engine = "duckdb";
  r.decision = "duckdb (default): DEFAULT_ENGINE: the default engine";
  r.policies = R"({"tables":[{"table":"tpch.orders","governed":true}]})";
  r.rows = 42;
  r.outcome = outcome;
  r.error_code = std::move(error_code);
  r.elapsed_ms = 1.5;
  return r;
}

// A raw connection to the file, as an administrator's sqlite3 shell would have.
struct RawDb {
  explicit RawDb(const fs::path& file) { EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK); }
  ~RawDb() { sqlite3_close(db); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  int exec(const char* sql, std::string* error = nullptr) const {
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
    if (error && message) *error = message;
    sqlite3_free(message);
    return rc;
  }
  int64_t scalar(const char* sql) const {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    int64_t v = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
  }
  sqlite3* db = nullptr;
};

TEST(HistoryStore, RecordsAreWrittenAndReadBackNewestFirst) {
  TempDir dir;
  auto store = HistoryStore::open(options_for(dir.file("history.db")));
  ASSERT_TRUE(store.ok()) << store.error().message;
  (*store)->record(make_record("ana", "2024-05-01T10:00:00.000Z"));
  auto failed = make_record("ben", "2024-05-01T11:00:00.000Z", AuditOutcome::kFailed, "DIVISION_BY_ZERO");
  failed.rows_changed = 3;
  failed.error_message = "Division by zero";
  (*store)->record(failed);
  ASSERT_TRUE((*store)->flush(5s));

  auto records = (*store)->audit({});
  ASSERT_TRUE(records.ok()) << records.error().message;
  ASSERT_EQ(records->size(), 2u);
  const auto& r = (*records)[0];  // newest first
  EXPECT_GT(r.id, 0);
  EXPECT_EQ(r.ts, "2024-05-01T11:00:00.000Z");
  EXPECT_EQ(r.query_id, "q_ben");
  EXPECT_EQ(r.user, "ben");
  EXPECT_EQ(r.groups, (std::vector<std::string>{"analysts", "emea"}));
  EXPECT_EQ(r.source_address, "127.0.0.1:40000");
  EXPECT_EQ(r.frontend, "pgwire");
  EXPECT_EQ(r.fingerprint, "0123456789abcdef");
  EXPECT_EQ(r.kind, "select");
  EXPECT_EQ(r.tables, (std::vector<std::string>{"tpch.orders", "tpch.customer"}));
  EXPECT_EQ(r.engine, "duckdb");
  EXPECT_EQ(r.decision, "duckdb (default): DEFAULT_ENGINE: the default engine");
  EXPECT_EQ(r.policies, R"({"tables":[{"table":"tpch.orders","governed":true}]})");
  EXPECT_EQ(r.rows, 42);
  EXPECT_EQ(r.rows_changed, 3);
  EXPECT_EQ(r.outcome, AuditOutcome::kFailed);
  EXPECT_EQ(r.error_code, "DIVISION_BY_ZERO");
  EXPECT_EQ(r.error_message, "Division by zero");
  EXPECT_DOUBLE_EQ(r.elapsed_ms, 1.5);
  EXPECT_EQ((*records)[1].user, "ana");
  EXPECT_FALSE((*records)[1].rows_changed);
  const auto stats = (*store)->stats();
  EXPECT_EQ(stats.accepted, 2u);
  EXPECT_EQ(stats.written, 2u);
  EXPECT_EQ(stats.dropped, 0u);
}

TEST(HistoryStore, FiltersByUserTimeOutcomeAndLimit) {
  TempDir dir;
  auto store = HistoryStore::open(options_for(dir.file("history.db")));
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto& s = **store;
  s.record(make_record("ana", "2024-05-01T10:00:00.000Z"));
  s.record(make_record("ana", "2024-05-02T10:00:00.000Z", AuditOutcome::kRefused, "PERMISSION_DENIED"));
  s.record(make_record("ben", "2024-05-03T10:00:00.000Z", AuditOutcome::kRefused, "SYNTAX_ERROR"));
  s.record(make_record("ben", "2024-05-04T10:00:00.000Z"));
  ASSERT_TRUE(s.flush(5s));
  auto users = [&](const AuditQuery& q) {
    std::vector<std::string> out;
    auto records = s.audit(q);
    EXPECT_TRUE(records.ok());
    if (records.ok()) {
      for (const auto& r : *records) out.push_back(r.user + "@" + r.ts.substr(8, 2));
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(users({.user = "ana"}), (V{"ana@02", "ana@01"}));
  EXPECT_EQ(users({.since = "2024-05-02T10:00:00.000Z"}), (V{"ben@04", "ben@03", "ana@02"}));  // inclusive
  EXPECT_EQ(users({.until = "2024-05-02T10:00:00.000Z"}), (V{"ana@01"}));                       // exclusive
  EXPECT_EQ(users({.since = "2024-05-02T00:00:00.000Z", .until = "2024-05-04T00:00:00.000Z"}), (V{"ben@03", "ana@02"}));
  EXPECT_EQ(users({.outcome = "refused"}), (V{"ben@03", "ana@02"}));
  EXPECT_EQ(users({.outcome = "SYNTAX_ERROR"}), (V{"ben@03"}));
  EXPECT_EQ(users({.user = "ben", .outcome = "ok"}), (V{"ben@04"}));
  EXPECT_EQ(users({.limit = 1}), (V{"ben@04"}));
  EXPECT_EQ(users({.user = "nobody"}), V{});
}

TEST(HistoryStore, TheAuditTableIsAppendOnly) {
  TempDir dir;
  auto store = HistoryStore::open(options_for(dir.file("history.db")));
  ASSERT_TRUE(store.ok()) << store.error().message;
  (*store)->record(make_record("ana", "2024-05-01T10:00:00.000Z"));
  ASSERT_TRUE((*store)->flush(5s));
  // The class has no update or delete; a connection of its own cannot rewrite history either.
  RawDb raw(dir.file("history.db"));
  std::string error;
  EXPECT_NE(raw.exec("UPDATE audit SET \"user\" = 'mallory'", &error), SQLITE_OK);
  EXPECT_NE(error.find("append-only"), std::string::npos) << error;
  auto records = (*store)->audit({});
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].user, "ana");
}

TEST(HistoryStore, AFullQueueDropsAndCountsInsteadOfBlocking) {
  TempDir dir;
  auto options = options_for(dir.file("history.db"));
  options.queue_capacity = 4;
  options.busy_timeout = 20s;  // the writer waits for the lock below rather than failing
  auto store = HistoryStore::open(options);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto& s = **store;
  RawDb raw(dir.file("history.db"));
  ASSERT_EQ(raw.exec("BEGIN EXCLUSIVE"), SQLITE_OK);  // the disk is "stuck": the writer cannot write
  s.record(make_record("first", "2024-05-01T10:00:00.000Z"));
  std::this_thread::sleep_for(200ms);  // the writer takes it and waits for the lock

  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) s.record(make_record("u" + std::to_string(i), "2024-05-01T10:00:01.000Z"));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 1s) << "record() must not wait for the writer";
  auto stats = s.stats();
  EXPECT_GE(stats.dropped, 1000u - 4u);
  EXPECT_EQ(stats.accepted + stats.dropped, 1001u);
  EXPECT_EQ(stats.written, 0u);

  ASSERT_EQ(raw.exec("COMMIT"), SQLITE_OK);
  ASSERT_TRUE(s.flush(10s));
  stats = s.stats();
  EXPECT_EQ(stats.written, stats.accepted);
  EXPECT_EQ(stats.write_errors, 0u);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM audit"), static_cast<int64_t>(stats.accepted));
}

TEST(HistoryStore, ReopeningKeepsTheRecords) {
  TempDir dir;
  {
    auto store = HistoryStore::open(options_for(dir.file("history.db")));
    ASSERT_TRUE(store.ok()) << store.error().message;
    // Recent: older ones would go to retention (90 days by default) at the next open.
    const auto ts = utc_timestamp(std::chrono::system_clock::now() - 1h);
    for (int i = 0; i < 50; ++i) (*store)->record(make_record("ana", ts));
    // No flush: closing the store writes what is queued.
  }
  auto store = HistoryStore::open(options_for(dir.file("history.db")));
  ASSERT_TRUE(store.ok()) << store.error().message;
  (*store)->record(make_record("ben", utc_timestamp(std::chrono::system_clock::now())));
  ASSERT_TRUE((*store)->flush(5s));
  auto records = (*store)->audit({.limit = 1000});
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->size(), 51u);
  EXPECT_EQ(records->front().user, "ben");
}

TEST(HistoryStore, StateIsKeptPerKeyAcrossReopens) {
  TempDir dir;
  const auto file = dir.file("history.db");
  {
    auto store = HistoryStore::open(options_for(file));
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto missing = (*store)->get_state("calibration");
    ASSERT_TRUE(missing.ok()) << missing.error().message;
    EXPECT_FALSE(missing->has_value());
    ASSERT_TRUE((*store)->put_state("calibration", R"({"format": 1, "fits": []})").ok());
    ASSERT_TRUE((*store)->put_state("calibration", R"({"format": 1, "fits": [1]})").ok());  // replaces
    ASSERT_TRUE((*store)->put_state("other", "x").ok());
  }
  auto store = HistoryStore::open(options_for(file));
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto kept = (*store)->get_state("calibration");
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_EQ(kept->value_or("none"), R"({"format": 1, "fits": [1]})");
  EXPECT_EQ((*store)->get_state("other")->value_or("none"), "x");
}

TEST(HistoryStore, AFileOfSchemaVersion1IsMigratedAndKeepsItsRecords) {
  TempDir dir;
  const auto file = dir.file("history.db");
  auto options = options_for(file);
  options.audit_retention_days = 0;  // the record is from 2024
  {
    auto store = HistoryStore::open(options);
    ASSERT_TRUE(store.ok()) << store.error().message;
    (*store)->record(make_record("ana", "2024-05-01T10:00:00.000Z"));
    ASSERT_TRUE((*store)->flush(std::chrono::seconds(5)));
  }
  {
    // Back to what lakerouter with schema version 1 left: no `state` table.
    RawDb raw(file);
    ASSERT_EQ(raw.exec("DROP TABLE state; DELETE FROM schema_version WHERE version = 2"), SQLITE_OK);
  }
  auto store = HistoryStore::open(options);
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_TRUE((*store)->put_state("calibration", "{}").ok());
  auto records = (*store)->audit(AuditQuery{});
  ASSERT_TRUE(records.ok()) << records.error().message;
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ(records->front().user, "ana");
  RawDb raw(file);
  EXPECT_EQ(raw.scalar("SELECT max(version) FROM schema_version"), 2);
}

TEST(HistoryStore, RecordsTheSchemaVersionAndRefusesANewerOne) {
  TempDir dir;
  const auto file = dir.file("history.db");
  {
    auto store = HistoryStore::open(options_for(file));
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_EQ((*store)->schema_version(), HistoryStore::kSchemaVersion);
  }
  {
    RawDb raw(file);
    EXPECT_EQ(raw.scalar("SELECT max(version) FROM schema_version"), HistoryStore::kSchemaVersion);
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM schema_version"), HistoryStore::kSchemaVersion);
    EXPECT_EQ(raw.exec("INSERT INTO schema_version VALUES (99, '2099-01-01T00:00:00.000Z')"), SQLITE_OK);
  }
  {
    // A second open migrates nothing.
    RawDb raw(file);
    ASSERT_EQ(raw.exec("DELETE FROM schema_version WHERE version = 99"), SQLITE_OK);
  }
  {
    auto again = HistoryStore::open(options_for(file));
    ASSERT_TRUE(again.ok()) << again.error().message;
    RawDb raw(file);
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM schema_version"), HistoryStore::kSchemaVersion);
    ASSERT_EQ(raw.exec("INSERT INTO schema_version VALUES (99, '2099-01-01T00:00:00.000Z')"), SQLITE_OK);
  }
  auto newer = HistoryStore::open(options_for(file));
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.error().message.find("schema version 99, written by a newer lakerouter"), std::string::npos)
      << newer.error().message;
}

TEST(HistoryStore, OpensInWalModeAndCreatesItsFolder) {
  TempDir dir;
  const auto file = dir.file("nested/deeper/history.db");
  auto store = HistoryStore::open(options_for(file));
  ASSERT_TRUE(store.ok()) << store.error().message;
  RawDb raw(file);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw.db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
}

TEST(HistoryStore, RetentionRemovesOnlyOldRecords) {
  TempDir dir;
  auto options = options_for(dir.file("history.db"));
  options.audit_retention_days = 7;
  auto store = HistoryStore::open(options);
  ASSERT_TRUE(store.ok()) << store.error().message;
  const auto now = std::chrono::system_clock::now();
  (*store)->record(make_record("old", utc_timestamp(now - std::chrono::hours(24 * 8))));
  (*store)->record(make_record("new", utc_timestamp(now - std::chrono::hours(24 * 6))));
  ASSERT_TRUE((*store)->flush(5s));
  auto removed = (*store)->prune_now();
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(*removed, 1);
  auto records = (*store)->audit({});
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ(records->front().user, "new");
  EXPECT_EQ((*store)->stats().pruned, 1u);
}

TEST(AuditTimestamps, CanonicalUtcWithMilliseconds) {
  const auto t = std::chrono::sys_days(std::chrono::year(2024) / 5 / 1) + 10h + 2min + 3s + 45ms;
  EXPECT_EQ(utc_timestamp(t), "2024-05-01T10:02:03.045Z");
  auto parsed = [](std::string_view text) {
    auto r = parse_utc_timestamp(text);
    return r.ok() ? *r : "error: " + r.error().message;
  };
  EXPECT_EQ(parsed("2024-05-01"), "2024-05-01T00:00:00.000Z");
  EXPECT_EQ(parsed("2024-05-01T10:02"), "2024-05-01T10:02:00.000Z");
  EXPECT_EQ(parsed("2024-05-01T10:02:03Z"), "2024-05-01T10:02:03.000Z");
  EXPECT_EQ(parsed("2024-05-01 10:02:03.5"), "2024-05-01T10:02:03.500Z");
  EXPECT_EQ(parsed("2024-05-01T12:02:03.045+02:00"), "2024-05-01T10:02:03.045Z");
  EXPECT_EQ(parsed("2024-05-01T00:30:00-01:00"), "2024-05-01T01:30:00.000Z");
  for (const char* bad : {"", "yesterday", "2024-13-01", "2024-05-01T25:00", "2024-05-01T10:00:00Zjunk"}) {
    EXPECT_FALSE(parse_utc_timestamp(bad).ok()) << bad;
  }
}

TEST(AuditRedaction, LiteralsAndParametersNeverSurvive) {
  const std::string sql =
      "SELECT * FROM users WHERE password = 'hunter2-secret' AND pin = 4711 /* token abc-123 */ AND x = $1";
  const std::vector<ParamValue> params = {std::string("param-secret"), int64_t{987654}};
  const auto out = redact_literals(
      "Conversion Error: could not convert 'hunter2-secret' near 4711 (param-secret, 987654) abc-123; LINE 1: "
      "password = 'hunter2-secret'",
      sql, params);
  for (const char* secret : {"hunter2", "4711", "param-secret", "987654", "abc-123"}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << secret << " in " << out;
  }
  EXPECT_NE(out.find("Conversion Error: could not convert"), std::string::npos) << out;
  // Short literals go only as whole words: "table rule 12" survives a LIMIT 1.
  EXPECT_EQ(redact_literals("table rule 12 denies 1 row", "SELECT 1 LIMIT 1", {}), "table rule 12 denies ? row");
  // Doubled quotes inside a literal are matched as messages print them.
  EXPECT_EQ(redact_literals("bad value: it's-a-secret", "SELECT 'it''s-a-secret'", {}), "bad value: ?");
  // Where the tokenizer gives up (an unterminated quote), the rest of the text counts as literals.
  const auto unterminated =
      redact_literals("syntax error at or near \"'sec\": 'sec ret", "SELECT a FROM t WHERE x = 'sec ret", {});
  EXPECT_EQ(unterminated.find("sec"), std::string::npos) << unterminated;
  EXPECT_EQ(unterminated.find("ret"), std::string::npos) << unterminated;
  // Comments, also right after a name, and dollar-quoted strings.
  EXPECT_EQ(redact_literals("near comment-secret and dollar-secret", "SELECT a/*comment-secret*/, $$dollar-secret$$", {}),
            "near ? and ?");
}

// A sink that keeps what it is given.
struct MemorySink : AuditSink {
  void record(AuditRecord r) override {
    std::lock_guard lock(mu);
    records.push_back(std::move(r));
  }
  std::mutex mu;
  std::vector<AuditRecord> records;
};

std::unique_ptr<ResultStream> two_rows() {
  ResultSchema schema{{"x", {TypeId::kBigInt, 0, 0, "BIGINT"}}};
  ResultBatch rows;
  rows.reset(schema);
  rows.column(0).append_int64(1);
  rows.column(0).append_int64(2);
  return std::make_unique<RowsStream>(schema, std::move(rows));
}

// A stream that fails on its first next().
class FailingStream final : public ResultStream {
 public:
  const ResultSchema& schema() const override { return schema_; }
  Result<bool> next(ResultBatch&) override {
    return Error(ErrorCode::kConversionError, "could not convert 'top-secret' to INTEGER");
  }
  void cancel(bool) override {}

 private:
  ResultSchema schema_;
};

TEST(AuditedStream, CountsRowsAndRecordsOnceAtTheEnd) {
  MemorySink sink;
  AuditRecord draft;
  draft.query_id = "q1";
  {
    AuditedStream stream(two_rows(), sink, draft, std::chrono::steady_clock::now(), Statement("SELECT 1"), nullptr);
    ResultBatch batch;
    ASSERT_TRUE(stream.next(batch).value());
    EXPECT_TRUE(sink.records.empty());
    ASSERT_FALSE(stream.next(batch).value());
    ASSERT_EQ(sink.records.size(), 1u);
    ASSERT_FALSE(stream.next(batch).value());  // reading past the end records nothing more
  }
  ASSERT_EQ(sink.records.size(), 1u);  // nor does the destructor
  EXPECT_EQ(sink.records[0].query_id, "q1");
  EXPECT_EQ(sink.records[0].rows, 2);
  EXPECT_EQ(sink.records[0].outcome, AuditOutcome::kOk);
  EXPECT_EQ(sink.records[0].error_code, "");
}

TEST(AuditedStream, RecordsFailuresCancellationsAndAbandonedResults) {
  MemorySink sink;
  const auto now = std::chrono::steady_clock::now();
  {
    AuditedStream failing(std::make_unique<FailingStream>(), sink, {}, now,
                          Statement("SELECT CAST('top-secret' AS INTEGER)"), nullptr);
    ResultBatch batch;
    EXPECT_FALSE(failing.next(batch).ok());
  }
  { AuditedStream abandoned(two_rows(), sink, {}, now, Statement("SELECT 1"), nullptr); }
  {
    AuditedStream cancelled(two_rows(), sink, {}, now, Statement("SELECT 1"), nullptr);
    cancelled.cancel(/*timed_out=*/false);
  }
  {
    AuditedStream timed_out(two_rows(), sink, {}, now, Statement("SELECT 1"), nullptr);
    timed_out.cancel(/*timed_out=*/true);
  }
  {
    // Front-ends cancel through the query's token (pgwire disconnect, Trino DELETE), then drop the stream.
    CancelToken token;
    AuditedStream by_token(two_rows(), sink, {}, now, Statement("SELECT 1"), &token);
    token.cancel();
  }
  ASSERT_EQ(sink.records.size(), 5u);
  EXPECT_EQ(sink.records[4].outcome, AuditOutcome::kCancelled);
  EXPECT_EQ(sink.records[0].outcome, AuditOutcome::kFailed);
  EXPECT_EQ(sink.records[0].error_code, "CONVERSION_ERROR");
  EXPECT_EQ(sink.records[0].error_message, "could not convert ? to INTEGER");
  EXPECT_EQ(sink.records[1].outcome, AuditOutcome::kIncomplete);
  EXPECT_EQ(sink.records[2].outcome, AuditOutcome::kCancelled);
  EXPECT_EQ(sink.records[3].outcome, AuditOutcome::kFailed);
  EXPECT_EQ(sink.records[3].error_code, "QUERY_TIMEOUT");
}

TEST(AuditOutcomes, RefusedFailedOrCancelled) {
  EXPECT_EQ(outcome_of(Error(ErrorCode::kSyntaxError, ""), false), AuditOutcome::kRefused);
  EXPECT_EQ(outcome_of(Error(ErrorCode::kPermissionDenied, ""), false), AuditOutcome::kRefused);
  EXPECT_EQ(outcome_of(Error(ErrorCode::kOverloaded, ""), true), AuditOutcome::kRefused);
  EXPECT_EQ(outcome_of(Error(ErrorCode::kEngineError, ""), true), AuditOutcome::kFailed);
  EXPECT_EQ(outcome_of(Error(ErrorCode::kQueryCancelled, ""), true), AuditOutcome::kCancelled);
  EXPECT_EQ(audit_outcome_name(AuditOutcome::kRefused), "refused");
}

TEST(PoliciesApplied, AsJson) {
  PoliciesApplied p;
  p.tables.push_back({.table = "tpch.orders", .governed = true, .rule = 3, .filter = true, .masks = {"o_comment"}});
  p.tables.push_back({.table = "tpch.nation"});
  p.denied = "user 'x' may not read tpch.customer";
  EXPECT_EQ(p.to_json(),
            R"({"denied":"user 'x' may not read tpch.customer","tables":[{"filter":true,"governed":true,"hidden":[],)"
            R"("masks":["o_comment"],"rule":3,"table":"tpch.orders"},{"filter":false,"governed":false,"hidden":[],)"
            R"("masks":[],"table":"tpch.nation"}]})");
}

}  // namespace
}  // namespace lakerouter::telemetry
