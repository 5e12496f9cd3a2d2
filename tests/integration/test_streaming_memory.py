"""Bounded memory while streaming a large result: 10,000,000 rows from DuckDB through lakerouter,
over the PostgreSQL wire protocol and over HTTP (CSV, and the default JSON), while the test
samples the router's resident memory.

The statement, `SELECT i, i * 2 AS j, 'row ' || i AS s FROM range(10000000) t(i)`, is generated
by DuckDB (no lake data) and is routed to DuckDB (checked with EXPLAIN ROUTE). About 190 MB of
CSV, 320 MB of JSON.

Each case starts its own router, so that its VmHWM (the kernel's peak resident set) covers that
case only. While the rows stream, a thread reads VmRSS from /proc/<pid>/status every 50 ms; at the
end the test reads VmHWM. Clients never keep rows: psycopg 3's `cursor.stream()` (libpq chunked
rows mode: the client holds one chunk at a time) and requests' `iter_content`, counting rows and
bytes only. A client that buffers nothing lets the server's own buffering show: if lakerouter
queued the result instead of waiting for the socket, its RSS would grow with the result.

Asserts: every row arrived, and peak RSS < 200 MiB. The figures (baseline RSS before the query,
peak RSS sampled, VmHWM, rows, bytes, seconds) are printed even without `pytest -s`, recorded as
junit properties, written to `<tmp>/streaming_memory_<case>.json`, and repeated in assertion
messages.
"""
from __future__ import annotations

import json
import socket
import struct
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import start_router, stop_router

ROWS = 10_000_000
SQL = f"SELECT i, i * 2 AS j, 'row ' || i AS s FROM range({ROWS}) t(i)"
PEAK_LIMIT_MIB = 200
SAMPLE_INTERVAL_S = 0.05
PG_USER, PG_PASSWORD = "tester", "tester-secret"
# Generous statement time limit: the limit must not cut a slow client's stream on a loaded machine
# (speed is measured by bench/protocol_bench.py, not here).
QUERY_TIMEOUT_MS = 300_000


# --- memory sampling ----------------------------------------------------------------------------

def proc_status_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def tcp_bytes_received(fd: int) -> int:
    """tcpi_bytes_received of a connected TCP socket (Linux struct tcp_info: 8 one-byte fields, 24
    u32 fields, then u64 pacing_rate, max_pacing_rate, bytes_acked, bytes_received at offset 128)."""
    sock = socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM)  # a duplicate: closing it keeps fd
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    finally:
        sock.close()
    return struct.unpack_from("=Q", info, 128)[0] if len(info) >= 136 else 0


class RssSampler:
    """Reads a process's VmRSS every `interval` seconds on a thread; keeps the maximum only."""

    def __init__(self, pid: int, interval: float = SAMPLE_INTERVAL_S):
        self.pid, self.interval = pid, interval
        self.max_rss_kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = proc_status_kib(self.pid)["VmRSS"]
            except (OSError, KeyError):
                return  # the process is gone; the test reports that
            self.max_rss_kib = max(self.max_rss_kib, rss)
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def mib(kib: int) -> float:
    return kib / 1024


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture
def fresh_router(lake_dir, tmp_path):
    """A router of its own per case, so that VmHWM is this case's peak."""
    r = start_router(lake_dir, tmp_path / "router", query_timeout_ms=QUERY_TIMEOUT_MS)
    try:
        yield r
    finally:
        stop_router(r)


def assert_routed_to_duckdb(router) -> None:
    doc = router.query_ok("EXPLAIN ROUTE " + SQL)
    decision = [row for row in doc["rows"] if row[0] == "decision"]
    assert decision and decision[0][1] == "duckdb", f"not routed to DuckDB: {doc['rows']}"


def report(request, tmp_path: Path, capsys, case: str, router, figures: dict) -> dict:
    """Adds the memory figures, prints them (also without -s), records and writes them."""
    status = proc_status_kib(router.proc.pid)
    figures["vm_hwm_mib"] = round(mib(status["VmHWM"]), 1)
    figures["rss_after_mib"] = round(mib(status["VmRSS"]), 1)
    figures["case"] = case
    for key, value in figures.items():
        request.node.user_properties.append((key, value))
    (tmp_path / f"streaming_memory_{case}.json").write_text(json.dumps(figures, indent=2) + "\n")
    with capsys.disabled():
        print(f"\n[streaming-memory] {case}: rows={figures['rows']:,} bytes={figures['bytes']:,} "
              f"seconds={figures['seconds']:.2f} baseline_rss={figures['baseline_rss_mib']:.1f} MiB "
              f"peak_rss_sampled={figures['peak_rss_sampled_mib']:.1f} MiB "
              f"vm_hwm={figures['vm_hwm_mib']:.1f} MiB ({figures['samples']} samples)")
    return figures


def check(figures: dict, router) -> None:
    peak = max(figures["peak_rss_sampled_mib"], figures["vm_hwm_mib"])
    assert figures["rows"] == ROWS, f"{figures['rows']:,} rows arrived, expected {ROWS:,}: {figures}"
    assert peak < PEAK_LIMIT_MIB, (f"lakerouter's peak RSS {peak:.1f} MiB >= {PEAK_LIMIT_MIB} MiB while "
                                   f"streaming {ROWS:,} rows: {figures}\n{router.log_tail()}")


# --- over the PostgreSQL wire protocol ----------------------------------------------------------

def test_pgwire_stream_10m_rows_bounded_memory(fresh_router, request, tmp_path, capsys):
    psycopg = pytest.importorskip("psycopg")
    router = fresh_router
    if not router.pg_port:
        pytest.skip("this lakerouter build has no PostgreSQL wire protocol front-end (no 'lakerouter pgwire:' line)")
    assert_routed_to_duckdb(router)
    pid = router.proc.pid
    with psycopg.connect(host=router.host, port=router.pg_port, user=PG_USER, password=PG_PASSWORD,
                         dbname="lakerouter", autocommit=True, connect_timeout=10) as conn:
        cur = conn.cursor()
        cur.execute("SELECT 42")
        assert cur.fetchone()[0] == 42
        baseline = proc_status_kib(pid)["VmRSS"]
        received0 = tcp_bytes_received(conn.pgconn.socket)
        rows, width = 0, None
        t0 = time.monotonic()
        with RssSampler(pid) as sampler:
            # size > 1: libpq's chunked rows mode; the client holds at most one chunk.
            for row in cur.stream(SQL, size=10_000):
                if width is None:
                    width = len(row)
                rows += 1
        seconds = time.monotonic() - t0
        received = tcp_bytes_received(conn.pgconn.socket) - received0
        cur.execute("SELECT 1")  # the session is usable after the stream
        assert cur.fetchone()[0] == 1
    assert width == 3, f"rows have {width} columns, expected 3"
    figures = report(request, tmp_path, capsys, "pgwire", router, {
        "protocol": "pgwire (psycopg cursor.stream, chunked rows mode)", "rows": rows,
        "bytes": received,  # on the wire (protocol messages), from the client socket's TCP_INFO
        "seconds": round(seconds, 2), "baseline_rss_mib": round(mib(baseline), 1),
        "peak_rss_sampled_mib": round(mib(sampler.max_rss_kib), 1), "samples": sampler.samples})
    check(figures, router)


# --- over HTTP ----------------------------------------------------------------------------------

def stream_http(router, accept: str) -> tuple[requests.Response, dict]:
    """POSTs SQL with `Accept`, reads the body in 64 KiB chunks, counts lines and bytes; keeps the
    first 200 bytes (to check the format) and the last 200 (to see a trailing error)."""
    counts = {"bytes": 0, "newlines": 0, "marks": 0, "head": b"", "tail": b""}
    mark = b'"row '  # one per row in JSON (the s column); counted across chunk borders
    carry = b""
    with requests.Session() as s:
        s.trust_env = False
        with s.post(router.url("/v1/query"), data=json.dumps({"sql": SQL}).encode(), stream=True, timeout=120,
                    headers={"Content-Type": "application/json", "Accept": accept}) as resp:
            if resp.status_code != 200:
                return resp, counts
            for chunk in resp.iter_content(chunk_size=1 << 16):
                counts["bytes"] += len(chunk)
                counts["newlines"] += chunk.count(b"\n")
                joined = carry + chunk
                counts["marks"] += joined.count(mark)
                carry = joined[-(len(mark) - 1):]  # a mark split by the border is counted next time
                if len(counts["head"]) < 200:
                    counts["head"] += chunk[:200 - len(counts["head"])]
                counts["tail"] = (counts["tail"] + chunk)[-200:]
    return resp, counts


def run_http_case(router, accept: str) -> tuple[requests.Response, dict, dict]:
    assert_routed_to_duckdb(router)
    router.assert_healthy()
    pid = router.proc.pid
    baseline = proc_status_kib(pid)["VmRSS"]
    t0 = time.monotonic()
    with RssSampler(pid) as sampler:
        resp, counts = stream_http(router, accept)
    figures = {"seconds": round(time.monotonic() - t0, 2), "bytes": counts["bytes"],
               "baseline_rss_mib": round(mib(baseline), 1),
               "peak_rss_sampled_mib": round(mib(sampler.max_rss_kib), 1), "samples": sampler.samples}
    return resp, counts, figures


def test_http_csv_stream_10m_rows_bounded_memory(fresh_router, request, tmp_path, capsys):
    router = fresh_router
    resp, counts, figures = run_http_case(router, "text/csv")
    assert resp.status_code == 200, f"{resp.status_code} {resp.text[:500]}"
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.startswith("text/csv"), f"Accept: text/csv answered with Content-Type {ctype!r}: {counts['head']!r}"
    head = counts["head"].split(b"\n", 1)[0].rstrip(b"\r")
    assert head in (b"i,j,s", b"0,0,row 0"), f"unexpected first line {head!r}"
    header_lines = 1 if head == b"i,j,s" else 0
    # Every record ends with a line break (RFC 4180 allows the last one to have none).
    rows = counts["newlines"] - header_lines + (0 if counts["tail"].endswith(b"\n") else 1)
    figures = report(request, tmp_path, capsys, "http_csv", router, {
        "protocol": "HTTP, Accept: text/csv (requests iter_content)", "rows": rows, **figures})
    check(figures, router)


def test_http_json_stream_10m_rows_bounded_memory(fresh_router, request, tmp_path, capsys):
    router = fresh_router
    resp, counts, figures = run_http_case(router, "application/json")
    assert resp.status_code == 200, f"{resp.status_code} {resp.text[:500]}"
    assert counts["head"].startswith(b"{"), counts["head"]
    # A stream that failed after the first rows ends with an "error" member instead of "row_count".
    assert b'"row_count":' in counts["tail"] and b'"error"' not in counts["tail"], counts["tail"]
    figures = report(request, tmp_path, capsys, "http_json", router, {
        "protocol": "HTTP, JSON (requests iter_content)", "rows": counts["marks"], **figures})
    check(figures, router)
