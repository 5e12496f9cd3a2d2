// The HTTP result formats (frontends/formats): every encoder on every type with NULLs, CSV
// quoting, Arrow IPC and Parquet read back with the Arrow C++ readers, content negotiation, the
// spilled result store and the asynchronous query registry (expiry driven by a test clock).
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <thread>

#include <arrow/api.h>
#include <arrow/io/memory.h>
#include <arrow/ipc/reader.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <parquet/arrow/reader.h>

#include "frontends/formats/result_encoder.h"
#include "frontends/formats/result_spill.h"
#include "frontends/http/async_queries.h"

namespace lakerouter::formats {
namespace {

using nlohmann::json;

ResultSchema all_types() {
  return {
      {"b", {TypeId::kBoolean, 0, 0, "BOOLEAN"}},
      {"i8", {TypeId::kTinyInt, 0, 0, "TINYINT"}},
      {"i16", {TypeId::kSmallInt, 0, 0, "SMALLINT"}},
      {"i32", {TypeId::kInteger, 0, 0, "INTEGER"}},
      {"i64", {TypeId::kBigInt, 0, 0, "BIGINT"}},
      {"h", {TypeId::kHugeInt, 0, 0, "HUGEINT"}},
      {"f", {TypeId::kFloat, 0, 0, "FLOAT"}},
      {"d", {TypeId::kDouble, 0, 0, "DOUBLE"}},
      {"m", {TypeId::kDecimal, 15, 2, "DECIMAL(15,2)"}},
      {"s", {TypeId::kVarchar, 0, 0, "VARCHAR"}},
      {"bl", {TypeId::kBlob, 0, 0, "BLOB"}},
      {"dt", {TypeId::kDate, 0, 0, "DATE"}},
      {"t", {TypeId::kTime, 0, 0, "TIME"}},
      {"ts", {TypeId::kTimestamp, 0, 0, "TIMESTAMP"}},
      {"tz", {TypeId::kTimestampTz, 0, 0, "TIMESTAMP WITH TIME ZONE"}},
      {"iv", {TypeId::kInterval, 0, 0, "INTERVAL"}},
      {"u", {TypeId::kUuid, 0, 0, "UUID"}},
      {"j", {TypeId::kJson, 0, 0, "INTEGER[]"}},
  };
}

constexpr int64_t kTs = 1700000000123456;  // 2023-11-14T22:13:20.123456

// Row 0: values; row 1: NULLs; row 2: edge values (empty string, quotes, NaN).
ResultBatch all_types_batch(const ResultSchema& schema) {
  ResultBatch batch;
  batch.reset(schema);
  auto col = [&](size_t i) -> ColumnData& { return batch.column(i); };
  col(0).append_int64(1);
  col(1).append_int64(-8);
  col(2).append_int64(300);
  col(3).append_int64(-70000);
  col(4).append_int64(int64_t{1} << 40);
  col(5).append_int128(static_cast<__int128>(1) << 70);
  col(6).append_double(1.5);
  col(7).append_double(0.1);
  col(8).append_int128(-12345);  // -123.45
  col(9).append_string("héllo, \"wörld\"");
  col(10).append_string(std::string("\xAA\x00", 2));
  col(11).append_int64(8035);  // 1992-01-01
  col(12).append_int64(49500000000);  // 13:45:00
  col(13).append_int64(kTs);
  col(14).append_int64(0);
  col(15).append_string("1 day 02:00:00");
  col(16).append_string("123e4567-e89b-12d3-a456-426614174000");
  col(17).append_string("[1,2]");
  for (size_t c = 0; c < schema.size(); ++c) col(c).append_null();
  col(0).append_int64(0);
  col(1).append_int64(127);
  col(2).append_int64(-32768);
  col(3).append_int64(0);
  col(4).append_int64(-1);
  col(5).append_int128(-1);
  col(6).append_double(-0.25);
  col(7).append_double(std::nan(""));
  col(8).append_int128(5);  // 0.05
  col(9).append_string("");
  col(10).append_string("");
  col(11).append_int64(-1);
  col(12).append_int64(1);
  col(13).append_int64(-1);
  col(14).append_int64(kTs);
  col(15).append_string("00:00:01");
  col(16).append_string("00000000-0000-0000-0000-000000000000");
  col(17).append_string("{\"a\":null}");
  return batch;
}

const ResultMetadata kMeta{"q1", "duckdb", R"({"engine":"duckdb"})", {}};

std::string encode(ResultFormat format, const ResultSchema& schema, const std::vector<const ResultBatch*>& batches,
                   EncoderOptions options = {}) {
  auto enc = make_encoder(format, options);
  EXPECT_TRUE(enc->begin(schema, kMeta).ok());
  std::string out = enc->take();
  int64_t rows = 0;
  for (const auto* b : batches) {
    EXPECT_TRUE(enc->add_batch(*b).ok());
    rows += static_cast<int64_t>(b->row_count());
    out += enc->take();
  }
  EXPECT_TRUE(enc->finish(rows, 1.0).ok());
  out += enc->take();
  EXPECT_EQ(enc->pending_bytes(), 0u);
  return out;
}

TEST(ResultFormats, NegotiatesAcceptHeaders) {
  EXPECT_EQ(negotiate(""), ResultFormat::kJson);
  EXPECT_EQ(negotiate("*/*"), ResultFormat::kJson);
  EXPECT_EQ(negotiate("text/csv"), ResultFormat::kCsv);
  EXPECT_EQ(negotiate("Application/X-NDJSON"), ResultFormat::kNdjson);
  EXPECT_EQ(negotiate("application/vnd.apache.arrow.stream"), ResultFormat::kArrow);
  EXPECT_EQ(negotiate("application/x-parquet"), ResultFormat::kParquet);
  EXPECT_EQ(negotiate("application/vnd.apache.parquet;q=0.5, text/csv;q=0.9"), ResultFormat::kCsv);
  EXPECT_EQ(negotiate("text/csv;q=0, */*;q=0.1"), ResultFormat::kJson);
  EXPECT_EQ(negotiate("*/*, text/csv"), ResultFormat::kCsv);  // the exact type beats the range
  EXPECT_EQ(negotiate("text/*"), ResultFormat::kCsv);
  EXPECT_EQ(negotiate("image/png"), std::nullopt);
  EXPECT_EQ(negotiate("text/csv;q=0"), std::nullopt);
  EXPECT_EQ(format_from_name("PARQUET"), ResultFormat::kParquet);
  EXPECT_EQ(format_from_name("xml"), std::nullopt);
}

TEST(ResultFormats, CsvEncodesEveryTypeAndNull) {
  const auto schema = all_types();
  const auto batch = all_types_batch(schema);
  const std::string csv = encode(ResultFormat::kCsv, schema, {&batch});
  std::istringstream lines(csv);
  std::string header, row0, row1, row2, extra;
  std::getline(lines, header);
  std::getline(lines, row0);
  std::getline(lines, row1);
  std::getline(lines, row2);
  EXPECT_FALSE(std::getline(lines, extra));
  EXPECT_EQ(header, "b,i8,i16,i32,i64,h,f,d,m,s,bl,dt,t,ts,tz,iv,u,j");
  EXPECT_EQ(row0,
            "true,-8,300,-70000,1099511627776,1180591620717411303424,1.5,0.1,-123.45,\"héllo, \"\"wörld\"\"\","
            "\\xaa00,1992-01-01,13:45:00,2023-11-14 22:13:20.123456,1970-01-01 00:00:00+00,1 day 02:00:00,"
            "123e4567-e89b-12d3-a456-426614174000,\"[1,2]\"");
  EXPECT_EQ(row1, std::string(schema.size() - 1, ','));  // NULL: empty and unquoted
  EXPECT_EQ(row2,
            "false,127,-32768,0,-1,-1,-0.25,NaN,0.05,\"\",\\x,1969-12-31,00:00:00.000001,1969-12-31 23:59:59.999999,"
            "2023-11-14 22:13:20.123456+00,00:00:01,00000000-0000-0000-0000-000000000000,\"{\"\"a\"\":null}\"");
}

TEST(ResultFormats, CsvQuotesOnlyWhatNeedsIt) {
  ResultSchema schema = {{"a,b", {TypeId::kVarchar, 0, 0, "VARCHAR"}}};
  ResultBatch batch;
  batch.reset(schema);
  for (const char* s : {"plain", "", "with,comma", "with \"quote\"", "line\nbreak", "cr\rhere", " spaced "}) {
    batch.column(0).append_string(s);
  }
  batch.column(0).append_null();
  EXPECT_EQ(encode(ResultFormat::kCsv, schema, {&batch}),
            "\"a,b\"\nplain\n\"\"\n\"with,comma\"\n\"with \"\"quote\"\"\"\n\"line\nbreak\"\n\"cr\rhere\"\n spaced \n\n");
}

TEST(ResultFormats, CsvCannotCarryAnErrorSoItAsksForAnAbort) {
  auto enc = make_encoder(ResultFormat::kCsv);
  ASSERT_TRUE(enc->begin(all_types(), kMeta).ok());
  EXPECT_FALSE(enc->finish_with_error(0, Error(ErrorCode::kQueryTimeout, "slow")));
  for (auto f : {ResultFormat::kArrow, ResultFormat::kParquet}) {
    auto e = make_encoder(f);
    ASSERT_TRUE(e->begin(all_types(), kMeta).ok());
    EXPECT_FALSE(e->finish_with_error(0, Error(ErrorCode::kQueryTimeout, "slow")));
  }
}

TEST(ResultFormats, NdjsonIsOneObjectPerRowWithAnErrorLineOnFailure) {
  const auto schema = all_types();
  const auto batch = all_types_batch(schema);
  const std::string text = encode(ResultFormat::kNdjson, schema, {&batch});
  std::istringstream lines(text);
  std::vector<json> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(json::parse(line));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["b"], true);
  EXPECT_EQ(rows[0]["m"], "-123.45");
  EXPECT_EQ(rows[0]["s"], "héllo, \"wörld\"");
  EXPECT_EQ(rows[0]["bl"], "qgA=");
  EXPECT_EQ(rows[0]["dt"], "1992-01-01");
  EXPECT_EQ(rows[0]["ts"], "2023-11-14T22:13:20.123456");
  EXPECT_EQ(rows[0]["tz"], "1970-01-01T00:00:00Z");
  EXPECT_EQ(rows[0]["j"], json::array({1, 2}));
  EXPECT_EQ(rows[1].size(), schema.size());
  for (const auto& [k, v] : rows[1].items()) EXPECT_TRUE(v.is_null()) << k;
  EXPECT_EQ(rows[2]["d"], "NaN");
  EXPECT_EQ(rows[2]["s"], "");

  auto enc = make_encoder(ResultFormat::kNdjson);
  ASSERT_TRUE(enc->begin(schema, kMeta).ok());
  ASSERT_TRUE(enc->add_batch(batch).ok());
  EXPECT_TRUE(enc->finish_with_error(3, Error(ErrorCode::kQueryTimeout, "slow")));
  std::istringstream failed(enc->take());
  std::string line, last;
  while (std::getline(failed, line)) last = line;
  const json error = json::parse(last);
  EXPECT_EQ(error["error"]["code"], "QUERY_TIMEOUT");
  EXPECT_EQ(error["row_count"], 3);
  EXPECT_EQ(error["query_id"], "q1");
}

TEST(ResultFormats, JsonPagesCarryExtraMembers) {
  const ResultSchema schema = {{"x", {TypeId::kInteger, 0, 0, "INTEGER"}}};
  ResultBatch batch;
  batch.reset(schema);
  batch.column(0).append_int64(7);
  auto enc = make_encoder(ResultFormat::kJson);
  ResultMetadata meta = kMeta;
  meta.extra_json = R"("page":0,"next_uri":null)";
  ASSERT_TRUE(enc->begin(schema, meta).ok());
  ASSERT_TRUE(enc->add_batch(batch).ok());
  ASSERT_TRUE(enc->finish(1, 2.0).ok());
  const json doc = json::parse(enc->take());
  EXPECT_EQ(doc["rows"], json::array({json::array({7})}));
  EXPECT_EQ(doc["page"], 0);
  EXPECT_TRUE(doc["next_uri"].is_null());
}

// Checks a table read back from Arrow or Parquet against all_types_batch().
void expect_all_types(const arrow::Table& table) {
  ASSERT_EQ(table.num_rows(), 3);
  ASSERT_EQ(table.num_columns(), 18);
  const auto& s = *table.schema();
  EXPECT_TRUE(s.field(0)->type()->Equals(arrow::boolean()));
  EXPECT_TRUE(s.field(1)->type()->Equals(arrow::int8()));
  EXPECT_TRUE(s.field(2)->type()->Equals(arrow::int16()));
  EXPECT_TRUE(s.field(3)->type()->Equals(arrow::int32()));
  EXPECT_TRUE(s.field(4)->type()->Equals(arrow::int64()));
  EXPECT_TRUE(s.field(5)->type()->Equals(arrow::decimal128(38, 0)));
  EXPECT_TRUE(s.field(6)->type()->Equals(arrow::float32()));
  EXPECT_TRUE(s.field(7)->type()->Equals(arrow::float64()));
  EXPECT_TRUE(s.field(8)->type()->Equals(arrow::decimal128(15, 2)));
  EXPECT_TRUE(s.field(9)->type()->Equals(arrow::utf8()));
  EXPECT_TRUE(s.field(10)->type()->Equals(arrow::binary()));
  EXPECT_TRUE(s.field(11)->type()->Equals(arrow::date32()));
  EXPECT_TRUE(s.field(12)->type()->Equals(arrow::time64(arrow::TimeUnit::MICRO)));
  EXPECT_TRUE(s.field(13)->type()->Equals(arrow::timestamp(arrow::TimeUnit::MICRO)));
  EXPECT_TRUE(s.field(14)->type()->Equals(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")));
  for (int i = 15; i < 18; ++i) EXPECT_TRUE(s.field(i)->type()->Equals(arrow::utf8()));
  ASSERT_NE(s.field(15)->metadata(), nullptr);
  EXPECT_EQ(s.field(15)->metadata()->Get("lakerouter.sql_type").ValueOr(""), "INTERVAL");

  auto scalar = [&](int col, int64_t row) { return table.column(col)->GetScalar(row).ValueOrDie(); };
  EXPECT_EQ(scalar(0, 0)->ToString(), "true");
  EXPECT_EQ(scalar(1, 0)->ToString(), "-8");
  EXPECT_EQ(scalar(4, 0)->ToString(), "1099511627776");
  EXPECT_EQ(scalar(5, 0)->ToString(), "1180591620717411303424");
  EXPECT_EQ(scalar(5, 2)->ToString(), "-1");
  EXPECT_EQ(scalar(6, 0)->ToString(), "1.5");
  EXPECT_EQ(scalar(8, 0)->ToString(), "-123.45");
  EXPECT_EQ(scalar(8, 2)->ToString(), "0.05");
  EXPECT_EQ(scalar(9, 0)->ToString(), "héllo, \"wörld\"");
  EXPECT_EQ(scalar(9, 2)->ToString(), "");
  EXPECT_EQ(std::static_pointer_cast<arrow::BinaryScalar>(scalar(10, 0))->value->ToString(), std::string("\xAA\x00", 2));
  EXPECT_EQ(std::static_pointer_cast<arrow::Date32Scalar>(scalar(11, 0))->value, 8035);
  EXPECT_EQ(std::static_pointer_cast<arrow::Time64Scalar>(scalar(12, 0))->value, 49500000000);
  EXPECT_EQ(std::static_pointer_cast<arrow::TimestampScalar>(scalar(13, 0))->value, kTs);
  EXPECT_EQ(std::static_pointer_cast<arrow::TimestampScalar>(scalar(14, 2))->value, kTs);
  EXPECT_EQ(scalar(17, 0)->ToString(), "[1,2]");
  for (int c = 0; c < 18; ++c) EXPECT_FALSE(scalar(c, 1)->is_valid) << c;
  EXPECT_TRUE(std::isnan(std::static_pointer_cast<arrow::DoubleScalar>(scalar(7, 2))->value));
}

TEST(ResultFormats, ArrowIpcReadsBackWithEveryType) {
  const auto schema = all_types();
  const auto batch = all_types_batch(schema);
  const std::string bytes = encode(ResultFormat::kArrow, schema, {&batch, &batch});
  auto input = std::make_shared<arrow::io::BufferReader>(arrow::Buffer::FromString(bytes));
  auto reader = arrow::ipc::RecordBatchStreamReader::Open(input);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  const auto metadata = (*reader)->schema()->metadata();
  ASSERT_NE(metadata, nullptr);
  EXPECT_EQ(metadata->Get("lakerouter.query_id").ValueOr(""), "q1");
  auto batches = (*reader)->ToRecordBatches();
  ASSERT_TRUE(batches.ok()) << batches.status().ToString();
  ASSERT_EQ(batches->size(), 2u);  // one record batch per ResultBatch
  auto table = arrow::Table::FromRecordBatches({(*batches)[0]});
  ASSERT_TRUE(table.ok());
  expect_all_types(**table);
}

TEST(ResultFormats, ParquetReadsBackWithEveryTypeAndRowGroups) {
  const auto schema = all_types();
  const auto batch = all_types_batch(schema);
  EncoderOptions options;
  options.parquet_row_group_rows = 4;
  std::vector<const ResultBatch*> batches = {&batch, &batch, &batch};
  const std::string bytes = encode(ResultFormat::kParquet, schema, batches, options);
  auto input = std::make_shared<arrow::io::BufferReader>(arrow::Buffer::FromString(bytes));
  auto reader = parquet::arrow::OpenFile(input, arrow::default_memory_pool());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->num_row_groups(), 3);  // 9 rows in groups of at most 4
  auto table = (*reader)->ReadTable();
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ASSERT_EQ((*table)->num_rows(), 9);
  expect_all_types(*(*table)->Slice(0, 3));
}

TEST(ResultFormats, ParquetStreamsRowGroupsBeforeTheEnd) {
  const ResultSchema schema = {{"x", {TypeId::kBigInt, 0, 0, "BIGINT"}}};
  ResultBatch batch;
  batch.reset(schema);
  for (int i = 0; i < 1000; ++i) batch.column(0).append_int64(i);
  EncoderOptions options;
  options.parquet_row_group_rows = 1000;
  auto enc = make_encoder(ResultFormat::kParquet, options);
  ASSERT_TRUE(enc->begin(schema, kMeta).ok());
  size_t before_end = enc->take().size();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(enc->add_batch(batch).ok());
    before_end += enc->take().size();
  }
  EXPECT_GT(before_end, 4 * 1000u);  // row groups went out as they filled, not at finish()
  ASSERT_TRUE(enc->finish(5000, 1).ok());
}

// --- the spilled result store ---

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()))).string();
}

TEST(ResultSpill, ReadsPagesAcrossBatches) {
  const auto schema = all_types();
  const auto batch = all_types_batch(schema);
  auto spill = ResultSpill::create(temp_path("spill-pages"), schema, size_t{1} << 20);
  ASSERT_TRUE(spill.ok()) << spill.error().message;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE((*spill)->append(batch).ok());
  (*spill)->seal();
  EXPECT_EQ((*spill)->rows(), 12);
  ResultBatch page;
  ASSERT_TRUE((*spill)->read(2, 5, page).ok());  // rows 2..6: spans three batches
  ASSERT_EQ(page.row_count(), 5u);
  EXPECT_EQ(page.column(9).string_at(0), "");      // row 2 of batch 0
  EXPECT_EQ(page.column(9).string_at(1), "héllo, \"wörld\"");
  EXPECT_TRUE(page.column(5).is_null(2));
  EXPECT_EQ(page.column(5).int128_at(1), static_cast<__int128>(1) << 70);
  EXPECT_TRUE(std::isnan(page.column(7).double_at(0)));
  EXPECT_EQ(page.column(10).string_at(1), std::string("\xAA\x00", 2));
  // The same rows encode to the same CSV as the original.
  ResultBatch all;
  ASSERT_TRUE((*spill)->read(0, 3, all).ok());
  EXPECT_EQ(encode(ResultFormat::kCsv, schema, {&all}), encode(ResultFormat::kCsv, schema, {&batch}));
  ASSERT_TRUE((*spill)->read(11, 100, page).ok());
  EXPECT_EQ(page.row_count(), 1u);
  ASSERT_TRUE((*spill)->read(12, 100, page).ok());
  EXPECT_EQ(page.row_count(), 0u);
  const std::string path = (*spill)->path();
  spill->reset();
  EXPECT_FALSE(std::filesystem::exists(path));  // removed with the spill
}

TEST(ResultSpill, RefusesBeyondItsCap) {
  const auto schema = all_types();
  const auto batch = all_types_batch(schema);
  auto spill = ResultSpill::create(temp_path("spill-cap"), schema, 600);
  ASSERT_TRUE(spill.ok());
  Status st = Status::Ok();
  for (int i = 0; i < 10 && st.ok(); ++i) st = (*spill)->append(batch);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kResultTooLarge);
  EXPECT_NE(st.error().message.find("async_max_result_bytes"), std::string::npos);
  EXPECT_LE((*spill)->bytes(), 600u);
}

// --- the asynchronous query registry ---

// A stream of `batches` batches of `rows` BIGINTs; blocks before each batch until released
// when `gate` is set, and fails with QUERY_CANCELLED once cancelled.
class FakeStream : public ResultStream {
 public:
  FakeStream(int batches, int rows, std::atomic<bool>* gate, CancelToken& token)
      : batches_(batches), rows_(rows), gate_(gate), token_(token) {
    token_.attach(*this);  // as the pipeline's streams do
  }
  ~FakeStream() override { token_.detach(*this); }
  FakeStream(const FakeStream&) = delete;
  FakeStream& operator=(const FakeStream&) = delete;
  const ResultSchema& schema() const override { return schema_; }
  Result<bool> next(ResultBatch& batch) override {
    if (first_) batch.reset(schema_);
    first_ = false;
    while (gate_ != nullptr && !*gate_ && !cancelled_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (cancelled_) return Error(ErrorCode::kQueryCancelled, "cancelled");
    if (batches_-- <= 0) return false;
    for (int i = 0; i < rows_; ++i) batch.column(0).append_int64(produced_++);
    return true;
  }
  void cancel(bool /*timed_out*/) override { cancelled_ = true; }

 private:
  ResultSchema schema_ = {{"n", {TypeId::kBigInt, 0, 0, "BIGINT"}}};
  int batches_;
  int rows_;
  std::atomic<bool>* gate_;
  CancelToken& token_;
  std::atomic<bool> cancelled_{false};
  bool first_ = true;
  int64_t produced_ = 0;
};

http::AsyncQueries::Runner fake_runner(int batches, int rows, std::atomic<bool>* gate = nullptr) {
  return [=](const std::string& id, CancelToken& cancel) -> Result<RunningQuery> {
    RunningQuery q;
    q.query_id = id;
    q.engine = "duckdb";
    q.decision.engine = "duckdb";
    q.stream = std::make_unique<FakeStream>(batches, rows, gate, cancel);
    return q;
  };
}

struct TestClock {
  std::shared_ptr<std::atomic<int64_t>> ms = std::make_shared<std::atomic<int64_t>>(0);
  std::function<http::AsyncQueries::Clock::time_point()> fn() const {
    return [ms = ms] { return http::AsyncQueries::Clock::time_point(std::chrono::milliseconds(ms->load())); };
  }
};

// Waits (without asserting on time) until the query ended.
http::AsyncQueryInfo wait_ended(http::AsyncQueries& queries, const std::string& id) {
  for (;;) {
    auto info = queries.info(id);
    if (!info || (info->state != http::AsyncState::kQueued && info->state != http::AsyncState::kRunning)) {
      return info.value_or(http::AsyncQueryInfo{});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

http::ResultOptions test_options() {
  http::ResultOptions o;
  o.async_ttl = std::chrono::milliseconds(1000);
  o.async_spill_dir = temp_path("async-spill");
  return o;
}

TEST(AsyncQueries, StoresTheResultAndServesPages) {
  TestClock clock;
  http::AsyncQueries queries(test_options(), 2, clock.fn());
  ASSERT_TRUE(queries.submit("a1", fake_runner(3, 1000)).ok());
  const auto info = wait_ended(queries, "a1");
  EXPECT_EQ(info.state, http::AsyncState::kFinished);
  EXPECT_EQ(info.row_count, 3000);
  EXPECT_EQ(info.engine, "duckdb");
  http::AsyncQueryInfo got;
  auto spill = queries.result("a1", got);
  ASSERT_TRUE(spill.ok());
  ASSERT_NE(*spill, nullptr);
  ResultBatch page;
  ASSERT_TRUE((*spill)->read(1500, 1000, page).ok());
  ASSERT_EQ(page.row_count(), 1000u);
  EXPECT_EQ(page.column(0).int64_at(0), 1500);
  EXPECT_EQ(page.column(0).int64_at(999), 2499);
  EXPECT_FALSE(queries.info("nope").has_value());
}

TEST(AsyncQueries, ExpiresAfterTheTtlFromTheLastFetch) {
  TestClock clock;
  http::AsyncQueries queries(test_options(), 1, clock.fn());
  ASSERT_TRUE(queries.submit("e1", fake_runner(1, 10)).ok());
  ASSERT_EQ(wait_ended(queries, "e1").state, http::AsyncState::kFinished);
  *clock.ms += 900;
  http::AsyncQueryInfo info;
  ASSERT_TRUE(queries.result("e1", info).ok());  // a fetch keeps it another TTL
  *clock.ms += 900;
  queries.reap();
  EXPECT_TRUE(queries.info("e1").has_value());
  *clock.ms += 200;
  EXPECT_FALSE(queries.info("e1").has_value());  // expired, even before the reaper ran
  queries.reap();
  auto gone = queries.result("e1", info);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(queries.cancel_or_drop("e1").has_value());
}

TEST(AsyncQueries, CapsTheStoredResult) {
  auto options = test_options();
  options.async_max_result_bytes = 10000;
  http::AsyncQueries queries(options, 1);
  ASSERT_TRUE(queries.submit("c1", fake_runner(100, 1000)).ok());
  const auto info = wait_ended(queries, "c1");
  EXPECT_EQ(info.state, http::AsyncState::kFailed);
  ASSERT_TRUE(info.error.has_value());
  EXPECT_EQ(info.error->code, ErrorCode::kResultTooLarge);
  http::AsyncQueryInfo got;
  auto spill = queries.result("c1", got);
  ASSERT_FALSE(spill.ok());
  EXPECT_EQ(spill.error().code, ErrorCode::kResultTooLarge);
}

TEST(AsyncQueries, CancelsARunningQueryAndDropsAFinishedOne) {
  std::atomic<bool> gate{false};
  http::AsyncQueries queries(test_options(), 1);
  ASSERT_TRUE(queries.submit("r1", fake_runner(5, 10, &gate)).ok());
  ASSERT_TRUE(queries.submit("r2", fake_runner(1, 10)).ok());  // queued behind r1 (one worker)
  EXPECT_EQ(queries.cancel_or_drop("r2"), http::AsyncState::kQueued);
  auto was = queries.cancel_or_drop("r1");
  ASSERT_TRUE(was.has_value());
  EXPECT_TRUE(*was == http::AsyncState::kRunning || *was == http::AsyncState::kQueued);
  const auto info = wait_ended(queries, "r1");
  EXPECT_EQ(info.state, http::AsyncState::kCancelled);
  EXPECT_EQ(queries.info("r2")->state, http::AsyncState::kCancelled);
  gate = true;
  EXPECT_EQ(queries.cancel_or_drop("r1"), http::AsyncState::kCancelled);  // the second DELETE drops it
  EXPECT_FALSE(queries.info("r1").has_value());
}

TEST(AsyncQueries, RefusesBeyondMaxQueries) {
  auto options = test_options();
  options.async_max_queries = 2;
  http::AsyncQueries queries(options, 1);
  ASSERT_TRUE(queries.submit("m1", fake_runner(1, 1)).ok());
  ASSERT_TRUE(queries.submit("m2", fake_runner(1, 1)).ok());
  auto third = queries.submit("m3", fake_runner(1, 1));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, ErrorCode::kOverloaded);
  wait_ended(queries, "m1");
  ASSERT_TRUE(queries.cancel_or_drop("m1").has_value());
  EXPECT_TRUE(queries.submit("m3", fake_runner(1, 1)).ok());
}

}  // namespace
}  // namespace lakerouter::formats
