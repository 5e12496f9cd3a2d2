"""Admission control and client disconnects over HTTP, on the embedded DuckDB.

DuckDB is limited to one statement at a time with no queue (`engines.duckdb.admission`): while a
long statement holds the slot, another is refused with 503 OVERLOADED and Retry-After, and /ready
counts both. The long statement's client then disconnects: lakerouter cancels the statement on
DuckDB (the slot comes back at once, well before the statement's 60 s timeout), and the next
statement runs.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import pytest

from conftest import DEFAULT_BIN, _write_config, extension_dir, start_router, stop_router

LONG_SQL = "SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 123456789"  # hours of work


@pytest.fixture()
def limited_router(lake_dir, tmp_path):
    config = {"engines": {"duckdb": {"threads": 2, "extension_directory": extension_dir(),
                                     "admission": {"max_concurrent": 1, "max_queued": 0, "max_queue_wait_ms": 1000}}}}
    r = start_router(lake_dir, tmp_path / "work", config, query_timeout_ms=60000)
    try:
        yield r
    finally:
        stop_router(r)


def send_raw_query(r, sql: str) -> socket.socket:
    """Sends POST /v1/query on a raw socket and returns it without reading the response."""
    body = json.dumps({"sql": sql}).encode()
    s = socket.create_connection((r.host, r.port), timeout=10)
    s.sendall(b"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return s


def admission(r) -> dict:
    return r.get("/ready").json()["engines"]["duckdb"]["admission"]


def wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {seconds} s")


def test_a_full_engine_refuses_with_503_and_a_disconnect_frees_its_slot(limited_router):
    r = limited_router
    long_running = send_raw_query(r, LONG_SQL)
    try:
        wait_for(lambda: admission(r)["running"] == 1, 10, "the long statement taking the slot")

        refused = r.query("SELECT 42")
        assert refused.status_code == 503, refused.text
        assert refused.headers.get("Retry-After") == "1"
        err = refused.json()["error"]
        assert err["code"] == "OVERLOADED", err
        assert "admission limit" in err["message"] and "duckdb" in err["message"], err
        assert admission(r)["refused"] == 0  # routing saw the engine saturated; the gate never refused

        started = time.monotonic()
    finally:
        long_running.close()  # the client goes away: lakerouter must cancel the statement
    wait_for(lambda: admission(r)["running"] == 0, 10, "the slot coming back after the disconnect")
    freed_after = time.monotonic() - started
    assert freed_after < 10  # the statement would run for hours, and its timeout is 60 s

    ok = r.query_ok("SELECT 42 AS answer")
    assert ok["rows"] == [[42]]
    stats = admission(r)
    assert stats["admitted"] == 2 and stats["running"] == 0, stats
    assert "cancelled: the client disconnected" in r.stderr_path.read_text()


def test_admission_settings_are_validated(lake_dir, tmp_path):
    config = tmp_path / "bad.yaml"
    _write_config(config, lake_dir, {"engines": {"duckdb": {"admission": {"max_queued": 3}}}})
    binary = os.environ.get("LAKEROUTER_BIN") or str(DEFAULT_BIN)
    out = subprocess.run([binary, "check-config", str(config)], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "max_concurrent' is required" in out.stderr + out.stdout
