"""The audit log (docs/governance.md, "Audit log"): every statement over HTTP, the PostgreSQL
protocol and the Trino protocol leaves one record in the history store (SQLite) with who sent
it, from where, what it touched and how it ended; refused statements too; no literal from the
SQL or parameter value reaches it; the file outlives a restart; GET /v1/audit is for the admin
group only.

Records are read from the SQLite file itself (as an administrator's sqlite3 shell would), since
GET /v1/audit needs an authenticated administrator."""
from __future__ import annotations

import json
import sqlite3
import time

import psycopg
import pytest
import requests

from conftest import TEST_USERS, start_router, stop_router

# Words that appear only as literals or parameter values in the statements below: none may reach
# the audit log.
SECRETS = ["HTTP-SECRET-LITERAL", "PG-PARAM-SECRET", "TRINO-SECRET", "SYNTAX-SECRET", "DENIED-SECRET", "CAST-SECRET",
           "4711", "COMMENT-SECRET"]

RULES = {
    "tables": [
        {"group": "admins", "privileges": ["SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP"]},
        {"user": "tester", "schema": "tpch", "table": "customer", "privileges": []},
        {"user": "tester", "schema": "tpch", "table": "supplier", "privileges": ["SELECT"], "filter": "s_nationkey < 5",
         "columns": [{"name": "s_phone", "mask": "'***'"}, {"name": "s_acctbal", "allow": False}]},
        {"user": "(tester|anonymous)", "privileges": ["SELECT"]},
    ],
}


def config(work):
    return {"governance": {"rules_file": str(work / "rules.json"), "admin_group": "admins"},
            "history": {"path": str(work / "state" / "audit.db"), "audit_retention_days": 30}}


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    w = tmp_path_factory.mktemp("audit")
    (w / "rules.json").write_text(json.dumps(RULES))
    return w


@pytest.fixture(scope="module")
def audited(lake_dir, work):
    r = start_router(lake_dir, work, config(work))
    yield r
    stop_router(r)


def db_rows(work, where="1=1", params=(), expect=1, timeout=10.0):
    """Audit records matching `where`, once at least `expect` exist (the writer is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        con = sqlite3.connect(work / "state" / "audit.db")
        con.row_factory = sqlite3.Row
        try:
            rows = [dict(r) for r in con.execute(f"SELECT * FROM audit WHERE {where} ORDER BY id", params)]
        finally:
            con.close()
        if len(rows) >= expect or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def pg(r, user):
    return psycopg.connect(host="127.0.0.1", port=r.pg_port, user=user, password=TEST_USERS[user][0], dbname="lake",
                           sslmode="disable", connect_timeout=10, autocommit=True)


def creds(user):
    return (user, TEST_USERS[user][0])


def trino(r, user, sql):
    h = {"X-Trino-User": user}
    doc = requests.post(r.url("/v1/statement"), data=sql.encode(), headers=h, auth=creds(user), timeout=30).json()
    rows = []
    while True:
        rows += doc.get("data") or []
        if doc.get("error") or not doc.get("nextUri"):
            return rows, doc.get("error")
        doc = requests.get(doc["nextUri"], headers=h, auth=creds(user), timeout=30).json()


def test_statements_on_every_protocol_are_recorded(audited, work):
    r = audited.post("/v1/query", auth=creds("tester"), headers={"Content-Type": "application/json"}, data=json.dumps(
        {"sql": "SELECT n_name FROM tpch.nation WHERE n_name <> 'HTTP-SECRET-LITERAL' AND n_nationkey < 3"}))
    assert r.status_code == 200, r.text
    assert r.json()["row_count"] == 3
    http_id = r.headers["X-Lakerouter-Query-Id"]
    with pg(audited, "tester") as c:
        assert c.execute("SELECT count(*) FROM tpch.region WHERE r_name <> %s", ["PG-PARAM-SECRET"]).fetchone()[0] == 5
    (h,) = db_rows(work, "query_id = ?", (http_id,))
    assert h["user"] == "tester" and h["frontend"] == "http"
    assert h["source_address"].startswith("127.0.0.1")
    assert json.loads(h["tables"]) == ["tpch.nation"]
    assert h["rows"] == 3 and h["outcome"] == "ok" and h["error_code"] == ""
    assert h["engine"] == "duckdb" and h["kind"] == "SELECT" and len(h["fingerprint"]) == 16
    assert h["decision"].startswith("duckdb (")
    assert json.loads(h["policies"]) == {"tables": [{"table": "tpch.nation", "governed": False, "filter": False,
                                                     "masks": [], "hidden": []}]}
    assert h["elapsed_ms"] > 0
    assert h["ts"].endswith("Z") and h["ts"][10] == "T" and len(h["ts"]) == 24  # 2024-05-01T10:00:00.123Z

    (p,) = db_rows(work, "frontend = 'pgwire' AND \"tables\" = '[\"tpch.region\"]'")
    assert p["user"] == "tester" and json.loads(p["groups"]) == ["analysts"]
    assert p["source_address"].startswith("127.0.0.1")
    assert p["rows"] == 1 and p["outcome"] == "ok"


def test_the_policies_applied_to_a_governed_table_are_recorded(audited, work):
    with pg(audited, "tester") as c:
        rows = c.execute("SELECT s_suppkey, s_phone FROM tpch.supplier ORDER BY s_suppkey").fetchall()
    assert rows and all(phone == "***" for _, phone in rows)
    (p,) = db_rows(work, "frontend = 'pgwire' AND \"tables\" = '[\"tpch.supplier\"]'")
    assert p["outcome"] == "ok" and p["rows"] == len(rows) and p["engine"] == "duckdb"
    assert json.loads(p["policies"]) == {"tables": [{"table": "tpch.supplier", "governed": True, "rule": 3,
                                                     "filter": True, "masks": ["s_phone"], "hidden": ["s_acctbal"]}]}


def test_trino_protocol_statements_are_recorded(audited, work):
    rows, error = trino(audited, "tester",
                        "SELECT r_name FROM tpch.region WHERE r_regionkey < 2 AND r_comment <> 'TRINO-SECRET'")
    assert error is None and len(rows) == 2
    (t,) = db_rows(work, "frontend = 'trino' AND outcome = 'ok'")
    assert t["user"] == "tester" and json.loads(t["tables"]) == ["tpch.region"]
    assert t["rows"] == 2 and t["source_address"].startswith("127.0.0.1")


def test_refused_and_failed_statements_are_recorded(audited, work):
    before = len(db_rows(work, expect=0))
    r = audited.post("/v1/query", auth=creds("tester"), headers={"Content-Type": "application/json"},
                     data=json.dumps({"sql": "SELEC 'SYNTAX-SECRET' FROM tpch.nation"}))
    assert r.status_code == 400 and r.json()["error"]["code"] == "SYNTAX_ERROR", r.text
    with pg(audited, "tester") as c:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("SELECT c_name FROM tpch.customer WHERE c_name = 'DENIED-SECRET' /* COMMENT-SECRET */")
        with pytest.raises(psycopg.Error):
            c.execute("SELECT CAST('CAST-SECRET' AS INTEGER) + 4711 FROM tpch.nation")
    new = db_rows(work, "id > ?", (before,), expect=3)[-3:]
    syntax, denied, failed = sorted(new, key=lambda row: row["id"])
    assert syntax["outcome"] == "refused" and syntax["error_code"] == "SYNTAX_ERROR"
    assert syntax["frontend"] == "http" and syntax["engine"] == "" and syntax["rows"] == 0
    assert syntax["fingerprint"] == ""  # the text does not parse: nothing to hash but the text, which stays out

    assert denied["outcome"] == "refused" and denied["error_code"] == "PERMISSION_DENIED"
    assert denied["user"] == "tester" and json.loads(denied["tables"]) == ["tpch.customer"]
    assert "may not read tpch.customer" in denied["error_message"]
    assert "may not read tpch.customer" in json.loads(denied["policies"])["denied"]

    assert failed["outcome"] == "failed" and failed["engine"] == "duckdb"
    assert failed["error_code"] == "CONVERSION_ERROR", failed


def test_no_literal_or_parameter_reaches_the_audit_log(audited, work):
    db_rows(work, expect=7)
    con = sqlite3.connect(work / "state" / "audit.db")
    try:
        dump = "\n".join(con.iterdump())
    finally:
        con.close()
    assert "tpch.customer" in dump  # the dump is the audit log
    leaked = [s for s in SECRETS if s in dump]
    assert not leaked, leaked


def test_the_audit_api_is_for_administrators_only(audited, work):
    r = audited.get("/v1/audit", auth=creds("tester"))  # analysts, not admins
    assert r.status_code == 403, r.text
    doc = r.json()
    assert doc["error"]["code"] == "PERMISSION_DENIED"
    assert "audit log" in doc["error"]["message"] and "'admins' (governance.admin_group)" in doc["error"]["message"]
    admin = creds("admin")
    r = audited.get("/v1/audit?user=tester&outcome=refused&limit=10", auth=admin)
    assert r.status_code == 200, r.text
    records = r.json()["records"]
    assert records and all(x["user"] == "tester" and x["outcome"] == "refused" for x in records)
    assert [x["id"] for x in records] == sorted((x["id"] for x in records), reverse=True)  # newest first
    r = audited.get("/v1/audit?outcome=PERMISSION_DENIED&since=2000-01-01T00:00:00Z", auth=admin)
    assert r.status_code == 200 and all(x["error_code"] == "PERMISSION_DENIED" for x in r.json()["records"])
    r = audited.get("/v1/audit?until=2000-01-01", auth=admin)
    assert r.status_code == 200 and r.json()["records"] == []
    for bad in ["limit=0", "limit=10001", "since=yesterday", "colour=red", "outcome=bogus", "before_id=0",
                "until=9999-12-31", "since=1600-01-01"]:
        r = audited.get("/v1/audit?" + bad, auth=admin)
        assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_REQUEST", (bad, r.text)


def test_the_audit_api_pages_by_id(audited, work):
    admin = creds("admin")
    seen, before_id = [], None
    while True:
        r = audited.get("/v1/audit?limit=2" + (f"&before_id={before_id}" if before_id else ""), auth=admin)
        assert r.status_code == 200, r.text
        doc = r.json()
        seen += [x["id"] for x in doc["records"]]
        before_id = doc["next_before_id"]
        if before_id is None:
            break
        assert before_id == doc["records"][-1]["id"]
    assert seen == sorted((x["id"] for x in db_rows(work, expect=0)), reverse=True)  # every record, once


def test_front_end_refusals_are_recorded_and_describe_probes_are_not(audited, work):
    before = db_rows(work, expect=0)[-1]["id"]
    with pg(audited, "tester") as c:
        with pytest.raises(psycopg.errors.SyntaxError):
            c.execute("SELEC 1")  # simple Query message
        with pytest.raises(psycopg.errors.SyntaxError):
            c.execute("SELEC %s", [1])  # extended protocol: Parse
        # Server-side prepared: Parse, Describe (lakerouter probes the result's columns), Bind, Execute.
        assert c.execute("SELECT n_name FROM tpch.nation WHERE n_nationkey = %s", [7], prepare=True).fetchone()
    rows, error = trino(audited, "tester", "PREPARE p FROM SELEC 1")
    assert error and error["errorName"] == "SYNTAX_ERROR", error
    new = db_rows(work, "id > ?", (before,), expect=4)
    syntax = [x for x in new if x["error_code"] == "SYNTAX_ERROR"]
    assert sorted(x["frontend"] for x in syntax) == ["pgwire", "pgwire", "trino"], new
    assert all(x["outcome"] == "refused" and x["user"] == "tester" for x in syntax)
    nation = [x for x in new if x["tables"] == '["tpch.nation"]']
    assert len(nation) == 1 and nation[0]["rows"] == 1 and nation[0]["outcome"] == "ok", nation


def test_the_log_outlives_a_restart(audited, lake_dir, work):
    before = db_rows(work, expect=7)
    stop_router(audited)
    r = start_router(lake_dir, work, config(work))
    try:
        with pg(r, "tester") as c:
            assert c.execute("SELECT count(*) FROM tpch.nation").fetchone()[0] == 25
        after = db_rows(work, "frontend = 'pgwire' AND id > ?", (before[-1]["id"],))
        assert [x["rows"] for x in after] == [1]
        everything = db_rows(work)
        assert everything[:len(before)] == before  # nothing rewritten
        con = sqlite3.connect(work / "state" / "audit.db")
        try:
            assert con.execute("SELECT max(version), count(*) FROM schema_version").fetchone() == (2, 2)
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute("UPDATE audit SET \"user\" = 'mallory'")
        finally:
            con.close()
    finally:
        stop_router(r)
