// Policy (rules.json): parsing, its error messages, and the first-match evaluation Trino uses.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "governance/access_check.h"
#include "governance/policy.h"
#include "governance/policy_store.h"
#include "sql/analyzer.h"

namespace lakerouter::governance {
namespace {

// The three users of the governance acceptance tests: a full reader, one who sees a region's
// rows only, one with masked e-mail addresses and without the phone column.
constexpr std::string_view kRules = R"json({
  "catalogs": [
    {"group": "admins", "allow": "all"},
    {"catalog": "(delta|iceberg|hive|postgresql|tpch)", "allow": "read-only"},
    {"catalog": "system", "allow": "none"}
  ],
  "schemas": [{"group": "admins", "owner": true}, {"owner": false}],
  "tables": [
    {"user": "ana", "privileges": ["SELECT"]},
    {"user": "ben", "catalog": "postgresql", "schema": "public", "table": "users", "privileges": ["SELECT"],
     "filter": "country = 'DE'", "filter_environment": {"user": "lakerouter"}},
    {"user": "cy", "table": "users", "privileges": ["SELECT"],
     "columns": [{"name": "email", "mask": "'***'"}, {"name": "Phone", "allow": false}]},
    {"group": "admins", "privileges": ["SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP"]},
    {"role": "auditor", "privileges": ["SELECT"]},
    {"user": "(ben|cy)", "privileges": ["SELECT"]}
  ],
  "queries": [{"allow": ["execute", "kill", "view"]}],
  "impersonation": []
})json";

Policy rules() {
  auto p = Policy::parse(kRules);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? std::move(*p) : Policy();
}

const std::vector<std::string> kNoGroups;
const std::vector<std::string> kAdmins = {"staff", "admins"};
const TableName kUsers{"postgresql", "public", "users"};
const TableName kLineitem{"delta", "tpch", "lineitem"};

TEST(Policy, TheFirstMatchingTableRuleDecides) {
  const Policy p = rules();
  auto ana = p.table_access({"ana", kNoGroups}, kUsers);
  EXPECT_TRUE(ana.matched && ana.can_select());
  EXPECT_FALSE(ana.governed());
  EXPECT_EQ(ana.rule, 1);

  auto ben = p.table_access({"ben", kNoGroups}, kUsers);
  EXPECT_TRUE(ben.can_select());
  EXPECT_EQ(ben.filter, "country = 'DE'");
  EXPECT_EQ(ben.filter_run_as, "lakerouter");
  auto ben_other = p.table_access({"ben", kNoGroups}, kLineitem);  // the filter is for users only
  EXPECT_TRUE(ben_other.can_select());
  EXPECT_FALSE(ben_other.filter);
  EXPECT_EQ(ben_other.rule, 6);

  auto cy = p.table_access({"cy", kNoGroups}, kUsers);
  ASSERT_EQ(cy.masks.size(), 1u);
  EXPECT_EQ(cy.masks[0].column, "email");
  EXPECT_EQ(cy.masks[0].expression, "'***'");
  EXPECT_EQ(cy.denied_columns, std::vector<std::string>{"phone"});  // names compare in lower case
}

TEST(Policy, NoMatchDeniesAndRolesNeverMatch) {
  const Policy p = rules();
  auto stranger = p.table_access({"eve", kNoGroups}, kUsers);
  EXPECT_FALSE(stranger.matched);
  EXPECT_FALSE(stranger.can_select());
  // Rule 5 names a role: lakerouter has none, so it matches nobody.
  EXPECT_FALSE(p.table_access({"auditor", kNoGroups}, kUsers).matched);
}

TEST(Policy, CatalogRulesLimitWhatTableRulesGrant) {
  const Policy p = rules();
  // Admins: all catalogs, the admin table rule.
  auto admin = p.table_access({"root", kAdmins}, kUsers);
  EXPECT_TRUE(admin.has(Privilege::kInsert));
  EXPECT_TRUE(p.schema_owner({"root", kAdmins}, "delta", "tpch"));
  // Ana's rule grants only SELECT; in a read-only catalog writes are gone for everyone else too.
  EXPECT_EQ(p.catalog_access({"ana", kNoGroups}, "delta"), CatalogAccess::kReadOnly);
  EXPECT_EQ(p.catalog_access({"ana", kNoGroups}, "system"), CatalogAccess::kNone);
  EXPECT_EQ(p.catalog_access({"ana", kNoGroups}, "unlisted"), CatalogAccess::kNone);
  EXPECT_FALSE(p.table_access({"ana", kNoGroups}, TableName{"system", "runtime", "queries"}).matched);
  EXPECT_FALSE(p.schema_owner({"ana", kNoGroups}, "delta", "tpch"));
}

TEST(Policy, AbsentSectionsAllowEverything) {
  const Policy open;
  auto access = open.table_access({"anyone", kNoGroups}, kUsers);
  EXPECT_TRUE(access.matched && access.can_select() && access.has(Privilege::kInsert));
  EXPECT_FALSE(open.governs_tables());
  auto catalogs_only = Policy::parse(R"({"catalogs": [{"catalog": "delta", "allow": "read-only"}]})");
  ASSERT_TRUE(catalogs_only.ok());
  auto lineitem = catalogs_only->table_access({"anyone", kNoGroups}, kLineitem);
  EXPECT_TRUE(lineitem.can_select());
  EXPECT_FALSE(lineitem.has(Privilege::kInsert));
}

TEST(Policy, PatternsMatchWholeNames) {
  auto p = Policy::parse(R"({"tables": [{"user": "an", "table": "user", "privileges": ["SELECT"]}]})");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->table_access({"ana", kNoGroups}, kUsers).matched);
  EXPECT_TRUE(p->table_access({"an", kNoGroups}, TableName{"postgresql", "public", "user"}).matched);
}

// Each mistake is refused with the place it is in; a rules file is never half read.
TEST(Policy, MistakesAreRefusedWithTheirPlace) {
  const auto error = [](std::string_view json) {
    auto p = Policy::parse(json, "etc/rules.json");
    return p.ok() ? std::string("accepted") : p.error().message;
  };
  EXPECT_EQ(error(R"({"tables": [{"user": "a", "privileges": ["SELECT"], "filtr": "x > 1"}]})"),
            "etc/rules.json: tables[0]: unknown key 'filtr'; expected one of user, group, role, catalog, schema, "
            "table, privileges, columns, filter, filter_environment");
  EXPECT_EQ(error(R"({"tables": [{"user": "a"}]})"),
            "etc/rules.json: tables[0]: missing 'privileges' (a list of SELECT, INSERT, DELETE, UPDATE, OWNERSHIP, "
            "GRANT_SELECT; [] denies the table)");
  EXPECT_EQ(error(R"({"tables": [{"privileges": ["SELECT", "READ"]}]})"),
            "etc/rules.json: tables[0].privileges[1]: expected one of SELECT, INSERT, DELETE, UPDATE, OWNERSHIP, "
            "GRANT_SELECT");
  EXPECT_NE(error(R"({"tables": [{"user": "(a", "privileges": []}]})").find("tables[0].user: '(a' is not a valid "
                                                                             "regular expression"),
            std::string::npos);
  EXPECT_EQ(error(R"({"tables": [{"privileges": [], "columns": [{"name": "e", "allow": false, "mask": "'x'"}]}]})"),
            "etc/rules.json: tables[0].columns[0]: a denied column (\"allow\": false) cannot also have a mask");
  EXPECT_EQ(error(R"({"catalogs": [{"allow": "some"}]})"),
            "etc/rules.json: catalogs[0].allow: expected \"all\", \"read-only\" or \"none\"");
  EXPECT_EQ(error(R"({"table": []})"),
            "etc/rules.json: table: unknown section; lakerouter reads catalogs, schemas and tables (Trino's other "
            "sections are accepted and left to Trino)");
  EXPECT_EQ(error("{\"tables\": [\n  {\"privileges\": [\"SELECT\"],}\n]}"),
            "etc/rules.json:2:29: not valid JSON: Missing a name for object member.");
  EXPECT_EQ(error("[]"), "etc/rules.json: the file must hold one JSON object, e.g. {\"tables\": [...]}");
  EXPECT_EQ(error(R"({"tables": [{"privileges": [], "filter_environment": {"user": 1}}]})"),
            "etc/rules.json: tables[0].filter_environment.user: expected a string");
}

// --- Checking statements ---------------------------------------------------------------------------

Status check(const Policy& p, const std::string& user, const std::string& sql, std::vector<routing::TableFacts>& facts) {
  auto profile = sql::analyze(sql);
  EXPECT_TRUE(profile.ok()) << sql;
  facts.clear();
  for (const auto& t : profile->tables) {
    routing::TableFacts f;
    f.name = t.name == "users" ? "public.users" : t.name;
    f.format = f.name == "public.users" ? "postgres" : "delta";
    f.known = true;
    facts.push_back(f);
  }
  Session session;
  session.user = user;
  return check_access(p, session, *profile, facts, PolicyOptions().catalogs);
}

TEST(AccessCheck, ReadsNeedSelectAndGovernedTablesAreMarked) {
  const Policy p = rules();
  std::vector<routing::TableFacts> facts;
  EXPECT_TRUE(check(p, "ana", "SELECT * FROM public.users", facts).ok());
  EXPECT_FALSE(facts[0].governed);
  EXPECT_TRUE(check(p, "ben", "SELECT u.id FROM public.users u JOIN tpch.orders o ON o.o_custkey = u.id", facts).ok());
  EXPECT_TRUE(facts[0].governed);   // ben's row filter on users
  EXPECT_FALSE(facts[1].governed);  // orders: plain SELECT
  auto denied = check(p, "eve", "SELECT 1 FROM tpch.orders", facts);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(denied.error().message, "user 'eve' may not read tpch.orders (no rule of the policy grants access to it)");
}

TEST(AccessCheck, WritesNeedTheirPrivilegeBeforeAnyEngineSeesThem) {
  const Policy p = rules();
  std::vector<routing::TableFacts> facts;
  auto insert = check(p, "ana", "INSERT INTO public.users SELECT * FROM public.users", facts);
  ASSERT_FALSE(insert.ok());
  EXPECT_EQ(insert.error().message,
            "user 'ana' may not write to public.users: the policy does not grant INSERT (table rule 1 of the policy "
            "applies)");
  auto drop = check(p, "ana", "DROP TABLE tpch.orders", facts);
  ASSERT_FALSE(drop.ok());
  EXPECT_NE(drop.error().message.find("may not change tpch.orders: the policy does not grant OWNERSHIP"),
            std::string::npos);
}

TEST(AccessCheck, WhatTheChecksCannotModelIsRefused) {
  const Policy p = rules();
  std::vector<routing::TableFacts> facts;
  const auto refused = [&](const std::string& user, const std::string& sql) {
    auto st = check(p, user, sql, facts);
    return st.ok() ? std::string("allowed") : st.error().message;
  };
  // A write under EXPLAIN ANALYZE needs every write privilege, never a weaker one.
  EXPECT_NE(refused("ana", "EXPLAIN ANALYZE DELETE FROM public.users").find("does not grant INSERT"), std::string::npos);
  // Upserts update rows: INSERT alone is not enough (admins have both).
  auto inserter = Policy::parse(R"({"tables": [{"user": "ins", "privileges": ["SELECT", "INSERT"]}]})");
  ASSERT_TRUE(inserter.ok());
  EXPECT_TRUE(check(*inserter, "ins", "INSERT INTO public.users VALUES (1)", facts).ok());
  auto upsert = check(*inserter, "ins", "INSERT INTO public.users VALUES (1) ON CONFLICT DO NOTHING", facts);
  ASSERT_FALSE(upsert.ok());
  EXPECT_NE(upsert.error().message.find("does not grant UPDATE"), std::string::npos) << upsert.error().message;
  EXPECT_EQ(refused("ana", "ATTACH 'x.db' AS x"), "ATTACH statements are not allowed while an access policy is in force");
  EXPECT_EQ(refused("ana", "SET threads = 1"), "SET statements are not allowed while an access policy is in force");
  EXPECT_NE(refused("ana", "SELECT * FROM read_parquet('/etc/passwd')").find("the table function read_parquet()"),
            std::string::npos);
  EXPECT_NE(refused("ana", "SELECT * FROM query_table('tpch.orders')").find("query_table()"), std::string::npos);
  EXPECT_EQ(refused("ana", "SELECT * FROM range(3)"), "allowed");
  EXPECT_NE(refused("ana", "DROP SCHEMA tpch CASCADE").find("cannot tell which table this DROP statement changes"),
            std::string::npos);
  // Unknown (or ambiguous) names: the policy cannot be asked about them.
  auto profile = sql::analyze("SELECT * FROM mystery");
  ASSERT_TRUE(profile.ok());
  std::vector<routing::TableFacts> unknown(1);
  unknown[0].name = "mystery";
  Session session;
  session.user = "ana";
  auto st = check_access(p, session, *profile, unknown, PolicyOptions().catalogs);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("'mystery' is not a table lakerouter knows"), std::string::npos);
  // Names from client SQL are bounded before any regular expression sees them.
  EXPECT_FALSE(p.table_access({"ana", kNoGroups}, TableName{"delta", "tpch", std::string(100000, 'x')}).matched);
}

// --- Reloading ---------------------------------------------------------------------------------

class PolicyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("lakerouter_policy_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(dir_);
    file_ = dir_ / "rules.json";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(std::string_view text) {
    std::ofstream(file_, std::ios::trunc) << text;
    // A new modification time even on file systems with coarse timestamps.
    std::filesystem::last_write_time(file_, std::filesystem::last_write_time(file_) + std::chrono::seconds(++edits_));
  }
  std::filesystem::path dir_;
  std::filesystem::path file_;
  int edits_ = 0;
};

TEST_F(PolicyFile, AChangedFileTakesEffectAndABadOneIsRefused) {
  write(R"({"tables": [{"user": "ana", "privileges": ["SELECT"]}]})");
  auto store = PolicyStore::open(PolicyOptions{file_, std::chrono::milliseconds(0)});
  ASSERT_TRUE(store.ok()) << store.error().message;
  PolicyStore& s = **store;
  EXPECT_EQ(s.version(), 1);
  EXPECT_FALSE(s.reload_if_changed());  // unchanged
  EXPECT_FALSE(s.current()->table_access({"ben", kNoGroups}, kUsers).matched);

  write(R"json({"tables": [{"user": "(ana|ben)", "privileges": ["SELECT"]}]})json");
  EXPECT_TRUE(s.reload_if_changed());
  EXPECT_EQ(s.version(), 2);
  EXPECT_TRUE(s.current()->table_access({"ben", kNoGroups}, kUsers).matched);

  write(R"json({"tables": [{"user": "(ana|ben)", "privileges": ["SELEKT"]}]})json");
  EXPECT_FALSE(s.reload_if_changed());
  ASSERT_TRUE(s.last_error());
  EXPECT_NE(s.last_error()->find("tables[0].privileges[0]"), std::string::npos) << *s.last_error();
  EXPECT_EQ(s.version(), 2);  // the previous policy stays in force
  EXPECT_TRUE(s.current()->table_access({"ben", kNoGroups}, kUsers).matched);

  std::filesystem::remove(file_);
  EXPECT_FALSE(s.reload_if_changed());
  EXPECT_NE(s.last_error()->find("the policy file is gone"), std::string::npos);
  EXPECT_TRUE(s.current()->table_access({"ben", kNoGroups}, kUsers).matched);
}

TEST_F(PolicyFile, AnInvalidFileStopsTheStart) {
  write(R"({"tables": [{"user": "ana"}]})");
  auto store = PolicyStore::open(PolicyOptions{file_, std::chrono::milliseconds(0)});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("missing 'privileges'"), std::string::npos);
  auto none = PolicyStore::open(PolicyOptions{});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE((*none)->enabled());
}

}  // namespace
}  // namespace lakerouter::governance
