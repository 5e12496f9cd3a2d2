// The PostgreSQL wire protocol front-end's pure parts: message codec, SCRAM (RFC 7677 vectors),
// value encoders in text and binary, parameter decoding, SQLSTATE mapping, SET/SHOW parsing.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "frontends/pgwire/pg_commands.h"
#include "frontends/pgwire/pg_protocol.h"
#include "frontends/pgwire/pg_scram.h"
#include "frontends/pgwire/pg_values.h"
#include "sql/parser.h"

namespace lakerouter::pgwire {
namespace {

std::string hex(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

TEST(PgwireCodec, WriterFramesMessagesWithLength) {
  std::string out;
  write_command_complete(out, "SELECT 1");
  ASSERT_EQ(out.size(), 1 + 4 + 9u);
  EXPECT_EQ(out[0], 'C');
  EXPECT_EQ(hex(out.substr(1, 4)), "0000000d");
  EXPECT_EQ(out.substr(5), std::string("SELECT 1\0", 9));
  out.clear();
  write_ready(out, 'I');
  EXPECT_EQ(hex(out), "5a0000000549");
}

TEST(PgwireCodec, ReaderChecksEveryLength) {
  const std::string body("\x00\x01\x00\x00\x00\x02name\0rest", 15);
  MessageReader r(body);
  EXPECT_EQ(r.int16(), 1);
  EXPECT_EQ(r.int32(), 2);
  EXPECT_EQ(r.cstring(), "name");
  EXPECT_FALSE(r.cstring().has_value());  // no NUL after "rest"
  EXPECT_FALSE(r.bytes(5).has_value());
  EXPECT_EQ(r.bytes(4), "rest");
  EXPECT_TRUE(r.at_end());
  EXPECT_FALSE(r.int16().has_value());
  EXPECT_FALSE(r.int32().has_value());
  EXPECT_FALSE(r.byte().has_value());
}

TEST(PgwireCodec, ErrorResponseHasFields) {
  std::string out;
  write_error(out, Error(ErrorCode::kSyntaxError, "syntax error at or near \"FRM\"", 9), 3);
  EXPECT_EQ(out[0], 'E');
  EXPECT_NE(out.find(std::string("C42601\0", 7)), std::string::npos);
  EXPECT_NE(out.find(std::string("P13\0", 4)), std::string::npos);  // 9 + 3 + 1 (1-based)
  EXPECT_NE(out.find(std::string("SERROR\0", 7)), std::string::npos);
  EXPECT_NE(out.find("SYNTAX_ERROR"), std::string::npos);
}

TEST(PgwireCodec, SqlstateTable) {
  EXPECT_EQ(sqlstate_for(ErrorCode::kSyntaxError), "42601");
  EXPECT_EQ(sqlstate_for(ErrorCode::kUnknownTable), "42P01");
  EXPECT_EQ(sqlstate_for(ErrorCode::kUnknownObject), "42703");
  EXPECT_EQ(sqlstate_for(ErrorCode::kPermissionDenied), "42501");
  EXPECT_EQ(sqlstate_for(ErrorCode::kQueryTimeout), "57014");
  EXPECT_EQ(sqlstate_for(ErrorCode::kQueryCancelled), "57014");
  EXPECT_EQ(sqlstate_for(ErrorCode::kEngineUnavailable), "08006");
  EXPECT_EQ(sqlstate_for(ErrorCode::kOverloaded), "53300");
  EXPECT_EQ(sqlstate_for(ErrorCode::kInvalidParameter), "22023");
  EXPECT_EQ(sqlstate_for(ErrorCode::kDivisionByZero), "22012");
  for (int c = 0; c <= static_cast<int>(ErrorCode::kInternal); ++c) {
    EXPECT_EQ(sqlstate_for(static_cast<ErrorCode>(c)).size(), 5u);
  }
}

// RFC 7677 section 3: user "user", password "pencil".
TEST(PgwireScram, Rfc7677Vectors) {
  auto salt = base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
  ASSERT_TRUE(salt.has_value());
  auto verifier = ScramVerifier::derive("pencil", *salt, 4096);
  ASSERT_TRUE(verifier.ok());
  ScramExchange exchange(&*verifier, "user", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
  auto first = exchange.first("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  auto final_message = exchange.final(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  ASSERT_TRUE(final_message.ok()) << final_message.error().message;
  EXPECT_EQ(*final_message, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}

TEST(PgwireScram, WrongProofAndUnknownUserFailAlike) {
  auto salt = base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
  auto verifier = ScramVerifier::derive("other", *salt, 4096);
  ASSERT_TRUE(verifier.ok());
  const std::string final_msg =
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  for (const ScramVerifier* v : {static_cast<const ScramVerifier*>(&*verifier), static_cast<const ScramVerifier*>(nullptr)}) {
    ScramExchange exchange(v, "user", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
    ASSERT_TRUE(exchange.first("n,,n=user,r=rOprNGfwEbeRWgbNEkqO").ok());
    auto r = exchange.final(final_msg);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
  }
}

TEST(PgwireScram, VerifierTextRoundTripsAndRejectsGarbage) {
  auto v = ScramVerifier::derive("pencil");
  ASSERT_TRUE(v.ok());
  auto parsed = ScramVerifier::parse(v->to_string());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->stored_key, v->stored_key);
  EXPECT_EQ(parsed->server_key, v->server_key);
  EXPECT_EQ(parsed->iterations, 4096);
  EXPECT_FALSE(ScramVerifier::parse("md5abc").ok());
  EXPECT_FALSE(ScramVerifier::parse("SCRAM-SHA-256$x:AAAA$AAAA:AAAA").ok());
  ScramExchange e(&*v, "u");
  EXPECT_FALSE(e.first("p=tls-server-end-point,,n=,r=abc").ok());  // channel binding
  EXPECT_FALSE(e.first("garbage").ok());
}

// One-row column helpers.
ColumnData int_col(int64_t v) {
  ColumnData c(PhysicalKind::kInt64);
  c.append_int64(v);
  return c;
}
ColumnData dbl_col(double v) {
  ColumnData c(PhysicalKind::kDouble);
  c.append_double(v);
  return c;
}
ColumnData str_col(std::string_view v) {
  ColumnData c(PhysicalKind::kString);
  c.append_string(v);
  return c;
}
ColumnData dec_col(__int128 v) {
  ColumnData c(PhysicalKind::kInt128);
  c.append_int128(v);
  return c;
}
std::string text_of(TypeId id, const ColumnData& c, uint8_t precision = 0, uint8_t scale = 0) {
  std::string out;
  append_text(out, ColumnType{id, precision, scale, ""}, c, 0);
  return out;
}
std::string binary_of(TypeId id, const ColumnData& c, uint8_t precision = 0, uint8_t scale = 0) {
  std::string out;
  append_binary(out, ColumnType{id, precision, scale, ""}, c, 0);
  return hex(out);
}

TEST(PgwireValues, TextForms) {
  EXPECT_EQ(text_of(TypeId::kBoolean, int_col(1)), "t");
  EXPECT_EQ(text_of(TypeId::kBoolean, int_col(0)), "f");
  EXPECT_EQ(text_of(TypeId::kBigInt, int_col(-42)), "-42");
  EXPECT_EQ(text_of(TypeId::kDouble, dbl_col(0.1)), "0.1");
  EXPECT_EQ(text_of(TypeId::kDouble, dbl_col(std::nan(""))), "NaN");
  EXPECT_EQ(text_of(TypeId::kDouble, dbl_col(-INFINITY)), "-Infinity");
  EXPECT_EQ(text_of(TypeId::kDecimal, dec_col(-1250), 15, 2), "-12.50");
  EXPECT_EQ(text_of(TypeId::kDate, int_col(8065)), "1992-01-31");
  EXPECT_EQ(text_of(TypeId::kTimestamp, int_col(696865500000000)), "1992-01-31 13:45:00");
  EXPECT_EQ(text_of(TypeId::kTimestamp, int_col(696865500123456)), "1992-01-31 13:45:00.123456");
  EXPECT_EQ(text_of(TypeId::kTimestampTz, int_col(696865500000000)), "1992-01-31 13:45:00+00");
  EXPECT_EQ(text_of(TypeId::kBlob, str_col(std::string("\xde\xad\x00", 3))), "\\xdead00");
  EXPECT_EQ(text_of(TypeId::kJson, str_col(R"([1,{"a":2}])")), R"([1,{"a":2}])");
}

TEST(PgwireValues, BinaryForms) {
  EXPECT_EQ(binary_of(TypeId::kBoolean, int_col(1)), "01");
  EXPECT_EQ(binary_of(TypeId::kSmallInt, int_col(-2)), "fffe");
  EXPECT_EQ(binary_of(TypeId::kInteger, int_col(258)), "00000102");
  EXPECT_EQ(binary_of(TypeId::kBigInt, int_col(1)), "0000000000000001");
  EXPECT_EQ(binary_of(TypeId::kDouble, dbl_col(1.0)), "3ff0000000000000");
  EXPECT_EQ(binary_of(TypeId::kFloat, dbl_col(1.0)), "3f800000");
  EXPECT_EQ(binary_of(TypeId::kDate, int_col(10957)), "00000000");  // 2000-01-01
  EXPECT_EQ(binary_of(TypeId::kDate, int_col(10958)), "00000001");
  EXPECT_EQ(binary_of(TypeId::kTimestamp, int_col(946684800000001)), "0000000000000001");
  EXPECT_EQ(binary_of(TypeId::kBlob, str_col("ab")), "6162");
  EXPECT_EQ(binary_of(TypeId::kUuid, str_col("00112233-4455-6677-8899-aabbccddeeff")),
            "00112233445566778899aabbccddeeff");
  // NUMERIC: ndigits, weight, sign, dscale, base-10000 digits. 12345.67 -> [1, 2345, 6700].
  EXPECT_EQ(binary_of(TypeId::kDecimal, dec_col(1234567), 10, 2), "0003000100000002000109291a2c");
  // -0.5 at scale 1 -> one digit 5000 with weight -1, negative.
  EXPECT_EQ(binary_of(TypeId::kDecimal, dec_col(-5), 5, 1), "0001ffff400000011388");
  // Zero.
  EXPECT_EQ(binary_of(TypeId::kDecimal, dec_col(0), 5, 2), "0000000000000002");
}

TEST(PgwireValues, TypeOids) {
  EXPECT_EQ(pg_type(ColumnType{TypeId::kInteger, 0, 0, ""}).oid, oid::kInt4);
  EXPECT_EQ(pg_type(ColumnType{TypeId::kBigInt, 0, 0, ""}).typlen, 8);
  const PgType dec = pg_type(ColumnType{TypeId::kDecimal, 15, 2, ""});
  EXPECT_EQ(dec.oid, oid::kNumeric);
  EXPECT_EQ(dec.typmod, ((15 << 16) | 2) + 4);
  EXPECT_EQ(pg_type(ColumnType{TypeId::kTimestampTz, 0, 0, ""}).oid, oid::kTimestampTz);
  EXPECT_EQ(pg_type(ColumnType{TypeId::kBlob, 0, 0, ""}).oid, oid::kBytea);
  for (int t = 0; t <= static_cast<int>(TypeId::kOther); ++t) {
    EXPECT_GT(pg_type(ColumnType{static_cast<TypeId>(t), 0, 0, ""}).oid, 0);
  }
}

TEST(PgwireValues, ParametersTextAndBinary) {
  auto v = decode_param(oid::kInt4, false, "42", 0);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(std::get<int64_t>(*v), 42);
  v = decode_param(oid::kInt8, true, std::string("\0\0\0\0\0\0\1\0", 8), 0);
  EXPECT_EQ(std::get<int64_t>(*v), 256);
  v = decode_param(oid::kBool, false, "t", 0);
  EXPECT_TRUE(std::get<bool>(*v));
  v = decode_param(oid::kFloat8, true, std::string("\x3f\xf0\0\0\0\0\0\0", 8), 0);
  EXPECT_EQ(std::get<double>(*v), 1.0);
  v = decode_param(oid::kDate, true, std::string("\0\0\0\1", 4), 0);
  EXPECT_EQ(std::get<std::string>(*v), "2000-01-02");
  v = decode_param(oid::kTimestamp, true, std::string("\0\0\0\0\0\0\0\1", 8), 0);
  EXPECT_EQ(std::get<std::string>(*v), "2000-01-01 00:00:00.000001");
  v = decode_param(oid::kNumeric, true, std::string("\0\3\0\1\0\0\0\2\0\1\x09\x29\x1a\x2c", 14), 0);
  EXPECT_EQ(std::get<std::string>(*v), "12345.67");
  v = decode_param(oid::kNumeric, true, std::string("\0\1\xff\xff\x40\0\0\1\x13\x88", 10), 0);
  EXPECT_EQ(std::get<std::string>(*v), "-0.5");
  v = decode_param(oid::kBytea, false, "\\xdead", 0);
  EXPECT_EQ(std::get<std::string>(*v), "\\xDE\\xAD");
  v = decode_param(0, false, "hello", 0);
  EXPECT_EQ(std::get<std::string>(*v), "hello");
  EXPECT_FALSE(decode_param(oid::kInt4, false, "4x", 1).ok());
  EXPECT_FALSE(decode_param(oid::kInt4, true, "abc", 1).ok());
  EXPECT_FALSE(decode_param(oid::kNumeric, true, "abc", 1).ok());
  EXPECT_EQ(decode_param(oid::kInt4, false, "4x", 1).error().code, ErrorCode::kInvalidParameter);
}

TEST(PgwireCommands, SetShowReset) {
  Command c = classify("SET lakerouter.explain = on");
  EXPECT_EQ(c.kind, CommandKind::kSet);
  EXPECT_EQ(c.name, "lakerouter.explain");
  EXPECT_EQ(c.value, "on");
  c = classify("set DateStyle TO 'ISO, MDY';");
  EXPECT_EQ(c.name, "datestyle");
  EXPECT_EQ(c.value, "ISO, MDY");
  c = classify("SET search_path = \"$user\", public");
  EXPECT_EQ(c.value, "\"$user\", public");
  c = classify("SET SESSION TIME ZONE 'UTC'");
  EXPECT_EQ(c.name, "timezone");
  EXPECT_EQ(classify("SET x 1").kind, CommandKind::kUnsupported);
  EXPECT_EQ(classify("SET statement_timeout TO DEFAULT").kind, CommandKind::kReset);
  c = classify("  /* hi */ SHOW ALL");
  EXPECT_EQ(c.kind, CommandKind::kShow);
  EXPECT_EQ(c.name, "all");
  EXPECT_EQ(classify("RESET ALL").kind, CommandKind::kReset);
  EXPECT_EQ(classify("BEGIN").kind, CommandKind::kBegin);
  EXPECT_EQ(classify("start transaction read only").kind, CommandKind::kBegin);
  EXPECT_EQ(classify("END").kind, CommandKind::kCommit);
  EXPECT_EQ(classify("ROLLBACK").kind, CommandKind::kRollback);
  EXPECT_EQ(classify("LISTEN x").kind, CommandKind::kUnsupported);
  EXPECT_EQ(classify("DEALLOCATE PREPARE s1").name, "s1");
  EXPECT_EQ(classify("select version ( )").kind, CommandKind::kVersion);
  EXPECT_EQ(classify("SELECT 1").kind, CommandKind::kNone);
  EXPECT_EQ(classify("select settings from t").kind, CommandKind::kNone);
  EXPECT_EQ(ddl_tag("CREATE OR REPLACE TEMP VIEW v AS SELECT 1"), "CREATE VIEW");
  EXPECT_EQ(ddl_tag("drop table if exists t"), "DROP TABLE");
}

TEST(PgwireCommands, Placeholders) {
  EXPECT_EQ(count_placeholders("SELECT $1, $2 WHERE a = '$3' -- $4\n AND b = $2"), 2);
  EXPECT_EQ(count_placeholders("SELECT 1"), 0);
}

TEST(PgwireCommands, Settings) {
  ClientSettings s("tester");
  EXPECT_EQ(s.get("session_authorization"), "tester");
  EXPECT_TRUE(s.set("client_encoding", "utf8").ok());
  auto bad = s.set("client_encoding", "LATIN1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidParameter);
  EXPECT_TRUE(s.set("statement_timeout", "5s").ok());
  ASSERT_TRUE(s.timeout().has_value());
  EXPECT_EQ(s.timeout()->count(), 5000);
  EXPECT_TRUE(s.set("lakerouter.explain", "on").ok());
  EXPECT_TRUE(s.explain());
  EXPECT_TRUE(s.set("lakerouter.engine", "DuckDB").ok());
  EXPECT_EQ(s.engine(), "duckdb");
  EXPECT_FALSE(s.set("TimeZone", "Europe/Paris").ok());
  EXPECT_TRUE(s.set("TimeZone", "Europe/Paris", /*startup=*/true).ok());
  EXPECT_EQ(s.get("timezone"), "UTC");
  EXPECT_FALSE(s.set("extra_float_digits", "9").ok());
  EXPECT_FALSE(s.set("server_version", "16").ok());
  s.reset("all");
  EXPECT_FALSE(s.explain());
  EXPECT_FALSE(s.timeout().has_value());
  EXPECT_EQ(ClientSettings::canonical("datestyle"), "DateStyle");
  EXPECT_TRUE(ClientSettings::reported("TimeZone"));
}

TEST(PgwireCommands, ParserSpansSplitStatements) {
  const std::string text = "SELECT 1; SELECT 'a;b' ;\nSELECT 3";
  auto parsed = sql::parse(text);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->spans.size(), 3u);
  EXPECT_EQ(text.substr(parsed->spans[0].offset, parsed->spans[0].length), "SELECT 1");
  EXPECT_NE(text.substr(parsed->spans[1].offset, parsed->spans[1].length).find("'a;b'"), std::string::npos);
  EXPECT_NE(text.substr(parsed->spans[2].offset, parsed->spans[2].length).find("SELECT 3"), std::string::npos);
}

}  // namespace
}  // namespace lakerouter::pgwire
