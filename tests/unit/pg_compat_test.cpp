// sql::pg_compat_rewrite() on the catalog queries psql 15 sends (captured with `psql -E`), and the
// rewritten text run on a DuckDB database laid out as the DuckDB engine lays out the lake.
#include <gtest/gtest.h>

#include "duckdb.hpp"
#include "sql/analyzer.h"
#include "sql/dialect.h"
#include "sql/pg_compat.h"
#include "sql/portability.h"

namespace lakerouter::sql {
namespace {

// psql 15's \d; \dt and \dv differ only in the relkind list.
std::string list_relations(std::string_view relkinds) {
  return std::string(R"(SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ()") +
         std::string(relkinds) + R"()
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;)";
}

const std::string kDescribe = list_relations("'r','p','v','m','S','f',''");
const std::string kDescribeTables = list_relations("'r','p',''");
const std::string kDescribeViews = list_relations("'v',''");

const std::string kListSchemas = R"(SELECT n.nspname AS "Name",
  pg_catalog.pg_get_userbyid(n.nspowner) AS "Owner"
FROM pg_catalog.pg_namespace n
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
ORDER BY 1;)";

const std::string kListDatabases = R"(SELECT d.datname as "Name",
       pg_catalog.pg_get_userbyid(d.datdba) as "Owner",
       pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding",
       d.datcollate as "Collate",
       d.datctype as "Ctype",
       d.daticulocale as "ICU Locale",
       CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END AS "Locale Provider",
       pg_catalog.array_to_string(d.datacl, E'\n') AS "Access privileges"
FROM pg_catalog.pg_database d
ORDER BY 1;)";

// Rewritten as translate() rewrites it for the DuckDB engine, from the analyzer's profile.
std::string for_duckdb(const std::string& sql) {
  auto profile = analyze(sql);
  EXPECT_TRUE(profile.ok()) << sql;
  if (!profile.ok()) return sql;
  return translate(without_terminator(sql), *profile, "duckdb");
}

// An in-memory DuckDB with a lake table (a view marked as the engine marks it), a plain view and a
// plain table.
class PgCompatDuckDB : public ::testing::Test {
 protected:
  void SetUp() override {
    run("CREATE SCHEMA tpch; CREATE VIEW tpch.nation AS SELECT 1 AS n_nationkey; "
        "COMMENT ON VIEW tpch.nation IS '" + std::string(kLakeTableComment) + "'; "
        "CREATE VIEW main.user_view AS SELECT 2 AS x; CREATE TABLE main.scratch(a INTEGER)");
  }

  std::unique_ptr<duckdb::MaterializedQueryResult> run(const std::string& sql) {
    auto result = conn_.Query(sql);
    EXPECT_FALSE(result->HasError()) << result->GetError() << "\n" << sql;
    return result;
  }

  // Rows as "v1|v2|...", in result order.
  std::vector<std::string> rows(const std::string& sql) {
    std::vector<std::string> out;
    auto result = run(sql);
    if (result->HasError()) return out;
    for (duckdb::idx_t r = 0; r < result->RowCount(); ++r) {
      std::string row;
      for (duckdb::idx_t c = 0; c < result->ColumnCount(); ++c) {
        row += (c ? "|" : "") + result->GetValue(c, r).ToString();
      }
      out.push_back(std::move(row));
    }
    return out;
  }

  duckdb::DuckDB db_{nullptr};
  duckdb::Connection conn_{db_};
};

TEST_F(PgCompatDuckDB, DescribeListsLakeTablesAsTables) {
  const std::string sql = for_duckdb(kDescribe);
  EXPECT_EQ(sql.find("pg_get_userbyid"), std::string::npos) << sql;
  EXPECT_EQ(rows(sql), (std::vector<std::string>{"main|scratch|table|lakerouter", "main|user_view|view|lakerouter",
                                                 "tpch|nation|table|lakerouter"}));
}

TEST_F(PgCompatDuckDB, DescribeTablesAndViews) {
  EXPECT_EQ(rows(for_duckdb(kDescribeTables)),
            (std::vector<std::string>{"main|scratch|table|lakerouter", "tpch|nation|table|lakerouter"}));
  EXPECT_EQ(rows(for_duckdb(kDescribeViews)), (std::vector<std::string>{"main|user_view|view|lakerouter"}));
}

TEST_F(PgCompatDuckDB, ListSchemas) {
  const auto listed = rows(for_duckdb(kListSchemas));
  EXPECT_NE(std::find(listed.begin(), listed.end(), "tpch|lakerouter"), listed.end());
  EXPECT_NE(std::find(listed.begin(), listed.end(), "main|lakerouter"), listed.end());
}

TEST_F(PgCompatDuckDB, ListDatabases) {
  const auto listed = rows(for_duckdb(kListDatabases));
  ASSERT_FALSE(listed.empty());
  EXPECT_NE(listed.front().find("|lakerouter|UTF8|C|C|NULL|libc|"), std::string::npos) << listed.front();
}

// pgjdbc's getColumns joins pg_attribute with pg_type on the type OID (shortened to that join).
TEST_F(PgCompatDuckDB, AttributeTypesArePostgresOids) {
  run("CREATE TABLE main.typed(i INTEGER, b BIGINT, v VARCHAR, d DATE, n DECIMAL(12, 2), f DOUBLE, t TIMESTAMP)");
  const std::string sql = for_duckdb(
      "SELECT a.attname, t.typname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid "
      "JOIN pg_catalog.pg_type t ON a.atttypid = t.oid WHERE c.relname = 'typed' ORDER BY a.attnum");
  EXPECT_EQ(rows(sql), (std::vector<std::string>{"i|int4", "b|int8", "v|varchar", "d|date", "n|numeric", "f|float8",
                                                 "t|timestamp"}));
}

TEST_F(PgCompatDuckDB, CatalogTablesAsSubqueriesAndInCtes) {
  // The substitute keeps the table's name as its alias, in subqueries and CTEs alike.
  const std::string sql = for_duckdb(
      "WITH t AS (SELECT relname, relkind FROM pg_catalog.pg_class) "
      "SELECT relname FROM t WHERE relkind = 'r' AND relname IN "
      "(SELECT pg_class.relname FROM pg_catalog.pg_class WHERE pg_catalog.pg_get_userbyid(relowner) = 'lakerouter') "
      "ORDER BY 1");
  EXPECT_EQ(rows(sql), (std::vector<std::string>{"nation", "scratch"}));
}

TEST(PgCompat, OnlyWhatTheListNames) {
  for (const std::string sql : {"SELECT count(*) FROM tpch.nation", "SELECT upper(n_name) FROM tpch.nation",
                                "SELECT * FROM my.pg_class"}) {
    auto profile = analyze(sql);
    ASSERT_TRUE(profile.ok()) << sql;
    EXPECT_FALSE(needs_pg_compat(*profile)) << sql;
    EXPECT_EQ(translate(sql, *profile, "duckdb"), sql);  // byte for byte
  }
  // Read again, found nothing to map: the text as written.
  const std::string namespaces = "SELECT nspname  FROM pg_catalog.pg_namespace";
  auto profile = analyze(namespaces);
  ASSERT_TRUE(profile.ok());
  EXPECT_TRUE(needs_pg_compat(*profile));
  EXPECT_EQ(translate(namespaces, *profile, "duckdb"), namespaces);
  for (const std::string& sql : {kDescribe, kListSchemas, kListDatabases}) {
    auto profile = analyze(sql);
    ASSERT_TRUE(profile.ok()) << sql;
    EXPECT_TRUE(needs_pg_compat(*profile)) << sql;
    // Other engines are left alone: PostgreSQL has these functions.
    EXPECT_EQ(translate(without_terminator(sql), *profile, "postgres"), std::string(without_terminator(sql)));
  }
}

TEST_F(PgCompatDuckDB, NamePatterns) {
  // psql 15's \dt tpch.* and the first query of \d tpch.nation.
  const std::string dt_pattern = R"(SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','t','s','')
  AND n.nspname OPERATOR(pg_catalog.~) '^(tpch)$' COLLATE pg_catalog.default
ORDER BY 1,2;)";
  EXPECT_EQ(rows(for_duckdb(dt_pattern)), (std::vector<std::string>{"tpch|nation|table|lakerouter"}));
  const std::string find_table = R"(SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(nation)$' COLLATE pg_catalog.default
  AND n.nspname OPERATOR(pg_catalog.~) '^(tpch)$' COLLATE pg_catalog.default
ORDER BY 2, 3;)";
  const auto found = rows(for_duckdb(find_table));
  ASSERT_EQ(found.size(), 1U);
  EXPECT_NE(found.front().find("|tpch|nation"), std::string::npos) << found.front();
}

TEST(PgCompat, OtherQualifiedOperatorsStay) {
  // DuckDB keeps only "pg_catalog" of OPERATOR(pg_catalog.=): it is not taken for a regex match.
  auto out = pg_compat_rewrite("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname OPERATOR(pg_catalog.=) 'x'");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->find("regexp_matches"), std::string::npos) << *out;
}

TEST(PgCompat, CatalogQueriesStayOnDuckDB) {
  // Another engine would describe its own tables, not the lake's: routing leaves it out.
  auto profile = analyze(kDescribe);
  ASSERT_TRUE(profile.ok());
  const auto gaps = portability_gaps(*profile, "postgres");
  EXPECT_NE(std::find(gaps.begin(), gaps.end(), "pg_catalog.pg_class"), gaps.end());
  EXPECT_TRUE(portability_gaps(*profile, "duckdb").empty());
  auto info = analyze("SELECT table_name FROM information_schema.tables");
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(portability_gaps(*info, "trino").empty());
}

TEST(PgCompat, FunctionsOfOtherSchemasStay) {
  auto out = pg_compat_rewrite("SELECT mine.pg_get_userbyid(1), pg_get_userbyid(2) AS owner");
  ASSERT_TRUE(out.ok());
  EXPECT_NE(out->find("mine.pg_get_userbyid(1)"), std::string::npos) << *out;
  EXPECT_NE(out->find("'lakerouter' AS \"owner\""), std::string::npos) << *out;
}

TEST(PgCompat, UnchangedAndErrors) {
  const std::string plain = "select   1  as x";
  auto same = pg_compat_rewrite(plain);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, plain);  // nothing mapped: the text as written
  auto bad = pg_compat_rewrite("SELECT pg_get_userbyid(");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kSyntaxError);
}

}  // namespace
}  // namespace lakerouter::sql
