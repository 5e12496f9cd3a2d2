#include <atomic>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "core/cancel_token.h"
#include "core/read_ahead_stream.h"
#include "core/result_batch.h"
#include "core/status.h"
#include "core/utf8.h"
#include "core/value_format.h"

namespace lakerouter {
namespace {

TEST(ErrorCodes, NamesAreUniqueAndUpperSnakeCase) {
  std::set<std::string_view> seen;
  for (int i = 0; i <= static_cast<int>(ErrorCode::kInternal); ++i) {
    auto name = error_code_name(static_cast<ErrorCode>(i));
    EXPECT_TRUE(seen.insert(name).second) << "duplicate name " << name;
    for (char c : name) EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') << name;
  }
  // Stable names clients match on.
  EXPECT_EQ(error_code_name(ErrorCode::kSyntaxError), "SYNTAX_ERROR");
  EXPECT_EQ(error_code_name(ErrorCode::kUnknownTable), "UNKNOWN_TABLE");
  EXPECT_EQ(error_code_name(ErrorCode::kQueryTimeout), "QUERY_TIMEOUT");
}

TEST(Result, HoldsValueOrError) {
  Result<int> ok = 3;
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  Result<int> bad = Error(ErrorCode::kSyntaxError, "oops", 4);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kSyntaxError);
  EXPECT_EQ(bad.error().position, 4u);
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_FALSE(Status(Error(ErrorCode::kInternal, "x")).ok());
}

TEST(Utf8, AcceptsValidText) {
  EXPECT_FALSE(find_invalid_utf8(""));
  EXPECT_FALSE(find_invalid_utf8("SELECT 'héllo wörld', '日本', '😀'"));
  EXPECT_FALSE(find_invalid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(Utf8, FindsTheFirstInvalidByte) {
  EXPECT_EQ(find_invalid_utf8("ab\xFF"), 2u);
  EXPECT_EQ(find_invalid_utf8("\xC0\x80"), 0u);           // overlong NUL
  EXPECT_EQ(find_invalid_utf8("x\xED\xA0\x80"), 1u);      // surrogate
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);   // above U+10FFFF
  EXPECT_EQ(find_invalid_utf8("ok\xE2\x82"), 2u);         // truncated
  EXPECT_EQ(find_invalid_utf8("\x80"), 0u);               // lone continuation
}

TEST(Utf8, CharacterOffsetsCountCodePoints) {
  const std::string sql = "SELECT 'éé😀', x";
  EXPECT_EQ(utf8_char_offset(sql, 0), 0u);
  EXPECT_EQ(utf8_char_offset(sql, 8), 8u);                    // before the first é
  EXPECT_EQ(utf8_char_offset(sql, sql.find(", x") + 2), 14u);  // x: 3 multi-byte chars count once each
  EXPECT_EQ(utf8_char_offset(sql, 1000), 15u);                // clamped to the text
}

std::string date(int64_t days) {
  std::string s;
  append_date(s, days);
  return s;
}

std::string timestamp(int64_t micros, bool utc = false) {
  std::string s;
  append_timestamp(s, micros, utc);
  return s;
}

std::string decimal(__int128 v, int scale) {
  std::string s;
  append_decimal(s, v, scale);
  return s;
}

TEST(ValueFormat, Dates) {
  EXPECT_EQ(date(0), "1970-01-01");
  EXPECT_EQ(date(-1), "1969-12-31");
  EXPECT_EQ(date(8035), "1992-01-01");
  EXPECT_EQ(date(11016), "2000-02-29");
  EXPECT_EQ(date(-719528), "0000-01-01");
  EXPECT_EQ(date(2932897), "+10000-01-01");
  EXPECT_EQ(date(kInfiniteDays), "infinity");
  EXPECT_EQ(date(-kInfiniteDays), "-infinity");
}

TEST(ValueFormat, TimesAndTimestamps) {
  std::string t;
  append_time(t, 13 * 3600000000LL + 45 * 60000000LL + 1);
  EXPECT_EQ(t, "13:45:00.000001");
  EXPECT_EQ(timestamp(0), "1970-01-01T00:00:00");
  EXPECT_EQ(timestamp(1500000), "1970-01-01T00:00:01.500000");
  EXPECT_EQ(timestamp(-1), "1969-12-31T23:59:59.999999");
  EXPECT_EQ(timestamp(1704103200000000LL, true), "2024-01-01T10:00:00Z");
  EXPECT_EQ(timestamp(kInfiniteMicros), "infinity");
  EXPECT_EQ(timestamp(-kInfiniteMicros, true), "-infinity");
}

TEST(ValueFormat, DecimalsAreExact) {
  EXPECT_EQ(decimal(12345, 2), "123.45");
  EXPECT_EQ(decimal(-5, 2), "-0.05");
  EXPECT_EQ(decimal(0, 3), "0.000");
  EXPECT_EQ(decimal(7, 0), "7");
  __int128 big = static_cast<__int128>(1) << 100;
  EXPECT_EQ(decimal(big, 10), "126765060022822940149.6703205376");  // 2^100 / 10^10
  std::string s;
  append_int128(s, -(static_cast<__int128>(1) << 64));
  EXPECT_EQ(s, "-18446744073709551616");
}

// Counts 0, 1, 2, ... in batches of `per_batch`; a cancel makes the next next() fail.
class NumbersStream final : public ResultStream {
 public:
  NumbersStream(int batches, int per_batch, std::atomic<int>* calls = nullptr)
      : batches_(batches), per_batch_(per_batch), calls_(calls) {}
  const ResultSchema& schema() const override { return schema_; }
  Result<bool> next(ResultBatch& batch) override {
    if (calls_) ++*calls_;
    if (cancelled_) return Error(ErrorCode::kQueryCancelled, "cancelled");
    // As engines do: the first call shapes the batch, later ones append to it.
    if (produced_ == 0) batch.reset(schema_);
    EXPECT_EQ(batch.column_count(), 1u);
    EXPECT_EQ(batch.row_count(), 0u);
    if (produced_ == batches_) return false;
    for (int i = 0; i < per_batch_; ++i) batch.column(0).append_int64(int64_t{produced_} * per_batch_ + i);
    ++produced_;
    return true;
  }
  void cancel(bool) override { cancelled_ = true; }
  std::optional<int64_t> rows_changed() const override { return produced_ == batches_ ? std::optional<int64_t>(7) : std::nullopt; }

 private:
  ResultSchema schema_ = {{"n", {TypeId::kBigInt, 0, 0, "BIGINT"}}};
  int batches_;
  int per_batch_;
  int produced_ = 0;
  std::atomic<bool> cancelled_{false};
  std::atomic<int>* calls_;
};

TEST(ReadAheadStream, HandsOutEveryRowInOrder) {
  for (int batches : {0, 1, 2, 3, 50}) {
    SCOPED_TRACE(batches);
    ReadAheadStream stream(std::make_unique<NumbersStream>(batches, 100));
    ResultBatch batch;
    int64_t expected = 0;
    while (true) {
      batch.clear();  // as front-ends do
      auto more = stream.next(batch);
      ASSERT_TRUE(more.ok());
      if (!*more) break;
      for (size_t r = 0; r < batch.row_count(); ++r) ASSERT_EQ(batch.column(0).int64_at(r), expected++);
    }
    EXPECT_EQ(expected, int64_t{batches} * 100);
    EXPECT_EQ(stream.rows_changed(), std::optional<int64_t>(7));
    auto after = stream.next(batch);  // past the end: still the end
    ASSERT_TRUE(after.ok());
    EXPECT_FALSE(*after);
  }
}

TEST(ReadAheadStream, ReadsAheadBoundedAndStopsWhenDropped) {
  std::atomic<int> calls{0};
  {
    ReadAheadStream stream(std::make_unique<NumbersStream>(1000, 10, &calls), /*start_after=*/1, /*depth=*/2);
    ResultBatch batch;
    auto own = stream.next(batch);  // the consumer's own read
    ASSERT_TRUE(own.ok() && *own);
    batch.clear();
    auto ahead = stream.next(batch);  // starts the reader
    ASSERT_TRUE(ahead.ok() && *ahead);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    // Two waiting plus one being read at most, not the whole result.
    EXPECT_LE(calls.load(), 2 + 3);
  }  // dropped mid-result: the reader stops (joined by the destructor)
  EXPECT_LT(calls.load(), 10);
}

TEST(ResultBatch, StoresColumnsByPhysicalKind) {
  ResultSchema schema = {{"i", {TypeId::kInteger, 0, 0, "INTEGER"}}, {"s", {TypeId::kVarchar, 0, 0, "VARCHAR"}},
                         {"d", {TypeId::kDouble, 0, 0, "DOUBLE"}},
                         {"m", {TypeId::kDecimal, 10, 2, "DECIMAL(10,2)"}}};
  ResultBatch batch;
  batch.reset(schema);
  batch.column(0).append_int64(1);
  batch.column(0).append_null();
  batch.column(1).append_string("ab");
  batch.column(1).append_string("");
  batch.column(2).append_null();
  batch.column(2).append_double(2.5);
  batch.column(3).append_int128(250);
  batch.column(3).append_int128(-1);
  ASSERT_EQ(batch.row_count(), 2u);
  EXPECT_EQ(batch.column(0).int64_at(0), 1);
  EXPECT_TRUE(batch.column(0).is_null(1));
  EXPECT_EQ(batch.column(1).string_at(0), "ab");
  EXPECT_EQ(batch.column(1).string_at(1), "");
  EXPECT_TRUE(batch.column(2).is_null(0));
  EXPECT_EQ(batch.column(2).double_at(1), 2.5);
  EXPECT_EQ(batch.column(3).int128_at(1), -1);
  batch.clear();
  EXPECT_EQ(batch.row_count(), 0u);
  EXPECT_EQ(batch.column_count(), 4u);
}

}  // namespace
}  // namespace lakerouter

namespace lakerouter {
namespace {

class CountingStream final : public ResultStream {
 public:
  const ResultSchema& schema() const override { return schema_; }
  Result<bool> next(ResultBatch&) override { return false; }
  void cancel(bool timed_out) override {
    ++cancels;
    last_timed_out = timed_out;
  }
  int cancels = 0;
  bool last_timed_out = true;

 private:
  ResultSchema schema_;
};

TEST(CancelToken, ReachesTheAttachedStreamOnce) {
  CancelToken token;
  CountingStream stream;
  token.attach(stream);
  EXPECT_FALSE(token.cancelled());
  token.cancel();
  token.cancel();
  EXPECT_TRUE(token.cancelled());
  EXPECT_EQ(stream.cancels, 1);
  EXPECT_FALSE(stream.last_timed_out);
}

TEST(CancelToken, CancelsAStreamAttachedAfterwardsAndForgetsDetachedOnes) {
  CancelToken token;
  CountingStream detached;
  token.attach(detached);
  token.detach(detached);
  token.cancel();
  EXPECT_EQ(detached.cancels, 0);
  CountingStream late;
  token.attach(late);
  EXPECT_EQ(late.cancels, 1);
}

}  // namespace
}  // namespace lakerouter
