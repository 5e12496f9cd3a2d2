"""Escape attempts against governance and lockdown, through real clients, asserting on the data.

User `eve` may read tpch.customer only where c_mktsegment = 'BUILDING', sees c_phone masked as
'***' and may not see c_acctbal at all; she may read tpch.nation; nothing else. The DuckDB engine
(the only one here) enforces that by rewriting each reference to the table (docs/governance.md).
Each attempt is refused with a clear error, or returns exactly what the policy permits: the test
compares rows with what an administrator computes, never only the status.
"""
from __future__ import annotations

import base64
import json
import re

import psycopg
import pytest
import requests

from conftest import TEST_USERS, start_router, stop_router

EVE_PASSWORD = "eve-secret"
SEGMENT = "BUILDING"
RULES = {
    "tables": [
        {"group": "admins", "privileges": ["SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP"]},
        {"user": "eve", "schema": "tpch", "table": "customer", "privileges": ["SELECT"],
         "filter": f"c_mktsegment = '{SEGMENT}'",
         "columns": [{"name": "c_phone", "mask": "'***'"}, {"name": "c_acctbal", "allow": False}]},
        {"user": "eve", "schema": "tpch", "table": "nation", "privileges": ["SELECT"]},
    ],
}

DENIED = (psycopg.errors.InsufficientPrivilege, psycopg.errors.SyntaxError, psycopg.errors.UndefinedColumn,
          psycopg.errors.UndefinedTable, psycopg.errors.FeatureNotSupported, psycopg.errors.InvalidParameterValue)


@pytest.fixture(scope="module")
def escapes(lake_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("escapes")
    rules = work / "rules.json"
    rules.write_text(json.dumps(RULES))
    users = [{"name": u, "password": p, "groups": g} for u, (p, g) in TEST_USERS.items()]
    users.append({"name": "eve", "password": EVE_PASSWORD, "groups": ["staff"]})
    r = start_router(lake_dir, work, {"users": users, "governance": {"rules_file": str(rules)}})
    with connect(r, "admin") as admin:
        r.visible = admin.execute(
            "SELECT c_custkey, c_name, c_address, c_nationkey, '***' AS c_phone, c_mktsegment, c_comment "
            f"FROM tpch.customer WHERE c_mktsegment = '{SEGMENT}' ORDER BY c_custkey").fetchall()
        r.total = admin.execute("SELECT count(*) FROM tpch.customer").fetchone()[0]
        r.hidden_names = [row[0] for row in admin.execute(
            f"SELECT c_name FROM tpch.customer WHERE c_mktsegment <> '{SEGMENT}'").fetchall()]
        r.phones = [row[0] for row in admin.execute("SELECT c_phone FROM tpch.customer").fetchall()]
    assert 0 < len(r.visible) < r.total
    yield r
    stop_router(r)


def connect(r, user):
    password = EVE_PASSWORD if user == "eve" else TEST_USERS[user][0]
    return psycopg.connect(host="127.0.0.1", port=r.pg_port, user=user, password=password, dbname="lake",
                           sslmode="disable", connect_timeout=10, autocommit=True)


@pytest.fixture()
def eve(escapes):
    with connect(escapes, "eve") as c:
        yield c


def refused(conn, sql):
    """The statement fails; returns the error's text, which must not quote hidden data."""
    with pytest.raises(psycopg.Error) as error:
        conn.execute(sql).fetchall()
    return str(error.value)


def assert_no_secrets(escapes, text: str) -> None:
    assert not any(name in text for name in escapes.hidden_names[:50]), text
    assert not any(phone in text for phone in escapes.phones[:50]), text


# 1. Files, URLs and system functions: refused, whatever their arguments.
FILE_AND_SYSTEM = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM read_json('/etc/passwd')",
    "SELECT * FROM read_ndjson_objects('/etc/passwd')",
    "SELECT * FROM read_parquet('{lake}/tpch_parquet/customer/*.parquet')",
    "SELECT c_acctbal FROM parquet_scan('{lake}/tpch_parquet/customer/*.parquet')",
    "SELECT * FROM parquet_metadata('{lake}/tpch_parquet/customer/*.parquet')",
    "SELECT * FROM parquet_schema('{lake}/tpch_parquet/customer/*.parquet')",
    "SELECT * FROM delta_scan('{lake}/tpch/customer')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM \"/etc/passwd\"",
    "SELECT * FROM '{lake}/tpch_parquet/customer/part-0.parquet'",
    "SELECT * FROM 'https://example.com/x.parquet'",
    "SELECT * FROM query('SELECT c_acctbal FROM tpch.customer')",
    "SELECT * FROM query_table('tpch.customer')",
    "SELECT * FROM duckdb_tables()",
    "SELECT * FROM duckdb_views()",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM duckdb_databases()",
    "SELECT * FROM duckdb_columns()",
    "SELECT * FROM duckdb_extensions()",
    "SELECT * FROM duckdb_secrets()",
    "SELECT * FROM pragma_table_info('tpch.customer')",
    "SELECT * FROM pragma_database_list",
    "SELECT current_setting('allowed_directories')",
    "SELECT n_name FROM tpch.nation WHERE n_nationkey IN (SELECT 1 FROM read_csv('/etc/passwd'))",
]

# 2. Statements that reach files, extensions, settings or the engine itself: refused.
STATEMENTS = [
    "ATTACH '/tmp/lakerouter_escape.db' AS other",
    "ATTACH ':memory:' AS other",
    "DETACH memory",
    "COPY tpch.customer TO '/tmp/lakerouter_escape.csv'",
    "COPY (SELECT * FROM tpch.customer) TO '/tmp/lakerouter_escape.csv'",
    "COPY tpch.nation FROM '/etc/passwd'",
    "EXPORT DATABASE '/tmp/lakerouter_escape'",
    "IMPORT DATABASE '/tmp/lakerouter_escape'",
    "INSTALL httpfs",
    "FORCE INSTALL httpfs",
    "LOAD httpfs",
    "PRAGMA database_list",
    "PRAGMA table_info('tpch.customer')",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
    "RESET threads",
    "CALL pragma_version()",
    "CREATE SECRET s (TYPE s3, KEY_ID 'x', SECRET 'y')",
    "CHECKPOINT",
    "CREATE VIEW tpch.leak AS SELECT * FROM tpch.customer",
    "CREATE MACRO leak() AS TABLE SELECT * FROM tpch.customer",
    "EXPLAIN SELECT * FROM tpch.customer",
    "EXPLAIN ANALYZE SELECT * FROM tpch.customer",
    "SELECT * FROM tpch.orders",
]

# 3. Names: spellings of the governed table are the governed table; look-alikes are unknown.
SPELLINGS_OF_THE_TABLE = [
    "SELECT * FROM tpch.customer",
    "SELECT * FROM \"tpch\".\"customer\"",
    "SELECT * FROM TPCH.CUSTOMER",
    "SELECT * FROM \"TPCH\".\"Customer\"",
    "SELECT * FROM tpch . /* comment */ customer",
    "SELECT * FROM tpch.customer AS c",
    "SELECT * FROM tpch.customer c(a, b)",
    "SELECT * FROM memory.tpch.customer",
    "SELECT * FROM temp.tpch.customer",
]
LOOK_ALIKES = [
    "SELECT * FROM \"tpch.customer\"",
    "SELECT * FROM tpch.\"customer\u200b\"",
    "SELECT * FROM tpch.cu\u0455tomer",           # Cyrillic dze for s
    "SELECT * FROM tpch.customer_",
    "SELECT * FROM tpch.customer AT (VERSION => 1)",
]


@pytest.mark.parametrize("sql", FILE_AND_SYSTEM)
def test_files_urls_and_system_functions_are_out_of_reach(escapes, eve, lake_dir, sql):
    sql = sql.format(lake=lake_dir)
    message = refused(eve, sql)
    assert_no_secrets(escapes, message)
    for written in re.findall(r"'([^']*)'", sql):  # the client's own words may come back, nothing more
        message = message.replace(written, "")
    assert "/root" not in message and str(lake_dir) not in message, message


@pytest.mark.parametrize("sql", STATEMENTS)
def test_statements_that_reach_beyond_tables_are_refused(escapes, eve, sql):
    message = refused(eve, sql)
    assert_no_secrets(escapes, message)
    # And nothing changed: the policy's view of the data is intact.
    assert eve.execute("SELECT count(*) FROM tpch.customer").fetchone()[0] == len(escapes.visible)


@pytest.mark.parametrize("sql", SPELLINGS_OF_THE_TABLE)
def test_every_spelling_of_the_table_is_governed(escapes, eve, sql):
    rows = eve.execute(sql + " ORDER BY 1").fetchall()
    assert [tuple(r) for r in rows] == [tuple(r) for r in escapes.visible]


@pytest.mark.parametrize("sql", LOOK_ALIKES)
def test_look_alike_names_are_unknown_not_ungoverned(escapes, eve, sql):
    assert_no_secrets(escapes, refused(eve, sql))


# 4. The hidden column and the masked one, by every path to them.
HIDDEN_COLUMN = [
    "SELECT c_acctbal FROM tpch.customer",
    "SELECT c.c_acctbal FROM tpch.customer c",
    "SELECT sum(c_acctbal) FROM tpch.customer",
    "SELECT c_custkey FROM tpch.customer WHERE c_acctbal > 0",
    "SELECT c_custkey FROM tpch.customer ORDER BY c_acctbal",
    "SELECT max(c_acctbal) OVER () FROM tpch.customer",
    "WITH customer AS (SELECT * FROM tpch.customer) SELECT c_acctbal FROM customer",
    "SELECT c_acctbal FROM (SELECT * FROM tpch.customer) t",
    "SELECT c_acctbal FROM tpch.customer UNION ALL SELECT 1",
    "SELECT * FROM tpch.customer PIVOT (sum(c_acctbal) FOR c_mktsegment IN ('BUILDING'))",
    "SELECT c_custkey FROM tpch.customer QUALIFY row_number() OVER (ORDER BY c_acctbal) = 1",
]


@pytest.mark.parametrize("sql", HIDDEN_COLUMN)
def test_the_hidden_column_cannot_be_reached(escapes, eve, sql):
    message = refused(eve, sql)
    assert "c_acctbal" in message, message  # named as unknown: the policy hides it
    assert_no_secrets(escapes, message)


def test_star_columns_exclude_replace_and_struct_see_only_the_permitted_columns(escapes, eve):
    visible = [tuple(r) for r in escapes.visible]
    columns = ["c_custkey", "c_name", "c_address", "c_nationkey", "c_phone", "c_mktsegment", "c_comment"]
    for sql in ["SELECT * FROM tpch.customer ORDER BY 1",
                "SELECT COLUMNS('.*') FROM tpch.customer ORDER BY 1",
                "SELECT COLUMNS(*) FROM tpch.customer ORDER BY 1",
                "SELECT * EXCLUDE (c_comment), c_comment FROM tpch.customer ORDER BY 1",
                "SELECT * REPLACE (c_phone AS c_phone) FROM tpch.customer ORDER BY 1",
                "SELECT t.* FROM (SELECT * FROM tpch.customer) t ORDER BY 1",
                "SELECT * FROM tpch.customer JOIN tpch.nation ON c_nationkey = n_nationkey ORDER BY 1"]:
        cur = eve.execute(sql)
        names = [d.name for d in cur.description]
        assert "c_acctbal" not in names, sql
        rows = [tuple(r[:7]) for r in cur.fetchall()]
        assert rows == visible, sql
    (row,) = eve.execute("SELECT customer FROM tpch.customer ORDER BY c_custkey LIMIT 1").fetchall()
    assert "c_acctbal" not in str(row[0]) and "'***'" in str(row[0]) or "***" in str(row[0])
    (doc,) = eve.execute("SELECT to_json(c) FROM tpch.customer c ORDER BY c_custkey LIMIT 1").fetchone()
    assert set(json.loads(doc) if isinstance(doc, str) else doc) == set(columns)


@pytest.mark.parametrize("sql", [
    "SELECT DISTINCT c_phone FROM tpch.customer",
    "SELECT max(c_phone) FROM tpch.customer",
    "SELECT string_agg(c_phone, ',') FROM tpch.customer",
    "SELECT first_value(c_phone) OVER (ORDER BY c_custkey) FROM tpch.customer",
    "SELECT c_phone FROM tpch.customer GROUP BY c_phone",
    "SELECT upper(c_phone) FROM tpch.customer",
    "SELECT list(c_phone)[1] FROM tpch.customer",
    "SELECT c_phone FROM tpch.customer UNION SELECT c_phone FROM tpch.customer",
    "WITH x AS (SELECT c_phone AS p FROM tpch.customer) SELECT p FROM x",
])
def test_the_masked_column_shows_only_its_mask(escapes, eve, sql):
    values = {str(v) for row in eve.execute(sql).fetchall() for v in row}
    assert values <= {"***", "***,***"} | {",".join(["***"] * len(escapes.visible))}, values


@pytest.mark.parametrize("sql", [
    "SELECT count(*) FROM tpch.customer",
    "SELECT count(*) FROM tpch.customer WHERE 1 = 1 OR c_mktsegment <> 'x'",
    "SELECT count(*) FROM tpch.customer c WHERE c_mktsegment = 'BUILDING' OR TRUE",
    "SELECT count(*) FILTER (WHERE TRUE) FROM tpch.customer",
    "SELECT count(*) FROM (SELECT * FROM tpch.customer UNION ALL SELECT * FROM tpch.customer WHERE false)",
    "SELECT count(DISTINCT c_custkey) FROM tpch.customer, tpch.nation",
    "SELECT count(*) FROM tpch.nation n JOIN tpch.customer c ON c.c_nationkey = n.n_nationkey",
    "SELECT count(*) FROM tpch.nation n LEFT JOIN tpch.customer c ON c.c_nationkey = n.n_nationkey "
    "WHERE c.c_custkey IS NOT NULL",
    "SELECT sum(n) FROM (SELECT count(*) AS n FROM tpch.customer GROUP BY c_mktsegment)",
    "SELECT count(*) FROM tpch.customer WHERE c_custkey IN (SELECT c_custkey FROM tpch.customer)",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 2) "
    "SELECT count(*) FROM tpch.customer",
    "SELECT max(rn) FROM (SELECT row_number() OVER () AS rn FROM tpch.customer)",
])
def test_the_row_filter_holds_whatever_the_query_says(escapes, eve, sql):
    assert eve.execute(sql).fetchone()[0] == len(escapes.visible)


def test_rows_outside_the_filter_are_never_returned(escapes, eve):
    assert eve.execute("SELECT count(*) FROM tpch.customer WHERE c_mktsegment <> 'BUILDING'").fetchone()[0] == 0
    segments = eve.execute("SELECT DISTINCT c_mktsegment FROM tpch.customer").fetchall()
    assert segments == [(SEGMENT,)]


@pytest.mark.parametrize("sql", [
    "SELECT CAST(c_name AS INTEGER) FROM tpch.customer",
    "SELECT c_custkey FROM tpch.customer WHERE CAST(c_name AS INTEGER) = 1",
    "SELECT c_custkey FROM tpch.customer WHERE c_mktsegment = 'AUTOMOBILE' AND CAST(c_name AS INTEGER) = 1",
    "SELECT error(c_name) FROM tpch.customer",
    "SELECT c_custkey FROM tpch.customer WHERE c_name::INTEGER > 0 OR c_phone::INTEGER > 0",
    "SELECT CAST(c_phone AS DATE) FROM tpch.customer",
])
def test_error_messages_do_not_quote_hidden_rows_or_columns(escapes, eve, sql):
    # DuckDB may evaluate the query's own conditions before the policy's filter: a failure on a
    # hidden row must not show it. (When the filter runs first there is no row, and no error.)
    try:
        rows = eve.execute(sql).fetchall()
    except psycopg.Error as error:
        assert_no_secrets(escapes, str(error))
    else:
        assert rows == []


def test_describe_and_summarize_show_only_the_permitted_view(escapes, eve):
    names = [r[0] for r in eve.execute("DESCRIBE tpch.customer").fetchall()]
    assert "c_acctbal" not in names and "c_phone" in names
    stats = {r[0]: r for r in eve.execute("SUMMARIZE tpch.customer").fetchall()}
    assert "c_acctbal" not in stats
    assert stats["c_phone"][2] == "***" and stats["c_phone"][3] == "***"  # min and max
    assert stats["c_mktsegment"][2] == SEGMENT and stats["c_mktsegment"][3] == SEGMENT


def test_an_injected_statement_does_not_ride_along(escapes, eve):
    # pgwire's simple Query: each statement is checked on its own, as PostgreSQL runs them.
    assert "c_acctbal" in refused(eve, "SELECT 1; SELECT c_acctbal FROM tpch.customer")
    assert "ATTACH" in refused(eve, "SELECT 1; ATTACH ':memory:' AS x")
    # HTTP and the Trino protocol take one statement per request.
    auth = base64.b64encode(f"eve:{EVE_PASSWORD}".encode()).decode()
    for sql in ["SELECT 1; SELECT c_acctbal FROM tpch.customer", "SELECT 1; ATTACH ':memory:' AS x"]:
        doc = requests.post(escapes.url("/v1/statement"), data=sql.encode(), timeout=30,
                            headers={"X-Trino-User": "eve", "Authorization": f"Basic {auth}"}).json()
        while not doc.get("error") and doc.get("nextUri"):
            doc = requests.get(doc["nextUri"], timeout=30,
                               headers={"X-Trino-User": "eve", "Authorization": f"Basic {auth}"}).json()
        assert doc.get("error"), doc
        assert not doc.get("data")
