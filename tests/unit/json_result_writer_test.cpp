#include <cmath>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "frontends/http/json_result_writer.h"

namespace lakerouter::http {
namespace {

using nlohmann::json;

TEST(JsonResultWriter, EncodesEveryTypeAsDocumented) {
  ResultSchema schema = {
      {"b", {TypeId::kBoolean, 0, 0, "BOOLEAN"}},   {"i", {TypeId::kBigInt, 0, 0, "BIGINT"}},
      {"h", {TypeId::kHugeInt, 0, 0, "HUGEINT"}},   {"m", {TypeId::kDecimal, 15, 2, "DECIMAL(15,2)"}},
      {"d", {TypeId::kDouble, 0, 0, "DOUBLE"}},     {"s", {TypeId::kVarchar, 0, 0, "VARCHAR"}},
      {"dt", {TypeId::kDate, 0, 0, "DATE"}},        {"ts", {TypeId::kTimestampTz, 0, 0, "TIMESTAMPTZ"}},
      {"bl", {TypeId::kBlob, 0, 0, "BLOB"}},        {"j", {TypeId::kJson, 0, 0, "INTEGER[]"}},
  };
  ResultBatch batch;
  batch.reset(schema);
  batch.column(0).append_int64(1);
  batch.column(1).append_int64(-42);
  batch.column(2).append_int128(static_cast<__int128>(1) << 70);
  batch.column(3).append_int128(-12345);
  batch.column(4).append_double(std::nan(""));
  batch.column(5).append_string("quote\" and \\ and \n");
  batch.column(6).append_int64(8035);
  batch.column(7).append_int64(0);
  batch.column(8).append_string(std::string("\xAA\x00", 2));
  batch.column(9).append_string("[1,2]");
  for (size_t c = 0; c < schema.size(); ++c) batch.column(c).append_null();

  JsonResultWriter writer;
  writer.begin("q1", "duckdb", R"({"engine":"duckdb","stage":"only_candidate"})", schema);
  ASSERT_TRUE(writer.add_batch(batch).ok());
  ASSERT_TRUE(writer.finish(2, 1.5).ok());
  const std::string text = writer.take();
  json doc = json::parse(text);

  EXPECT_EQ(doc["query_id"], "q1");
  EXPECT_EQ(doc["engine"], "duckdb");
  EXPECT_EQ(doc["routing"]["stage"], "only_candidate");
  EXPECT_EQ(doc["columns"][3], (json{{"name", "m"}, {"type", "DECIMAL(15,2)"}}));
  const json& row = doc["rows"][0];
  EXPECT_EQ(row[0], true);
  EXPECT_EQ(row[1], -42);
  EXPECT_NE(text.find(",1180591620717411303424,"), std::string::npos);  // exact, as a JSON number
  EXPECT_EQ(row[3], "-123.45");
  EXPECT_EQ(row[4], "NaN");
  EXPECT_EQ(row[5], "quote\" and \\ and \n");
  EXPECT_EQ(row[6], "1992-01-01");
  EXPECT_EQ(row[7], "1970-01-01T00:00:00Z");
  EXPECT_EQ(row[8], "qgA=");
  EXPECT_EQ(row[9], json::array({1, 2}));
  for (const auto& v : doc["rows"][1]) EXPECT_TRUE(v.is_null());
  EXPECT_EQ(doc["row_count"], 2);
  EXPECT_EQ(doc["elapsed_ms"], 1.5);
}

TEST(JsonResultWriter, StreamsInPiecesThatConcatenateToOneDocument) {
  ResultSchema schema = {{"x", {TypeId::kBigInt, 0, 0, "BIGINT"}}};
  JsonResultWriter writer;
  writer.begin("q", "duckdb", "", schema);
  std::string out = writer.take();
  EXPECT_EQ(writer.pending_bytes(), 0u);
  ResultBatch batch;
  batch.reset(schema);
  for (int round = 0; round < 3; ++round) {
    batch.clear();
    for (int i = 0; i < 1000; ++i) batch.column(0).append_int64(round * 1000 + i);
    ASSERT_TRUE(writer.add_batch(batch).ok());
    out += writer.take();
  }
  EXPECT_TRUE(writer.finish_with_error(3000, Error(ErrorCode::kQueryTimeout, "too slow")));
  out += writer.take();
  json doc = json::parse(out);
  EXPECT_EQ(doc["rows"].size(), 3000u);
  EXPECT_EQ(doc["rows"][2999][0], 2999);
  EXPECT_EQ(doc["error"]["code"], "QUERY_TIMEOUT");
}

TEST(ErrorJson, CarriesCodeMessagePositionAndQueryId) {
  json doc = json::parse(error_json(Error(ErrorCode::kSyntaxError, "near \"x\"", 7), "q9"));
  EXPECT_EQ(doc, (json{{"error", {{"code", "SYNTAX_ERROR"}, {"message", "near \"x\""}, {"position", 7}}},
                       {"query_id", "q9"}}));
  json plain = json::parse(error_json(Error(ErrorCode::kBodyTooLarge, "big")));
  EXPECT_FALSE(plain["error"].contains("position"));
  EXPECT_FALSE(plain.contains("query_id"));
}

}  // namespace
}  // namespace lakerouter::http
