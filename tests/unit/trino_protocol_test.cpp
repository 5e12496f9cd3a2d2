// The Trino client protocol front-end's pieces: types, values, headers, client statements, error
// mapping, and the paging state machine of one query (tokens, retries, cancel).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "frontends/trino/trino_encoding.h"
#include "frontends/trino/trino_params.h"
#include "frontends/trino/trino_query.h"
#include "frontends/trino/trino_request.h"

namespace lakerouter::trino_protocol {
namespace {

using nlohmann::json;

ColumnType type(TypeId id, uint8_t precision = 0, uint8_t scale = 0) { return ColumnType{id, precision, scale, ""}; }

json signature(const ColumnType& t) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  write_type_signature(w, t);
  return json::parse(buffer.GetString());
}

TEST(TrinoProtoTypes, NamesAndSignatures) {
  EXPECT_EQ(trino_type_name(type(TypeId::kBigInt)), "bigint");
  EXPECT_EQ(trino_type_name(type(TypeId::kDecimal, 15, 2)), "decimal(15,2)");
  EXPECT_EQ(trino_type_name(type(TypeId::kHugeInt)), "decimal(38,0)");
  EXPECT_EQ(trino_type_name(type(TypeId::kFloat)), "real");
  EXPECT_EQ(trino_type_name(type(TypeId::kBlob)), "varbinary");
  EXPECT_EQ(trino_type_name(type(TypeId::kTime)), "time(6)");
  EXPECT_EQ(trino_type_name(type(TypeId::kTimestamp)), "timestamp(6)");
  EXPECT_EQ(trino_type_name(type(TypeId::kTimestampTz)), "timestamp(6) with time zone");
  EXPECT_EQ(trino_type_name(type(TypeId::kInterval)), "varchar");
  EXPECT_EQ(trino_type_name(type(TypeId::kJson)), "json");
  EXPECT_EQ(trino_type_name(type(TypeId::kUuid)), "uuid");
  EXPECT_EQ(trino_type_name(type(TypeId::kNull)), "unknown");

  EXPECT_EQ(signature(type(TypeId::kDecimal, 15, 2)),
            json::parse(R"({"rawType":"decimal","arguments":[{"kind":"LONG","value":15},{"kind":"LONG","value":2}]})"));
  EXPECT_EQ(signature(type(TypeId::kVarchar)),
            json::parse(R"({"rawType":"varchar","arguments":[{"kind":"LONG","value":2147483647}]})"));
  EXPECT_EQ(signature(type(TypeId::kTimestampTz)),
            json::parse(R"({"rawType":"timestamp with time zone","arguments":[{"kind":"LONG","value":6}]})"));
  EXPECT_EQ(signature(type(TypeId::kBoolean)), json::parse(R"({"rawType":"boolean","arguments":[]})"));
}

// Encodes one value of each column of a one-row batch as a JSON array.
std::string encode_row(const ResultSchema& schema, const ResultBatch& batch) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  std::string scratch;
  w.StartArray();
  for (size_t c = 0; c < schema.size(); ++c) write_value(w, batch.column(c), schema[c].type, 0, scratch);
  w.EndArray();
  return buffer.GetString();
}

TEST(TrinoProtoValues, Encoding) {
  ResultSchema schema = {
      {"b", type(TypeId::kBoolean)},       {"bi", type(TypeId::kBigInt)},     {"d", type(TypeId::kDecimal, 15, 2)},
      {"r", type(TypeId::kFloat)},         {"x", type(TypeId::kDouble)},      {"nan", type(TypeId::kDouble)},
      {"inf", type(TypeId::kDouble)},      {"blob", type(TypeId::kBlob)},     {"date", type(TypeId::kDate)},
      {"time", type(TypeId::kTime)},       {"ts", type(TypeId::kTimestamp)},  {"tz", type(TypeId::kTimestampTz)},
      {"old", type(TypeId::kTimestamp)},   {"null", type(TypeId::kVarchar)},  {"hi", type(TypeId::kHugeInt)},
      {"json", type(TypeId::kJson)},
  };
  ResultBatch batch;
  batch.reset(schema);
  batch.column(0).append_int64(1);
  batch.column(1).append_int64(9007199254740993);
  batch.column(2).append_int128(123450);
  batch.column(3).append_double(static_cast<double>(0.1F));
  batch.column(4).append_double(1.0);
  batch.column(5).append_double(std::nan(""));
  batch.column(6).append_double(-INFINITY);
  batch.column(7).append_string(std::string_view("\x00\xff" "ab", 4));
  batch.column(8).append_int64(8065);                       // 1992-01-31
  batch.column(9).append_int64(int64_t{49501} * 1000000 + 5);  // 13:45:01.000005
  batch.column(10).append_int64(int64_t{912501000} * 1000000 + 123456);
  batch.column(11).append_int64(0);
  batch.column(12).append_int64(-1);  // one microsecond before the epoch
  batch.column(13).append_null();
  batch.column(14).append_int128(static_cast<__int128>(1) << 100);
  batch.column(15).append_string(R"({"a":[1,2]})");
  EXPECT_EQ(encode_row(schema, batch),
            R"([true,9007199254740993,"1234.50",0.1,1.0,"NaN","-Infinity","AP9hYg==","1992-01-31",)"
            R"("13:45:01.000005","1998-12-01 08:30:00.123456","1970-01-01 00:00:00.000000 UTC",)"
            R"("1969-12-31 23:59:59.999999",null,"1267650600228229401496703205376","{\"a\":[1,2]}"])");
}

TEST(TrinoProtoValues, FloatsAreFloatTokens) {
  auto f = [](double v, bool single) {
    std::string s;
    append_json_float(s, v, single);
    return s;
  };
  EXPECT_EQ(f(1.0, false), "1.0");
  EXPECT_EQ(f(-2.0, true), "-2.0");
  EXPECT_EQ(f(0.1, false), "0.1");
  EXPECT_EQ(f(1e300, false), "1e+300");
  EXPECT_EQ(f(static_cast<double>(0.1F), true), "0.1");
}

TEST(TrinoProtoHeaders, SessionProperties) {
  auto props = parse_session_properties({"a=1, b=x%2Cy", "lakerouter.engine=duckdb", "c=%3D%25"});
  ASSERT_TRUE(props.ok());
  EXPECT_EQ(props->at("a"), "1");
  EXPECT_EQ(props->at("b"), "x,y");
  EXPECT_EQ(props->at("c"), "=%");
  EXPECT_EQ(props->at("lakerouter.engine"), "duckdb");
  EXPECT_FALSE(parse_session_properties({"novalue"}).ok());
  EXPECT_FALSE(parse_session_properties({"=v"}).ok());
  EXPECT_FALSE(parse_session_properties({"a=%zz"}).ok());
  EXPECT_FALSE(parse_session_properties({"a=%4"}).ok());
  EXPECT_TRUE(parse_session_properties({""})->empty());
}

TEST(TrinoProtoHeaders, ApplySessionProperty) {
  Session s;
  ASSERT_TRUE(apply_session_property(s, "lakerouter.engine", "trino").ok());
  EXPECT_EQ(s.settings.at("engine"), "trino");
  ASSERT_TRUE(apply_session_property(s, "query_max_run_time", "1.5m").ok());
  EXPECT_EQ(s.timeout, std::chrono::milliseconds(90000));
  EXPECT_EQ(s.settings.at("trino.query_max_run_time"), "1.5m");
  ASSERT_TRUE(apply_session_property(s, "hive.foo", "x").ok());
  EXPECT_EQ(s.settings.at("trino.hive.foo"), "x");
  EXPECT_FALSE(apply_session_property(s, "query_max_run_time", "soon").ok());
  EXPECT_FALSE(apply_session_property(s, "lakerouter.", "x").ok());
}

TEST(TrinoProtoHeaders, ClientTagsAndDurations) {
  EXPECT_EQ(parse_client_tags({"a, b,,c", "d"}), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(parse_duration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(parse_duration("2h"), std::chrono::milliseconds(7200000));
  EXPECT_EQ(parse_duration("10 s"), std::chrono::milliseconds(10000));
  EXPECT_FALSE(parse_duration("10"));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("1x"));
}

TEST(TrinoProtoHeaders, ReadSession) {
  // The front-end authenticated the request: the session runs as that identity.
  const governance::Identity tester{"tester", {"analysts"}, "password"};
  http::Request req;
  req.set("X-Trino-User", "tester");
  req.set("X-Trino-Catalog", "delta");
  req.set("X-Trino-Schema", "tpch");
  req.set("X-Trino-Source", "cli");
  req.set("X-Trino-Time-Zone", "Europe/Paris");
  req.set("X-Trino-Client-Tags", "team=a,lakerouter.engine=postgres");
  req.insert("X-Trino-Session", "query_max_run_time=30s");
  req.insert("X-Trino-Session", "lakerouter.cost_center=x%20y");
  auto s = read_session(req, tester, "peer");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->user, "tester");
  EXPECT_EQ(s->groups, std::vector<std::string>{"analysts"});
  EXPECT_EQ(s->frontend, "trino");
  EXPECT_EQ(s->catalog, "delta");
  EXPECT_EQ(s->schema, "tpch");
  EXPECT_EQ(s->engine_request, "postgres");
  EXPECT_EQ(s->timeout, std::chrono::milliseconds(30000));
  EXPECT_EQ(s->settings.at("cost_center"), "x y");
  EXPECT_EQ(s->settings.at("time_zone"), "Europe/Paris");
  EXPECT_EQ(s->settings.at("source"), "cli");

  http::Request presto;  // legacy names; without credentials the session is anonymous, whatever the header says
  presto.set("X-Presto-User", "someone");
  presto.set("X-Presto-Schema", "tpch");
  auto p = read_session(presto, governance::Identity{}, "peer");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->user, "anonymous");
  EXPECT_TRUE(p->groups.empty());
  EXPECT_EQ(p->schema, "tpch");
}

TEST(TrinoProtoClientStatements, Recognized) {
  auto use = parse_client_statement("  USE Delta.\"My Schema\" ; ");
  ASSERT_TRUE(use.ok() && *use);
  EXPECT_EQ((*use)->kind, ClientStatement::Kind::kUse);
  EXPECT_EQ((*use)->catalog, "delta");
  EXPECT_EQ((*use)->schema, "My Schema");
  auto schema_only = parse_client_statement("use tpch");
  ASSERT_TRUE(schema_only.ok() && *schema_only);
  EXPECT_EQ((*schema_only)->catalog, "");
  EXPECT_EQ((*schema_only)->schema, "tpch");

  auto set = parse_client_statement("/* c */ SET SESSION hive.x = 'it''s'");
  ASSERT_TRUE(set.ok() && *set);
  EXPECT_EQ((*set)->kind, ClientStatement::Kind::kSetSession);
  EXPECT_EQ((*set)->name, "hive.x");
  EXPECT_EQ((*set)->value, "it's");
  auto num = parse_client_statement("set session a = 10;");
  ASSERT_TRUE(num.ok() && *num);
  EXPECT_EQ((*num)->value, "10");
  auto flag = parse_client_statement("SET SESSION a = TRUE");
  ASSERT_TRUE(flag.ok() && *flag);
  EXPECT_EQ((*flag)->value, "true");

  auto reset = parse_client_statement("RESET SESSION a.b");
  ASSERT_TRUE(reset.ok() && *reset);
  EXPECT_EQ((*reset)->kind, ClientStatement::Kind::kResetSession);
  EXPECT_EQ((*reset)->name, "a.b");
  EXPECT_EQ(update_type(ClientStatement::Kind::kResetSession), "RESET SESSION");
}

TEST(TrinoProtoClientStatements, OthersAndErrors) {
  for (const char* sql : {"SELECT 1", "SET threads = 4", "SET SESSION AUTHORIZATION bob", "user_table", "RESET x"}) {
    auto r = parse_client_statement(sql);
    ASSERT_TRUE(r.ok()) << sql;
    EXPECT_FALSE(*r) << sql;
  }
  auto bad = parse_client_statement("USE a.b.c");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kSyntaxError);
  EXPECT_EQ(bad.error().position, 7U);
  EXPECT_FALSE(parse_client_statement("USE").ok());
  EXPECT_FALSE(parse_client_statement("SET SESSION a = b").ok());  // not a literal
  EXPECT_FALSE(parse_client_statement("SET SESSION a 1").ok());
  EXPECT_FALSE(parse_client_statement("SET SESSION a = 'x").ok());
}

TEST(TrinoProtoErrors, Mapping) {
  EXPECT_EQ(trino_error_code(ErrorCode::kSyntaxError).name, "SYNTAX_ERROR");
  EXPECT_EQ(trino_error_code(ErrorCode::kSyntaxError).code, 1);
  EXPECT_EQ(trino_error_code(ErrorCode::kUnknownTable).name, "TABLE_NOT_FOUND");
  EXPECT_EQ(trino_error_code(ErrorCode::kQueryCancelled).name, "USER_CANCELED");
  EXPECT_EQ(trino_error_code(ErrorCode::kQueryTimeout).type, "INSUFFICIENT_RESOURCES");
  EXPECT_EQ(trino_error_code(ErrorCode::kEngineUnavailable).type, "EXTERNAL");
  EXPECT_EQ(trino_error_code(ErrorCode::kInternal).type, "INTERNAL_ERROR");
  EXPECT_EQ(trino_error_code(ErrorCode::kBindError).type, "USER_ERROR");
}

TEST(TrinoProtoErrors, Location) {
  const std::string sql = "SELECT 1,\n  é FORM x";  // é is two bytes but one character
  auto loc = sql_location(sql, 15);              // 'F' of FORM: character 15
  EXPECT_EQ(loc.line, 2);
  EXPECT_EQ(loc.column, 6);
  EXPECT_EQ(sql_location(sql, 0).column, 1);
  EXPECT_EQ(sql_location(sql, 1000).line, 2);  // past the end: clamped, no crash

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  write_error(w, Error(ErrorCode::kSyntaxError, "bad", 15), sql);
  const json e = json::parse(buffer.GetString());
  EXPECT_EQ(e["errorName"], "SYNTAX_ERROR");
  EXPECT_EQ(e["errorType"], "USER_ERROR");
  EXPECT_EQ(e["errorLocation"], json::parse(R"({"lineNumber":2,"columnNumber":6})"));
  EXPECT_EQ(e["failureInfo"]["type"], "lakerouter.SYNTAX_ERROR");
  EXPECT_TRUE(e["failureInfo"]["stack"].is_array());
}

// A stream of `rows` BIGINTs in batches of `batch_rows`; optionally fails after them.
class CountingStream final : public ResultStream {
 public:
  CountingStream(int64_t rows, int64_t batch_rows, bool fail_at_end = false)
      : rows_(rows), batch_rows_(batch_rows), fail_(fail_at_end) {
    schema_ = {{"n", type(TypeId::kBigInt)}};
  }
  const ResultSchema& schema() const override { return schema_; }
  Result<bool> next(ResultBatch& batch) override {
    if (cancelled_) return Error(ErrorCode::kQueryCancelled, "cancelled");
    if (next_ >= rows_) {
      if (fail_) return Error(ErrorCode::kDivisionByZero, "late failure");
      return false;
    }
    batch.reset(schema_);
    for (int64_t i = 0; i < batch_rows_ && next_ < rows_; ++i) batch.column(0).append_int64(next_++);
    return true;
  }
  void cancel(bool) override { cancelled_ = true; }

 private:
  ResultSchema schema_;
  int64_t rows_, batch_rows_, next_ = 0;
  bool fail_;
  std::atomic<bool> cancelled_{false};
};

TrinoQuery::Starter starter(int64_t rows, bool fail = false) {
  // Not attached to the token: the pipeline's streams detach themselves, this one could not.
  return [rows, fail](CancelToken&) -> Result<RunningQuery> {
    RunningQuery q;
    q.stream = std::make_unique<CountingStream>(rows, 100, fail);
    return q;
  };
}

// No timing assumptions: max_wait is long enough that a poll always sees the finished start.
constexpr PageOptions kOptions{4096, std::chrono::milliseconds(60000)};
const std::string kBase = "http://h:1";

TEST(TrinoProtoPaging, TokensRetriesAndBoundedPages) {
  TrinoQuery q("q1", "slug", "SELECT", kOptions, starter(5000));
  const json first = json::parse(q.first_response(kBase));
  EXPECT_EQ(first["stats"]["state"], "QUEUED");
  EXPECT_EQ(first["nextUri"], "http://h:1/v1/statement/executing/q1/slug/0");
  EXPECT_EQ(first["infoUri"], "http://h:1/ui/query.html?q1");

  int64_t expected = 0;
  uint64_t token = 0;
  for (;; ++token) {
    const PageResponse page = q.page(token, kBase);
    ASSERT_EQ(page.status, 200U);
    EXPECT_LT(page.body.size(), kOptions.target_page_bytes + 1024);  // one page, not the result
    const PageResponse retry = q.page(token, kBase);
    EXPECT_EQ(retry.body, page.body);  // a retry gets the same bytes
    const json doc = json::parse(page.body);
    ASSERT_EQ(doc["columns"][0]["type"], "bigint");
    for (const auto& row : doc.value("data", json::array())) EXPECT_EQ(row[0], expected++);
    if (token > 0) {
      EXPECT_EQ(q.page(token - 1, kBase).status, 410U);  // older tokens are gone
    }
    EXPECT_EQ(q.page(token + 5, kBase).status, 404U);                // tokens ahead are unknown
    if (!doc.contains("nextUri")) {
      EXPECT_EQ(doc["stats"]["state"], "FINISHED");
      EXPECT_EQ(doc["stats"]["processedRows"], 5000);
      break;
    }
    EXPECT_EQ(doc["nextUri"], fmt::format("http://h:1/v1/statement/executing/q1/slug/{}", token + 1));
  }
  EXPECT_EQ(expected, 5000);
  EXPECT_GT(token, 5U);  // several pages
  EXPECT_TRUE(q.done());
}

TEST(TrinoProtoPaging, CancelReportsUserCanceled) {
  TrinoQuery q("q2", "s", "SELECT", kOptions, starter(100000));
  ASSERT_EQ(q.page(0, kBase).status, 200U);
  q.cancel();
  const json doc = json::parse(q.page(1, kBase).body);
  EXPECT_EQ(doc["stats"]["state"], "FAILED");
  EXPECT_EQ(doc["error"]["errorName"], "USER_CANCELED");
  EXPECT_FALSE(doc.contains("nextUri"));
  EXPECT_TRUE(q.done());
}

TEST(TrinoProtoPaging, StartFailureAndLateFailure) {
  TrinoQuery failed("q3", "s", "SELECT x", kOptions, [](CancelToken&) -> Result<RunningQuery> {
    return Error(ErrorCode::kUnknownTable, "no table x", 7);
  });
  const json doc = json::parse(failed.page(0, kBase).body);
  EXPECT_EQ(doc["stats"]["state"], "FAILED");
  EXPECT_EQ(doc["error"]["errorName"], "TABLE_NOT_FOUND");
  EXPECT_EQ(doc["error"]["errorLocation"]["columnNumber"], 8);

  TrinoQuery late("q4", "s", "SELECT", kOptions, starter(10, /*fail=*/true));
  const json page = json::parse(late.page(0, kBase).body);
  EXPECT_EQ(page["stats"]["state"], "FAILED");
  EXPECT_EQ(page["error"]["errorName"], "DIVISION_BY_ZERO");
  EXPECT_FALSE(page.contains("data"));
}

TEST(TrinoProtoPaging, EmptyResultHasColumns) {
  TrinoQuery q("q5", "s", "SELECT", kOptions, starter(0));
  const json doc = json::parse(q.page(0, kBase).body);
  EXPECT_EQ(doc["stats"]["state"], "FINISHED");
  EXPECT_EQ(doc["columns"].size(), 1U);
  EXPECT_FALSE(doc.contains("data"));
}

// --- prepared statements ---------------------------------------------------------------------------

TEST(TrinoProtoPrepared, RecognisesPrepareExecuteDeallocateDescribe) {
  const std::string prepare_sql = "PREPARE st_1 FROM\n  SELECT * FROM t WHERE x = ? ; ";
  auto prepare = parse_client_statement(prepare_sql);
  ASSERT_TRUE(prepare.ok() && *prepare);
  EXPECT_EQ((*prepare)->kind, ClientStatement::Kind::kPrepare);
  EXPECT_EQ((*prepare)->name, "st_1");
  EXPECT_EQ((*prepare)->statement, "SELECT * FROM t WHERE x = ?");
  EXPECT_EQ((*prepare)->statement_position, 20U);
  EXPECT_EQ(update_type((*prepare)->kind), "PREPARE");

  auto execute = parse_client_statement("execute Statement1 USING INTEGER '41', 'a,b'");
  ASSERT_TRUE(execute.ok() && *execute);
  EXPECT_EQ((*execute)->kind, ClientStatement::Kind::kExecute);
  EXPECT_EQ((*execute)->name, "Statement1");  // names keep their case
  EXPECT_FALSE((*execute)->immediate);
  EXPECT_EQ((*execute)->parameters, "INTEGER '41', 'a,b'");
  EXPECT_EQ((*execute)->parameters_position, 25U);

  auto bare = parse_client_statement("EXECUTE s;");
  ASSERT_TRUE(bare.ok() && *bare);
  EXPECT_TRUE((*bare)->parameters.empty());

  auto immediate = parse_client_statement("EXECUTE IMMEDIATE 'SELECT ''x'', ?' USING 1");
  ASSERT_TRUE(immediate.ok() && *immediate);
  EXPECT_TRUE((*immediate)->immediate);
  EXPECT_EQ((*immediate)->statement, "SELECT 'x', ?");
  EXPECT_EQ((*immediate)->parameters, "1");
  auto named_immediate = parse_client_statement("EXECUTE immediate USING 1");  // a statement named "immediate"
  ASSERT_TRUE(named_immediate.ok() && *named_immediate);
  EXPECT_FALSE((*named_immediate)->immediate);
  EXPECT_EQ((*named_immediate)->name, "immediate");

  auto deallocate = parse_client_statement("DEALLOCATE PREPARE st_1");
  ASSERT_TRUE(deallocate.ok() && *deallocate);
  EXPECT_EQ((*deallocate)->kind, ClientStatement::Kind::kDeallocate);
  EXPECT_EQ((*deallocate)->name, "st_1");

  auto describe = parse_client_statement("DESCRIBE OUTPUT st_1");
  ASSERT_TRUE(describe.ok() && *describe);
  EXPECT_EQ((*describe)->kind, ClientStatement::Kind::kDescribeOutput);
  // DuckDB's DESCRIBE of a table (even one named input) is not ours.
  for (const char* other : {"DESCRIBE input", "DESCRIBE tpch.nation", "DESCRIBE output.t", "PREPAREx"}) {
    auto r = parse_client_statement(other);
    ASSERT_TRUE(r.ok()) << other;
    EXPECT_FALSE(*r) << other;
  }
}

TEST(TrinoProtoPrepared, MalformedStatementsAreSyntaxErrors) {
  for (const char* bad : {"PREPARE s AS SELECT 1", "PREPARE s FROM ;", "PREPARE FROM SELECT 1", "EXECUTE s USING",
                          "EXECUTE s 1", "DEALLOCATE PREPARE", "DESCRIBE INPUT s extra"}) {
    auto r = parse_client_statement(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kSyntaxError) << bad;
  }
}

TEST(TrinoProtoPrepared, PreparedStatementHeader) {
  auto map = parse_prepared_statements({"a=SELECT+1%2C+%27x%2By%27, b=x", "c%31=SELECT%20%3F"});
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(map->at("a"), "SELECT 1, 'x+y'");  // '+' is a space, %2B a plus
  EXPECT_EQ(map->at("b"), "x");
  EXPECT_EQ(map->at("c1"), "SELECT ?");
  EXPECT_FALSE(parse_prepared_statements({"novalue"}).ok());
  EXPECT_FALSE(parse_prepared_statements({"a=%zz"}).ok());
}

TEST(TrinoProtoPrepared, LiteralValues) {
  auto values = parse_parameter_values(
      "5, -7, 'it''s', true, NULL, 1.50, DOUBLE '2.5', DATE '2024-01-01', TIMESTAMP '2024-01-01 10:00:00.000', "
      "DECIMAL '12.34', X'aBcD', INTEGER '41', CAST(NULL AS INTEGER), nan(), -infinity(), 9223372036854775808, "
      "TIMESTAMP '2024-01-01 10:00:00.000 Europe/Paris', UUID 'a3bb189e-8bf9-3888-9912-ace4e6543002', 'xAB'");
  ASSERT_TRUE(values.ok()) << values.error().message;
  const auto& v = *values;
  ASSERT_EQ(v.size(), 19U);
  EXPECT_EQ(v[0], ParamValue(int64_t{5}));
  EXPECT_EQ(v[1], ParamValue(int64_t{-7}));
  EXPECT_EQ(v[2], ParamValue(std::string("it's")));
  EXPECT_EQ(v[3], ParamValue(true));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(v[4]));
  EXPECT_EQ(v[5], ParamValue(std::string("1.50")));  // a decimal keeps its digits
  EXPECT_EQ(v[6], ParamValue(2.5));
  EXPECT_EQ(v[7], ParamValue(std::string("2024-01-01")));
  EXPECT_EQ(v[8], ParamValue(std::string("2024-01-01 10:00:00.000")));
  EXPECT_EQ(v[9], ParamValue(std::string("12.34")));
  EXPECT_EQ(v[10], ParamValue(std::string("\\xAB\\xCD")));
  EXPECT_EQ(v[11], ParamValue(int64_t{41}));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(v[12]));
  EXPECT_TRUE(std::isnan(std::get<double>(v[13])));
  EXPECT_EQ(v[14], ParamValue(-std::numeric_limits<double>::infinity()));
  EXPECT_EQ(v[15], ParamValue(std::string("9223372036854775808")));
  EXPECT_EQ(v[16], ParamValue(std::string("2024-01-01 10:00:00.000 Europe/Paris")));
  EXPECT_EQ(v[17], ParamValue(std::string("a3bb189e-8bf9-3888-9912-ace4e6543002")));
  EXPECT_EQ(v[18], ParamValue(std::string("xAB")));  // a string, not X'AB'
}

TEST(TrinoProtoPrepared, OnlyValuesAreAccepted) {
  struct Case {
    const char* list;
    ErrorCode code;
  };
  for (const auto& [list, code] : {Case{"1 FROM t", ErrorCode::kSyntaxError},
                                   Case{"1; DROP TABLE t", ErrorCode::kSyntaxError},
                                   Case{"1 WHERE true", ErrorCode::kSyntaxError},
                                   Case{"1, (SELECT 2)", ErrorCode::kNotSupported},
                                   Case{"x", ErrorCode::kNotSupported},
                                   Case{"ARRAY[1, 2]", ErrorCode::kNotSupported},
                                   Case{"lower('A')", ErrorCode::kNotSupported},
                                   Case{"INTEGER 'abc'", ErrorCode::kInvalidParameter},
                                   Case{"X'ABC'", ErrorCode::kInvalidParameter}}) {
    auto r = parse_parameter_values(list);
    ASSERT_FALSE(r.ok()) << list;
    EXPECT_EQ(r.error().code, code) << list << ": " << r.error().message;
  }
  auto bad = parse_parameter_values("1, 'unterminated");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kSyntaxError);
  auto at = parse_parameter_values("1,   (SELECT 2)");
  ASSERT_FALSE(at.ok());
  EXPECT_EQ(at.error().position, std::optional<uint32_t>(5));
}

}  // namespace
}  // namespace lakerouter::trino_protocol
