// The Trino engine: value forms and configuration without a server, and the real Trino started by
// scripts/services.sh (tests skip unless LAKEROUTER_TRINO_URL is set; `eval "$(scripts/services.sh
// start)"` sets it).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <limits>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include "core/utf8.h"
#include "core/value_format.h"
#include "core/value_parse.h"
#include "engines/trino/trino_engine.h"
#include "engines/trino/trino_internal.h"
#include "engine_test_util.h"

namespace lakerouter {
namespace {

using testing::Rows;

using namespace std::chrono_literals;
using namespace trino_internal;
using Clock = std::chrono::steady_clock;

// --- Values in Trino's text forms --------------------------------------------------------------

constexpr int64_t kDay = 86'400'000'000;  // microseconds
constexpr int64_t kHour = 3'600'000'000;

TEST(TrinoValues, ParsesDatesTimesAndTimestamps) {
  EXPECT_EQ(parse_date("1970-01-01"), 0);
  EXPECT_EQ(parse_date("2024-02-29"), 19782);
  EXPECT_EQ(parse_date("1969-12-31"), -1);
  EXPECT_EQ(parse_date("-0044-03-15"), -735525);
  EXPECT_EQ(parse_date("+12345-01-01"), 3789391);
  EXPECT_FALSE(parse_date("2024-13-01"));
  EXPECT_FALSE(parse_date("2024-01-01x"));
  EXPECT_EQ(parse_time("00:00:00"), 0);
  EXPECT_EQ(parse_time("12:34:56.789"), 45'296'789'000);
  EXPECT_EQ(parse_time("01:02:03.123456789"), 3'723'123'456);  // picoseconds would be truncated too
  EXPECT_FALSE(parse_time("1:02:03"));
  EXPECT_EQ(parse_timestamp("2024-01-02 03:04:05.123456"), 1'704'164'645'123'456);
  EXPECT_EQ(parse_timestamp("1969-12-31 23:59:59.5"), -500'000);
  EXPECT_FALSE(parse_timestamp("2024-01-02T03:04:05"));
}

TEST(TrinoValues, ConvertsTimestampsWithTimeZoneToUtc) {
  auto utc = [](std::string_view text) {
    auto r = parse_timestamp_tz(text);
    EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : 0;
  };
  const int64_t jan1 = 1'704'067'200'000'000;  // 2024-01-01 00:00:00 UTC
  const int64_t jul1 = jan1 + 182 * kDay;      // 2024-07-01 00:00:00 UTC
  EXPECT_EQ(utc("2024-01-01 00:00:00.000 UTC"), jan1);
  EXPECT_EQ(utc("2024-01-01 00:00:00.123456 +05:30"), jan1 - 5 * kHour - 30 * 60'000'000 + 123'456);
  EXPECT_EQ(utc("2024-01-01 00:00:00 -08:00"), jan1 + 8 * kHour);
  EXPECT_EQ(utc("2024-07-01 12:00:00.500 America/New_York"), jul1 + 16 * kHour + 500'000);  // EDT
  EXPECT_EQ(utc("2024-01-01 00:00:00 America/New_York"), jan1 + 5 * kHour);                 // EST
  EXPECT_EQ(utc("2024-07-01 12:00:00 Europe/Berlin"), jul1 + 10 * kHour);
  EXPECT_EQ(utc("2024-07-01 12:00:00 Australia/Sydney"), jul1 + 2 * kHour);  // AEST (southern winter)
  EXPECT_EQ(utc("2024-01-01 12:00:00 Australia/Sydney"), jan1 + 1 * kHour);  // AEDT
  EXPECT_EQ(utc("2024-07-01 12:00:00 Asia/Kolkata"), jul1 + 6 * kHour + 30 * 60'000'000);
  // Past the tz database's explicit transitions (2037): the rules go on.
  const int64_t jul1_2050 = (parse_date("2050-07-01").value()) * kDay;
  EXPECT_EQ(utc("2050-07-01 12:00:00 America/New_York"), jul1_2050 + 16 * kHour);
  const int64_t jan1_2150 = (parse_date("2150-01-15").value()) * kDay;
  EXPECT_EQ(utc("2150-01-15 12:00:00 America/New_York"), jan1_2150 + 17 * kHour);
  // 2024-11-03 01:30 happens twice in New York: the earlier instant (EDT), as java.time reads it.
  const int64_t nov3 = parse_date("2024-11-03").value() * kDay;
  EXPECT_EQ(utc("2024-11-03 01:30:00 America/New_York"), nov3 + 5 * kHour + 30 * 60'000'000);
  // 2024-03-10 02:30 does not happen: moved forward by the gap, to 03:30 EDT.
  const int64_t mar10 = parse_date("2024-03-10").value() * kDay;
  EXPECT_EQ(utc("2024-03-10 02:30:00 America/New_York"), mar10 + 7 * kHour + 30 * 60'000'000);

  auto unknown = parse_timestamp_tz("2024-01-01 00:00:00 Mars/Olympus_Mons");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("Mars/Olympus_Mons"), std::string::npos);
  EXPECT_FALSE(parse_timestamp_tz("2024-01-01 00:00:00 ../../etc/passwd").ok());
  EXPECT_FALSE(parse_timestamp_tz("2024-01-01 00:00:00").ok());
}

TEST(TrinoValues, ParsesDecimals) {
  EXPECT_EQ(parse_decimal("-12.50", 2), __int128{-1250});
  EXPECT_EQ(parse_decimal("7", 3), __int128{7000});
  EXPECT_EQ(parse_decimal("0.01", 2), __int128{1});
  __int128 big = 0;
  for (char c : std::string_view("1234567890123456789012345678901234567")) big = big * 10 + (c - '0');
  EXPECT_EQ(parse_decimal("12345678901234567890123456789012345.67", 2), big);
  EXPECT_FALSE(parse_decimal("1.234", 2));
  EXPECT_FALSE(parse_decimal("abc", 0));
  EXPECT_FALSE(parse_decimal("123456789012345678901234567890123456789", 0));  // 39 digits
}

TEST(TrinoValues, MapsErrorLocationsToCharacterOffsets) {
  const std::string sql = "SELECT 1,\n  2 FROM\n   nope x y z";
  EXPECT_EQ(location_to_offset(sql, 1, 1), 0u);
  EXPECT_EQ(location_to_offset(sql, 3, 11), 29u);  // the 'y'
  EXPECT_EQ(sql.substr(29, 1), "y");
  EXPECT_EQ(location_to_offset(sql, 4, 1), std::nullopt);
  // Characters, not bytes; Trino counts UTF-16 units, so an emoji is two columns wide.
  EXPECT_EQ(location_to_offset("SELECT 'é', x", 1, 13), 12u);
  EXPECT_EQ(location_to_offset("SELECT '\xF0\x9F\x98\x80', x", 1, 14), 12u);
  EXPECT_EQ(location_to_offset("é\nSELECT x", 2, 8), 9u);
}

TEST(TrinoValues, RendersParameterLiterals) {
  EXPECT_EQ(render_literal(std::monostate{}), "NULL");
  EXPECT_EQ(render_literal(true), "TRUE");
  EXPECT_EQ(render_literal(int64_t{-9223372036854775807 - 1}), "BIGINT '-9223372036854775808'");
  EXPECT_EQ(render_literal(2.5), "DOUBLE '2.5'");
  EXPECT_EQ(render_literal(std::numeric_limits<double>::quiet_NaN()), "nan()");
  EXPECT_EQ(render_literal(-std::numeric_limits<double>::infinity()), "-infinity()");
  EXPECT_EQ(render_literal(std::string("it's")), "'it''s'");
  EXPECT_EQ(wrap_with_parameters("SELECT ?, 'a'", {int64_t{1}, std::string("x")}),
            "EXECUTE IMMEDIATE\n'SELECT ?, ''a'''\nUSING BIGINT '1', 'x'");
}

// --- Configuration and an unreachable server ---------------------------------------------------

TEST(TrinoEngineConfig, MalformedUrlIsAConfigErrorAtOpen) {
  for (const std::string url : {"", "not a url", "ftp://127.0.0.1:8080", "http://", "http://h:8080/?x=1",
                                "http://user:secret@h:8080"}) {
    SCOPED_TRACE(url);
    TrinoEngineOptions options;
    options.url = url;
    auto engine = TrinoEngine::open(options);
    ASSERT_FALSE(engine.ok());
    EXPECT_EQ(engine.error().code, ErrorCode::kConfigError);
    EXPECT_NE(engine.error().message.find("engines.trino.url"), std::string::npos) << engine.error().message;
    EXPECT_EQ(engine.error().message.find("secret"), std::string::npos) << "never echo a password";
  }
}

// A loopback port nothing listens on: bound, then closed.
int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(TrinoEngineConfig, UnreachableServerIsUnavailableWithoutHanging) {
  TrinoEngineOptions options;
  options.name = "warehouse";
  options.url = "http://127.0.0.1:" + std::to_string(unused_port()) + "/";
  auto engine = TrinoEngine::open(options);  // the server need not be up to open
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  EXPECT_EQ((*engine)->name(), "warehouse");
  EXPECT_EQ((*engine)->dialect(), "trino");
  const auto started = Clock::now();
  auto stream = (*engine)->execute(Statement{"SELECT 1"}, Session());
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.error().code, ErrorCode::kEngineUnavailable);
  EXPECT_NE(stream.error().message.find(options.url.substr(0, options.url.size() - 1)), std::string::npos)
      << stream.error().message;
  auto health = (*engine)->health();
  EXPECT_FALSE(health.ready);
  EXPECT_NE(health.detail.find("cannot reach Trino"), std::string::npos) << health.detail;
  EXPECT_LT(Clock::now() - started, 20s);
}

TEST(TrinoEngineConfig, RefusesHeaderInjectionAndBadSessionProperties) {
  TrinoEngineOptions options;
  options.url = "http://127.0.0.1:" + std::to_string(unused_port());
  auto engine = TrinoEngine::open(options);
  ASSERT_TRUE(engine.ok());
  Session evil;
  evil.user = "alice\r\nX-Trino-Role: admin";
  auto r = (*engine)->execute(Statement{"SELECT 1"}, evil);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidRequest);
  Session bad_property;
  bad_property.settings["trino.a=b"] = "1";
  r = (*engine)->execute(Statement{"SELECT 1"}, bad_property);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidRequest);
  Session bad_tag;
  bad_tag.client_tags = {"a,b"};
  r = (*engine)->execute(Statement{"SELECT 1"}, bad_tag);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidRequest);
}

// --- Against the real Trino ---------------------------------------------------------------------

const char* trino_url() { return std::getenv("LAKEROUTER_TRINO_URL"); }

#define REQUIRE_TRINO()                                                                      \
  if (!trino_url()) GTEST_SKIP() << "set LAKEROUTER_TRINO_URL (eval \"$(scripts/services.sh start)\")"

std::unique_ptr<TrinoEngine> open_trino() {
  TrinoEngineOptions options;
  options.url = trino_url();
  auto engine = TrinoEngine::open(options);
  EXPECT_TRUE(engine.ok()) << engine.error().message;
  return engine.ok() ? std::move(*engine) : nullptr;
}

std::string cell(const ColumnData& col, const ColumnType& type, size_t row) {
  if (col.is_null(row)) return "NULL";
  std::string out;
  switch (type.id) {
    case TypeId::kDate: append_date(out, col.int64_at(row)); return out;
    case TypeId::kTime: append_time(out, col.int64_at(row)); return out;
    case TypeId::kTimestamp: append_timestamp(out, col.int64_at(row), false); return out;
    case TypeId::kTimestampTz: append_timestamp(out, col.int64_at(row), true); return out;
    case TypeId::kDecimal: append_decimal(out, col.int128_at(row), type.scale); return out;
    default: break;
  }
  switch (col.kind()) {
    case PhysicalKind::kInt64: return std::to_string(col.int64_at(row));
    case PhysicalKind::kInt128: append_int128(out, col.int128_at(row)); return out;
    case PhysicalKind::kDouble: return fmt::format("{}", col.double_at(row));
    case PhysicalKind::kString: return std::string(col.string_at(row));
  }
  return "?";
}

Result<Rows> drain(ResultStream& stream) { return testing::drain(stream, cell); }

Result<Rows> run(Engine& engine, const std::string& sql, std::vector<ParamValue> params = {},
                 const Session& session = Session()) {
  auto stream = engine.execute(Statement{sql, std::move(params)}, session);
  if (!stream.ok()) return stream.error();
  return drain(**stream);
}

TEST(TrinoEngine, IsHealthy) {
  REQUIRE_TRINO();
  auto engine = open_trino();
  auto health = engine->health();
  EXPECT_TRUE(health.ready) << health.detail;
  EXPECT_NE(health.detail.find("Trino 4"), std::string::npos) << health.detail;
}

TEST(TrinoEngine, CountsTheDemoLakeThroughTheDeltaCatalog) {
  REQUIRE_TRINO();
  auto engine = open_trino();
  auto rows = run(*engine, "SELECT count(*) AS n FROM tpch.lineitem");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->schema.size(), 1u);
  EXPECT_EQ(rows->schema[0].name, "n");
  EXPECT_EQ(rows->schema[0].type.id, TypeId::kBigInt);
  EXPECT_EQ(rows->values, (std::vector<std::vector<std::string>>{{"60175"}}));
}

TEST(TrinoEngine, StreamsABigResultPageByPage) {
  REQUIRE_TRINO();
  auto engine = open_trino();
  auto stream = engine->execute(Statement{"SELECT * FROM tpch.lineitem"}, Session());
  ASSERT_TRUE(stream.ok()) << stream.error().message;
  auto rows = drain(**stream);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->values.size(), 60175u);
  EXPECT_GT(rows->batches(), 2u);
  ASSERT_EQ(rows->schema.size(), 16u);
  EXPECT_EQ(rows->schema[0].name, "l_orderkey");
  EXPECT_EQ(rows->schema[5].type.id, TypeId::kDecimal);  // l_extendedprice decimal(15,2)
  EXPECT_EQ(rows->schema[5].type.precision, 15);
  EXPECT_EQ(rows->schema[5].type.scale, 2);
  EXPECT_EQ(rows->schema[10].type.id, TypeId::kDate);  // l_shipdate
  int64_t sum = 0;
  for (const auto& r : rows->values) sum += std::stoll(r[0]);
  auto expected = run(*engine, "SELECT sum(l_orderkey) FROM tpch.lineitem");
  ASSERT_TRUE(expected.ok()) << expected.error().message;
  EXPECT_EQ(std::to_string(sum), expected->values[0][0]);
  // Every batch of the stream holds the whole schema, NULL-free here.
  EXPECT_EQ(rows->values[0].size(), 16u);
}

TEST(TrinoEngine, MapsEveryTypeOntoCoreTypes) {
  REQUIRE_TRINO();
  auto engine = open_trino();
  auto rows = run(*engine, R"(SELECT
      true AS b, TINYINT '-7' AS ti, SMALLINT '300' AS si, 70000 AS i, BIGINT '9223372036854775807' AS bi,
      REAL '1.1' AS r, DOUBLE '2.25' AS d, nan() AS dn, -infinity() AS dinf,
      CAST('12345678901234567890123456789012345.67' AS DECIMAL(38,2)) AS dec38, DECIMAL '-1.50' AS dec,
      'héllo' AS vc, CAST('ab' AS CHAR(3)) AS ch, X'00FF10' AS vb,
      DATE '2024-02-29' AS dt, TIME '12:34:56.789012' AS tm, TIMESTAMP '2024-01-02 03:04:05.123456' AS ts,
      TIMESTAMP '2024-07-01 12:00:00.5 America/New_York' AS tz1, TIMESTAMP '2024-01-01 00:00:00 +05:30' AS tz2,
      INTERVAL '2' DAY AS iv, UUID '12151fd2-7586-11e9-8f9e-2a86e4085a59' AS u, JSON '{"a":[1,2]}' AS j,
      ARRAY[1, NULL, 3] AS arr, CAST(ROW(1, 'x') AS ROW(id INTEGER, name VARCHAR)) AS rw,
      MAP(ARRAY[1, 2], ARRAY['a', 'b']) AS mp, ARRAY[ROW(DECIMAL '1.5')] AS nested,
      NULL AS n, CAST(NULL AS BIGINT) AS nb, CAST(NULL AS TIMESTAMP(3) WITH TIME ZONE) AS ntz)");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->values.size(), 1u);
  const std::vector<std::pair<TypeId, std::string>> expected = {
      {TypeId::kBoolean, "1"},
      {TypeId::kTinyInt, "-7"},
      {TypeId::kSmallInt, "300"},
      {TypeId::kInteger, "70000"},
      {TypeId::kBigInt, "9223372036854775807"},
      {TypeId::kFloat, fmt::format("{}", static_cast<double>(1.1f))},
      {TypeId::kDouble, "2.25"},
      {TypeId::kDouble, "nan"},
      {TypeId::kDouble, "-inf"},
      {TypeId::kDecimal, "12345678901234567890123456789012345.67"},
      {TypeId::kDecimal, "-1.50"},
      {TypeId::kVarchar, "héllo"},
      {TypeId::kVarchar, "ab "},
      {TypeId::kBlob, std::string("\x00\xff\x10", 3)},
      {TypeId::kDate, "2024-02-29"},
      {TypeId::kTime, "12:34:56.789012"},
      {TypeId::kTimestamp, "2024-01-02T03:04:05.123456"},
      {TypeId::kTimestampTz, "2024-07-01T16:00:00.500000Z"},
      {TypeId::kTimestampTz, "2023-12-31T18:30:00Z"},
      {TypeId::kInterval, "2 00:00:00.000"},
      {TypeId::kUuid, "12151fd2-7586-11e9-8f9e-2a86e4085a59"},
      {TypeId::kJson, R"({"a":[1,2]})"},
      {TypeId::kJson, "[1,null,3]"},
      {TypeId::kJson, R"({"id":1,"name":"x"})"},
      {TypeId::kJson, R"([{"key":1,"value":"a"},{"key":2,"value":"b"}])"},
      {TypeId::kJson, R"([["1.5"]])"},
      {TypeId::kNull, "NULL"},
      {TypeId::kBigInt, "NULL"},
      {TypeId::kTimestampTz, "NULL"},
  };
  ASSERT_EQ(rows->schema.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(rows->schema[i].name + " " + rows->schema[i].type.sql_name);
    EXPECT_EQ(static_cast<int>(rows->schema[i].type.id), static_cast<int>(expected[i].first));
    EXPECT_EQ(rows->values[0][i], expected[i].second);
  }
  EXPECT_EQ(rows->schema[9].type.precision, 38);
  EXPECT_EQ(rows->schema[9].type.scale, 2);
  EXPECT_EQ(rows->schema[9].type.sql_name, "decimal(38, 2)");  // Trino's own spelling
}

TEST(TrinoEngine, SyntaxErrorsComeFromExecuteWithCharacterPositions) {
  REQUIRE_TRINO();
  auto engine = open_trino();
  struct Case {
    std::string sql;
    std::string at;  // the text the position must point at
  };
  for (const Case& c : std::vector<Case>{
           {"SELEC 1", "SELEC"},
           {"SELECT 1,\n  2 FROM\n   nope x y z", "y z"},
           {"SELECT 'é',\n 'ü' 'x' FROM t", "'x'"},
       }) {
    SCOPED_TRACE(c.sql);
    auto stream = engine->execute(Statement{c.sql}, Session());
    ASSERT_FALSE(stream.ok());
    EXPECT_EQ(error_code_name(stream.error().code), error_code_name(ErrorCode::kSyntaxError)) << stream.error().message;
    ASSERT_TRUE(stream.error().position.has_value()) << stream.error().message;
    const size_t byte = c.sql.find(c.at);
    EXPECT_EQ(*stream.error().position, utf8_char_offset(c.sql, byte));
    EXPECT_EQ(stream.error().message.find("line "), std::string::npos) << "position belongs in its field";
  }
}

TEST(TrinoEngine, UnknownNamesAndRuntimeErrorsMapToCoreCodes) {
  REQUIRE_TRINO();
  auto engine = open_trino();
  struct Case {
    std::string sql;
    ErrorCode code;
    std::string at;  // empty: no position expected
  };
  for (const Case& c : std::vector<Case>{
           {"SELECT * FROM tpch.nope", ErrorCode::kUnknownTable, "tpch.nope"},
           {"SELECT *\nFROM nosuchschema.t", ErrorCode::kUnknownTable, "nosuchschema"},
           {"SELECT nocol FROM tpch.nation", ErrorCode::kBindError, "nocol"},
           {"SELECT foo(1)", ErrorCode::kUnknownObject, "foo"},
           {"SELECT 'a' + 1", ErrorCode::kTypeMismatch, "+"},  // Trino points at the operator
           {"SELECT CAST('abc' AS INTEGER)", ErrorCode::kConversionError, ""},
       }) {
    SCOPED_TRACE(c.sql);
    auto rows = run(*engine, c.sql);
    ASSERT_FALSE(rows.ok());
    EXPECT_EQ(error_code_name(rows.error().code), error_code_name(c.code)) << rows.error().message;
    if (!c.at.empty()) {
      EXPECT_EQ(rows.error().position, c.sql.find(c.at)) << rows.error().message;
    }
  }
  // A failure while running (here from next(), unless Trino fails before it has sent the columns).
  auto rows = run(*engine, "SELECT n_nationkey / (n_nationkey - n_nationkey) FROM tpch.nation");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(error_code_name(rows.error().code), error_code_name(ErrorCode::kDivisionByZero)) << rows.error().message;
}

TEST(TrinoEngine, ParametersRunAsExecuteImmediate) {
  REQUIRE_TRINO();
  auto engine = open_trino();
  auto rows = run(*engine, "SELECT ? + 1, ?, ?, ? IS NULL, ?",
                  {int64_t{41}, std::string("it's"), 2.5, std::monostate{}, true});
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->values[0], (std::vector<std::string>{"42", "it's", "2.5", "1", "1"}));
  EXPECT_EQ(rows->schema[0].type.id, TypeId::kBigInt);

  rows = run(*engine, "SELECT n_name FROM tpch.nation WHERE n_nationkey = ?", {int64_t{7}});
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->values, (std::vector<std::vector<std::string>>{{"GERMANY"}}));

  auto wrong = run(*engine, "SELECT ?, ?", {int64_t{1}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(error_code_name(wrong.error().code), error_code_name(ErrorCode::kInvalidParameter));
  EXPECT_LE(wrong.error().position.value_or(0), 0u) << "the statement as a whole, never the wrapper";

  // Positions point into the caller's text, not into the EXECUTE IMMEDIATE wrapper.
  struct Case {
    std::string sql;
    ErrorCode code;
    std::string at;
  };
  for (const Case& c : std::vector<Case>{
           {"SELECT 'a', ? $", ErrorCode::kSyntaxError, "$"},
           {"SELECT 'a', ?,\n  ? $", ErrorCode::kSyntaxError, "$"},
           {"SELECT 'a', ?, nocol FROM tpch.nation", ErrorCode::kBindError, "nocol"},
           {"SELECT 'a', ?\n  FROM tpch.nope", ErrorCode::kUnknownTable, "tpch.nope"},
       }) {
    SCOPED_TRACE(c.sql);
    const size_t placeholders = static_cast<size_t>(std::count(c.sql.begin(), c.sql.end(), '?'));
    auto r = run(*engine, c.sql, std::vector<ParamValue>(placeholders, int64_t{1}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(error_code_name(r.error().code), error_code_name(c.code)) << r.error().message;
    EXPECT_EQ(r.error().position, c.sql.find(c.at)) << r.error().message;
  }
}

TEST(TrinoEngine, SendsTheSessionsUserAndTrinoSettings) {
  REQUIRE_TRINO();
  auto engine = open_trino();
  Session session;
  session.user = "alice";
  session.client_tags = {"dashboard", "team-a"};
  session.settings["trino.join_distribution_type"] = "BROADCAST";
  session.settings["engine"] = "trino";  // lakerouter's own: not sent (Trino would refuse it)
  auto rows = run(*engine, "SELECT current_user", {}, session);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->values[0][0], "alice");
  rows = run(*engine, "SHOW SESSION LIKE 'join_distribution_type'", {}, session);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->values.size(), 1u);
  EXPECT_EQ(rows->values[0][1], "BROADCAST");
  rows = run(*engine, "SELECT current_user");  // anonymous: the engine's configured user
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->values[0][0], "lakerouter");
}

// A query that runs for minutes: every lineitem pair, times 25 nations.
std::string long_query(const std::string& marker) {
  return "SELECT count(*) /* " + marker + " */ FROM tpch.lineitem a CROSS JOIN tpch.lineitem b CROSS JOIN tpch.nation c";
}

std::string unique_marker() {
  std::random_device rd;
  return "lakerouter-test-" + std::to_string(rd()) + std::to_string(rd());
}

// The query's state in Trino's own list, asked through the engine.
std::string state_on_trino(Engine& engine, const std::string& marker) {
  auto rows = run(engine, "SELECT state FROM system.runtime.queries WHERE query LIKE '%" + marker +
                              "%' AND query NOT LIKE '%system.runtime.queries%'");
  if (!rows.ok()) return "error: " + rows.error().message;
  return rows->values.empty() ? "absent" : rows->values[0][0];
}

// Waits (up to `limit`) until the query is no longer running on Trino; returns its last state.
std::string wait_until_stopped(Engine& engine, const std::string& marker, std::chrono::seconds limit) {
  std::string state;
  for (auto until = Clock::now() + limit; Clock::now() < until; std::this_thread::sleep_for(200ms)) {
    state = state_on_trino(engine, marker);
    if (state != "RUNNING" && state != "QUEUED" && state != "PLANNING" && state != "STARTING" &&
        state != "DISPATCHING" && state != "WAITING_FOR_RESOURCES" && state != "FINISHING") {
      break;
    }
  }
  return state;
}

TEST(TrinoEngine, CancelFromAnotherThreadStopsTheQueryOnTrino) {
  REQUIRE_TRINO();
  auto engine = open_trino();
  for (bool timed_out : {false, true}) {
    SCOPED_TRACE(timed_out ? "timed out" : "cancelled");
    const std::string marker = unique_marker();
    auto stream = engine->execute(Statement{long_query(marker)}, Session());
    ASSERT_TRUE(stream.ok()) << stream.error().message;
    EXPECT_EQ((*stream)->schema().size(), 1u) << "execute() returns once Trino has planned the query";
    std::atomic<bool> running_seen{false};
    Clock::time_point cancelled_at;  // written before join(), read after
    std::thread canceller([&] {
      for (auto until = Clock::now() + 30s; Clock::now() < until && !running_seen; std::this_thread::sleep_for(200ms)) {
        running_seen = state_on_trino(*engine, marker) == "RUNNING";
      }
      cancelled_at = Clock::now();
      (*stream)->cancel(timed_out);
    });
    ResultBatch batch;
    auto more = (*stream)->next(batch);  // blocks in long polls until the cancel
    const auto returned = Clock::now();
    canceller.join();
    EXPECT_LT(returned - cancelled_at, 10s) << "a blocked next() returns promptly";
    EXPECT_TRUE(running_seen) << "the query should have been running on Trino before the cancel";
    ASSERT_FALSE(more.ok());
    EXPECT_EQ(error_code_name(more.error().code),
              error_code_name(timed_out ? ErrorCode::kQueryTimeout : ErrorCode::kQueryCancelled));
    const std::string state = wait_until_stopped(*engine, marker, 10s);
    EXPECT_EQ(state, "FAILED") << "Trino should have stopped the query";
    // The stream stays stopped.
    EXPECT_FALSE((*stream)->next(batch).ok());
  }
}

TEST(TrinoEngine, DroppingAnUnfinishedStreamStopsTheQueryOnTrino) {
  REQUIRE_TRINO();
  auto engine = open_trino();
  const std::string marker = unique_marker();
  {
    auto stream = engine->execute(Statement{long_query(marker)}, Session());
    ASSERT_TRUE(stream.ok()) << stream.error().message;
  }
  EXPECT_EQ(wait_until_stopped(*engine, marker, 15s), "FAILED");
}

TEST(TrinoEngine, SessionTimeoutStopsTheQueryOnTrino) {
  REQUIRE_TRINO();
  auto engine = open_trino();
  const std::string marker = unique_marker();
  Session session;
  session.timeout = 3s;  // becomes query_max_run_time: Trino stops the query itself
  const auto started = Clock::now();
  auto stream = engine->execute(Statement{long_query(marker)}, session);
  ASSERT_TRUE(stream.ok()) << stream.error().message;
  auto rows = drain(**stream);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(error_code_name(rows.error().code), error_code_name(ErrorCode::kQueryTimeout)) << rows.error().message;
  EXPECT_LT(Clock::now() - started, 60s);
  EXPECT_EQ(wait_until_stopped(*engine, marker, 10s), "FAILED");
}

// --- Protocol behaviour the real server cannot be made to show ----------------------------------

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using StubRequest = bhttp::request<bhttp::string_body>;

// A scripted HTTP server on loopback, standing in for a Trino that answers 503, 429, garbage, or
// drops connections. One thread per connection (libcurl keeps connections alive).
class StubServer {
 public:
  struct Reply {
    unsigned status = 200;
    std::string body;
    bool drop = false;  // close the connection without answering
  };
  using Handler = std::function<Reply(const StubRequest&)>;

  explicit StubServer(Handler handler)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}), handler_(std::move(handler)) {
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~StubServer() {
    stopping_ = true;
    boost::system::error_code ec;
    asio::ip::tcp::socket wake(io_);
    wake.connect(acceptor_.local_endpoint(), ec);  // unblocks accept()
    accept_thread_.join();
    for (auto& t : connections_) t.join();  // clients (engines) must be gone: they close their ends
  }
  StubServer(const StubServer&) = delete;
  StubServer& operator=(const StubServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
  std::vector<StubRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void accept_loop() {
    while (true) {
      asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      connections_.emplace_back([this, s = std::move(socket)]() mutable { serve(s); });
    }
  }

  void serve(asio::ip::tcp::socket& socket) {
    boost::beast::flat_buffer buffer;
    while (true) {
      StubRequest req;
      boost::system::error_code ec;
      bhttp::read(socket, buffer, req, ec);
      if (ec) return;
      Reply reply;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(req);
        reply = handler_(req);
      }
      if (reply.drop) return;
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(reply.status), req.version()};
      res.set(bhttp::field::content_type, "application/json");
      res.body() = reply.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      bhttp::write(socket, res, ec);
      if (ec || !req.keep_alive()) return;
    }
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  Handler handler_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::vector<StubRequest> requests_;  // guarded by mu_
  std::vector<std::thread> connections_;  // touched by the accept thread, then by the destructor
  std::thread accept_thread_;
};

std::vector<std::string> header_values(const StubRequest& req, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& field : req) {
    if (boost::beast::iequals(field.name_string(), name)) out.emplace_back(field.value());
  }
  return out;
}

// QueryResults documents, as the protocol shapes them.
std::string queued_page(const std::string& base) {
  return R"({"id":"q1","nextUri":")" + base + R"(/v1/statement/executing/q1/slug/1","stats":{"state":"QUEUED"}})";
}
const std::string kFinishedPage =
    R"({"id":"q1","columns":[{"name":"x","type":"bigint","typeSignature":{"rawType":"bigint","arguments":[]}}],)"
    R"("data":[[1],[2]],"stats":{"state":"FINISHED"}})";

std::unique_ptr<TrinoEngine> open_stub(const StubServer& stub) {
  TrinoEngineOptions options;
  options.url = stub.url();
  options.request_timeout = 2s;  // bounds the retries of 503 and 429
  auto engine = TrinoEngine::open(options);
  EXPECT_TRUE(engine.ok()) << engine.error().message;
  return engine.ok() ? std::move(*engine) : nullptr;
}

TEST(TrinoProtocol, RetriesA503AndSendsTheSessionHeaders) {
  int posts = 0;
  std::string base;
  StubServer stub([&](const StubRequest& req) -> StubServer::Reply {
    if (req.method() == bhttp::verb::post && ++posts <= 2) return {503, "busy"};
    if (req.method() == bhttp::verb::post) return {200, queued_page(base)};
    return {200, kFinishedPage};
  });
  base = stub.url();
  auto engine = open_stub(stub);
  Session session;
  session.user = "alice";
  session.client_tags = {"dash", "team-a"};
  session.settings["trino.join_distribution_type"] = "BROADCAST";
  session.settings["trino.delta.odd"] = "a,b=c";
  session.settings["engine"] = "trino";
  session.timeout = 5s;
  auto rows = run(*engine, "SELECT ?", {int64_t{1}}, session);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->values, (std::vector<std::vector<std::string>>{{"1"}, {"2"}}));

  const auto requests = stub.requests();
  ASSERT_EQ(requests.size(), 4u);  // POST 503, POST 503, POST, GET nextUri
  const auto& post = requests[2];
  EXPECT_EQ(post.target(), "/v1/statement");
  EXPECT_EQ(post.body(), "EXECUTE IMMEDIATE\n'SELECT ?'\nUSING BIGINT '1'");
  EXPECT_EQ(header_values(post, "X-Trino-User"), std::vector<std::string>{"alice"});
  EXPECT_EQ(header_values(post, "X-Trino-Catalog"), std::vector<std::string>{"delta"});
  EXPECT_EQ(header_values(post, "X-Trino-Schema"), std::vector<std::string>{});
  EXPECT_EQ(header_values(post, "X-Trino-Source"), std::vector<std::string>{"lakerouter"});
  EXPECT_EQ(header_values(post, "X-Trino-Time-Zone"), std::vector<std::string>{"UTC"});
  EXPECT_EQ(header_values(post, "X-Trino-Client-Tags"), std::vector<std::string>{"dash,team-a"});
  EXPECT_EQ(header_values(post, "X-Trino-Client-Capabilities"), std::vector<std::string>{"PARAMETRIC_DATETIME"});
  EXPECT_EQ(header_values(post, "X-Trino-Session"),
            (std::vector<std::string>{"delta.odd=a%2Cb%3Dc", "join_distribution_type=BROADCAST",
                                      "query_max_run_time=5000ms"}));
  EXPECT_EQ(requests[3].method(), bhttp::verb::get);
  EXPECT_EQ(requests[3].target(), "/v1/statement/executing/q1/slug/1");
}

TEST(TrinoProtocol, PersistentOverloadAndUnavailabilityAreClearErrors) {
  for (unsigned status : {429u, 503u}) {
    SCOPED_TRACE(status);
    StubServer stub([&](const StubRequest&) -> StubServer::Reply { return {status, "no"}; });
    auto engine = open_stub(stub);
    const auto started = Clock::now();
    auto r = engine->execute(Statement{"SELECT 1"}, Session());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, status == 429 ? ErrorCode::kOverloaded : ErrorCode::kEngineUnavailable) << r.error().message;
    EXPECT_NE(r.error().message.find(stub.url()), std::string::npos) << r.error().message;
    EXPECT_LT(Clock::now() - started, 20s);
    EXPECT_GT(stub.requests().size(), 1u) << "retried";
  }
}

TEST(TrinoProtocol, AServerLostMidQueryIsUnavailableNotAHang) {
  std::string base;
  StubServer stub([&](const StubRequest& req) -> StubServer::Reply {
    if (req.method() == bhttp::verb::post) {
      return {200, R"({"id":"q1","nextUri":")" + base + R"(/v1/statement/executing/q1/slug/1",)"
                   R"("columns":[{"name":"x","type":"bigint","typeSignature":{"rawType":"bigint","arguments":[]}}],)"
                   R"("stats":{"state":"RUNNING"}})"};
    }
    if (req.method() == bhttp::verb::get) return {0, "", /*drop=*/true};
    return {204, ""};  // the DELETE of the abandoned query
  });
  base = stub.url();
  auto engine = open_stub(stub);
  auto stream = engine->execute(Statement{"SELECT 1"}, Session());
  ASSERT_TRUE(stream.ok()) << stream.error().message;
  const auto started = Clock::now();
  auto rows = drain(**stream);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().code, ErrorCode::kEngineUnavailable) << rows.error().message;
  EXPECT_NE(rows.error().message.find("q1"), std::string::npos) << rows.error().message;
  EXPECT_LT(Clock::now() - started, 20s);
}

TEST(TrinoProtocol, AnswersThatAreNoQueryResultsAreEngineErrors) {
  StubServer stub([&](const StubRequest& req) -> StubServer::Reply {
    if (req.target() == "/v1/info") return {200, R"({"starting":true,"nodeVersion":{"version":"476"}})"};
    return {200, "<html>proxy login</html>"};
  });
  auto engine = open_stub(stub);
  auto r = engine->execute(Statement{"SELECT 1"}, Session());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kEngineError);
  EXPECT_NE(r.error().message.find("proxy login"), std::string::npos) << r.error().message;
  auto health = engine->health();
  EXPECT_FALSE(health.ready);
  EXPECT_NE(health.detail.find("starting"), std::string::npos) << health.detail;
}

}  // namespace
}  // namespace lakerouter
