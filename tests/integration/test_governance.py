"""Governance through real clients: a rules.json policy (Trino's file-based access-control format)
decides who reads and writes which tables, is checked before any engine runs the statement, is
read again when the file changes, and a broken edit is refused while the previous policy stays.

Users: `tester` (group analysts) and `admin` (group admins) from conftest.TEST_USERS, over the
PostgreSQL protocol (psycopg) and the Trino protocol (requests, X-Trino-User)."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import time

import psycopg
import pytest
import requests

from conftest import DEFAULT_BIN, TEST_USERS, _write_config, start_router, stop_router

RULES = {
    "catalogs": [{"group": "admins", "allow": "all"}, {"user": "tester", "catalog": "postgresql", "allow": "all"},
                 {"allow": "read-only"}],
    "tables": [
        {"group": "admins", "privileges": ["SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP"]},
        {"user": "tester", "schema": "tpch", "table": "customer", "privileges": []},
        {"user": "tester", "schema": "tpch", "table": "orders", "privileges": ["SELECT"],
         "filter": "o_orderstatus = 'F'"},
        {"user": "tester", "schema": "public", "table": "lr_governance_t", "privileges": ["SELECT", "INSERT"]},
        {"user": "tester", "privileges": ["SELECT"]},
    ],
}


def write_rules(path, rules) -> None:
    # A new modification time even within the file system's timestamp granularity.
    before = path.stat().st_mtime if path.exists() else 0
    path.write_text(json.dumps(rules) if isinstance(rules, dict) else rules)
    os.utime(path, (before + 2, before + 2))


@pytest.fixture(scope="module")
def governed(lake_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("governance")
    rules = work / "rules.json"
    write_rules(rules, RULES)
    dsn = os.environ.get("LAKEROUTER_PG_DSN")
    extra = {"governance": {"rules_file": str(rules), "reload_interval_ms": 100, "allow_scripts": True}}
    if dsn:  # scripts (several statements) run on PostgreSQL
        extra["engines"] = {"postgres": {"type": "postgres", "connection": {"dsn": dsn, "pool_size": 2},
                                         "capabilities": {"owns_tables": ["public.*"]}}}
        extra["routing"] = {"tables": [{"name": "public.*", "format": "postgres"}]}
    r = start_router(lake_dir, work, extra)
    r.rules = rules
    yield r
    stop_router(r)


def pg(r, user):
    return psycopg.connect(host="127.0.0.1", port=r.pg_port, user=user, password=TEST_USERS[user][0], dbname="lake",
                           sslmode="disable", connect_timeout=10, autocommit=True)


def trino(r, user, sql):
    """Runs `sql` through the Trino protocol to the end; returns (rows, error)."""
    h = {"X-Trino-User": user}
    if user in TEST_USERS:  # the Trino protocol authenticates with Basic (docs/governance.md)
        h["Authorization"] = "Basic " + base64.b64encode(f"{user}:{TEST_USERS[user][0]}".encode()).decode()
    doc = requests.post(r.url("/v1/statement"), data=sql.encode(), headers=h, timeout=30).json()
    rows = []
    while True:
        rows += doc.get("data") or []
        if doc.get("error") or not doc.get("nextUri"):
            return rows, doc.get("error")
        doc = requests.get(doc["nextUri"], headers=h, timeout=30).json()


def test_a_permitted_read_runs_and_a_denied_one_is_refused_on_every_protocol(governed):
    with pg(governed, "tester") as c:
        assert c.execute("SELECT count(*) FROM tpch.nation").fetchone()[0] == 25
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as denied:
            c.execute("SELECT c_name FROM tpch.customer LIMIT 1")
        assert "user 'tester' may not read tpch.customer (table rule 2 of the policy applies)" in str(denied.value)
        # Through a join, a subquery or a CTE the same table is the same table.
        for sql in ["SELECT n_name FROM tpch.nation JOIN tpch.customer ON c_nationkey = n_nationkey",
                    "SELECT * FROM (SELECT * FROM tpch.customer) t",
                    "WITH c AS (SELECT * FROM tpch.customer) SELECT count(*) FROM c"]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute(sql)
    rows, error = trino(governed, "tester", "SELECT c_name FROM tpch.customer LIMIT 1")
    assert rows == [] and error["errorName"] == "PERMISSION_DENIED", error
    rows, error = trino(governed, "tester", "SELECT count(*) FROM tpch.region")
    assert error is None and rows == [[5]]
    # The admins group reads everything; a user no rule names reads nothing.
    with pg(governed, "admin") as c:
        assert c.execute("SELECT count(*) FROM tpch.customer").fetchone()[0] > 0
    rows, error = trino(governed, "nobody", "SELECT count(*) FROM tpch.region")
    assert error and error["errorName"] == "PERMISSION_DENIED"


def test_writes_are_checked_before_any_engine_sees_them(governed):
    with pg(governed, "tester") as c:
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as denied:
            c.execute("CREATE TABLE tpch.lr_governance_probe AS SELECT 1 AS x")
        assert "may not change tpch.lr_governance_probe" in str(denied.value) or \
            "may not write to tpch.lr_governance_probe" in str(denied.value)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("DROP TABLE tpch.nation")
        assert c.execute("SELECT count(*) FROM tpch.nation").fetchone()[0] == 25  # still there


def test_each_statement_of_a_script_needs_its_own_privileges(governed):
    if not os.environ.get("LAKEROUTER_PG_DSN"):
        pytest.skip("scripts run on PostgreSQL: start the test servers (scripts/services.sh start)")
    # One request with two statements (a script: pgwire would split it, the Trino protocol does not).
    # INSERT is granted on lr_governance_t; the DROP after it needs OWNERSHIP, which is not.
    rows, error = trino(governed, "tester",
                        "INSERT INTO public.lr_governance_t VALUES (1); DROP TABLE public.lr_governance_t")
    assert error and error["errorName"] == "PERMISSION_DENIED", error
    assert "may not change public.lr_governance_t: the policy does not grant OWNERSHIP" in error["message"]
    with pg(governed, "tester") as c:
        # EXPLAIN ANALYZE runs its statement: a write under it needs every write privilege.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("EXPLAIN ANALYZE DELETE FROM public.lr_governance_t")
        # Files, settings and other databases are out of reach while a policy is in force.
        for sql in ["SELECT * FROM read_csv('/etc/passwd')", "ATTACH ':memory:' AS other",
                    "SELECT * FROM query_table('tpch.customer')", "PRAGMA database_list"]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not (run for|available to) clients"):
                c.execute(sql)
        # SET over pgwire is a client setting of the session (docs/pgwire.md): it never reaches DuckDB.
        c.execute("SET threads = 1")


def test_a_row_filter_is_enforced_on_duckdb(governed):
    # DuckDB runs the statement rewritten so that it applies the filter (governance/duckdb_enforcement.h).
    with pg(governed, "admin") as c:  # no filter for admins
        total, finished = c.execute(
            "SELECT count(*), count(*) FILTER (WHERE o_orderstatus = 'F') FROM tpch.orders").fetchone()
    assert 0 < finished < total
    with pg(governed, "tester") as c:
        assert c.execute("SELECT count(*) FROM tpch.orders").fetchone()[0] == finished
        assert c.execute("SELECT DISTINCT o_orderstatus FROM tpch.orders").fetchall() == [("F",)]
        # A write reading the governed table is not a query DuckDB can apply the filter to.
        with pytest.raises(psycopg.Error) as refused:
            c.execute("CREATE TABLE lr_governance_copy AS SELECT * FROM tpch.orders")
        assert "refused" not in str(refused.value) or "governed" in str(refused.value)


def test_a_changed_policy_takes_effect_and_a_broken_one_is_refused(governed):
    rules = json.loads(json.dumps(RULES))
    rules["tables"].pop(1)  # tester may read customer now
    write_rules(governed.rules, rules)
    deadline = time.time() + 10
    while True:
        rows, error = trino(governed, "tester", "SELECT count(*) FROM tpch.customer")
        if error is None or time.time() > deadline:
            break
        time.sleep(0.1)
    assert error is None and rows[0][0] > 0
    write_rules(governed.rules, '{"tables": [{"user": "tester", "privileges": ["SELEKT"]}]}')
    deadline = time.time() + 10
    while "is refused" not in governed.stderr_path.read_text() and time.time() < deadline:
        time.sleep(0.1)
    log = governed.stderr_path.read_text()
    assert "the changed policy is refused, the previous one stays in force" in log
    assert "tables[0].privileges[0]: expected one of SELECT" in log
    rows, error = trino(governed, "tester", "SELECT count(*) FROM tpch.customer")  # the previous policy
    assert error is None and rows[0][0] > 0
    write_rules(governed.rules, RULES)  # back, for the other tests of the module
    deadline = time.time() + 10
    while trino(governed, "tester", "SELECT count(*) FROM tpch.customer")[1] is None and time.time() < deadline:
        time.sleep(0.1)


def test_a_policy_with_mistakes_stops_the_start(lake_dir, tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text('{"tables": [{"user": "tester", "privileges": ["SELECT"], "filtr": "x = 1"}]}')
    config = tmp_path / "bad.yaml"
    _write_config(config, lake_dir, {"governance": {"rules_file": str(rules)}})
    binary = os.environ.get("LAKEROUTER_BIN") or str(DEFAULT_BIN)
    out = subprocess.run([binary, "check-config", str(config)], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert f"{rules}: tables[0]: unknown key 'filtr'" in out.stderr + out.stdout
