// The PostgreSQL engine. Conversion tests run everywhere; engine tests run against the real
// server that scripts/services.sh starts (eval "$(scripts/services.sh start)" exports
// LAKEROUTER_PG_DSN) and skip without it. Tests may run in parallel processes against one server:
// each uses its own tables and markers, and only ever stops its own backends.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/value_format.h"
#include "engines/postgres/postgres_convert.h"
#include "engines/postgres/postgres_engine.h"
#include "engine_test_util.h"

namespace lakerouter {
namespace {

using testing::Rows;

using namespace std::chrono_literals;
using namespace postgres_internal;

// --- Conversions (no server) ---------------------------------------------------------------------

TEST(PostgresConvert, DatesAreDaysSinceTheEpoch) {
  EXPECT_EQ(parse_date("1970-01-01"), 0);
  EXPECT_EQ(parse_date("2024-02-29"), 19782);
  EXPECT_EQ(parse_date("1969-12-31"), -1);
  EXPECT_EQ(parse_date("0001-01-01 BC"), -719528);  // astronomical year 0
  EXPECT_EQ(parse_date("12345-01-01"), 3789391);
  EXPECT_EQ(parse_date("infinity"), kInfiniteDays);
  EXPECT_EQ(parse_date("-infinity"), -kInfiniteDays);
  EXPECT_EQ(parse_date("2024-13-01"), std::nullopt);
  EXPECT_EQ(parse_date("01/02/2024"), std::nullopt);
}

TEST(PostgresConvert, TimesAndTimestampsAreMicroseconds) {
  EXPECT_EQ(parse_time("13:45:00.5"), (13 * 3600 + 45 * 60) * 1000000LL + 500000);
  EXPECT_EQ(parse_time("24:00:00"), 86400LL * 1000000);
  EXPECT_EQ(parse_timestamp("1969-12-31 23:59:59.5", false), -500000);
  EXPECT_EQ(parse_timestamp("2024-01-01 00:00:00.000001", false), 1704067200000001LL);
  EXPECT_EQ(parse_timestamp("2024-01-01 05:30:00+05:30", true), 1704067200000000LL);
  EXPECT_EQ(parse_timestamp("2023-12-31 19:00:00-05", true), 1704067200000000LL);
  EXPECT_EQ(parse_timestamp("1900-01-01 00:53:28+00:53:28", true), parse_timestamp("1900-01-01 00:00:00", false));
  EXPECT_EQ(parse_timestamp("0044-03-15 12:00:00 BC", false),
            (parse_date("0044-03-15 BC").value() * 86400 + 12 * 3600) * 1000000LL);
  EXPECT_EQ(parse_timestamp("infinity", true), kInfiniteMicros);
  EXPECT_EQ(parse_timestamp("2024-01-01 00:00:00", true), std::nullopt);  // the offset is required
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00", false), std::nullopt);
}

TEST(PostgresConvert, NumericsFitDecimalOnlyWithTheirTypmod) {
  EXPECT_EQ(parse_decimal("-12.5", 2), static_cast<__int128>(-1250));
  EXPECT_EQ(parse_decimal("0.01", 2), static_cast<__int128>(1));
  EXPECT_EQ(parse_decimal("123", 0), static_cast<__int128>(123));
  EXPECT_TRUE(parse_decimal(std::string(38, '9'), 0).has_value());
  EXPECT_FALSE(parse_decimal(std::string(39, '9'), 0).has_value());
  EXPECT_FALSE(parse_decimal("NaN", 2).has_value());
  EXPECT_FALSE(parse_decimal("1.234", 2).has_value());

  auto typmod = [](int precision, int scale) { return ((precision << 16) | (scale & 0x7ff)) + 4; };
  const auto dec = numeric_decoder(typmod(10, 2));
  EXPECT_EQ(dec.type.id, TypeId::kDecimal);
  EXPECT_EQ(dec.type.precision, 10);
  EXPECT_EQ(dec.type.scale, 2);
  EXPECT_EQ(dec.type.sql_name, "numeric(10,2)");
  EXPECT_EQ(numeric_decoder(typmod(38, 38)).type.id, TypeId::kDecimal);
  EXPECT_EQ(numeric_decoder(typmod(39, 2)).type.id, TypeId::kOther);  // wider than DECIMAL(38)
  EXPECT_EQ(numeric_decoder(typmod(5, -2)).type.id, TypeId::kOther);  // PostgreSQL 15 negative scale
  EXPECT_EQ(numeric_decoder(-1).type.id, TypeId::kOther);             // numeric without a typmod: exact text
  EXPECT_EQ(numeric_decoder(-1).type.sql_name, "numeric");
}

TEST(PostgresConvert, ArraysBecomeJson) {
  EXPECT_EQ(array_to_json("{1,2,NULL}", ElementKind::kNumber), "[1,2,null]");
  EXPECT_EQ(array_to_json("{{1,2},{3,4}}", ElementKind::kNumber), "[[1,2],[3,4]]");
  EXPECT_EQ(array_to_json(R"({"a b","x\"y\\z",NULL,"NULL",plain})", ElementKind::kString),
            R"(["a b","x\"y\\z",null,"NULL","plain"])");
  EXPECT_EQ(array_to_json("{t,f}", ElementKind::kBool), "[true,false]");
  EXPECT_EQ(array_to_json(R"({"{\"a\": 1}",NULL})", ElementKind::kJson), R"([{"a": 1},null])");
  EXPECT_EQ(array_to_json("{NaN,1.5,-Infinity,1e+100}", ElementKind::kNumber), R"(["NaN",1.5,"-Infinity",1e+100])");
  EXPECT_EQ(array_to_json("{}", ElementKind::kNumber), "[]");
  EXPECT_EQ(array_to_json("[0:1]={1,2}", ElementKind::kNumber), "[1,2]");
  EXPECT_EQ(array_to_json("{\"tab\there\"}", ElementKind::kString), R"(["tab\there"])");
  EXPECT_EQ(array_to_json("{1,2", ElementKind::kNumber), std::nullopt);
  EXPECT_EQ(array_to_json("{1}}", ElementKind::kNumber), std::nullopt);
}

TEST(PostgresConvert, ByteaFloatsAndBooleans) {
  EXPECT_EQ(parse_bytea("\\x00ff41"), std::string("\0\xff" "A", 3));
  EXPECT_EQ(parse_bytea("\\x"), std::string());
  EXPECT_EQ(parse_bytea("\\x0"), std::nullopt);
  EXPECT_EQ(parse_bytea("abc"), std::nullopt);  // escape format is never asked for
  EXPECT_EQ(parse_float("1.5e-05"), 1.5e-05);
  EXPECT_EQ(parse_float("Infinity"), HUGE_VAL);
  EXPECT_EQ(parse_float("-Infinity"), -HUGE_VAL);
  EXPECT_TRUE(std::isnan(parse_float("NaN").value()));
  EXPECT_EQ(parse_float("0.1"), 0.1);
  ColumnData col(PhysicalKind::kInt64);
  const ColumnDecoder boolean{ColumnType{TypeId::kBoolean, 0, 0, "boolean"}, Decode::kBool};
  EXPECT_TRUE(append_value("t", boolean, col));
  EXPECT_TRUE(append_value("f", boolean, col));
  EXPECT_FALSE(append_value("true", boolean, col));
  EXPECT_EQ(col.int64_at(0), 1);
  EXPECT_EQ(col.int64_at(1), 0);
}

TEST(PostgresConvert, TypesByOid) {
  EXPECT_EQ(builtin_decoder(oids::kInt4, -1)->type.id, TypeId::kInteger);
  EXPECT_EQ(builtin_decoder(oids::kBpchar, 2 + 4)->type.sql_name, "character(2)");
  EXPECT_EQ(builtin_decoder(oids::kVarchar, 20 + 4)->type.sql_name, "character varying(20)");
  EXPECT_EQ(builtin_decoder(1007, -1)->type.sql_name, "integer[]");
  EXPECT_EQ(builtin_decoder(1007, -1)->decode, Decode::kArray);
  EXPECT_FALSE(builtin_decoder(16384, -1).has_value());  // user types need a pg_type lookup
  EXPECT_EQ(catalog_decoder(PgTypeInfo{"mood", 'e', 'E', 0}).type.id, TypeId::kVarchar);
  EXPECT_EQ(catalog_decoder(PgTypeInfo{"_mood", 'b', 'A', 16384}).type.sql_name, "mood[]");
  EXPECT_EQ(catalog_decoder(PgTypeInfo{"_money", 'b', 'A', 790}).type.sql_name, "money[]");
  EXPECT_EQ(catalog_decoder(PgTypeInfo{"int4range", 'r', 'R', 0}).type.id, TypeId::kOther);
}

TEST(PostgresConvert, SqlStatesMapToLakerouterCodes) {
  EXPECT_EQ(code_for_sqlstate("42601", "syntax error at or near \"FROM\""), ErrorCode::kSyntaxError);
  EXPECT_EQ(code_for_sqlstate("42601", "cannot insert multiple commands into a prepared statement"),
            ErrorCode::kMultipleStatements);
  EXPECT_EQ(code_for_sqlstate("42P01", ""), ErrorCode::kUnknownTable);
  EXPECT_EQ(code_for_sqlstate("42703", ""), ErrorCode::kBindError);
  EXPECT_EQ(code_for_sqlstate("42883", ""), ErrorCode::kUnknownObject);
  EXPECT_EQ(code_for_sqlstate("57014", "canceling statement due to user request"), ErrorCode::kQueryCancelled);
  EXPECT_EQ(code_for_sqlstate("57014", "canceling statement due to statement timeout"), ErrorCode::kQueryTimeout);
  EXPECT_EQ(code_for_sqlstate("23505", ""), ErrorCode::kConstraintViolation);
  EXPECT_EQ(code_for_sqlstate("22012", ""), ErrorCode::kDivisionByZero);
  EXPECT_EQ(code_for_sqlstate("22P02", ""), ErrorCode::kConversionError);
  EXPECT_EQ(code_for_sqlstate("22023", ""), ErrorCode::kInvalidInput);
  EXPECT_EQ(code_for_sqlstate("42501", ""), ErrorCode::kPermissionDenied);
  EXPECT_EQ(code_for_sqlstate("57P01", ""), ErrorCode::kEngineUnavailable);
  EXPECT_EQ(code_for_sqlstate("08006", ""), ErrorCode::kEngineUnavailable);
  EXPECT_EQ(code_for_sqlstate("40001", ""), ErrorCode::kEngineError);
  EXPECT_EQ(code_for_sqlstate("", ""), ErrorCode::kEngineError);
}

TEST(PostgresConvert, ParametersAreSentAsText) {
  auto text = [](const ParamValue& p) { return to_text_param(p, 0).value(); };
  EXPECT_EQ(text(ParamValue()), std::nullopt);
  EXPECT_EQ(text(true), "true");
  EXPECT_EQ(text(int64_t{-42}), "-42");
  EXPECT_EQ(text(0.1), "0.1");
  EXPECT_EQ(text(1e300), "1e+300");
  EXPECT_EQ(text(-HUGE_VAL), "-Infinity");
  EXPECT_EQ(text(std::string("héllo")), "héllo");
  auto nul = to_text_param(std::string("a\0b", 3), 1);
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().code, ErrorCode::kInvalidParameter);
  EXPECT_NE(nul.error().message.find("$2"), std::string::npos);
}

// --- Engine helpers ------------------------------------------------------------------------------

const char* pg_dsn() { return std::getenv("LAKEROUTER_PG_DSN"); }

#define REQUIRE_PG() \
  if (!pg_dsn()) GTEST_SKIP() << "set LAKEROUTER_PG_DSN: eval \"$(scripts/services.sh start)\""

PostgresEngineOptions pg_options(int pool_size = 2) {
  PostgresEngineOptions options;
  options.dsn = pg_dsn() ? pg_dsn() : "";
  options.pool_size = pool_size;
  options.pool_wait = 5s;
  return options;
}

std::unique_ptr<PostgresEngine> open_engine(const PostgresEngineOptions& options) {
  auto engine = PostgresEngine::open(options);
  EXPECT_TRUE(engine.ok()) << engine.error().message;
  return engine.ok() ? std::move(*engine) : nullptr;
}

std::unique_ptr<PostgresEngine> open_engine(int pool_size = 2) { return open_engine(pg_options(pool_size)); }

// A word no other test (or earlier run) uses, to find this test's statements in pg_stat_activity.
std::string unique_marker(std::string_view prefix) {
  std::random_device rd;
  return fmt::format("{}_{:08x}{:08x}", prefix, rd(), rd());
}

std::string cell(const ColumnData& col, const ColumnType& type, size_t row) {
  if (col.is_null(row)) return "NULL";
  std::string out;
  switch (col.kind()) {
    case PhysicalKind::kInt64: return std::to_string(col.int64_at(row));
    case PhysicalKind::kInt128: append_decimal(out, col.int128_at(row), type.scale); return out;
    case PhysicalKind::kDouble: return fmt::format("{}", col.double_at(row));
    case PhysicalKind::kString: return std::string(col.string_at(row));
  }
  return "?";
}

Result<Rows> read_all(ResultStream& stream) { return testing::drain(stream, cell); }

Result<Rows> run(Engine& engine, const std::string& sql, std::vector<ParamValue> params = {},
                 const Session& session = Session()) {
  auto stream = engine.execute(Statement{sql, std::move(params)}, session);
  if (!stream.ok()) return stream.error();
  return read_all(**stream);
}

// The single value of a one-row, one-column query; fails the test otherwise.
std::string scalar(Engine& engine, const std::string& sql, std::vector<ParamValue> params = {}) {
  auto rows = run(engine, sql, std::move(params));
  EXPECT_TRUE(rows.ok()) << sql << ": " << rows.error().message;
  if (!rows.ok() || rows->values.size() != 1 || rows->values[0].size() != 1) {
    ADD_FAILURE() << sql << ": not a single value";
    return "";
  }
  return rows->values[0][0];
}

// Statements containing `marker` that PostgreSQL is running right now (the query below holds only
// "$1", so it never counts itself).
int active_statements(Engine& observer, const std::string& marker) {
  return std::stoi(scalar(observer,
                          "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
                          "AND strpos(query, $1) > 0",
                          {marker}));
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

// A loopback port nothing listens on: bound, then released.
int closed_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// --- Opening and reaching the server ---------------------------------------------------------------

TEST(PostgresEngine, BadDsnIsAConfigErrorAtOpenThatHidesThePassword) {
  for (const std::string dsn : {"postgresql://lakerouter:s3cr%zzet@127.0.0.1/db", "host=127.0.0.1 password=s3cr%zzet junk",
                                "host=127.0.0.1 password=s3cr%zzet bogus_option=1", "not a dsn"}) {
    SCOPED_TRACE(dsn);
    PostgresEngineOptions options;
    options.dsn = dsn;
    auto engine = PostgresEngine::open(options);
    ASSERT_FALSE(engine.ok());
    EXPECT_EQ(engine.error().code, ErrorCode::kConfigError);
    EXPECT_EQ(engine.error().message.find("s3cr"), std::string::npos) << engine.error().message;
    EXPECT_NE(engine.error().message.find("PostgreSQL engine 'postgres'"), std::string::npos) << engine.error().message;
  }
  PostgresEngineOptions options;
  auto empty = PostgresEngine::open(options);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kConfigError);
  EXPECT_NE(empty.error().message.find("dsn"), std::string::npos);
  options.dsn = "host=127.0.0.1";
  options.pool_size = 0;
  auto no_pool = PostgresEngine::open(options);
  ASSERT_FALSE(no_pool.ok());
  EXPECT_NE(no_pool.error().message.find("pool_size"), std::string::npos);
}

TEST(PostgresEngine, UnreachableServerIsUnavailableAtExecuteAndNotReady) {
  PostgresEngineOptions options;
  options.name = "pg_down";
  options.dsn = fmt::format("postgresql://lakerouter:n0t-Shown-pw@127.0.0.1:{}/lakerouter", closed_port());
  options.connect_timeout = 2s;
  auto engine = open_engine(options);  // nothing listens: opening still works
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->name(), "pg_down");
  EXPECT_EQ(engine->dialect(), "postgres");
  auto stream = engine->execute(Statement("SELECT 1"), Session());
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.error().code, ErrorCode::kEngineUnavailable);
  EXPECT_NE(stream.error().message.find("pg_down"), std::string::npos) << stream.error().message;
  EXPECT_NE(stream.error().message.find("127.0.0.1"), std::string::npos) << stream.error().message;
  EXPECT_EQ(stream.error().message.find("n0t-Shown-pw"), std::string::npos) << stream.error().message;
  const auto health = engine->health();
  EXPECT_FALSE(health.ready);
  EXPECT_EQ(health.detail.find("n0t-Shown-pw"), std::string::npos) << health.detail;
  EXPECT_EQ(engine->pool_stats().open, 0);  // failed connects hold no slot
}

TEST(PostgresEngine, HealthIsReadyOnTheRealServer) {
  REQUIRE_PG();
  auto engine = open_engine();
  const auto health = engine->health();
  EXPECT_TRUE(health.ready) << health.detail;
  EXPECT_NE(health.detail.find("PostgreSQL 15"), std::string::npos) << health.detail;
  EXPECT_EQ(health.detail.find(":lakerouter@"), std::string::npos) << health.detail;  // no password
}

// --- Results -------------------------------------------------------------------------------------

TEST(PostgresEngine, EveryTypeRoundTrips) {
  REQUIRE_PG();
  auto engine = open_engine();
  auto rows = run(*engine, R"(SELECT
      1::int2 AS i2, 2::int4 AS i4, 9007199254740993::int8 AS i8,
      (-12345678.90)::numeric(10,2) AS dec, 12345678901234567890.5::numeric AS free_numeric,
      1.5::float4 AS f4, 0.1::float8 AS f8, 'Infinity'::float8 AS f8_inf, true AS b,
      'txt'::text AS t, 'vc'::varchar(5) AS vc, 'ab'::char(3) AS bp, 'nm'::name AS nm,
      date '2024-02-29' AS d, timestamp '2024-02-29 13:45:00.123456' AS ts,
      timestamptz '2024-02-29 13:45:00+02' AS tstz, time '13:45:00.5' AS tm,
      interval '1 day 02:00:00' AS iv, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u,
      '{"a": [1, 2]}'::json AS j, '{"b": 1}'::jsonb AS jb, '\x00ff'::bytea AS by,
      ARRAY[1, 2, NULL] AS arr, ARRAY['x y', 'z"q'] AS tarr, NULL::int AS nul,
      '10.0.0.1'::inet AS other, 'infinity'::date AS d_inf)");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->values.size(), 1u);
  const std::vector<std::tuple<std::string, TypeId, std::string, std::string>> expected = {
      {"i2", TypeId::kSmallInt, "smallint", "1"},
      {"i4", TypeId::kInteger, "integer", "2"},
      {"i8", TypeId::kBigInt, "bigint", "9007199254740993"},
      {"dec", TypeId::kDecimal, "numeric(10,2)", "-12345678.90"},
      {"free_numeric", TypeId::kOther, "numeric", "12345678901234567890.5"},
      {"f4", TypeId::kFloat, "real", "1.5"},
      {"f8", TypeId::kDouble, "double precision", "0.1"},
      {"f8_inf", TypeId::kDouble, "double precision", "inf"},
      {"b", TypeId::kBoolean, "boolean", "1"},
      {"t", TypeId::kVarchar, "text", "txt"},
      {"vc", TypeId::kVarchar, "character varying(5)", "vc"},
      {"bp", TypeId::kVarchar, "character(3)", "ab "},  // PostgreSQL's blank padding, as psql shows it
      {"nm", TypeId::kVarchar, "name", "nm"},
      {"d", TypeId::kDate, "date", "19782"},
      {"ts", TypeId::kTimestamp, "timestamp without time zone", "1709214300123456"},
      {"tstz", TypeId::kTimestampTz, "timestamp with time zone", "1709207100000000"},
      {"tm", TypeId::kTime, "time without time zone", "49500500000"},
      {"iv", TypeId::kInterval, "interval", "1 day 02:00:00"},
      {"u", TypeId::kUuid, "uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
      {"j", TypeId::kJson, "json", R"({"a": [1, 2]})"},
      {"jb", TypeId::kJson, "jsonb", R"({"b": 1})"},
      {"by", TypeId::kBlob, "bytea", std::string("\0\xff", 2)},
      {"arr", TypeId::kJson, "integer[]", "[1,2,null]"},
      {"tarr", TypeId::kJson, "text[]", R"(["x y","z\"q"])"},
      {"nul", TypeId::kInteger, "integer", "NULL"},
      {"other", TypeId::kOther, "inet", "10.0.0.1"},
      {"d_inf", TypeId::kDate, "date", std::to_string(kInfiniteDays)},
  };
  ASSERT_EQ(rows->schema.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& [name, id, sql_name, value] = expected[i];
    SCOPED_TRACE(name);
    EXPECT_EQ(rows->schema[i].name, name);
    EXPECT_EQ(rows->schema[i].type.id, id);
    EXPECT_EQ(rows->schema[i].type.sql_name, sql_name);
    EXPECT_EQ(rows->values[0][i], value);
  }
  EXPECT_EQ(rows->schema[3].type.precision, 10);
  EXPECT_EQ(rows->schema[3].type.scale, 2);
}

TEST(PostgresEngine, EnumsAndArraysOfUserTypesAreLookedUpInTheCatalog) {
  REQUIRE_PG();
  auto engine = open_engine(1);
  const std::string type = unique_marker("lr_test_mood");
  ASSERT_TRUE(run(*engine, fmt::format("CREATE TYPE {} AS ENUM ('sad', 'happy')", type)).ok());
  auto rows = run(*engine, fmt::format("SELECT 'happy'::{0} AS m, ARRAY['sad', 'happy']::{0}[] AS ms, "
                                       "ARRAY[1.5::money] AS cash, int4range(1, 5) AS r", type));
  ASSERT_TRUE(run(*engine, fmt::format("DROP TYPE {}", type)).ok());
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->schema[0].type.id, TypeId::kVarchar);
  EXPECT_EQ(rows->schema[0].type.sql_name, type);
  EXPECT_EQ(rows->values[0][0], "happy");
  EXPECT_EQ(rows->schema[1].type.id, TypeId::kJson);
  EXPECT_EQ(rows->schema[1].type.sql_name, type + "[]");
  EXPECT_EQ(rows->values[0][1], R"(["sad","happy"])");
  EXPECT_EQ(rows->schema[2].type.id, TypeId::kJson);
  EXPECT_EQ(rows->values[0][2], R"(["$1.50"])");
  EXPECT_EQ(rows->schema[3].type.id, TypeId::kOther);
  EXPECT_EQ(rows->values[0][3], "[1,5)");
}

TEST(PostgresEngine, ParametersBindByPosition) {
  REQUIRE_PG();
  auto engine = open_engine();
  auto rows = run(*engine, "SELECT $1::int + 1 AS n, $2::text AS s, $3::int IS NULL AS isnull, $4::float8 AS f, "
                           "NOT $5::bool AS b, $6::date + 1 AS d",
                  {int64_t{41}, std::string("héllo"), ParamValue(), 0.25, true, std::string("2024-02-28")});
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->values[0], (std::vector<std::string>{"42", "héllo", "1", "0.25", "0", "19782"}));

  // The server infers untyped placeholders from their context.
  EXPECT_EQ(scalar(*engine, "SELECT count(*) FROM users WHERE country = $1 AND id <= $2",
                   {std::string("DE"), int64_t{16}}),
            "2");

  auto missing = engine->execute(Statement("SELECT $1::int, $2::int", {int64_t{1}}), Session());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidParameter);
  EXPECT_NE(missing.error().message.find("2 parameter placeholder(s) but 1 value(s)"), std::string::npos);

  auto bad_value = run(*engine, "SELECT $1::int", {std::string("forty-two")});
  ASSERT_FALSE(bad_value.ok());
  EXPECT_EQ(bad_value.error().code, ErrorCode::kConversionError);
  EXPECT_NE(bad_value.error().message.find("SQLSTATE 22P02"), std::string::npos) << bad_value.error().message;
}

TEST(PostgresEngine, DemoSchemaAndPointLookup) {
  REQUIRE_PG();
  auto engine = open_engine();
  EXPECT_EQ(scalar(*engine, "SELECT count(*) FROM users"), "1000");
  EXPECT_EQ(scalar(*engine, "SELECT count(*) FROM orders"), "5000");
  auto user = run(*engine, "SELECT id, email, name, country, created_at, is_active FROM users WHERE id = $1",
                  {int64_t{42}});
  ASSERT_TRUE(user.ok()) << user.error().message;
  ASSERT_EQ(user->values.size(), 1u);
  // Seeded as 2024-01-01 00:00 UTC + 42 * 7 hours = 2024-01-13 06:00 UTC.
  const int64_t created = (parse_date("2024-01-13").value() * 86400 + 6 * 3600) * 1000000LL;
  EXPECT_EQ(user->values[0], (std::vector<std::string>{"42", "user42@example.com", "User 42", "FR",
                                                       std::to_string(created), "1"}));
  EXPECT_EQ(user->schema[3].type.sql_name, "character(2)");
  EXPECT_EQ(user->schema[4].type.id, TypeId::kTimestampTz);

  auto totals = run(*engine, "SELECT o.amount, sum(o.amount) OVER () AS total FROM orders o WHERE o.id = 1");
  ASSERT_TRUE(totals.ok()) << totals.error().message;
  EXPECT_EQ(totals->schema[0].type.id, TypeId::kDecimal);
  EXPECT_EQ(totals->schema[0].type.scale, 2);
  EXPECT_EQ(totals->values[0][0], "78.27");  // round(1 + (7727 % 50000) / 100.0, 2)
  EXPECT_EQ(totals->schema[1].type.id, TypeId::kOther);  // sum() of numeric has no typmod: exact text
}

TEST(PostgresEngine, WritesReportRowsChangedAndReadBack) {
  REQUIRE_PG();
  auto engine = open_engine();
  const std::string table = unique_marker("lr_test_writes");
  ASSERT_TRUE(run(*engine, fmt::format("CREATE TABLE {} (id int PRIMARY KEY, note text, amount numeric(8,2))", table)).ok());
  auto insert = run(*engine, fmt::format("INSERT INTO {} VALUES ($1, $2, $3), ($4, $5, $6)", table),
                    {int64_t{1}, std::string("one"), std::string("1.50"), int64_t{2}, ParamValue(), 2.25});
  ASSERT_TRUE(insert.ok()) << insert.error().message;
  EXPECT_TRUE(insert->schema.empty());
  EXPECT_TRUE(insert->values.empty());
  EXPECT_EQ(insert->rows_changed, 2);

  auto update = run(*engine, fmt::format("UPDATE {} SET note = 'changed' WHERE id >= $1", table), {int64_t{1}});
  ASSERT_TRUE(update.ok()) << update.error().message;
  EXPECT_EQ(update->rows_changed, 2);

  auto returning = run(*engine, fmt::format("INSERT INTO {} VALUES (3, 'three', 3) RETURNING id, amount", table));
  ASSERT_TRUE(returning.ok()) << returning.error().message;
  EXPECT_EQ(returning->values, (std::vector<std::vector<std::string>>{{"3", "3.00"}}));
  EXPECT_EQ(returning->rows_changed, 1);

  auto back = run(*engine, fmt::format("SELECT id, note, amount FROM {} ORDER BY id", table));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->values, (std::vector<std::vector<std::string>>{
                              {"1", "changed", "1.50"}, {"2", "changed", "2.25"}, {"3", "three", "3.00"}}));
  EXPECT_EQ(back->rows_changed, std::nullopt);  // reading changes nothing

  auto duplicate = run(*engine, fmt::format("INSERT INTO {} VALUES (1, 'again', 0)", table));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, ErrorCode::kConstraintViolation);
  EXPECT_NE(duplicate.error().message.find("already exists"), std::string::npos) << duplicate.error().message;
  EXPECT_NE(duplicate.error().message.find("SQLSTATE 23505"), std::string::npos);

  auto removed = run(*engine, fmt::format("DELETE FROM {}", table));
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->rows_changed, 3);
  ASSERT_TRUE(run(*engine, fmt::format("DROP TABLE {}", table)).ok());
}

TEST(PostgresEngine, ABigResultStreamsInBatches) {
  REQUIRE_PG();
  auto engine = open_engine();
  auto rows = run(*engine, "SELECT g, g::text AS s FROM generate_series(1, 100000) AS g");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->values.size(), 100000u);
  EXPECT_GE(rows->batch_sizes.size(), 49u);
  for (size_t n : rows->batch_sizes) EXPECT_LE(n, 2048u);
  int64_t sum = 0;
  for (const auto& row : rows->values) sum += std::stoll(row[0]);
  EXPECT_EQ(sum, 5000050000LL);
  EXPECT_EQ(rows->values.back(), (std::vector<std::string>{"100000", "100000"}));
  // The connection went back to the pool when the last row was read.
  EXPECT_EQ(engine->pool_stats().idle, engine->pool_stats().open);
}

TEST(PostgresEngine, EmptyResultKeepsItsSchema) {
  REQUIRE_PG();
  auto engine = open_engine();
  auto rows = run(*engine, "SELECT id, email FROM users WHERE id < 0");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_TRUE(rows->values.empty());
  ASSERT_EQ(rows->schema.size(), 2u);
  EXPECT_EQ(rows->schema[1].name, "email");
}

// --- Errors --------------------------------------------------------------------------------------

TEST(PostgresEngine, SyntaxErrorsCarryTheirCharacterPosition) {
  REQUIRE_PG();
  auto engine = open_engine();
  auto plain = run(*engine, "SELECT id, FROM users");
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().code, ErrorCode::kSyntaxError);
  EXPECT_EQ(plain.error().position, 11u);
  EXPECT_NE(plain.error().message.find("syntax error at or near \"FROM\""), std::string::npos) << plain.error().message;
  EXPECT_NE(plain.error().message.find("SQLSTATE 42601"), std::string::npos);
  // Characters, not bytes: é is two bytes in UTF-8.
  auto wide = run(*engine, "SELECT 'é', FROM users");
  ASSERT_FALSE(wide.ok());
  EXPECT_EQ(wide.error().position, 12u);
}

TEST(PostgresEngine, UnknownTablesColumnsAndFunctionsAreReportedBeforeAnyRow) {
  REQUIRE_PG();
  auto engine = open_engine();
  auto table = run(*engine, "SELECT * FROM no_such_table");
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.error().code, ErrorCode::kUnknownTable);
  EXPECT_EQ(table.error().position, 14u);
  EXPECT_NE(table.error().message.find("relation \"no_such_table\" does not exist"), std::string::npos);
  auto column = run(*engine, "SELECT no_such_column FROM users");
  ASSERT_FALSE(column.ok());
  EXPECT_EQ(column.error().code, ErrorCode::kBindError);
  EXPECT_EQ(column.error().position, 7u);
  auto function = run(*engine, "SELECT no_such_function(1)");
  ASSERT_FALSE(function.ok());
  EXPECT_EQ(function.error().code, ErrorCode::kUnknownObject);
  EXPECT_NE(function.error().message.find("Hint:"), std::string::npos) << function.error().message;
  auto two = run(*engine, "SELECT 1; SELECT 2");
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error().code, ErrorCode::kMultipleStatements);
  auto division = run(*engine, "SELECT 1 / (id - id) FROM users");  // an execution error, from next()
  ASSERT_FALSE(division.ok());
  EXPECT_EQ(division.error().code, ErrorCode::kDivisionByZero);
  EXPECT_EQ(scalar(*engine, "SELECT 1"), "1");  // the connections are fine afterwards
}

// --- Cancellation and timeouts ---------------------------------------------------------------------

TEST(PostgresEngine, CancelStopsTheQueryOnTheServer) {
  REQUIRE_PG();
  auto engine = open_engine();
  auto observer = open_engine(1);
  const std::string marker = unique_marker("cancel_test");
  auto stream = engine->execute(Statement(fmt::format("SELECT pg_sleep(60) /* {} */", marker)), Session());
  ASSERT_TRUE(stream.ok()) << stream.error().message;
  ResultStream& s = **stream;
  std::atomic<bool> returned{false};
  Result<bool> outcome = false;
  std::thread consumer([&] {
    ResultBatch batch;
    outcome = s.next(batch);
    returned = true;
  });
  const bool started = eventually([&] { return active_statements(*observer, marker) == 1; });
  EXPECT_TRUE(started) << "the statement never showed up in pg_stat_activity";
  const auto cancelled_at = std::chrono::steady_clock::now();
  s.cancel(/*timed_out=*/false);
  const bool stopped = eventually([&] { return returned.load(); });
  if (!stopped) s.cancel(false);
  consumer.join();
  EXPECT_TRUE(stopped) << "next() did not return within 10 s of cancel()";
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, 10s);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, ErrorCode::kQueryCancelled) << outcome.error().message;
  EXPECT_EQ(active_statements(*observer, marker), 0);
  // Repeated cancels are harmless; the next statement runs on a clean connection.
  s.cancel(false);
  ResultBatch batch;
  EXPECT_EQ(s.next(batch).error().code, ErrorCode::kQueryCancelled);
  EXPECT_EQ(scalar(*engine, "SELECT 2"), "2");
}

TEST(PostgresEngine, CancelBeforeTheFirstNextRunsNothing) {
  REQUIRE_PG();
  auto engine = open_engine(1);
  const std::string table = unique_marker("lr_test_never");
  auto stream = engine->execute(Statement(fmt::format("CREATE TABLE {} (x int)", table)), Session());
  ASSERT_TRUE(stream.ok()) << stream.error().message;
  (*stream)->cancel(/*timed_out=*/true);
  ResultBatch batch;
  auto r = (*stream)->next(batch);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kQueryTimeout);
  stream->reset();
  EXPECT_EQ(scalar(*engine, "SELECT count(*) FROM pg_class WHERE relname = $1", {table}), "0");
}

TEST(PostgresEngine, DestroyingAStreamMidResultStopsTheQuery) {
  REQUIRE_PG();
  auto options = pg_options(1);
  options.batch_rows = 1;
  auto engine = open_engine(options);
  auto observer = open_engine(1);
  const std::string marker = unique_marker("abandon_test");
  {
    auto stream = engine->execute(
        // Rows wider than the server's 8 kB send buffer leave it one by one, not when it fills.
        Statement(fmt::format("SELECT g, repeat('x', 10000) AS pad, pg_sleep(0.05) /* {} */ "
                              "FROM generate_series(1, 100000) g",
                              marker)),
        Session());
    ASSERT_TRUE(stream.ok()) << stream.error().message;
    ResultBatch batch;
    auto more = (*stream)->next(batch);
    ASSERT_TRUE(more.ok()) << more.error().message;
    EXPECT_TRUE(*more);
    EXPECT_EQ(active_statements(*observer, marker), 1);
  }  // a client that went away
  EXPECT_TRUE(eventually([&] { return active_statements(*observer, marker) == 0; }));
  EXPECT_EQ(scalar(*engine, "SELECT 3"), "3");  // its slot is free again
}

TEST(PostgresEngine, SessionTimeoutBecomesTheStatementTimeout) {
  REQUIRE_PG();
  auto engine = open_engine(1);
  Session session;
  session.timeout = 300ms;
  const auto started = std::chrono::steady_clock::now();
  auto rows = run(*engine, "SELECT pg_sleep(30)", {}, session);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().code, ErrorCode::kQueryTimeout) << rows.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  // The same pooled connection runs the next statement under the server's own setting again.
  EXPECT_EQ(scalar(*engine, "SHOW statement_timeout"), "0");
  session.timeout = 1500ms;
  auto shown = run(*engine, "SHOW statement_timeout", {}, session);
  ASSERT_TRUE(shown.ok()) << shown.error().message;
  EXPECT_EQ(shown->values[0][0], "1500ms");
}

TEST(PostgresEngine, CancelWithTimedOutReportsATimeout) {
  REQUIRE_PG();
  auto engine = open_engine(1);
  auto stream = engine->execute(Statement("SELECT pg_sleep(60)"), Session());
  ASSERT_TRUE(stream.ok()) << stream.error().message;
  std::thread watchdog([&] {
    std::this_thread::sleep_for(300ms);
    (*stream)->cancel(/*timed_out=*/true);
  });
  ResultBatch batch;
  auto r = (*stream)->next(batch);
  watchdog.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kQueryTimeout) << r.error().message;
}

// --- The pool ------------------------------------------------------------------------------------

TEST(PostgresEngine, PoolRecoversAfterTheServerEndsItsConnection) {
  REQUIRE_PG();
  auto engine = open_engine(2);
  auto admin = open_engine(1);
  const std::string pid = scalar(*engine, "SELECT pg_backend_pid()");
  ASSERT_FALSE(pid.empty());
  // The server ends the pooled connection (as a restart does); the wait form returns once it is gone.
  EXPECT_EQ(scalar(*admin, "SELECT pg_terminate_backend($1::int, 5000)", {std::stoll(pid)}), "1");
  const std::string next_pid = scalar(*engine, "SELECT pg_backend_pid()");  // the same, cached statement
  EXPECT_FALSE(next_pid.empty());
  EXPECT_NE(next_pid, pid);
  EXPECT_TRUE(engine->health().ready);
}

TEST(PostgresEngine, PoolRecoversWhenEveryConnectionDiesAtOnce) {
  REQUIRE_PG();
  auto engine = open_engine(3);
  auto observer = open_engine(1);
  // Three streams open at once hold three connections; read to the end, all three are pooled.
  std::vector<std::unique_ptr<ResultStream>> streams;
  for (int i = 0; i < 3; ++i) {
    auto stream = engine->execute(Statement("SELECT pg_backend_pid()"), Session());
    ASSERT_TRUE(stream.ok()) << stream.error().message;
    streams.push_back(std::move(*stream));
  }
  std::vector<std::string> pids;
  for (auto& stream : streams) {
    auto rows = read_all(*stream);
    ASSERT_TRUE(rows.ok()) << rows.error().message;
    pids.push_back(rows->values[0][0]);
  }
  streams.clear();
  ASSERT_EQ(engine->pool_stats().idle, 3);
  // As a server restart does: every pooled connection ends at once.
  const std::string pid_array = fmt::format("{{{}}}", fmt::join(pids, ","));
  EXPECT_EQ(scalar(*observer, "SELECT count(*) FROM unnest($1::int[]) AS pid WHERE pg_terminate_backend(pid)",
                   {pid_array}),
            "3");
  EXPECT_TRUE(eventually([&] {
    return scalar(*observer, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", {pid_array}) == "0";
  }));
  for (int i = 0; i < 5; ++i) {
    auto rows = run(*engine, fmt::format("SELECT {} + pg_backend_pid() * 0", i));
    ASSERT_TRUE(rows.ok()) << "statement " << i << ": " << rows.error().message;
    EXPECT_EQ(rows->values[0][0], std::to_string(i));
  }
  EXPECT_TRUE(engine->health().ready);
}

TEST(PostgresEngine, ABusyPoolMakesStatementsWaitThenOverloaded) {
  REQUIRE_PG();
  auto options = pg_options(1);
  options.pool_wait = 200ms;
  auto engine = open_engine(options);
  auto holding = engine->execute(Statement("SELECT 1"), Session());  // holds the only connection
  ASSERT_TRUE(holding.ok()) << holding.error().message;
  auto waiting = engine->execute(Statement("SELECT 2"), Session());
  ASSERT_FALSE(waiting.ok());
  EXPECT_EQ(waiting.error().code, ErrorCode::kOverloaded);
  EXPECT_NE(waiting.error().message.find("pool_size"), std::string::npos) << waiting.error().message;
  ASSERT_TRUE(read_all(**holding).ok());  // reading to the end frees the connection
  EXPECT_EQ(scalar(*engine, "SELECT 2"), "2");
}

TEST(PostgresEngine, ConcurrentStatementsShareThePool) {
  REQUIRE_PG();
  auto engine = open_engine(3);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto rows = run(*engine, "SELECT email FROM users WHERE id = $1", {int64_t{1 + (t * 20 + i) % 1000}});
        if (!rows.ok() || rows->values.size() != 1 ||
            rows->values[0][0] != fmt::format("user{}@example.com", 1 + (t * 20 + i) % 1000)) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_LE(engine->pool_stats().open, 3);
}

TEST(PostgresEngine, IdleConnectionsCloseAfterTheIdleTimeout) {
  REQUIRE_PG();
  auto options = pg_options(2);
  options.idle_timeout = 200ms;
  auto engine = open_engine(options);
  auto observer = open_engine(1);
  const std::string pid = scalar(*engine, "SELECT pg_backend_pid()");
  EXPECT_EQ(engine->pool_stats().idle, 1);
  std::this_thread::sleep_for(400ms);
  EXPECT_NE(scalar(*engine, "SELECT pg_backend_pid()"), pid);  // the old one was closed when touched
  EXPECT_TRUE(eventually([&] {
    return scalar(*observer, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int", {std::stoll(pid)}) == "0";
  }));
  EXPECT_EQ(engine->pool_stats().open, 1);
}

TEST(PostgresEngine, StatementsArePreparedOncePerConnection) {
  REQUIRE_PG();
  auto options = pg_options(1);
  options.prepared_statements_per_connection = 2;
  auto engine = open_engine(options);
  const std::string sql = "SELECT count(*) FROM users WHERE id < $1";
  const std::string count_named = "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1";
  EXPECT_EQ(scalar(*engine, sql, {int64_t{10}}), "9");
  EXPECT_EQ(scalar(*engine, sql, {int64_t{20}}), "19");
  EXPECT_EQ(scalar(*engine, count_named, {sql}), "1");
  // The cache holds two: this statement pushes the first out (least recently used).
  EXPECT_EQ(scalar(*engine, "SELECT count(*) FROM pg_prepared_statements WHERE statement <> $1", {std::string("-")}),
            "2");
  EXPECT_EQ(scalar(*engine, count_named, {sql}), "0");
}

TEST(PostgresEngine, ATextWithoutParametersIsPreparedWhenItComesAgain) {
  REQUIRE_PG();
  auto options = pg_options(1);
  options.prepared_statements_per_connection = 3;
  auto engine = open_engine(options);
  const std::string count_named = "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1";
  EXPECT_EQ(scalar(*engine, "SELECT 40 + 2"), "42");
  EXPECT_EQ(scalar(*engine, count_named, {std::string("SELECT 40 + 2")}), "0");  // ran unprepared
  EXPECT_EQ(scalar(*engine, "SELECT 40 + 2"), "42");
  EXPECT_EQ(scalar(*engine, count_named, {std::string("SELECT 40 + 2")}), "1");  // the second time: prepared
  // With the cache full (count_named and two texts), texts without parameters stay unprepared
  // instead of pushing out statements made for reuse.
  EXPECT_EQ(scalar(*engine, "SELECT 41 + 1"), "42");
  EXPECT_EQ(scalar(*engine, "SELECT 41 + 1"), "42");
  EXPECT_EQ(scalar(*engine, "SELECT 39 + 3"), "42");
  EXPECT_EQ(scalar(*engine, "SELECT 39 + 3"), "42");
  EXPECT_EQ(scalar(*engine, count_named, {std::string("SELECT 39 + 3")}), "0");
  EXPECT_EQ(scalar(*engine, count_named, {std::string("SELECT 40 + 2")}), "1");
  // The schema of an unprepared statement comes with its first result, rows or none.
  auto empty = run(*engine, "SELECT id, email FROM users WHERE id < -1");
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  ASSERT_EQ(empty->schema.size(), 2u);
  EXPECT_EQ(empty->schema[1].name, "email");
  EXPECT_TRUE(empty->values.empty());
}

TEST(PostgresEngine, ACachedStatementFollowsAChangedTable) {
  REQUIRE_PG();
  auto engine = open_engine(1);
  const std::string table = unique_marker("lr_test_altered");
  ASSERT_TRUE(run(*engine, fmt::format("CREATE TABLE {} (a int)", table)).ok());
  ASSERT_TRUE(run(*engine, fmt::format("INSERT INTO {} VALUES (1)", table)).ok());
  const std::string select = fmt::format("SELECT * FROM {}", table);
  auto before = run(*engine, select);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(before->schema.size(), 1u);
  ASSERT_TRUE(run(*engine, fmt::format("ALTER TABLE {} ADD COLUMN b text DEFAULT 'x'", table)).ok());
  auto after = run(*engine, select);
  ASSERT_TRUE(run(*engine, fmt::format("DROP TABLE {}", table)).ok());
  ASSERT_TRUE(after.ok()) << after.error().message;
  ASSERT_EQ(after->schema.size(), 2u);
  EXPECT_EQ(after->values, (std::vector<std::vector<std::string>>{{"1", "x"}}));
}

TEST(PostgresEngine, SessionSettingsDoNotCarryOverToTheNextStatement) {
  REQUIRE_PG();
  auto engine = open_engine(1);
  ASSERT_TRUE(run(*engine, "SET application_name = 'someone_else'").ok());
  ASSERT_TRUE(run(*engine, "SET statement_timeout = 1234").ok());
  EXPECT_EQ(scalar(*engine, "SHOW application_name"), "lakerouter");
  EXPECT_EQ(scalar(*engine, "SHOW statement_timeout"), "0");
  // DEALLOCATE ALL drops the statements lakerouter cached: their connection is closed with them.
  ASSERT_TRUE(run(*engine, "DEALLOCATE ALL").ok());
  EXPECT_EQ(scalar(*engine, "SHOW application_name"), "lakerouter");
}

TEST(PostgresEngine, AConnectionLeftInATransactionIsNotPooled) {
  REQUIRE_PG();
  auto engine = open_engine(1);
  const std::string pid = scalar(*engine, "SELECT pg_backend_pid()");
  ASSERT_TRUE(run(*engine, "BEGIN").ok());
  EXPECT_EQ(engine->pool_stats().open, 0);
  EXPECT_NE(scalar(*engine, "SELECT pg_backend_pid()"), pid);
}

Result<Rows> run_script(Engine& engine, const std::string& sql) {
  Statement statement{sql};
  statement.script = true;
  auto stream = engine.execute(statement, Session());
  if (!stream.ok()) return stream.error();
  return read_all(**stream);
}

TEST(PostgresEngine, AScriptRunsAsOneTransactionAndAnswersWithItsLastStatement) {
  REQUIRE_PG();
  auto single = open_engine(1);
  ASSERT_TRUE(run(*single, "CREATE TABLE IF NOT EXISTS lr_script_test (id int PRIMARY KEY, v text)").ok());
  ASSERT_TRUE(run(*single, "DELETE FROM lr_script_test").ok());
  auto ok = run_script(*single,
                       "BEGIN; INSERT INTO lr_script_test VALUES (1, 'a'), (2, 'b'); UPDATE lr_script_test SET v = 'c' "
                       "WHERE id = 2; COMMIT; SELECT id, v FROM lr_script_test ORDER BY id");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->values, (std::vector<std::vector<std::string>>{{"1", "a"}, {"2", "c"}}));
  EXPECT_EQ(ok->rows_changed, 3);

  // The second INSERT breaks the key: nothing of the script stays (one implicit transaction), and
  // the error points into the whole text.
  const std::string bad = "INSERT INTO lr_script_test VALUES (3, 'x'); INSERT INTO lr_script_test VALUES (1, 'dup')";
  auto failed = run_script(*single, bad);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kConstraintViolation) << failed.error().message;
  EXPECT_EQ(scalar(*single, "SELECT count(*) FROM lr_script_test"), "2");

  // BEGIN without COMMIT: rolled back and refused, the connection clean for its next user.
  auto open = run_script(*single, "BEGIN; INSERT INTO lr_script_test VALUES (4, 'y')");
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().message.find("BEGIN without COMMIT"), std::string::npos) << open.error().message;
  EXPECT_EQ(scalar(*single, "SELECT count(*) FROM lr_script_test"), "2");

  auto with_params = single->execute([] {
    Statement s{"SELECT 1; SELECT $1", {ParamValue(int64_t{1})}};
    s.script = true;
    return s;
  }(), Session());
  ASSERT_FALSE(with_params.ok());
  EXPECT_EQ(with_params.error().code, ErrorCode::kInvalidParameter);
  ASSERT_TRUE(run(*single, "DROP TABLE lr_script_test").ok());
}

}  // namespace
}  // namespace lakerouter
