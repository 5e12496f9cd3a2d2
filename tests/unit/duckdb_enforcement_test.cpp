// governance::enforce_on_duckdb() and check_lockdown(): each rewritten query is run on a DuckDB
// database holding a small customers table, and the test asserts on the rows that come back.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "duckdb.hpp"
#include "governance/duckdb_enforcement.h"
#include "governance/lockdown.h"
#include "sql/analyzer.h"

namespace lakerouter::governance {
namespace {

class Enforcement : public ::testing::Test {
 protected:
  void SetUp() override {
    conn_.Query(R"sql(
      CREATE SCHEMA crm;
      CREATE TABLE crm.customers AS SELECT * FROM (VALUES
        (1, 'Ann', 'ann@example.com', 'EUROPE', 10.0),
        (2, 'Bob', 'bob@example.com', 'ASIA', 20.0),
        (3, 'Cid', 'cid@example.com', 'EUROPE', 30.0),
        (4, 'Dee', 'dee@example.com', 'AMERICA', 40.0)) t(id, name, email, region, balance);
      CREATE TABLE crm.orders AS SELECT * FROM (VALUES (1, 1, 5.0), (2, 2, 6.0), (3, 4, 7.0)) t(id, customer_id, total);
    )sql");
    GovernedTable customers{"crm", "customers", {}};
    customers.access.matched = true;
    customers.access.filter = "region = 'EUROPE'";
    customers.access.masks.push_back({"email", "'***'", std::nullopt});
    customers.access.denied_columns.push_back("balance");
    tables_.push_back(customers);
  }

  // The rows of `sql` as enforced for `user`, one string per row ("a|b|c"), or "error: ...".
  std::vector<std::string> rows(const std::string& sql, const std::string& user = "eve") {
    auto enforced = enforce_on_duckdb(sql, tables_, user);
    if (!enforced.ok()) return {"refused: " + enforced.error().message};
    auto result = conn_.Query(*enforced);
    if (result->HasError()) return {"error: " + result->GetError()};
    std::vector<std::string> out;
    for (size_t r = 0; r < result->RowCount(); ++r) {
      std::string row;
      for (size_t c = 0; c < result->ColumnCount(); ++c) {
        if (c) row += '|';
        row += result->GetValue(c, r).ToString();
      }
      out.push_back(row);
    }
    return out;
  }

  duckdb::DuckDB db_{nullptr};
  duckdb::Connection conn_{db_};
  std::vector<GovernedTable> tables_;
};

using Rows = std::vector<std::string>;

TEST_F(Enforcement, FilterMaskAndHiddenColumnApplyEverywhere) {
  EXPECT_EQ(rows("SELECT * FROM crm.customers ORDER BY id"), (Rows{"1|Ann|***|EUROPE", "3|Cid|***|EUROPE"}));
  EXPECT_EQ(rows("SELECT count(*) FROM crm.customers"), (Rows{"2"}));
  EXPECT_EQ(rows("SELECT email FROM customers c WHERE c.id = 3"), (Rows{"***"}));
  EXPECT_EQ(rows("SELECT id FROM crm.customers WHERE region = 'ASIA'"), Rows{});
  // Through aliases, CTEs, subqueries, set operations and joins.
  EXPECT_EQ(rows("WITH c AS (SELECT * FROM crm.customers) SELECT count(*) FROM c"), (Rows{"2"}));
  EXPECT_EQ(rows("SELECT (SELECT max(email) FROM crm.customers) AS m"), (Rows{"***"}));
  EXPECT_EQ(rows("SELECT id FROM crm.customers UNION ALL SELECT id FROM crm.customers ORDER BY 1"),
            (Rows{"1", "1", "3", "3"}));
  EXPECT_EQ(rows("SELECT o.id FROM crm.orders o JOIN crm.customers c ON c.id = o.customer_id ORDER BY 1"), (Rows{"1"}));
  EXPECT_EQ(rows("SELECT id FROM crm.orders WHERE customer_id IN (SELECT id FROM crm.customers) ORDER BY 1"),
            (Rows{"1"}));
  EXPECT_EQ(rows("SELECT o.id FROM crm.orders o WHERE EXISTS (SELECT 1 FROM crm.customers c WHERE c.id = "
                 "o.customer_id AND c.region = 'ASIA')"),
            Rows{});
}

TEST_F(Enforcement, HiddenColumnCannotBeReached) {
  for (const char* sql : {"SELECT balance FROM crm.customers", "SELECT c.balance FROM crm.customers c",
                          "SELECT sum(balance) OVER () FROM crm.customers",
                          "WITH x AS (SELECT * FROM crm.customers) SELECT balance FROM x"}) {
    const Rows got = rows(sql);
    ASSERT_EQ(got.size(), 1U) << sql;
    EXPECT_TRUE(got[0].starts_with("error: ") && got[0].find("balance") != std::string::npos) << sql << ": " << got[0];
  }
  EXPECT_EQ(rows("SELECT COLUMNS('.*') FROM crm.customers WHERE id = 1"), (Rows{"1|Ann|***|EUROPE"}));
  EXPECT_EQ(rows("SELECT * EXCLUDE (name) FROM crm.customers WHERE id = 1"), (Rows{"1|***|EUROPE"}));
  EXPECT_EQ(rows("SELECT * REPLACE (upper(email) AS email) FROM crm.customers WHERE id = 1"),
            (Rows{"1|Ann|***|EUROPE"}));
  EXPECT_EQ(rows("SELECT customers FROM crm.customers WHERE id = 1"),
            (Rows{"{'id': 1, 'name': Ann, 'email': ***, 'region': EUROPE}"}));
  EXPECT_EQ(rows("SELECT column_name FROM (DESCRIBE crm.customers)"), (Rows{"id", "name", "email", "region"}));
  const Rows summary = rows("SELECT max(max) FROM (SUMMARIZE crm.customers) WHERE column_name = 'email'");
  EXPECT_EQ(summary, (Rows{"***"}));
  EXPECT_EQ(rows("SELECT count(*) FROM (SUMMARIZE crm.customers) WHERE column_name = 'balance'"), (Rows{"0"}));
}

TEST_F(Enforcement, CteNamesShadowOnlyWhereTheyAreInScope) {
  // A CTE named like the table is the CTE; the table inside it is still governed.
  EXPECT_EQ(rows("WITH customers AS (SELECT * FROM crm.customers) SELECT count(*) FROM customers"), (Rows{"2"}));
  EXPECT_EQ(rows("WITH customers AS (SELECT 42 AS id) SELECT id FROM customers"), (Rows{"42"}));
  // Outside the CTE's scope the name is the table again.
  EXPECT_EQ(rows("SELECT (WITH customers AS (SELECT 1 AS n) SELECT n FROM customers) AS a, "
                 "(SELECT count(*) FROM customers) AS b"),
            (Rows{"1|2"}));
  EXPECT_EQ(rows("WITH RECURSIVE customers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM customers WHERE n < 3) "
                 "SELECT count(*) FROM customers"),
            (Rows{"3"}));
}

TEST_F(Enforcement, CurrentUserInPoliciesIsTheSessionUser) {
  tables_[0].access.filter = "name = current_user";
  EXPECT_EQ(rows("SELECT id FROM crm.customers", "Bob"), (Rows{"2"}));
  EXPECT_EQ(rows("SELECT id FROM crm.customers", "Bob' OR '1'='1"), Rows{});
}

TEST_F(Enforcement, RefusesWhatItCannotMakeSafe) {
  EXPECT_EQ(rows("INSERT INTO crm.orders SELECT id, id, 0 FROM crm.customers")[0],
            "refused: DuckDB applies row filters and column masks to queries only; this statement reads a table "
            "with policies for this user");
  tables_[0].access.filter = "region = ";
  EXPECT_TRUE(rows("SELECT 1 FROM crm.customers")[0].starts_with(
      "refused: the row filter of crm.customers in the access policy is not a DuckDB expression"));
}

TEST_F(Enforcement, UngovernedStatementsAreUnchangedInMeaning) {
  EXPECT_EQ(rows("SELECT count(*) FROM crm.orders"), (Rows{"3"}));
  EXPECT_EQ(rows("SELECT $$it's$$ AS s"), (Rows{"it's"}));
}

TEST(WithholdDetails, KeepsStatementErrorsAndHidesValueErrors) {
  const Error bind = withhold_details(Error(ErrorCode::kBindError, "column x not found", 7));
  EXPECT_EQ(bind.message, "column x not found");
  EXPECT_FALSE(bind.position);
  const Error conversion = withhold_details(Error(ErrorCode::kConversionError, "Could not convert 'Bob' to INT32"));
  EXPECT_EQ(conversion.code, ErrorCode::kConversionError);
  EXPECT_EQ(conversion.message.find("Bob"), std::string::npos);
}

std::string lockdown(const std::string& sql, bool allow_scripts = false) {
  auto profile = sql::analyze_script(sql);
  if (!profile.ok()) return "syntax: " + profile.error().message;
  const Status s = check_lockdown(*profile, LockdownOptions{.allow_scripts = allow_scripts});
  return s.ok() ? "ok" : s.error().message;
}

TEST(Lockdown, RefusesFilesSettingsExtensionsAndSystemFunctions) {
  EXPECT_EQ(lockdown("SELECT * FROM crm.customers"), "ok");
  EXPECT_EQ(lockdown("SELECT * FROM range(3) r, unnest([1, 2])"), "ok");
  for (const char* sql :
       {"SELECT * FROM read_parquet('/etc/passwd')", "SELECT * FROM read_csv_auto('/etc/passwd')",
        "SELECT * FROM '/etc/passwd'", "SELECT * FROM 'data.csv'", "SELECT * FROM \"s3://bucket/x.parquet\"",
        "SELECT * FROM glob('/*')", "SELECT * FROM duckdb_settings()", "SELECT * FROM duckdb_tables()",
        "SELECT * FROM query('SELECT 1')", "SELECT current_setting('allowed_directories')", "ATTACH 'x.db' AS x",
        "INSTALL httpfs", "LOAD httpfs", "PRAGMA version", "SET threads = 1", "CALL dbgen(sf = 1)",
        "SELECT 1; SELECT 2", "CHECKPOINT"}) {
    EXPECT_NE(lockdown(sql), "ok") << sql;
  }
  EXPECT_EQ(lockdown("SELECT 1; SELECT 2", /*allow_scripts=*/true), "ok");
}

}  // namespace
}  // namespace lakerouter::governance
