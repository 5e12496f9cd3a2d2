"""One policy, two engines, the same rows: lakerouter on DuckDB (which enforces the policy itself)
and lakerouter on Trino (which enforces the very same rules.json, as file-based access control)
give every user the same answer.

The policy is tests/integration/governance/rules.json, which scripts/services.sh also installs in
the shared test Trino (docs/governance.md, "The test suite's Trino"). Three users, over the demo
lake's crm.customers (a Delta table with an e-mail column):

- gov_full:   reads everything;
- gov_region: a row filter, region = 'EUROPE';
- gov_masked: email masked (c***@<nation>.example.com), balance hidden.

Every query of QUERIES runs for each user through the PostgreSQL protocol, once pinned to DuckDB
and once pinned to Trino (`SET lakerouter.engine`), and both answers must be the same rows (or
both an error). Separately, each engine's answers must show the policy: gov_region sees only
EUROPE, gov_masked never an e-mail address and never balance, gov_full everything.

Needs the test servers (eval "$(scripts/services.sh start)"); skips without them.
"""
from __future__ import annotations

import datetime
import json
import os
import re
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import requests

from conftest import TEST_USERS, duckdb_connect, start_router, stop_router

TRINO_URL = os.environ.get("LAKEROUTER_TRINO_URL")
RULES = Path(__file__).resolve().parent / "governance" / "rules.json"
USERS = {"gov_full": "gov-full-secret", "gov_region": "gov-region-secret", "gov_masked": "gov-masked-secret"}
ENGINES = ("duckdb", "trino")
REGION = "EUROPE"  # gov_region's row filter in rules.json
MASKED_EMAIL = re.compile(r"^c\*\*\*@[a-z-]+\.example\.com$")  # gov_masked's mask in rules.json

pytestmark = pytest.mark.skipif(not TRINO_URL, reason="start the test servers: eval \"$(scripts/services.sh start)\"")

# Valid in DuckDB's and Trino's SQL alike and deterministic: every result is ordered by a unique key
# (or has one row). Queries naming `balance` fail for gov_masked, on both engines.
QUERIES = [
    # projections, SELECT *, filters
    "SELECT customer_id, name, email, region FROM crm.customers ORDER BY customer_id",
    "SELECT * FROM crm.customers ORDER BY customer_id",
    "SELECT customer_id, email FROM crm.customers WHERE customer_id BETWEEN 100 AND 200 ORDER BY customer_id",
    "SELECT customer_id, nation FROM crm.customers WHERE region IN ('EUROPE', 'ASIA') AND segment = 'MACHINERY' "
    "ORDER BY customer_id",
    "SELECT customer_id, name FROM crm.customers ORDER BY customer_id DESC LIMIT 10",
    "SELECT customer_id, email FROM crm.customers ORDER BY email, customer_id LIMIT 25",
    # aggregates, GROUP BY, HAVING, DISTINCT
    "SELECT count(*) FROM crm.customers",
    "SELECT region, count(*) AS n FROM crm.customers GROUP BY region ORDER BY region",
    "SELECT nation, count(*) AS n, min(customer_id) AS first_id, max(signup_date) AS last_signup "
    "FROM crm.customers GROUP BY nation ORDER BY nation",
    "SELECT segment, count(*) AS n FROM crm.customers WHERE region IN ('EUROPE', 'ASIA') GROUP BY segment "
    "ORDER BY segment",
    "SELECT nation, count(*) AS n FROM crm.customers GROUP BY nation HAVING count(*) > 55 ORDER BY nation",
    "SELECT region, count(*) FILTER (WHERE segment = 'MACHINERY') AS machinery FROM crm.customers "
    "GROUP BY region ORDER BY region",
    "SELECT year(signup_date) AS y, count(*) AS n FROM crm.customers GROUP BY year(signup_date) ORDER BY y",
    "SELECT min(signup_date) AS first, max(signup_date) AS last, avg(customer_id) AS mid FROM crm.customers",
    "SELECT count(DISTINCT email) AS emails, count(DISTINCT nation) AS nations FROM crm.customers",
    "SELECT DISTINCT region FROM crm.customers ORDER BY region",
    "SELECT DISTINCT nation, region FROM crm.customers ORDER BY nation",
    # the masked column in expressions, predicates and groups
    "SELECT customer_id, upper(email) AS e FROM crm.customers ORDER BY customer_id LIMIT 50",
    "SELECT customer_id, length(email) AS len, strpos(email, '@') AS at FROM crm.customers ORDER BY customer_id",
    "SELECT customer_id, substr(email, 1, 5) AS head FROM crm.customers ORDER BY customer_id",
    "SELECT split_part(email, '@', 2) AS domain, count(*) AS n FROM crm.customers GROUP BY split_part(email, '@', 2) "
    "ORDER BY domain",
    "SELECT customer_id, replace(email, '.example.com', '') AS short FROM crm.customers ORDER BY customer_id LIMIT 100",
    "SELECT customer_id, name || ' <' || email || '>' AS contact FROM crm.customers ORDER BY customer_id LIMIT 100",
    "SELECT count(*) FROM crm.customers WHERE email LIKE '%000000%'",
    "SELECT count(*) FROM crm.customers WHERE email LIKE 'c***@%'",
    "SELECT customer_id FROM crm.customers WHERE email IN ('c000000011@united-kingdom.example.com', "
    "'c***@united-kingdom.example.com') ORDER BY customer_id",
    # CASE, COALESCE, dates
    "SELECT customer_id, CASE WHEN signup_date < DATE '2021-01-01' THEN 'early' ELSE 'late' END AS cohort "
    "FROM crm.customers ORDER BY customer_id",
    "SELECT customer_id, coalesce(nullif(segment, 'BUILDING'), 'B') AS seg FROM crm.customers "
    "ORDER BY customer_id LIMIT 100",
    # window functions
    "SELECT customer_id, region, row_number() OVER (PARTITION BY region ORDER BY customer_id) AS rn "
    "FROM crm.customers ORDER BY customer_id",
    "SELECT customer_id, rank() OVER (PARTITION BY nation ORDER BY signup_date, customer_id) AS r "
    "FROM crm.customers ORDER BY customer_id",
    "SELECT customer_id, count(*) OVER (PARTITION BY region) AS region_size, "
    "lag(customer_id) OVER (ORDER BY customer_id) AS prev FROM crm.customers ORDER BY customer_id",
    # CTEs, subqueries
    "WITH eu AS (SELECT customer_id, nation FROM crm.customers WHERE region = 'EUROPE') "
    "SELECT nation, count(*) AS n FROM eu GROUP BY nation ORDER BY nation",
    "WITH c AS (SELECT region, count(*) AS n FROM crm.customers GROUP BY region) "
    "SELECT region, n FROM c WHERE n > 0 ORDER BY region",
    "SELECT count(*) FROM crm.customers WHERE customer_id IN (SELECT o_custkey FROM tpch.orders "
    "WHERE o_orderstatus = 'F')",
    "SELECT customer_id FROM crm.customers c WHERE EXISTS (SELECT 1 FROM tpch.orders o "
    "WHERE o.o_custkey = c.customer_id AND o.o_totalprice > 300000) ORDER BY customer_id",
    "SELECT customer_id, (SELECT count(*) FROM tpch.orders o WHERE o.o_custkey = c.customer_id) AS orders "
    "FROM crm.customers c ORDER BY customer_id LIMIT 100",
    "SELECT region, n FROM (SELECT region, count(*) AS n FROM crm.customers GROUP BY region) t "
    "WHERE n = (SELECT max(n) FROM (SELECT count(*) AS n FROM crm.customers GROUP BY region) m) ORDER BY region",
    # joins with the TPC-H tables (Delta, Iceberg, Parquet)
    "SELECT c.region, count(*) AS orders, sum(o.o_totalprice) AS total FROM crm.customers c "
    "JOIN tpch.orders o ON o.o_custkey = c.customer_id GROUP BY c.region ORDER BY c.region",
    "SELECT c.customer_id, c.email, count(o.o_orderkey) AS n FROM crm.customers c "
    "LEFT JOIN tpch.orders o ON o.o_custkey = c.customer_id GROUP BY c.customer_id, c.email ORDER BY c.customer_id",
    "SELECT c.customer_id, t.c_address, t.c_phone = c.phone AS same_phone FROM crm.customers c "
    "JOIN tpch.customer t ON t.c_custkey = c.customer_id ORDER BY c.customer_id LIMIT 200",
    "SELECT r.r_regionkey, c.region, count(*) AS n FROM crm.customers c JOIN tpch.region r ON r.r_name = c.region "
    "GROUP BY r.r_regionkey, c.region ORDER BY r.r_regionkey",
    "SELECT c.segment, sum(l.l_quantity) AS qty, count(*) AS lines FROM crm.customers c "
    "JOIN tpch.orders o ON o.o_custkey = c.customer_id JOIN tpch.lineitem l ON l.l_orderkey = o.o_orderkey "
    "GROUP BY c.segment ORDER BY c.segment",
    "SELECT c.customer_id, o.o_orderkey, row_number() OVER (PARTITION BY c.customer_id "
    "ORDER BY o.o_orderdate, o.o_orderkey) AS k FROM crm.customers c JOIN tpch.orders o "
    "ON o.o_custkey = c.customer_id WHERE c.nation IN ('FRANCE', 'JAPAN') ORDER BY c.customer_id, k",
    "SELECT c.nation, count(*) AS n FROM crm.customers c JOIN tpch_iceberg.nation n ON n.n_name = c.nation "
    "GROUP BY c.nation ORDER BY c.nation",
    "SELECT c.customer_id, c.email, p.c_mktsegment FROM crm.customers c JOIN tpch_parquet.customer p "
    "ON p.c_custkey = c.customer_id WHERE p.c_mktsegment = 'HOUSEHOLD' ORDER BY c.customer_id",
    # set operations
    "SELECT customer_id FROM crm.customers WHERE segment = 'BUILDING' UNION "
    "SELECT customer_id FROM crm.customers WHERE nation = 'CHINA' ORDER BY customer_id",
    "SELECT customer_id FROM crm.customers INTERSECT SELECT o_custkey FROM tpch.orders ORDER BY 1",
    "SELECT customer_id FROM crm.customers EXCEPT SELECT o_custkey FROM tpch.orders ORDER BY 1",
    "SELECT k, n FROM (SELECT region AS k, count(*) AS n FROM crm.customers GROUP BY region UNION ALL "
    "SELECT segment AS k, count(*) AS n FROM crm.customers GROUP BY segment) t ORDER BY k",
    "SELECT c_custkey AS id, c_name AS name FROM tpch.customer WHERE c_custkey <= 20 EXCEPT "
    "SELECT customer_id, name FROM crm.customers ORDER BY id",
    # the hidden column: an error for gov_masked on both engines
    "SELECT region, sum(balance) AS total, min(balance) AS low, max(balance) AS high FROM crm.customers "
    "GROUP BY region ORDER BY region",
    "SELECT customer_id, balance FROM crm.customers WHERE balance > 9000 ORDER BY customer_id",
    "SELECT customer_id FROM crm.customers ORDER BY balance DESC, customer_id LIMIT 10",
]


def denied_for(user: str, sql: str) -> bool:
    return user == "gov_masked" and "balance" in sql


# --- fixtures -------------------------------------------------------------------------------------

def trino_direct(user: str, sql: str):
    """One statement straight to the test Trino (not through lakerouter): (rows, error)."""
    h = {"X-Trino-User": user}
    doc = requests.post(TRINO_URL + "/v1/statement", data=sql.encode(), headers=h, timeout=30).json()
    rows = []
    while True:
        rows += doc.get("data") or []
        if doc.get("error") or not doc.get("nextUri"):
            return rows, doc.get("error")
        doc = requests.get(doc["nextUri"], headers=h, timeout=30).json()


@pytest.fixture(scope="module")
def truth(lake_dir):
    """crm.customers as the lake holds it, read with DuckDB's delta reader (no policy)."""
    con = duckdb_connect("delta")
    try:
        rows = con.execute(f"SELECT customer_id, email, region, balance FROM delta_scan('{lake_dir}/crm/customers') "
                           "ORDER BY customer_id").fetchall()
    finally:
        con.close()
    assert rows, f"{lake_dir} has no crm.customers: regenerate it (scripts/gen_demo_lake.py)"
    return rows


@pytest.fixture(scope="module")
def trino_has_the_rules(truth):
    """The shared Trino enforces this checkout's rules.json (scripts/services.sh start installs it)."""
    installed = os.environ.get("LAKEROUTER_TRINO_RULES")
    if installed:
        same = Path(installed).is_file() and json.loads(Path(installed).read_text()) == json.loads(RULES.read_text())
        assert same, (f"the test Trino enforces {installed}, not {RULES}: run scripts/services.sh start "
                      "(it installs the rules; Trino reloads them within a second)")
    europe = sum(1 for r in truth if r[2] == REGION)
    deadline = time.monotonic() + 10
    while True:  # the refresh period (1 s) after a changed file
        rows, error = trino_direct("gov_region", "SELECT count(*) FROM delta.crm.customers")
        if (error is None and rows == [[europe]]) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert error is None, f"Trino cannot read delta.crm.customers as gov_region: {error and error['message']}"
    assert rows == [[europe]], (f"Trino does not enforce {RULES} (gov_region sees {rows[0][0]} rows, the filter "
                                f"leaves {europe}): restart it with scripts/services.sh start")


@pytest.fixture(scope="module")
def gov_router(lake_dir, tmp_path_factory, trino_has_the_rules):
    users = [{"name": u, "password": p, "groups": g} for u, (p, g) in TEST_USERS.items()]
    users += [{"name": u, "password": p, "groups": ["governance_demo"]} for u, p in USERS.items()]
    extra = {
        "users": users,
        "engines": {"trino": {"type": "trino", "connection": {"url": "${LAKEROUTER_TRINO_URL}", "catalog": "delta"}}},
        "routing": {"default_engine": "duckdb"},
        "governance": {"rules_file": str(RULES)},
    }
    r = start_router(lake_dir, tmp_path_factory.mktemp("governance_identity"), extra)
    try:
        yield r
    finally:
        stop_router(r)


@pytest.fixture(scope="module")
def sessions(gov_router):
    """One pgwire session per (user, engine), pinned with SET lakerouter.engine; with
    lakerouter.explain on, each statement's routing decision arrives as a notice (`c.notices`)."""
    opened = {}

    def get(user: str, engine: str) -> psycopg.Connection:
        if (user, engine) not in opened:
            c = psycopg.connect(host="127.0.0.1", port=gov_router.pg_port, user=user, password=USERS[user],
                                dbname="lake", sslmode="disable", connect_timeout=10, autocommit=True)
            c.notices = []
            c.add_notice_handler(lambda d, notes=c.notices: notes.append(d.message_primary or ""))
            c.execute(f"SET lakerouter.engine = '{engine}'")
            c.execute("SET lakerouter.explain = on")
            opened[(user, engine)] = c
        return opened[(user, engine)]

    yield get
    for c in opened.values():
        c.close()


# --- running and comparing ----------------------------------------------------------------------

def norm(v):
    """Values of either engine in one form: numbers as floats (Trino and DuckDB type sums and
    averages differently), dates as ISO strings."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float, Decimal)):
        return round(float(v), 6)
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    return v


class Answer:
    def __init__(self, columns=None, rows=None, error=None, engine=None):
        self.columns, self.rows, self.error, self.engine = columns, rows, error, engine

    def __repr__(self):
        if self.error:
            return f"error({self.error})"
        return f"{len(self.rows)} rows {self.columns}: {self.rows[:3]}..."


def refused(a: Answer) -> bool:
    """The hidden column refused: a permission error (SQLSTATE 42501, what Trino answers), or the
    column unknown (42703: to the user the table has no such column)."""
    return bool(a.error) and (a.error.startswith("InsufficientPrivilege") or
                              (a.error.startswith("UndefinedColumn") and "balance" in a.error))


def run(sessions, user: str, engine: str, sql: str) -> Answer:
    c = sessions(user, engine)
    c.notices.clear()
    try:
        cur = c.execute(sql)
        rows = [tuple(norm(v) for v in row) for row in cur.fetchall()]
    except psycopg.Error as e:
        return Answer(error=f"{type(e).__name__}: {str(e).strip()}")
    # The pin held: the decision names the engine that ran it.
    assert any(n.startswith(f"lakerouter: routed to {engine} ") for n in c.notices), (engine, c.notices, sql)
    return Answer([d.name.lower() for d in cur.description], rows)


@pytest.mark.parametrize("user", list(USERS))
@pytest.mark.parametrize("n", range(len(QUERIES)), ids=[f"q{i:02d}" for i in range(len(QUERIES))])
def test_duckdb_and_trino_give_the_same_answer(sessions, user, n):
    sql = QUERIES[n]
    trino = run(sessions, user, "trino", sql)
    if denied_for(user, sql):
        assert refused(trino), f"Trino did not refuse the hidden column: {trino}"
    else:
        assert trino.error is None, f"Trino: {trino.error}\n{sql}"
    duck = run(sessions, user, "duckdb", sql)
    if trino.error:
        assert refused(duck), f"DuckDB answered {duck} where Trino refused: {trino.error}\n{sql}"
        return
    assert duck.error is None, f"DuckDB: {duck.error}\n{sql}"
    assert len(duck.columns) == len(trino.columns), (duck.columns, trino.columns, sql)
    if duck.rows != trino.rows:
        diff = next(i for i, (a, b) in enumerate(zip(duck.rows + [None] * len(trino.rows),
                                                     trino.rows + [None] * len(duck.rows))) if a != b)
        pytest.fail(f"{user}: DuckDB {len(duck.rows)} rows, Trino {len(trino.rows)}; first difference at row "
                    f"{diff}: DuckDB {duck.rows[diff:diff + 2]} vs Trino {trino.rows[diff:diff + 2]}\n{sql}")


# --- the policy is visible on each engine -------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
def test_the_full_reader_sees_every_row_and_value(sessions, truth, engine):
    a = run(sessions, "gov_full", engine, "SELECT customer_id, email, region, balance FROM crm.customers "
                                          "ORDER BY customer_id")
    assert a.error is None, a.error
    assert a.rows == [tuple(norm(v) for v in row) for row in truth]


@pytest.mark.parametrize("engine", ENGINES)
def test_the_row_filter_leaves_only_its_region(sessions, truth, engine):
    europe = [r[0] for r in truth if r[2] == REGION]
    a = run(sessions, "gov_region", engine, "SELECT customer_id, region FROM crm.customers ORDER BY customer_id")
    assert a.error is None, a.error
    assert [r[0] for r in a.rows] == europe and {r[1] for r in a.rows} == {REGION}
    # Under the filter, count(*) and a join count only the region's rows; other tables are not filtered.
    a = run(sessions, "gov_region", engine, "SELECT count(*) FROM crm.customers")
    assert a.rows == [(len(europe),)], a
    a = run(sessions, "gov_region", engine, "SELECT count(*) FROM crm.customers WHERE region <> 'EUROPE'")
    assert a.rows == [(0,)], a
    a = run(sessions, "gov_region", engine, "SELECT count(*) FROM tpch.customer")
    assert a.rows == [(len(truth),)], a


@pytest.mark.parametrize("engine", ENGINES)
def test_the_masked_user_never_sees_an_email_or_the_hidden_column(sessions, truth, engine):
    real = {r[1] for r in truth}
    a = run(sessions, "gov_masked", engine, "SELECT customer_id, email FROM crm.customers ORDER BY customer_id")
    assert a.error is None, a.error
    assert [r[0] for r in a.rows] == [r[0] for r in truth]  # no row filter
    assert all(MASKED_EMAIL.match(r[1]) for r in a.rows), a.rows[:5]
    assert not real & {r[1] for r in a.rows}
    # Not through a predicate either: the mask applies before the WHERE clause.
    a = run(sessions, "gov_masked", engine, f"SELECT count(*) FROM crm.customers WHERE email = '{truth[0][1]}'")
    assert a.rows == [(0,)], a
    # SELECT * leaves the hidden column out; naming it is an error.
    a = run(sessions, "gov_masked", engine, "SELECT * FROM crm.customers ORDER BY customer_id LIMIT 1")
    assert a.error is None, a.error
    assert "balance" not in a.columns and "email" in a.columns, a.columns
    assert MASKED_EMAIL.match(a.rows[0][a.columns.index("email")]), a.rows
    for sql in ["SELECT balance FROM crm.customers",
                "SELECT count(*) FROM crm.customers WHERE balance > 0",
                "SELECT sum(c.balance) FROM crm.customers c JOIN tpch.orders o ON o.o_custkey = c.customer_id"]:
        a = run(sessions, "gov_masked", engine, sql)
        assert refused(a), (sql, a)
