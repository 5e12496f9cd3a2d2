// SQL analysis cases, one line each: the SQL and the profile fields it must have. Only the fields
// a case names are checked; see summarize() for the keys and their formats.
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "sql/analyzer.h"
#include "sql/profile_cache.h"
#include "sql/dialect.h"
#include "sql/portability.h"
#include "sql/explain_route.h"

namespace lakerouter::sql {
namespace {

std::string join(const std::vector<std::string>& items, const char* sep = ",") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out.empty() ? "-" : out;
}

std::string no_spaces(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = c == ' ' ? '_' : c;
  return out;
}

// Every field of a profile in a compact text form, keyed by name.
std::map<std::string, std::string> summarize(const QueryProfile& p) {
  std::map<std::string, std::string> m;
  m["kind"] = statement_kind_name(p.kind);
  std::vector<std::string> tables, preds;
  for (const auto& t : p.tables) {
    tables.push_back(t.name + "(" + (t.read ? "r" : "") + (t.written ? "w" : "") + ")");
    for (const auto& pr : t.predicates) {
      preds.push_back(t.name + ":" + pr.column + ":" + no_spaces(predicate_op_name(pr.op)) + ":" +
                      join(pr.values, "|"));
    }
  }
  m["tables"] = join(tables);
  std::vector<std::string> refs;
  for (const auto& t : p.tables) refs.push_back(t.name + ":" + std::to_string(t.references));
  m["refs"] = join(refs);
  m["preds"] = join(preds, ";");
  m["ctes"] = join(p.ctes);
  m["joins"] = std::to_string(p.join_count);
  std::vector<std::string> jt;
  for (auto t : p.join_types) jt.emplace_back(join_type_name(t));
  m["jtypes"] = join(jt);
  m["aggs"] = std::to_string(p.aggregate_count);
  m["group"] = p.has_group_by ? "1" : "0";
  m["distinct"] = p.has_distinct ? "1" : "0";
  m["windows"] = std::to_string(p.window_count);
  m["setops"] = std::to_string(p.set_operation_count);
  m["subq"] = std::to_string(p.subquery_count);
  m["depth"] = std::to_string(p.max_subquery_depth);
  m["order"] = p.has_order_by ? "1" : "0";
  m["limit"] = p.limit ? std::to_string(*p.limit) : "-";
  m["offset"] = p.offset ? std::to_string(*p.offset) : "-";
  m["funcs"] = join(p.functions);
  m["tfuncs"] = join(p.table_functions);
  m["literals"] = std::to_string(p.literal_count);
  m["params"] = std::to_string(p.parameter_count);
  m["hint"] = p.engine_hint.value_or("-");
  m["readonly"] = p.is_read_only() ? "1" : "0";
  std::ostringstream c;
  c << p.complexity;
  m["complexity"] = c.str();
  return m;
}

struct Case {
  const char* sql;
  const char* expect;  // "key=value key=value ..."
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.sql; }

class Analysis : public ::testing::TestWithParam<Case> {};

TEST_P(Analysis, ProfileHasTheExpectedFields) {
  const Case& c = GetParam();
  auto profile = analyze(c.sql);
  ASSERT_TRUE(profile.ok()) << profile.error().message;
  const auto got = summarize(*profile);
  std::istringstream expect(c.expect);
  std::string pair;
  while (expect >> pair) {
    const auto eq = pair.find('=');
    ASSERT_NE(eq, std::string::npos) << "bad expectation " << pair;
    const std::string key = pair.substr(0, eq);
    ASSERT_TRUE(got.count(key)) << "unknown key " << key;
    EXPECT_EQ(got.at(key), pair.substr(eq + 1)) << "field " << key << " of: " << c.sql;
  }
}

const Case kCases[] = {
    // --- statement kinds ---
    {"SELECT 1", "kind=SELECT tables=- literals=1 readonly=1"},
    {"FROM tpch.nation", "kind=SELECT tables=tpch.nation(r)"},
    {"VALUES (1), (2)", "kind=SELECT literals=2"},
    {"INSERT INTO sales.orders VALUES (1, 'a')", "kind=INSERT tables=sales.orders(w) literals=2 readonly=0"},
    {"INSERT INTO t SELECT * FROM s", "kind=INSERT tables=t(w),s(r)"},
    {"INSERT INTO t (a, b) SELECT x, y FROM s WHERE z = 1", "tables=t(w),s(r) preds=s:z:=:1"},
    {"UPDATE t SET a = 1 WHERE id = 5", "kind=UPDATE tables=t(w) preds=t:id:=:5"},
    {"UPDATE t SET a = s.a FROM s WHERE t.id = s.id", "kind=UPDATE tables=t(w),s(r)"},
    {"DELETE FROM t WHERE id IN (1, 2)", "kind=DELETE tables=t(w) preds=t:id:IN:1|2"},
    {"DELETE FROM t USING s WHERE t.id = s.id", "kind=DELETE tables=t(w),s(r)"},
    {"MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a", "kind=MERGE tables=t(w),s(r)"},
    {"CREATE TABLE t AS SELECT * FROM s", "kind=CREATE tables=t(w),s(r)"},
    {"CREATE TABLE t (a INT)", "kind=CREATE tables=t(w)"},
    {"CREATE VIEW v AS SELECT * FROM s", "kind=CREATE tables=s(r)"},
    {"DROP TABLE t", "kind=DROP"},
    {"ALTER TABLE t ADD COLUMN b INT", "kind=ALTER"},
    {"COPY t TO 'out.csv'", "kind=COPY tables=t(r)"},
    {"COPY t FROM 'in.csv'", "kind=COPY tables=t(w)"},
    {"COPY (SELECT * FROM s WHERE a = 1) TO 'out.parquet'", "kind=COPY tables=s(r) preds=s:a:=:1"},
    {"SET threads = 4", "kind=SET tables=-"},
    {"EXPLAIN SELECT * FROM tpch.orders", "kind=EXPLAIN tables=tpch.orders(r) readonly=1"},
    {"EXPLAIN ANALYZE SELECT count(*) FROM t", "kind=EXPLAIN tables=t(r) aggs=1"},
    {"BEGIN TRANSACTION", "kind=TRANSACTION"},
    {"PRAGMA table_info('t')", "kind=PRAGMA"},
    {"CALL dbgen(sf = 1)", "kind=CALL"},
    {"ATTACH 'x.db' AS x", "kind=ATTACH"},
    {"LOAD delta", "kind=LOAD"},
    // --- tables, schemas, aliases, quoting ---
    {"SELECT * FROM tpch.lineitem", "tables=tpch.lineitem(r) joins=0"},
    {"SELECT * FROM TPCH.LineItem", "tables=tpch.lineitem(r)"},
    {"SELECT * FROM \"tpch\".\"lineitem\"", "tables=tpch.lineitem(r)"},
    {"SELECT * FROM \"Weird-Name\"", "tables=weird-name(r)"},
    {"SELECT * FROM lake.tpch.orders", "tables=tpch.orders(r)"},
    {"SELECT * FROM tpch.orders o", "tables=tpch.orders(r)"},
    {"SELECT * FROM tpch.orders AS o WHERE o.o_orderkey = 7", "preds=tpch.orders:o_orderkey:=:7"},
    {"SELECT * FROM tpch.orders o, tpch.orders o2", "tables=tpch.orders(r) joins=1 jtypes=CROSS"},
    {"SELECT * FROM a, b, c", "tables=a(r),b(r),c(r) joins=2"},
    {"SELECT 1 FROM a WHERE EXISTS (SELECT 1 FROM b)", "tables=a(r),b(r) subq=1 depth=1"},
    // --- CTEs ---
    {"WITH x AS (SELECT * FROM t) SELECT * FROM x", "tables=t(r) ctes=x complexity=1.5"},
    {"WITH lineitem AS (SELECT 1 AS a) SELECT * FROM lineitem", "tables=- ctes=lineitem"},
    {"WITH lineitem AS (SELECT * FROM tpch.orders) SELECT * FROM tpch.lineitem", "tables=tpch.orders(r),tpch.lineitem(r)"},
    {"WITH a AS (SELECT * FROM t1), b AS (SELECT * FROM a JOIN t2 USING (id)) SELECT * FROM b", "tables=t1(r),t2(r) ctes=a,b joins=1"},
    {"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r", "tables=- setops=1"},
    {"WITH x AS (SELECT 1) SELECT * FROM (WITH y AS (SELECT 2) SELECT * FROM y, x)", "tables=- ctes=x,y subq=1"},
    {"WITH x AS MATERIALIZED (SELECT * FROM t) SELECT * FROM x", "tables=t(r) ctes=x"},
    {"WITH x AS (SELECT * FROM t) INSERT INTO u SELECT * FROM x", "kind=INSERT tables=u(w),t(r)"},
    {"WITH t AS (SELECT 1) SELECT * FROM main.t", "tables=main.t(r)"},
    // --- joins ---
    {"SELECT * FROM a JOIN b ON a.id = b.id", "joins=1 jtypes=INNER tables=a(r),b(r)"},
    {"SELECT * FROM a INNER JOIN b USING (id)", "joins=1 jtypes=INNER"},
    {"SELECT * FROM a LEFT JOIN b ON a.id = b.id", "jtypes=LEFT"},
    {"SELECT * FROM a LEFT OUTER JOIN b ON a.id = b.id", "jtypes=LEFT"},
    {"SELECT * FROM a RIGHT JOIN b ON a.id = b.id", "jtypes=RIGHT"},
    {"SELECT * FROM a FULL OUTER JOIN b ON a.id = b.id", "jtypes=FULL"},
    {"SELECT * FROM a CROSS JOIN b", "jtypes=CROSS"},
    {"SELECT * FROM a SEMI JOIN b ON a.id = b.id", "jtypes=SEMI"},
    {"SELECT * FROM a ANTI JOIN b ON a.id = b.id", "jtypes=ANTI"},
    {"SELECT * FROM a ASOF JOIN b ON a.id = b.id AND a.t >= b.t", "jtypes=ASOF"},
    {"SELECT * FROM a POSITIONAL JOIN b", "jtypes=POSITIONAL"},
    {"SELECT * FROM a NATURAL JOIN b", "joins=1 jtypes=INNER"},
    {"SELECT * FROM a JOIN b ON a.id = b.id JOIN c ON b.id = c.id LEFT JOIN d ON c.id = d.id",
     "joins=3 jtypes=INNER,INNER,LEFT tables=a(r),b(r),c(r),d(r)"},
    {"SELECT * FROM a JOIN b ON a.id = b.id AND b.kind = 'x'", "preds=b:kind:=:x"},
    {"SELECT * FROM a JOIN (SELECT * FROM b) s ON a.id = s.id", "joins=1 subq=1 tables=a(r),b(r)"},
    {"SELECT * FROM a JOIN a AS a2 ON a.parent = a2.id", "joins=1 tables=a(r)"},
    // --- aggregates, grouping, distinct ---
    {"SELECT count(*) FROM t", "aggs=1 funcs=count_star group=0"},
    {"SELECT count(x) FROM t", "aggs=1 funcs=count"},
    {"SELECT sum(a), avg(b), min(c), max(d) FROM t", "aggs=4 funcs=avg,max,min,sum"},
    {"SELECT a, sum(b) FROM t GROUP BY a", "aggs=1 group=1"},
    {"SELECT a, sum(b) FROM t GROUP BY ALL", "group=1"},
    {"SELECT a, b, count(*) FROM t GROUP BY ROLLUP (a, b)", "group=1 aggs=1"},
    {"SELECT a, count(*) FROM t GROUP BY a HAVING count(*) > 1", "aggs=2"},
    {"SELECT count(DISTINCT a) FROM t", "aggs=1 distinct=1"},
    {"SELECT DISTINCT a FROM t", "distinct=1 aggs=0"},
    {"SELECT DISTINCT ON (a) a, b FROM t", "distinct=1"},
    {"SELECT string_agg(a, ',') FROM t", "aggs=1 funcs=string_agg"},
    {"SELECT list(a), array_agg(b) FROM t", "aggs=2"},
    {"SELECT median(a), quantile_cont(a, 0.5) FROM t", "aggs=2"},
    {"SELECT approx_count_distinct(a) FROM t", "aggs=1"},
    {"SELECT sum(a) FILTER (WHERE b > 0) FROM t", "aggs=1"},
    {"SELECT upper(a), lower(b), length(c) FROM t", "aggs=0 funcs=length,lower,upper"},
    {"SELECT coalesce(a, 0) + abs(b) FROM t", "funcs=abs"},  // COALESCE is an operator
    {"SELECT a FROM t GROUP BY a ORDER BY a", "group=1 order=1 aggs=0"},
    // --- windows ---
    {"SELECT row_number() OVER (ORDER BY a) FROM t", "windows=1 funcs=row_number aggs=0"},
    {"SELECT sum(a) OVER (PARTITION BY b) FROM t", "windows=1 aggs=0 funcs=sum"},
    {"SELECT rank() OVER w, dense_rank() OVER w FROM t WINDOW w AS (ORDER BY a)", "windows=2"},
    {"SELECT lag(a) OVER (ORDER BY b), lead(a, 2) OVER (ORDER BY b) FROM t", "windows=2 funcs=lag,lead"},
    {"SELECT a FROM t QUALIFY row_number() OVER (PARTITION BY b ORDER BY c) = 1", "windows=1"},
    {"SELECT avg(a) OVER (ORDER BY b ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM t", "windows=1"},
    {"SELECT b, sum(a), sum(sum(a)) OVER () FROM t GROUP BY b", "windows=1 aggs=2 group=1"},
    // --- set operations ---
    {"SELECT a FROM t UNION ALL SELECT a FROM u", "setops=1 tables=t(r),u(r) distinct=0"},
    {"SELECT a FROM t UNION SELECT a FROM u", "setops=1 distinct=1"},
    {"SELECT a FROM t INTERSECT SELECT a FROM u", "setops=1"},
    {"SELECT a FROM t EXCEPT SELECT a FROM u", "setops=1"},
    {"SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3", "setops=2 literals=3"},
    {"(SELECT a FROM t ORDER BY a LIMIT 1) UNION ALL (SELECT a FROM u)", "setops=1"},
    {"SELECT * FROM t UNION ALL BY NAME SELECT * FROM u", "setops=1"},
    {"SELECT * FROM (SELECT a FROM t UNION SELECT a FROM u) s", "setops=1 subq=1 depth=1"},
    // --- subqueries ---
    {"SELECT * FROM (SELECT * FROM t) s", "subq=1 depth=1 tables=t(r)"},
    {"SELECT * FROM (SELECT * FROM (SELECT * FROM t) s1) s2", "subq=2 depth=2"},
    {"SELECT * FROM t WHERE a IN (SELECT a FROM u)", "subq=1 depth=1 tables=t(r),u(r)"},
    {"SELECT * FROM t WHERE a > (SELECT avg(a) FROM u)", "subq=1 aggs=1"},
    {"SELECT (SELECT max(b) FROM u WHERE u.id = t.id) FROM t", "subq=1 depth=1 tables=t(r),u(r)"},
    {"SELECT * FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.id = t.id)", "subq=1"},
    {"SELECT * FROM t WHERE a IN (SELECT a FROM u WHERE b IN (SELECT b FROM v))", "subq=2 depth=2 tables=t(r),u(r),v(r)"},
    {"SELECT * FROM t WHERE a = ANY (SELECT a FROM u)", "subq=1"},
    {"DELETE FROM t WHERE id IN (SELECT id FROM u WHERE flag)", "kind=DELETE tables=t(w),u(r) subq=1"},
    {"UPDATE t SET a = (SELECT max(a) FROM u) WHERE b = 2", "tables=t(w),u(r) subq=1 aggs=1"},
    {"INSERT INTO t SELECT * FROM u WHERE a IN (SELECT a FROM v)", "tables=t(w),u(r),v(r) subq=1"},
    // --- ORDER BY, LIMIT, OFFSET ---
    {"SELECT * FROM t ORDER BY a DESC", "order=1 limit=- offset=-"},
    {"SELECT * FROM t LIMIT 10", "limit=10 order=0"},
    {"SELECT * FROM t ORDER BY a LIMIT 10 OFFSET 20", "order=1 limit=10 offset=20"},
    {"SELECT * FROM t LIMIT ?", "limit=- params=1"},
    {"SELECT * FROM (SELECT * FROM t LIMIT 5) s", "limit=-"},
    {"SELECT * FROM t LIMIT 10%", "limit=-"},
    // --- predicates ---
    {"SELECT * FROM t WHERE id = 42", "preds=t:id:=:42"},
    {"SELECT * FROM t WHERE 42 = id", "preds=t:id:=:42"},
    {"SELECT * FROM t WHERE id = ?", "preds=t:id:=:- params=1"},
    {"SELECT * FROM t WHERE id = $1", "preds=t:id:=:- params=1"},
    {"SELECT * FROM t WHERE a = 1 AND b > 2 AND c <= 3", "preds=t:a:=:1;t:b:>:2;t:c:<=:3"},
    {"SELECT * FROM t WHERE 5 < a", "preds=t:a:>:5"},
    {"SELECT * FROM t WHERE a <> 1", "preds=t:a:<>:1"},
    {"SELECT * FROM t WHERE a != 1", "preds=t:a:<>:1"},
    {"SELECT * FROM t WHERE a BETWEEN 1 AND 10", "preds=t:a:BETWEEN:1|10"},
    {"SELECT * FROM t WHERE d >= DATE '1995-01-01' AND d < DATE '1996-01-01'", "preds=t:d:>=:1995-01-01;t:d:<:1996-01-01"},
    {"SELECT * FROM t WHERE name LIKE 'ab%'", "preds=t:name:LIKE:ab%"},
    {"SELECT * FROM t WHERE a IN (1, 2, 3)", "preds=t:a:IN:1|2|3"},
    {"SELECT * FROM t WHERE a IN ('x', 'y')", "preds=t:a:IN:x|y"},
    {"SELECT * FROM t WHERE a IS NULL", "preds=t:a:IS_NULL:-"},
    {"SELECT * FROM t WHERE a IS NOT NULL", "preds=t:a:IS_NOT_NULL:-"},
    {"SELECT * FROM t WHERE a IN (1, ?, 3)", "preds=t:a:IN:- params=1"},  // values known only at execution
    {"SELECT * FROM t WHERE a BETWEEN ? AND 10", "preds=t:a:BETWEEN:- params=1"},
    {"SELECT * FROM t WHERE a = NULL", "preds=t:a:=:-"},
    {"SELECT * FROM t WHERE a IS NOT DISTINCT FROM 5", "preds=t:a:=:5"},
    {"SELECT * FROM t WHERE a IS DISTINCT FROM 5", "preds=-"},  // true for NULLs: not a <> b
    // --- references: a table named twice may be filtered differently each time ---
    {"SELECT * FROM t a JOIN t b ON a.id = b.id WHERE a.x = 1", "refs=t:2 preds=t:x:=:1"},
    {"SELECT * FROM t WHERE a IN (SELECT a FROM t WHERE b = 2)", "refs=t:2"},
    {"WITH c AS (SELECT * FROM t) SELECT * FROM c x JOIN c y ON x.a = y.a", "refs=t:1"},
    {"SELECT * FROM t JOIN u ON t.id = u.id", "refs=t:1,u:1"},
    {"SELECT * FROM t WHERE a = 1 OR b = 2", "preds=-"},
    {"SELECT * FROM t WHERE a + 1 = 2", "preds=-"},
    {"SELECT * FROM t WHERE a = b", "preds=-"},
    {"SELECT * FROM t WHERE ID = 3", "preds=t:id:=:3"},
    {"SELECT * FROM t JOIN u ON t.id = u.id WHERE t.a = 1 AND u.b = 2", "preds=t:a:=:1;u:b:=:2"},
    {"SELECT * FROM t JOIN u ON t.id = u.id WHERE a = 1", "preds=-"},
    {"SELECT * FROM t WHERE t.a = 1 AND (t.b = 2 AND t.c = 3)", "preds=t:a:=:1;t:b:=:2;t:c:=:3"},
    {"SELECT * FROM tpch.orders WHERE tpch.orders.o_orderkey = 1", "preds=tpch.orders:o_orderkey:=:1"},
    {"SELECT * FROM t WHERE a = 'it''s'", "preds=t:a:=:it's"},
    {"SELECT * FROM t WHERE a = -5", "literals=1"},
    {"UPDATE t SET a = 1 WHERE t.id = 9 AND t.v = 'x'", "preds=t:id:=:9;t:v:=:x"},
    // --- functions and table functions ---
    {"SELECT * FROM read_parquet('x.parquet')", "tfuncs=read_parquet tables=-"},
    {"SELECT * FROM range(10)", "tfuncs=range"},
    {"SELECT * FROM delta_scan('/lake/t') WHERE a = 1", "tfuncs=delta_scan"},
    {"SELECT * FROM read_csv('a.csv') JOIN t USING (id)", "tfuncs=read_csv tables=t(r) joins=1"},
    {"SELECT * FROM generate_series(1, 3) g(x)", "tfuncs=generate_series"},
    {"SELECT * FROM duckdb_tables()", "tfuncs=duckdb_tables"},
    {"SELECT date_trunc('month', d), extract(year FROM d) FROM t", "funcs=date_part,date_trunc"},
    {"SELECT CASE WHEN a > 1 THEN 'x' ELSE 'y' END FROM t", "literals=3 funcs=-"},
    {"SELECT CAST(a AS INT), a::VARCHAR FROM t", "funcs=-"},
    {"SELECT list_transform([1, 2], x -> x + 1)", "funcs=list_transform,list_value"},
    {"SELECT * FROM t WHERE regexp_matches(a, '^x')", "funcs=regexp_matches"},
    // --- literals and parameters ---
    {"SELECT 1, 'a', 2.5, TRUE, NULL", "literals=5"},
    {"SELECT ?, ?, ?", "params=3 literals=0"},
    {"SELECT * FROM t WHERE a = $1 AND b = $2", "params=2"},
    {"SELECT * FROM t WHERE a IN (?, ?)", "params=2 preds=t:a:IN:-"},
    {"SELECT * FROM t LIMIT 5", "literals=1 limit=5"},
    // --- comments and hints ---
    {"/*+ engine(trino) */ SELECT * FROM t", "hint=trino tables=t(r)"},
    {"SELECT /*+ engine(duckdb) */ * FROM t", "hint=duckdb"},
    {"SELECT * FROM t /*+ ENGINE( PostgreSQL ) */", "hint=postgresql"},
    {"--+ engine(trino)\nSELECT 1", "hint=trino"},
    {"/* engine(trino) */ SELECT 1", "hint=-"},
    {"-- engine(trino)\nSELECT 1", "hint=-"},
    {"SELECT '/*+ engine(trino) */'", "hint=- literals=1"},
    {"SELECT 1 -- trailing comment", "literals=1 hint=-"},
    {"/* leading */ SELECT /* inner */ a FROM /* here */ t", "tables=t(r)"},
    // --- complexity ---
    {"SELECT * FROM t WHERE id = 1", "complexity=0.5"},
    {"SELECT a, count(*) FROM t GROUP BY a ORDER BY 2 DESC", "complexity=3"},
    {"SELECT * FROM a JOIN b ON a.id = b.id", "complexity=3"},
    {"SELECT * FROM a JOIN b ON a.id = b.id JOIN c ON c.id = b.id JOIN d ON d.id = c.id JOIN e ON e.id = d.id",
     "joins=4 complexity=10.5"},
    // --- TPC-H shapes ---
    {"SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price, "
     "avg(l_discount) AS avg_disc, count(*) AS count_order FROM tpch.lineitem WHERE l_shipdate <= DATE '1998-09-02' "
     "GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus",
     "tables=tpch.lineitem(r) joins=0 aggs=4 group=1 order=1 preds=tpch.lineitem:l_shipdate:<=:1998-09-02"},
    {"SELECT n_name, sum(l_extendedprice * (1 - l_discount)) AS revenue FROM tpch.customer, tpch.orders, "
     "tpch.lineitem, tpch.supplier, tpch.nation, tpch.region WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey "
     "AND r_name = 'ASIA' GROUP BY n_name ORDER BY revenue DESC",
     "joins=5 aggs=1 group=1 order=1 preds=-"},
    {"SELECT o_orderpriority, count(*) FROM tpch.orders WHERE o_orderdate >= DATE '1993-07-01' AND EXISTS "
     "(SELECT * FROM tpch.lineitem WHERE l_orderkey = o_orderkey AND l_commitdate < l_receiptdate) "
     "GROUP BY o_orderpriority ORDER BY o_orderpriority",
     "tables=tpch.orders(r),tpch.lineitem(r) subq=1 depth=1 aggs=1"},
};

INSTANTIATE_TEST_SUITE_P(Cases, Analysis, ::testing::ValuesIn(kCases));

TEST(Analysis, RejectsWhatIsNotOneStatement) {
  auto multi = analyze("SELECT 1; SELECT 2");
  ASSERT_FALSE(multi.ok());
  EXPECT_EQ(multi.error().code, ErrorCode::kMultipleStatements);
  auto empty = analyze("-- nothing");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kEmptySql);
  auto bad = analyze("SELECT * FROM WHERE");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kSyntaxError);
  EXPECT_TRUE(bad.error().position.has_value());
}

TEST(Fingerprint, IgnoresConstantsSpacingCaseAndComments) {
  const auto base = fingerprint("SELECT * FROM t WHERE id = 1 AND name = 'x'");
  EXPECT_EQ(base.size(), 16u);
  EXPECT_EQ(fingerprint("SELECT * FROM t WHERE id = 2 AND name = 'yy'"), base);
  EXPECT_EQ(fingerprint("select *\n  from T where ID = 99 and NAME = 'z' -- note"), base);
  EXPECT_EQ(fingerprint("/* x */ SELECT * FROM t WHERE id = 1 AND name = 'x';"), base);
}

TEST(Fingerprint, TellsDifferentShapesApart) {
  const auto base = fingerprint("SELECT * FROM t WHERE id = 1");
  EXPECT_NE(fingerprint("SELECT * FROM u WHERE id = 1"), base);
  EXPECT_NE(fingerprint("SELECT * FROM t WHERE id > 1"), base);
  EXPECT_NE(fingerprint("SELECT a FROM t WHERE id = 1"), base);
  EXPECT_NE(fingerprint("SELECT * FROM t WHERE id = 1 ORDER BY id"), base);
  EXPECT_NE(fingerprint("SELECT * FROM t WHERE id = CAST(1 AS BIGINT)"), base);
  EXPECT_NE(fingerprint("SELECT count(DISTINCT a) FROM t"), fingerprint("SELECT count(a) FROM t"));
  EXPECT_NE(fingerprint("SELECT * FROM t ORDER BY a DESC"), fingerprint("SELECT * FROM t ORDER BY a ASC"));
  EXPECT_NE(fingerprint("SELECT * FROM a LEFT JOIN b USING (id)"), fingerprint("SELECT * FROM a JOIN b USING (id)"));
}

TEST(Fingerprint, IsInTheProfile) {
  auto p = analyze("SELECT * FROM t WHERE id = 5");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->fingerprint, fingerprint("SELECT * FROM t WHERE id = 7"));
}

TEST(Aggregates, ComeFromDuckDBsCatalog) {
  EXPECT_TRUE(is_aggregate_function("sum"));
  EXPECT_TRUE(is_aggregate_function("count_star"));
  EXPECT_TRUE(is_aggregate_function("arg_max"));
  EXPECT_FALSE(is_aggregate_function("upper"));
  EXPECT_FALSE(is_aggregate_function("abs"));
}

TEST(ProfileCache, GivesWhatAnalysisGivesAndKeepsTheMostRecentTexts) {
  ProfileCache cache(2);
  const std::string a = "SELECT id FROM users WHERE id = $1";
  auto first = cache.analyze(a);
  auto again = cache.analyze(a);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(again->fingerprint, analyze(a)->fingerprint);
  ASSERT_EQ(again->tables.size(), 1u);
  EXPECT_EQ(again->tables[0].name, analyze(a)->tables[0].name);
  EXPECT_EQ(cache.size(), 1u);
  // A script is analyzed as one; errors are answered but not kept.
  auto script = cache.analyze("BEGIN; INSERT INTO t VALUES (1); COMMIT");
  ASSERT_TRUE(script.ok());
  EXPECT_EQ(script->statement_count, 3);
  EXPECT_EQ(cache.analyze("SELEC 1").error().code, ErrorCode::kSyntaxError);
  EXPECT_EQ(cache.size(), 2u);
  // Over capacity, the least recently used goes: `a` was used before the script.
  ASSERT_TRUE(cache.analyze("SELECT 2").ok());
  EXPECT_EQ(cache.size(), 2u);
  ProfileCache none(0);
  EXPECT_TRUE(none.analyze(a).ok());
  EXPECT_EQ(none.size(), 0u);
}

}  // namespace
}  // namespace lakerouter::sql

namespace lakerouter::sql {
namespace {

std::string for_trino(const std::string& sql) {
  auto profile = analyze(sql);
  EXPECT_TRUE(profile.ok()) << sql;
  return translate(sql, *profile, "trino");
}

TEST(Dialect, GroupByAliasesBecomeOrdinalsForTrino) {
  EXPECT_EQ(for_trino("SELECT l_suppkey AS supplier_no, sum(x) FROM t GROUP BY supplier_no"),
            "SELECT l_suppkey AS supplier_no, sum(x) FROM t GROUP BY 1");
  EXPECT_EQ(for_trino("SELECT a, b + 1 AS \"B1\" FROM t GROUP BY a, \"B1\""),
            "SELECT a, b + 1 AS \"B1\" FROM t GROUP BY a, 2");
  // In a CTE and a subquery too; the rest of the text stays byte for byte.
  EXPECT_EQ(for_trino("WITH r AS (SELECT k AS kk FROM t GROUP BY kk) SELECT * FROM (SELECT y AS z FROM u GROUP BY Z) s, r"),
            "WITH r AS (SELECT k AS kk FROM t GROUP BY 1) SELECT * FROM (SELECT y AS z FROM u GROUP BY 1) s, r");
  // Not an alias of another expression: unchanged.
  EXPECT_EQ(for_trino("SELECT a AS a FROM t GROUP BY a"), "SELECT a AS a FROM t GROUP BY a");
  EXPECT_EQ(for_trino("SELECT a FROM t GROUP BY a"), "SELECT a FROM t GROUP BY a");
  // Other dialects accept aliases: unchanged.
  const std::string sql = "SELECT l_suppkey AS s FROM t GROUP BY s";
  auto profile = analyze(sql);
  ASSERT_TRUE(profile.ok());
  EXPECT_EQ(translate(sql, *profile, "postgres"), sql);
  EXPECT_EQ(translate(sql, *profile, "duckdb"), sql);
}

// Every table of the statement kept in `catalog`, schema "tpch" for unqualified names.
std::string in_catalog(const std::string& sql, const std::string& catalog) {
  auto profile = analyze(sql);
  EXPECT_TRUE(profile.ok()) << sql;
  std::vector<EngineTableName> names(profile->tables.size(), EngineTableName{catalog, "tpch"});
  return translate(sql, *profile, "trino", names);
}

TEST(Dialect, TablesGetTheEngineCatalog) {
  EXPECT_EQ(in_catalog("SELECT * FROM tpch_iceberg.orders o JOIN tpch.nation n ON o.k = n.k", "iceberg"),
            R"(SELECT * FROM "iceberg".tpch_iceberg.orders o JOIN "iceberg".tpch.nation n ON o.k = n.k)");
  // Unqualified names get the schema too; quoted names and every reference (self-joins,
  // subqueries, CTE bodies) are found; a CTE's own name is not a table.
  EXPECT_EQ(in_catalog(R"(WITH c AS (SELECT * FROM "Orders") SELECT * FROM c, lineitem l1, lineitem l2)", "delta"),
            R"(WITH c AS (SELECT * FROM "delta"."tpch"."Orders") SELECT * FROM c, "delta"."tpch".lineitem l1, "delta"."tpch".lineitem l2)");
  // Combined with the GROUP BY rewrite; a name that already has a catalog is left alone.
  EXPECT_EQ(in_catalog("SELECT k AS kk FROM delta.tpch.t JOIN s.u ON true GROUP BY kk", "hive"),
            R"(SELECT k AS kk FROM delta.tpch.t JOIN "hive".s.u ON true GROUP BY 1)");
  // A catalog name needing quotes is quoted; no catalog, no change.
  EXPECT_EQ(in_catalog("SELECT 1 FROM s.t", "my\"cat"), R"(SELECT 1 FROM "my""cat".s.t)");
  EXPECT_EQ(in_catalog("SELECT 1 FROM s.t", ""), "SELECT 1 FROM s.t");
}

std::vector<std::string> gaps(const std::string& sql, std::string_view dialect) {
  auto profile = analyze(sql);
  EXPECT_TRUE(profile.ok()) << sql;
  return portability_gaps(*profile, dialect);
}

TEST(Portability, DuckDBOnlySyntaxAndFunctionsAreNamed) {
  using V = std::vector<std::string>;
  EXPECT_EQ(gaps("SELECT a FROM t QUALIFY row_number() OVER (ORDER BY a) = 1", "trino"), V{"QUALIFY"});
  EXPECT_EQ(gaps("SELECT a, count(*) FROM t GROUP BY ALL", "trino"), V{"GROUP BY ALL"});
  EXPECT_EQ(gaps("SELECT * EXCLUDE (b) FROM t", "trino"), V{"* EXCLUDE"});
  EXPECT_EQ(gaps("SELECT * REPLACE (b + 1 AS b) FROM t", "postgres"), V{"* REPLACE"});
  EXPECT_EQ(gaps("SELECT COLUMNS('a.*') FROM t", "trino"), V{"COLUMNS(...)"});
  EXPECT_EQ(gaps("SELECT a::INT FROM t", "trino"), V{":: cast"});
  EXPECT_EQ(gaps("/*+ engine(trino) */ FROM t SELECT a", "trino"), V{"FROM-first SELECT"});
  EXPECT_EQ(gaps("SELECT median(a), strftime(d, '%Y') FROM t", "trino"), (V{"median()", "strftime()"}));
  EXPECT_EQ(gaps("SELECT [1, 2] AS l", "trino"), V{"list_value()"});
  // What the other dialect accepts is no gap; a string that looks like syntax is none either.
  EXPECT_TRUE(gaps("SELECT a::INT FROM t", "postgres").empty());
  EXPECT_TRUE(gaps("SELECT a, count(*) FROM t GROUP BY ALL QUALIFY a > 1", "databricks").empty());
  EXPECT_TRUE(gaps("SELECT 'a::b QUALIFY' AS s, CAST(a AS INT) FROM t -- ::", "trino").empty());
  EXPECT_TRUE(gaps("SELECT a FROM t QUALIFY a > 1", "duckdb").empty());
  // Standard SQL that DuckDB parses into functions stays portable (EXTRACT, SUBSTRING, LIKE).
  EXPECT_TRUE(gaps("SELECT extract(year FROM d), substring(s, 1, 2) FROM t WHERE s LIKE 'a%'", "trino").empty());
}

TEST(Portability, RenamedFunctionsAreRewrittenNotRefused) {
  const std::string sql = "SELECT arg_max(a, b), IFNULL(c, 0), \"arg_min\"(a, b) FROM t";
  auto profile = analyze(sql);
  ASSERT_TRUE(profile.ok());
  EXPECT_TRUE(portability_gaps(*profile, "trino").empty());
  EXPECT_EQ(translate(sql, *profile, "trino"), "SELECT max_by(a, b), coalesce(c, 0), min_by(a, b) FROM t");
  EXPECT_EQ(translate(sql, *profile, "duckdb"), sql);
  const auto pg = portability_gaps(*profile, "postgres");
  EXPECT_EQ(pg, (std::vector<std::string>{"arg_max()", "arg_min()"}));
}

TEST(Dialect, TerminatorsAreDropped) {
  EXPECT_EQ(without_terminator("SELECT 1;"), "SELECT 1");
  EXPECT_EQ(without_terminator("SELECT 1 ;\n ; \n"), "SELECT 1");
  EXPECT_EQ(without_terminator("SELECT ';'"), "SELECT ';'");
}

}  // namespace
}  // namespace lakerouter::sql
