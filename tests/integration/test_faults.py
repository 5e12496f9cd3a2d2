"""Faults of the real engines, against the PostgreSQL and Trino servers of scripts/services.sh.

These tests stop, kill and restart those servers, so they are marked ``disruptive`` and run after
every other test of the session (conftest.py); at the end both servers are up again, on the same
ports. Each test runs its own lakerouter. What they prove:

1. A Trino that is down when a read-only statement is routed to it: the statement fails over to
   DuckDB with the right rows, and the decision shows both attempts and FAILED_OVER.
2. Trino killed (SIGKILL) while a statement streams from it: the client gets ENGINE_UNAVAILABLE,
   naming Trino, within seconds; the circuit breaker opens (GET /ready); once Trino is started
   again, the breaker closes by itself (health check, then one probe statement) and statements
   run on Trino again, with the same lakerouter process.
3. PostgreSQL restarted (fast shutdown) under a warm connection pool: the very first statement
   afterwards succeeds, a write included, and runs exactly once.
4. Cancellation, by the request's timeout_ms and by the client closing its connection, stops the
   statement on the engine itself within 2 s: Trino (system.runtime.queries), PostgreSQL
   (pg_stat_activity), and DuckDB (its single worker and connection are free again).

The server-side checks use the engines' own clients: Trino's REST protocol, and psql.
One Trino restart in all (20-40 s): the kill of 2 leaves it down for 1, and 2 starts it again.
Trino's own statement timeout (lakerouter passes timeout_ms as query_max_run_time) races
lakerouter's cancel in 4a; Trino's query list tells which won (USER_CANCELED: lakerouter's).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

from conftest import ROOT, Router, extension_dir, start_router, stop_router

PG_DSN = os.environ.get("LAKEROUTER_PG_DSN")
TRINO_URL = os.environ.get("LAKEROUTER_TRINO_URL")
SERVICES = ROOT / "scripts" / "services.sh"
PSQL = "/usr/lib/postgresql/15/bin/psql"

pytestmark = [
    pytest.mark.disruptive,
    pytest.mark.skipif(not (PG_DSN and TRINO_URL),
                       reason="start the test servers: eval \"$(scripts/services.sh start)\""),
]

STOP_WITHIN_S = 2.0         # the bound: a cancelled statement leaves the engine within 2 s
NO_HANG_S = 10.0            # an engine dying must not leave a client waiting longer than this
TRINO_START_TIMEOUT_S = 240
RUNNING = {"QUEUED", "WAITING_FOR_RESOURCES", "DISPATCHING", "PLANNING", "STARTING", "RUNNING", "FINISHING"}

# ~60 s of work on Trino (3.6e9 row pairs through a filter that is no equi-join), ~10 s and more
# on DuckDB; the tag is a unique marker to find the statement in the engine's query list.
LONG_JOIN = ("SELECT count(*) AS n, '{tag}' AS tag FROM tpch.lineitem a CROSS JOIN tpch.lineitem b "
             "WHERE a.l_partkey + b.l_partkey = -1")


def new_tag() -> str:
    return "lrfault_" + uuid.uuid4().hex[:12]


def split_tag(tag: str) -> str:
    """A SQL expression equal to `tag` whose own text does not contain it, so that the query
    looking for the tag in an engine's query list does not find itself."""
    return f"'{tag[:6]}' || '{tag[6:]}'"


def wait_for(what: str, probe: Callable[[], Any], timeout: float, interval: float = 0.05) -> tuple[Any, float]:
    """Polls `probe` until it returns something truthy; returns it and the time it took."""
    t0 = time.monotonic()
    while True:
        value = probe()
        if value:
            return value, time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


# --- the servers ------------------------------------------------------------------------------

def services(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(SERVICES), *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def services_ok(*args: str, timeout: float = 60) -> str:
    p = services(*args, timeout=timeout)
    assert p.returncode == 0, f"services.sh {' '.join(args)} failed ({p.returncode}):\n{p.stderr[-3000:]}"
    return p.stdout


def services_env(stdout: str) -> dict[str, str]:
    env = {}
    for line in stdout.splitlines():
        key, sep, value = line.removeprefix("export ").partition("=")
        if sep:
            env[key] = value
    return env


@pytest.fixture(scope="module", autouse=True)
def servers():
    """The servers' addresses, checked to be the ones this run points at (LAKEROUTER_RUN), so
    that no test disturbs someone else's; on teardown both are up again on the same ports."""
    status = services("status")
    if status.returncode != 0:
        pytest.skip(f"the test servers of this run directory are not both up:\n{status.stderr}")
    env = services_env(status.stdout)
    if env.get("LAKEROUTER_TRINO_URL") != TRINO_URL or env.get("LAKEROUTER_PG_DSN") != PG_DSN:
        pytest.skip("LAKEROUTER_RUN names other servers than LAKEROUTER_PG_DSN / LAKEROUTER_TRINO_URL; "
                    "set both from the same services.env")
    yield env
    # Whatever happened: both servers up and ready again (start reuses what runs).
    after = services_env(services_ok("start", "--lake", env["LAKEROUTER_SERVICES_LAKE"],
                                     timeout=TRINO_START_TIMEOUT_S))
    assert after["LAKEROUTER_TRINO_URL"] == TRINO_URL and after["LAKEROUTER_PG_DSN"] == PG_DSN, after


def trino_up() -> bool:
    try:
        with requests.Session() as s:
            s.trust_env = False
            return s.get(TRINO_URL + "/v1/info", timeout=2).json().get("starting") is False
    except (requests.RequestException, ValueError):
        return False


def trino_rows(sql: str, timeout: float = 30) -> list[list]:
    """Runs one statement on Trino through its REST protocol; its rows."""
    headers = {"X-Trino-User": "lakerouter-tests"}
    deadline = time.monotonic() + timeout
    with requests.Session() as s:
        s.trust_env = False
        doc = s.post(TRINO_URL + "/v1/statement", data=sql.encode(), headers=headers, timeout=10).json()
        rows: list[list] = []
        while True:
            if "error" in doc:
                raise AssertionError(f"Trino: {doc['error'].get('errorName')}: {doc['error'].get('message')}")
            rows += doc.get("data") or []
            if not doc.get("nextUri"):
                return rows
            if time.monotonic() > deadline:
                s.delete(doc["nextUri"], headers=headers, timeout=5)
                raise AssertionError(f"Trino did not answer {sql!r} within {timeout:g} s")
            doc = s.get(doc["nextUri"], headers=headers, timeout=10).json()


def trino_queries(tag: str) -> list[tuple[str, str, str]]:
    """(query_id, state, error_code) of Trino's queries whose text holds `tag`."""
    rows = trino_rows("SELECT query_id, state, coalesce(error_code, '') FROM system.runtime.queries "
                      f"WHERE strpos(query, {split_tag(tag)}) > 0")
    return [tuple(r) for r in rows]


def trino_running(tag: str) -> list[str]:
    return [qid for qid, state, _ in trino_queries(tag) if state in RUNNING]


def trino_kill_query(tag: str) -> None:
    """Clean-up after a failed check: nothing of ours may keep Trino's two cores busy."""
    for qid in trino_running(tag):
        try:
            trino_rows(f"CALL system.runtime.kill_query(query_id => '{qid}', message => 'test clean-up')")
        except AssertionError:
            pass


def psql(sql: str) -> list[list[str]]:
    p = subprocess.run([PSQL, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-F", "\t", "-d", PG_DSN, "-c", sql],
                       capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, f"psql failed: {p.stderr}"
    return [line.split("\t") for line in p.stdout.splitlines() if line]


def pg_active(tag: str) -> list[str]:
    """Backend pids running a statement whose text holds `tag`."""
    rows = psql("SELECT pid FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
                f"AND strpos(query, {split_tag(tag)}) > 0")
    return [r[0] for r in rows]


def pg_cancel(tag: str) -> None:
    psql(f"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE strpos(query, {split_tag(tag)}) > 0 "
         "AND pid <> pg_backend_pid()")


# --- lakerouter -------------------------------------------------------------------------------

ENGINES = {
    "postgres": {"type": "postgres", "connection": {"dsn": "${LAKEROUTER_PG_DSN}", "pool_size": 4},
                 "capabilities": {"owns_tables": ["public.*"]}},
    "trino": {"type": "trino", "connection": {"url": "${LAKEROUTER_TRINO_URL}", "catalog": "delta"}},
}
PG_TABLES = {"tables": [{"name": "public.*", "format": "postgres", "key_columns": ["id"]}]}


def router_config(*, duckdb_pool: int | None = None) -> dict:
    config: dict[str, Any] = {"engines": dict(ENGINES), "routing": PG_TABLES}
    if duckdb_pool:
        config["engines"]["duckdb"] = {"pool_size": duckdb_pool, "threads": 2, "extension_directory": extension_dir()}
    return config


def start(lake: Path, work: Path, *, monitor: dict | None = None, workers: int = 8, duckdb_pool: int | None = None,
          query_timeout_ms: int = 30000) -> Router:
    server: dict[str, Any] = {
        "query_timeout_ms": query_timeout_ms,
        "http": {"host": "127.0.0.1", "port": 0, "worker_threads": workers},
    }
    if monitor is not None:
        server["engine_monitor"] = monitor
    return start_router(lake, work, router_config(duckdb_pool=duckdb_pool), **server)


def send_query(r: Router, body: dict) -> socket.socket:
    """Sends POST /v1/query on a raw connection and returns it, unread."""
    data = json.dumps(body).encode()
    s = socket.create_connection((r.host, r.port), timeout=10)
    s.sendall(b"POST /v1/query HTTP/1.1\r\nHost: lakerouter\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
    return s


def close_unanswered(conn: socket.socket) -> float:
    """Closes the client's side of a request that has had no answer yet; returns when."""
    conn.setblocking(False)
    try:
        early = conn.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        early = None
    assert early is None, "lakerouter answered before the client went away: nothing to cancel"
    conn.close()
    return time.monotonic()


class InBackground:
    """Runs fn() on a thread; .result() waits for it (bounded) and re-raises its exception."""

    def __init__(self, fn: Callable[[], Any]):
        self._value: Any = None
        self._error: BaseException | None = None
        self.finished_at: float | None = None

        def run():
            try:
                self._value = fn()
            except BaseException as e:  # noqa: BLE001 - handed to the test thread
                self._error = e
            self.finished_at = time.monotonic()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def result(self, timeout: float) -> Any:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"the request did not return within {timeout:g} s"
        if self._error:
            raise self._error
        return self._value


def circuit(r: Router, engine: str) -> tuple[str, bool]:
    e = r.get("/ready", timeout=15).json()["engines"][engine]
    return e.get("circuit", "?"), e["ready"]


# --- 4. cancellation stops the statement on the engine ------------------------------------------

@pytest.fixture
def cancel_router(lake_dir, tmp_path):
    # One worker and one DuckDB connection: a statement that is not stopped blocks the next one.
    r = start(lake_dir, tmp_path / "work", monitor={"health_check_interval_ms": 0}, workers=1, duckdb_pool=1,
              query_timeout_ms=20000)
    try:
        yield r
    finally:
        stop_router(r)


def expect_stops(what: str, running: Callable[[], list], since: float) -> float:
    """Waits (bounded) until `running()` is empty; asserts that took at most STOP_WITHIN_S from
    `since`; returns the time from `since`."""
    wait_for(f"{what} to stop", lambda: not running(), timeout=STOP_WITHIN_S + 10)
    took = time.monotonic() - since
    assert took <= STOP_WITHIN_S, f"{what} still ran {took:.2f} s after it was cancelled (limit {STOP_WITHIN_S} s)"
    return took


def test_timeout_stops_the_statement_on_trino(cancel_router):
    tag = new_tag()
    timeout_ms = 6000
    sent = time.monotonic()
    call = InBackground(lambda: cancel_router.query("/*+ engine(trino) */ " + LONG_JOIN.format(tag=tag),
                                                    timeout_ms=timeout_ms, timeout=60))
    try:
        wait_for("the statement to run on Trino", lambda: trino_running(tag), timeout=timeout_ms / 1000)
        r = call.result(timeout=timeout_ms / 1000 + NO_HANG_S)
        assert r.status_code == 504, r.text
        assert r.json()["error"]["code"] == "QUERY_TIMEOUT"
        took = expect_stops("the Trino query", lambda: trino_running(tag), since=sent + timeout_ms / 1000)
        print(f"trino: stopped {took:.2f} s after the deadline; answer {call.finished_at - sent:.2f} s after "
              f"sending; Trino says {trino_queries(tag)}")
    finally:
        trino_kill_query(tag)


def test_timeout_stops_the_statement_on_postgres(cancel_router):
    tag = new_tag()
    timeout_ms = 3000
    sent = time.monotonic()
    call = InBackground(lambda: cancel_router.query(f"/*+ engine(postgres) */ SELECT pg_sleep(60)::text AS slept, "
                                                    f"'{tag}' AS tag", timeout_ms=timeout_ms, timeout=60))
    try:
        wait_for("the statement to run on PostgreSQL", lambda: pg_active(tag), timeout=timeout_ms / 1000)
        r = call.result(timeout=timeout_ms / 1000 + NO_HANG_S)
        assert r.status_code == 504, r.text
        assert r.json()["error"]["code"] == "QUERY_TIMEOUT"
        took = expect_stops("the PostgreSQL statement", lambda: pg_active(tag), since=sent + timeout_ms / 1000)
        print(f"postgres: stopped {took:.2f} s after the deadline")
    finally:
        pg_cancel(tag)


def test_timeout_stops_the_statement_on_duckdb(cancel_router):
    timeout_ms = 1500
    sent = time.monotonic()
    r = cancel_router.query("/*+ engine(duckdb) */ " + LONG_JOIN.format(tag=new_tag()), timeout_ms=timeout_ms,
                            timeout=60)
    assert r.status_code == 504, r.text
    assert r.json()["error"]["code"] == "QUERY_TIMEOUT"
    # The only worker and the only DuckDB connection must be free at once.
    nxt = cancel_router.query("/*+ engine(duckdb) */ SELECT 42", timeout=30)
    took = time.monotonic() - (sent + timeout_ms / 1000)
    assert nxt.status_code == 200 and nxt.json()["rows"] == [[42]], nxt.text
    assert took <= STOP_WITHIN_S, f"DuckDB was busy {took:.2f} s after the deadline"
    print(f"duckdb: free again {took:.2f} s after the deadline")


def test_client_disconnect_stops_the_statement_on_trino(cancel_router):
    tag = new_tag()
    conn = send_query(cancel_router, {"sql": "/*+ engine(trino) */ " + LONG_JOIN.format(tag=tag)})
    try:
        wait_for("the statement to run on Trino", lambda: trino_running(tag), timeout=15)
        closed = close_unanswered(conn)
        took = expect_stops("the Trino query, after the client went away,", lambda: trino_running(tag), since=closed)
        print(f"trino: stopped {took:.2f} s after the client disconnected; Trino says {trino_queries(tag)}")
        cancel_router.assert_healthy()
    finally:
        conn.close()
        trino_kill_query(tag)


def test_client_disconnect_stops_the_statement_on_postgres(cancel_router):
    tag = new_tag()
    conn = send_query(cancel_router, {"sql": f"/*+ engine(postgres) */ SELECT pg_sleep(60)::text AS slept, "
                                             f"'{tag}' AS tag"})
    try:
        wait_for("the statement to run on PostgreSQL", lambda: pg_active(tag), timeout=15)
        closed = close_unanswered(conn)
        took = expect_stops("the PostgreSQL statement, after the client went away,", lambda: pg_active(tag),
                            since=closed)
        print(f"postgres: stopped {took:.2f} s after the client disconnected")
        cancel_router.assert_healthy()
    finally:
        conn.close()
        pg_cancel(tag)


def test_client_disconnect_stops_the_statement_on_duckdb(cancel_router):
    conn = send_query(cancel_router, {"sql": "/*+ engine(duckdb) */ " + LONG_JOIN.format(tag=new_tag())})
    try:
        time.sleep(1.0)  # running: the join takes far longer
        closed = close_unanswered(conn)
        nxt = cancel_router.query("/*+ engine(duckdb) */ SELECT 42", timeout=30)
        took = time.monotonic() - closed
        assert nxt.status_code == 200 and nxt.json()["rows"] == [[42]], nxt.text
        assert took <= STOP_WITHIN_S, f"DuckDB's only worker was busy {took:.2f} s after the client went away"
        print(f"duckdb: free again {took:.2f} s after the client disconnected")
    finally:
        conn.close()


# --- 3. PostgreSQL restarted under a warm pool ---------------------------------------------------

def test_postgres_restart_is_invisible_to_the_next_statements(lake_dir, tmp_path):
    # No health checks: one failing during the restart would open the breaker and hide what the
    # pool does (see docs/configuration.md, server.engine_monitor).
    r = start(lake_dir, tmp_path / "work", monitor={"health_check_interval_ms": 0})
    try:
        def lookup(i: int) -> dict:
            doc = r.query_ok(f"SELECT id, email FROM public.users WHERE id = {i}")
            assert doc["engine"] == "postgres", doc["routing"]
            assert doc["rows"] == [[i, f"user{i}@example.com"]]
            return doc

        # Warm the pool: four connections at once, each with the statement prepared.
        for _ in range(2):
            warm = [InBackground(lambda i=i: r.query_ok(f"/*+ engine(postgres) */ SELECT id, pg_sleep(0.3)::text "
                                                        f"FROM public.users WHERE id = {i}")) for i in range(1, 5)]
            for w in warm:
                w.result(timeout=30)
        lookup(7)
        before = {row[0] for row in psql("SELECT pid FROM pg_stat_activity WHERE application_name = 'lakerouter'")}
        assert len(before) >= 2, f"the pool holds {len(before)} connection(s)"

        services_ok("restart-postgres")
        t0 = time.monotonic()
        lookup(7)  # the very first statement after the restart
        first_s = time.monotonic() - t0
        after = {row[0] for row in psql("SELECT pid FROM pg_stat_activity WHERE application_name = 'lakerouter'")}
        assert not before & after, "the old server's connections cannot have survived a restart"
        for call in [InBackground(lambda i=i: lookup(i)) for i in range(10, 14)]:
            call.result(timeout=30)

        # A write as the first statement after a restart runs exactly once.
        services_ok("restart-postgres")
        order_id = 2_000_000 + uuid.uuid4().int % 1_000_000_000
        ins = r.query_ok(f"INSERT INTO public.orders (id, user_id, status, amount, created_at) VALUES "
                         f"({order_id}, 7, 'pending', 1.00, TIMESTAMPTZ '2026-11-23 10:00:00+00')")
        assert ins["engine"] == "postgres", ins["routing"]
        assert psql(f"SELECT count(*) FROM orders WHERE id = {order_id}") == [["1"]]
        r.query_ok(f"DELETE FROM public.orders WHERE id = {order_id}")
        print(f"postgres: first statement after the restart answered in {first_s * 1000:.0f} ms")
    finally:
        stop_router(r)


# --- 2 and 1. Trino killed mid-query, down, and back ---------------------------------------------

@pytest.fixture(scope="module")
def crash_router(lake_dir, tmp_path_factory):
    """One lakerouter for the whole crash-and-recovery sequence (it must never be restarted);
    health checks every 0.5 s so that the breaker follows Trino closely; open_for is long, so
    that only a passing health check lets a probe through (no probe races the checks below)."""
    r = start(lake_dir, tmp_path_factory.mktemp("crash"),
              monitor={"failure_threshold": 3, "open_for_ms": 30000, "health_check_interval_ms": 500})
    try:
        yield r
    finally:
        stop_router(r)


def test_trino_killed_mid_query_gives_a_clear_error_and_opens_the_breaker(crash_router, servers):
    assert circuit(crash_router, "trino") == ("closed", True)
    tag = new_tag()
    # The first branch's row comes out at once, the second runs for a minute: the client has its
    # status and first row before Trino dies, so the statement cannot fail over.
    sql = (f"/*+ engine(trino) */ SELECT 0 AS n, '{tag}' AS tag UNION ALL "
           + LONG_JOIN.format(tag=tag).replace("SELECT count(*) AS n", "SELECT count(*)"))
    with requests.Session() as s:
        s.trust_env = False
        resp = s.post(crash_router.url("/v1/query"), json={"sql": sql}, stream=True, timeout=60)
        assert resp.status_code == 200, resp.text
        wait_for("the statement to run on Trino", lambda: trino_running(tag), timeout=15)
        killed = time.monotonic()  # the kill's own time (SIGKILL, then waiting for the JVM to go) counts
        services_ok("kill-trino")
        body = resp.content  # the rest of the document: must end, promptly
        answered = time.monotonic() - killed
    doc = json.loads(body)
    assert doc["engine"] == "trino", doc
    assert doc["rows"] == [[0, tag]], doc["rows"]
    err = doc.get("error")
    assert err, f"the document ends without an error after Trino died: {doc}"
    assert err["code"] == "ENGINE_UNAVAILABLE", err
    assert "trino" in err["message"].lower(), err
    assert answered <= NO_HANG_S, f"the client waited {answered:.1f} s after Trino died"

    # The breaker opens (a failed health check is decisive), and routing avoids Trino at once.
    _, opened_s = wait_for("the trino breaker to open", lambda: circuit(crash_router, "trino")[0] == "open",
                           timeout=10, interval=0.1)
    ready = crash_router.get("/ready", timeout=15)
    assert ready.status_code == 503 and ready.json()["engines"]["trino"]["ready"] is False, ready.text
    avoided = crash_router.query_ok("/*+ engine(trino) */ SELECT count(*) FROM tpch.nation")
    assert avoided["engine"] == "duckdb" and avoided["rows"] == [[25]], avoided
    assert [a["engine"] for a in avoided["routing"].get("attempts", [])] in ([], ["duckdb"]), avoided["routing"]
    print(f"trino killed: client answered {answered:.2f} s later ({err['message']}); "
          f"breaker open {opened_s + answered:.2f} s after the kill")


def test_statement_for_a_trino_that_is_down_fails_over_to_duckdb(lake_dir, tmp_path, servers):
    if trino_up():  # the previous test stopped short of killing it
        services_ok("stop-trino", timeout=90)
    assert not trino_up()
    # No health checks: the statement itself must meet the dead Trino.
    r = start(lake_dir, tmp_path / "work", monitor={"health_check_interval_ms": 0})
    try:
        doc = r.query_ok("/*+ engine(trino) */ SELECT r.r_name, count(*) AS nations FROM tpch.nation n "
                         "JOIN tpch.region r ON n.n_regionkey = r.r_regionkey GROUP BY r.r_name ORDER BY r.r_name")
        assert doc["engine"] == "duckdb", doc["routing"]
        assert doc["rows"] == [["AFRICA", 5], ["AMERICA", 5], ["ASIA", 5], ["EUROPE", 5], ["MIDDLE EAST", 5]]
        codes = [x["code"] for x in doc["routing"]["reasons"]]
        assert codes[0] == "FAILED_OVER", codes
        attempts = doc["routing"]["attempts"]
        assert [(a["engine"], a["ok"]) for a in attempts] == [("trino", False), ("duckdb", True)], attempts
        assert attempts[0]["error_code"] == "ENGINE_UNAVAILABLE", attempts
        assert "trino" in attempts[0]["error"].lower(), attempts
        print(f"failover: reasons {codes}; trino's attempt: {attempts[0]['error']}")
    finally:
        stop_router(r)


def test_trino_back_closes_the_breaker_without_restarting_lakerouter(crash_router, servers):
    pid = crash_router.proc.pid
    t0 = time.monotonic()
    env = services_env(services_ok("start", "--lake", servers["LAKEROUTER_SERVICES_LAKE"],
                                   timeout=TRINO_START_TIMEOUT_S))
    started_s = time.monotonic() - t0
    assert env["LAKEROUTER_TRINO_URL"] == TRINO_URL, "Trino came back on another port"
    # A passing health check half-opens the breaker; one statement then probes, and closes it.
    def recovered():
        state = circuit(crash_router, "trino")
        return state if state[1] and state[0] != "open" else None

    state, half_open_s = wait_for("a health check to pass", recovered, timeout=10, interval=0.1)
    assert state[0] in ("half_open", "closed"), state
    doc = crash_router.query_ok("/*+ engine(trino) */ SELECT count(*) AS n FROM tpch.nation")
    assert doc["engine"] == "trino", doc["routing"]
    assert doc["rows"] == [[25]]
    assert circuit(crash_router, "trino") == ("closed", True)
    assert crash_router.alive() and crash_router.proc.pid == pid
    print(f"trino restarted in {started_s:.1f} s; breaker {state[0]} {half_open_s:.2f} s later, closed by the "
          f"first statement")
