"""lakerouter's PostgreSQL wire protocol with real clients: psql (the binary on PATH) and
psycopg 3, over plain TCP and TLS, with SCRAM-SHA-256 and cleartext passwords.

Covers: queries and catalog commands in psql (\\d, \\dt, \\copy), psycopg's simple and extended
protocols with typed parameters in text and binary, authentication failures (28P01), TLS,
CancelRequest (57014), SET lakerouter.explain notices, several statements in one Query, errors
that keep the connection usable, and a point lookup routed to PostgreSQL.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import subprocess
import threading
import time
from decimal import Decimal

import psycopg
import pytest

from conftest import TEST_USERS, start_router, stop_router

PSQL = shutil.which("psql")
PG_DSN = os.environ.get("LAKEROUTER_PG_DSN")
USER, PASSWORD = "tester", TEST_USERS["tester"][0]


def dsn(r, user=USER, password=PASSWORD, **kw) -> str:
    parts = {"host": "127.0.0.1", "port": r.pg_port, "user": user, "password": password, "dbname": "lake",
             "sslmode": "disable", "connect_timeout": 10}
    parts.update(kw)
    return " ".join(f"{k}={v}" for k, v in parts.items())


@pytest.fixture(scope="module")
def pg_router(lake_dir, tmp_path_factory):
    r = start_router(lake_dir, tmp_path_factory.mktemp("pgwire"))
    try:
        yield r
    finally:
        stop_router(r)


@pytest.fixture()
def conn(pg_router):
    with psycopg.connect(dsn(pg_router), autocommit=True) as c:
        yield c


def psql(r, *args, check=True, env_extra=None):
    assert PSQL, "psql not on PATH"
    env = dict(os.environ, PGPASSWORD=PASSWORD, PGSSLMODE="disable", PGCONNECT_TIMEOUT="10")
    env.update(env_extra or {})
    p = subprocess.run([PSQL, "-h", "127.0.0.1", "-p", str(r.pg_port), "-U", USER, "-d", "lake", "-X",
                        "-v", "ON_ERROR_STOP=1", *args], capture_output=True, text=True, env=env, timeout=120)
    if check:
        assert p.returncode == 0, f"psql failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    return p


# --- psql ---------------------------------------------------------------------------------------

def test_psql_query(pg_router):
    out = psql(pg_router, "-A", "-t", "-c", "SELECT count(*) FROM tpch.nation").stdout.strip()
    assert out == "25"


DEMO_TABLES = [("tpch", "nation"), ("tpch", "lineitem"), ("tpch_parquet", "customer"), ("tpch_iceberg", "orders"),
               ("tpch_events", "orders_by_year")]


def test_psql_describe_commands(pg_router):
    # Lake tables are views inside DuckDB; lakerouter shows them as tables (docs/pgwire.md). DuckDB
    # sees every schema as visible, so both commands list all of them.
    for command in ("\\dt", "\\d"):
        out = psql(pg_router, "-A", "-t", "-c", command).stdout
        rows = out.splitlines()
        for schema, name in DEMO_TABLES:
            assert f"{schema}|{name}|table|lakerouter" in rows, (command, out)


def test_psql_copy_csv_matches_http(pg_router, tmp_path):
    query = "SELECT n_nationkey, n_name, n_regionkey FROM tpch.nation ORDER BY n_nationkey"
    target = tmp_path / "nation.csv"
    psql(pg_router, "-c", f"\\copy ({query}) TO '{target}' WITH CSV HEADER")
    with open(target, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["n_nationkey", "n_name", "n_regionkey"]
    body = pg_router.query_ok(query)
    http_rows = [[str(v) for v in row] for row in body["rows"]]
    assert rows[1:] == http_rows


def test_copy_table_text_format_and_refusals(pg_router):
    # COPY table TO STDOUT in PostgreSQL's default text format (tab, \N for NULL).
    out = psql(pg_router, "-c", "COPY tpch.nation (n_nationkey, n_name) TO STDOUT").stdout
    lines = out.splitlines()
    assert len(lines) == 25 and lines[0].split("\t")[0] == "0", out
    for statement in ("COPY tpch.nation FROM STDIN", "COPY tpch.nation TO '/tmp/lakerouter_copy_h4.csv'"):
        res = psql(pg_router, "-c", statement, check=False)
        assert res.returncode != 0 and "not supported" in res.stderr, res.stderr


# --- psycopg ------------------------------------------------------------------------------------

def test_simple_protocol_multiple_statements(pg_router):
    # A ClientCursor interpolates on the client and sends one Query message.
    with psycopg.connect(dsn(pg_router), autocommit=True, cursor_factory=psycopg.ClientCursor) as c:
        cur = c.execute("SELECT 1 AS a; SELECT 'x' AS b, 2.5::DOUBLE AS c")
        assert cur.fetchall() == [(1,)]
        assert cur.nextset()
        assert cur.fetchall() == [("x", 2.5)]
        # An error stops the rest of the Query, and the connection stays usable.
        with pytest.raises(psycopg.errors.UndefinedTable):
            c.execute("SELECT 1; SELECT * FROM missing_table; SELECT 3")
        assert c.execute("SELECT 4").fetchone() == (4,)
        cur = c.execute("SELECT n_name FROM tpch.nation WHERE n_nationkey = %s", (3,))
        assert cur.fetchall() == [("CANADA",)]


@pytest.mark.parametrize("binary", [False, True])
def test_extended_protocol_typed_parameters(conn, binary):
    cur = conn.cursor(binary=binary)
    cur.execute(
        "SELECT %s::INTEGER AS i, %s::VARCHAR AS t, %s::DECIMAL(10,2) AS n, %s::DATE AS d, "
        "%s::TIMESTAMP AS ts, %s::BOOLEAN AS b, %s::BLOB AS bl, %s::INTEGER AS nul, 1.5::DOUBLE AS f",
        (42, "héllo", Decimal("12345.67"), dt.date(2024, 2, 29), dt.datetime(2024, 2, 29, 13, 45, 1, 123456),
         True, b"\xde\xad\x00", None))
    row = cur.fetchone()
    assert row == (42, "héllo", Decimal("12345.67"), dt.date(2024, 2, 29),
                   dt.datetime(2024, 2, 29, 13, 45, 1, 123456), True, b"\xde\xad\x00", None, 1.5)


def test_extended_protocol_against_lake(conn):
    cur = conn.execute("SELECT n_name, n_regionkey FROM tpch.nation WHERE n_nationkey = %s AND n_name <> %s",
                       (7, "nobody"))
    assert cur.fetchall() == [("GERMANY", 3)]


def test_timestamptz_and_nan(conn):
    cur = conn.execute("SELECT TIMESTAMPTZ '2024-01-02 03:04:05+00' AS t, 'NaN'::DOUBLE AS n")
    t, n = cur.fetchone()
    assert t == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert n != n


def test_wrong_password_and_unknown_user(pg_router):
    for user, password in ((USER, "wrong"), ("nobody", "whatever")):
        with pytest.raises(psycopg.OperationalError) as e:
            psycopg.connect(dsn(pg_router, user=user, password=password))
        assert "28P01" in str(e.value) or "password authentication failed" in str(e.value)
        assert f'password authentication failed for user "{user}"' in str(e.value)


def test_error_keeps_connection_usable(conn):
    with pytest.raises(psycopg.errors.UndefinedTable):
        conn.execute("SELECT * FROM no_such_table")
    with pytest.raises(psycopg.errors.SyntaxError) as e:
        conn.execute("SELEC 1")
    assert e.value.diag.statement_position is not None
    assert conn.execute("SELECT 1").fetchone() == (1,)


def test_set_show_and_explain_notice(conn):
    notices = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary))
    conn.execute("SET lakerouter.explain = on")
    assert conn.execute("SHOW lakerouter.explain").fetchone() == ("on",)
    conn.execute("SELECT count(*) FROM tpch.region")
    assert any("duckdb" in n for n in notices), notices
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        conn.execute("SET client_encoding = 'LATIN1'")
    assert conn.execute("SHOW TimeZone").fetchone() == ("UTC",)


def test_version_and_catalog_functions(conn):
    v = conn.execute("SELECT version()").fetchone()[0]
    assert v.startswith("PostgreSQL") and "lakerouter" in v
    assert conn.execute("SELECT current_schema()").fetchone()[0]


def test_transaction_block_reads_ok_writes_refused(pg_router):
    with psycopg.connect(dsn(pg_router)) as c:  # not autocommit: psycopg sends BEGIN
        assert c.execute("SELECT 1").fetchone() == (1,)
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            c.execute("CREATE TABLE pgwire_t AS SELECT 1")
        c.rollback()
        assert c.execute("SELECT 2").fetchone() == (2,)


def test_cancel_request(conn):
    result = {}

    def run():
        try:
            conn.execute("SELECT count(*) FROM range(10000000000)")
            result["ok"] = True
        except Exception as e:  # noqa: BLE001
            result["error"] = e

    t = threading.Thread(target=run)
    t.start()
    time.sleep(1.0)
    start = time.monotonic()
    conn.cancel()
    t.join(30)
    assert not t.is_alive()
    assert isinstance(result.get("error"), psycopg.errors.QueryCanceled), result
    assert time.monotonic() - start < 10
    assert conn.execute("SELECT 1").fetchone() == (1,)


# --- TLS ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl CLI not available")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "key.pem"),
                    "-out", str(d / "cert.pem"), "-days", "2", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


@pytest.mark.parametrize("auth", ["scram-sha-256", "password"])
def test_tls(lake_dir, tmp_path_factory, tls_files, auth):
    cert, key = tls_files
    r = start_router(lake_dir, tmp_path_factory.mktemp("pgtls"),
                     pgwire={"host": "127.0.0.1", "port": 0, "tls_cert": str(cert), "tls_key": str(key),
                             "auth": auth, "require_tls": auth == "password"})
    try:
        with psycopg.connect(dsn(r, sslmode="require"), autocommit=True) as c:
            assert c.pgconn.ssl_in_use
            assert c.execute("SELECT count(*) FROM tpch.region").fetchone() == (5,)
    finally:
        stop_router(r)


# --- routing to PostgreSQL ----------------------------------------------------------------------

@pytest.mark.skipif(not PG_DSN, reason="LAKEROUTER_PG_DSN unset (start the test servers)")
def test_point_lookup_routed_to_postgres(lake_dir, tmp_path_factory):
    extra = {
        "engines": {"postgres": {"type": "postgres", "connection": {"dsn": "${LAKEROUTER_PG_DSN}", "pool_size": 2},
                                 "capabilities": {"owns_tables": ["public.*"]}}},
        "routing": {"default_engine": "duckdb",
                    "tables": [{"name": "public.*", "format": "postgres", "key_columns": ["id"]}],
                    "rules": [{"name": "point-lookups", "match": {"point_lookup": True},
                               "route": ["postgres", "duckdb"]}]},
    }
    r = start_router(lake_dir, tmp_path_factory.mktemp("pgroute"), extra)
    try:
        with psycopg.connect(PG_DSN, autocommit=True) as direct:
            direct.execute("CREATE TABLE IF NOT EXISTS public.pgwire_items (id integer primary key, name text)")
            direct.execute("INSERT INTO public.pgwire_items VALUES (1, 'one') ON CONFLICT (id) DO NOTHING")
        notices = []
        with psycopg.connect(dsn(r), autocommit=True) as c:
            c.add_notice_handler(lambda d: notices.append(d.message_primary))
            c.execute("SET lakerouter.explain = on")
            row = c.execute("SELECT id, name FROM public.pgwire_items WHERE id = %s", (1,)).fetchone()
            assert row == (1, "one")
            assert any("postgres" in n for n in notices), notices
    finally:
        stop_router(r)
