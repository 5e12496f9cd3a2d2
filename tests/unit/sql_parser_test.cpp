#include <gtest/gtest.h>

#include "sql/parser.h"

namespace lakerouter::sql {
namespace {

StatementKind kind_of(const std::string& sql) {
  auto parsed = parse(sql);
  EXPECT_TRUE(parsed.ok()) << sql << ": " << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? parsed->statements.at(0) : StatementKind::kOther;
}

TEST(SqlParser, StatementKinds) {
  EXPECT_EQ(kind_of("SELECT 1"), StatementKind::kSelect);
  EXPECT_EQ(kind_of("WITH t AS (SELECT 1) SELECT * FROM t"), StatementKind::kSelect);
  EXPECT_EQ(kind_of("FROM tpch.nation"), StatementKind::kSelect);
  EXPECT_EQ(kind_of("INSERT INTO t VALUES (1)"), StatementKind::kInsert);
  EXPECT_EQ(kind_of("UPDATE t SET a = 1"), StatementKind::kUpdate);
  EXPECT_EQ(kind_of("DELETE FROM t WHERE a = 1"), StatementKind::kDelete);
  EXPECT_EQ(kind_of("CREATE TABLE t (a INT)"), StatementKind::kCreate);
  EXPECT_EQ(kind_of("DROP TABLE t"), StatementKind::kDrop);
  EXPECT_EQ(kind_of("ALTER TABLE t ADD COLUMN b INT"), StatementKind::kAlter);
  EXPECT_EQ(kind_of("COPY t TO 'x.csv'"), StatementKind::kCopy);
  EXPECT_EQ(kind_of("SET threads = 1"), StatementKind::kSet);
  EXPECT_EQ(kind_of("EXPLAIN SELECT 1"), StatementKind::kExplain);
  EXPECT_EQ(kind_of("BEGIN"), StatementKind::kTransaction);
  EXPECT_EQ(kind_of("PRAGMA version"), StatementKind::kPragma);
  EXPECT_EQ(kind_of("ATTACH 'x.db'"), StatementKind::kAttach);
  EXPECT_EQ(kind_of("LOAD delta"), StatementKind::kLoad);
  EXPECT_EQ(statement_kind_name(StatementKind::kSelect), "SELECT");
}

TEST(SqlParser, CountsStatements) {
  auto parsed = parse("SELECT 1; SELECT 2;");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->statements.size(), 2u);
}

TEST(SqlParser, SyntaxErrorsCarryTheirPosition) {
  auto parsed = parse("SELECT * FROM t WHERE");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kSyntaxError);
  ASSERT_TRUE(parsed.error().position.has_value());

  auto typo = parse("SELEC 1");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.error().position, 0u);

  auto unterminated = parse("SELECT 'abc");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_EQ(unterminated.error().position, 7u);
}

TEST(SqlParser, RefusesNulCharacters) {
  auto parsed = parse(std::string("SELECT 1\0; DROP TABLE t", 23));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kSyntaxError);
  EXPECT_EQ(parsed.error().position, 8u);
}

TEST(SqlParser, EmptyTextIsItsOwnError) {
  for (const char* sql : {"", "   ", "-- just a comment", "/* nothing */", ";"}) {
    auto parsed = parse(sql);
    ASSERT_FALSE(parsed.ok()) << sql;
    EXPECT_EQ(parsed.error().code, ErrorCode::kEmptySql) << sql;
  }
}

}  // namespace
}  // namespace lakerouter::sql
