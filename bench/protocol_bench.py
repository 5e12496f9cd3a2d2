#!/usr/bin/env python3
"""Client-protocol benchmarks, side by side in one run (targets in shared/ARCHITECTURE.md):

  lookup      point-lookup overhead of lakerouter's PostgreSQL wire protocol front-end: pgbench
              runs bench/protocol/point_lookup.sql (a random id of public.users in the test
              PostgreSQL) against PostgreSQL directly and against lakerouter's pgwire port, with
              lakerouter routing the lookup to that same PostgreSQL. Same clients (1 and 4),
              same duration, protocols -M simple/extended/prepared. Per-transaction latencies
              from pgbench --log give p50/p95/p99; the figure is the added p50 in microseconds.
              Target: <= 100 us added at p50.
  throughput  large-result streaming: every row of tpch.lineitem of the SF 1 demo lake (6,001,215
              rows) as CSV. Baseline: DuckDB's own COPY (SELECT * FROM <the same delta_scan view>)
              TO '/dev/null' (FORMAT csv, HEADER), in-process, with as many DuckDB threads as
              lakerouter's DuckDB engine. Then lakerouter over pgwire (psql \\copy ... TO
              '/dev/null' CSV, i.e. COPY TO STDOUT, timed; psycopg's cursor.copy() timed too and
              counting rows and bytes; if the front-end refuses COPY, libpq's chunked rows mode
              through psycopg.pq, counting rows without converting values), over HTTP with
              Accept: text/csv (curl -o /dev/null) and over HTTP JSON (curl, the default
              format). Prints rows/s, MB/s and the ratio to DuckDB's rows/s. Target: >= 0.8.
  all         both.

    .venv/bin/python bench/protocol_bench.py lookup|throughput|all [--duration 15] [--repeat 3]

Builds nothing: the binary is $LAKEROUTER_BIN (default build/src/lakerouter), or --bin; the lookup
and throughput parts can take different binaries (--lookup-bin, --throughput-bin). Starts its own
router (configuration written by tests/integration/conftest.py) and uses the running test services
(scripts/services.sh; LAKEROUTER_PG_DSN from the environment, else from
~/.cache/lakerouter/run/services.env). The SF 1 lake: --lake, default ~/.cache/lakerouter/lake/sf1
(generate it with scripts/gen_demo_lake.py --sf 1 --out DIR).

Figures depend on the load of this 2-core machine: the load average is printed with each part.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import conftest  # noqa: E402  (the tests' router start-up and configuration writer)

PGBENCH = shutil.which("pgbench", path="/usr/lib/postgresql/15/bin") or shutil.which("pgbench") or "pgbench"
PSQL = shutil.which("psql", path="/usr/lib/postgresql/15/bin") or shutil.which("psql") or "psql"
LOOKUP_SCRIPT = ROOT / "bench" / "protocol" / "point_lookup.sql"
LOOKUP_EXAMPLE = "SELECT id, email, country FROM public.users WHERE id = 7"
PG_USER, PG_PASSWORD, PG_DBNAME = "tester", "tester-secret", "lakerouter"
THROUGHPUT_SQL = "SELECT * FROM tpch.lineitem"
TARGET_ADDED_P50_US = 100.0
TARGET_RATIO = 0.8


# --- environment --------------------------------------------------------------------------------

def services_env() -> dict[str, str]:
    """The test services' variables: from the environment, else from services.env."""
    env = {k: v for k, v in os.environ.items() if k.startswith("LAKEROUTER_")}
    path = conftest.cache_dir() / "run" / "services.env"
    if "LAKEROUTER_PG_DSN" not in env and path.is_file():
        for line in path.read_text().splitlines():
            line = line.strip().removeprefix("export ")
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                env.setdefault(key, shlex.split(value)[0] if value else "")
    return env


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}: {os.cpu_count()} cores ({cpu}), Linux {platform.release()}"


def binary(args, part: str) -> Path:
    chosen = getattr(args, f"{part}_bin") or args.bin or os.environ.get("LAKEROUTER_BIN") or conftest.DEFAULT_BIN
    return Path(chosen).resolve()


class RouterRun:
    """A lakerouter started with the tests' configuration writer; stopped on exit."""

    def __init__(self, bin_path: Path, lake: Path, extra: dict | None = None, **server):
        self.bin_path, self.lake, self.extra, self.server = bin_path, lake, extra, server
        self.work = Path(tempfile.mkdtemp(prefix="protocol_bench_"))
        self.router = None

    def __enter__(self):
        os.environ["LAKEROUTER_BIN"] = str(self.bin_path)
        try:
            self.router = conftest.start_router(self.lake, self.work, self.extra, **self.server)
        except BaseException as e:  # pytest.fail outside pytest: show its message and stop
            sys.exit(f"lakerouter did not start ({self.bin_path}): {e}")
        return self.router

    def __exit__(self, *exc):
        if self.router is not None:
            try:
                conftest.stop_router(self.router)
            except BaseException as e:
                print(f"warning: lakerouter did not stop cleanly: {e}", file=sys.stderr)
        shutil.rmtree(self.work, ignore_errors=True)



def duckdb_threads(router) -> int:
    """engines.duckdb.threads of the router's configuration (conftest writes JSON, valid YAML)."""
    config = json.loads(router.config_path.read_text())
    return int(config["engines"]["duckdb"]["threads"])


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


# --- lookup -------------------------------------------------------------------------------------

def run_pgbench(name: str, conn: dict, mode: str, clients: int, duration: int, work: Path) -> dict:
    prefix = work / f"{name}-{mode}-c{clients}"
    cmd = [PGBENCH, "-n", "-f", str(LOOKUP_SCRIPT), "-M", mode, "-c", str(clients), "-j", str(min(clients, 2)),
           "-T", str(duration), "--log", f"--log-prefix={prefix}",
           "-h", conn["host"], "-p", str(conn["port"]), "-U", conn["user"], conn["dbname"]]
    env = {**os.environ, "PGPASSWORD": conn["password"], "PGSSLMODE": "disable", "PGAPPNAME": "protocol_bench"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=duration + 120, cwd=work)
    latencies = []
    for log in work.glob(prefix.name + ".*"):
        for line in log.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                latencies.append(int(fields[2]))
        log.unlink()
    latencies.sort()
    tps = next((float(line.split("=")[1].split()[0]) for line in proc.stdout.splitlines()
                if line.startswith("tps =")), float("nan"))
    failed = proc.returncode != 0 or not latencies
    why = ""
    if failed:
        why = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        why = " | ".join(why[-3:])[:300] if why else f"exit {proc.returncode}"
    return {"target": name, "mode": mode, "clients": clients, "tps": tps, "n": len(latencies),
            "p50": percentile(latencies, 0.50), "p95": percentile(latencies, 0.95),
            "p99": percentile(latencies, 0.99), "failed": failed, "why": why, "exit": proc.returncode}


def lookup(args) -> list[dict]:
    env = services_env()
    dsn = env.get("LAKEROUTER_PG_DSN")
    if not dsn:
        sys.exit("LAKEROUTER_PG_DSN unknown: start the test servers (scripts/services.sh start)")
    u = urlparse(dsn)
    direct = {"host": u.hostname or "127.0.0.1", "port": u.port or 5432, "user": unquote(u.username or ""),
              "password": unquote(u.password or ""), "dbname": (u.path or "/").lstrip("/") or "postgres"}
    extra = {
        "engines": {"postgres": {"type": "postgres", "connection": {"dsn": dsn, "pool_size": 4},
                                 "capabilities": {"owns_tables": ["public.*"]}}},
        "routing": {"default_engine": "duckdb",
                    "tables": [{"name": "public.*", "format": "postgres", "key_columns": ["id"]}],
                    "rules": [{"name": "point-lookups", "match": {"point_lookup": True}, "route": ["postgres", "duckdb"]}]},
    }
    bin_path = binary(args, "lookup")
    lake = conftest.cache_dir() / "lake" / "sf0.01"
    work = Path(tempfile.mkdtemp(prefix="protocol_bench_lookup_"))
    results: list[dict] = []
    with RouterRun(bin_path, lake, extra) as router:
        doc = router.query_ok("EXPLAIN ROUTE " + LOOKUP_EXAMPLE)
        decision = next(r for r in doc["rows"] if r[0] == "decision")
        ran = router.query_ok(LOOKUP_EXAMPLE)
        assert decision[1] == "postgres" and ran["engine"] == "postgres", (decision, ran["routing"])
        via = {"host": router.host, "port": router.pg_port, "user": PG_USER, "password": PG_PASSWORD,
               "dbname": PG_DBNAME}
        targets = [("postgres", direct)]
        if router.pg_port:
            check = subprocess.run([PSQL, "-X", "-At", "-h", router.host, "-p", str(router.pg_port), "-U", PG_USER,
                                    "-d", PG_DBNAME, "-c", "EXPLAIN ROUTE " + LOOKUP_EXAMPLE],
                                   capture_output=True, text=True, timeout=30,
                                   env={**os.environ, "PGPASSWORD": PG_PASSWORD, "PGSSLMODE": "disable"})
            routed = check.stdout.splitlines()[0] if check.returncode == 0 and check.stdout else check.stderr.strip()
            print(f"EXPLAIN ROUTE over pgwire: {routed}")
            targets.append(("lakerouter", via))
        else:
            print(f"note: {bin_path} has no pgwire port ('lakerouter pgwire:' line missing): PostgreSQL only")
        print(f"binary: {bin_path}\nrouted: {LOOKUP_EXAMPLE!r} -> {decision[1]} ({decision[3]})")
        print(f"pgbench: {PGBENCH}, script {LOOKUP_SCRIPT.relative_to(ROOT)}, {args.duration} s per run, {load()}")
        for name, conn in targets:  # warm-up: connections, caches, the router's engine pool
            run_pgbench(name, conn, "simple", 4, 2, work)
        for mode in args.modes:
            for clients in args.clients:
                for name, conn in targets:
                    if name == "lakerouter" and not router.alive():
                        results.append({"target": name, "mode": mode, "clients": clients, "failed": True,
                                        "why": f"lakerouter exited ({router.proc.returncode}) earlier in the run"})
                        continue
                    res = run_pgbench(name, conn, mode, clients, args.duration, work)
                    if name == "lakerouter" and not router.alive():
                        res["why"] = f"lakerouter died (exit {router.proc.returncode}): {res['why']}"
                        print(router.log_tail(8), file=sys.stderr)
                    results.append(res)
                    print(f"  {name:<10} -M {mode:<8} -c {clients}: "
                          + (f"FAILED {res['why']}" if res["failed"] else
                             f"{res['tps']:.0f} tps, p50 {res['p50']:.0f} us ({load()})"), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print_lookup_table(results)
    return results


def print_lookup_table(results: list[dict]) -> None:
    print("\npoint lookup (pgbench, per-transaction latency)")
    print(f"{'mode':<9}{'clients':>7}  {'target':<11}{'tps':>8}{'p50 us':>9}{'p95 us':>9}{'p99 us':>9}"
          f"{'added p50 us':>14}")
    verdicts = []
    for res in results:
        base = next((r for r in results if r["target"] == "postgres" and r["mode"] == res["mode"]
                     and r["clients"] == res["clients"]), None)
        added = ""
        if res["target"] != "postgres" and base and not res["failed"] and not base["failed"]:
            delta = res["p50"] - base["p50"]
            added = f"{delta:+.0f}"
            verdicts.append((res["mode"], res["clients"], delta))
        if res["failed"]:
            print(f"{res['mode']:<9}{res['clients']:>7}  {res['target']:<11}  failed: {res['why']}")
        else:
            print(f"{res['mode']:<9}{res['clients']:>7}  {res['target']:<11}{res['tps']:>8.0f}{res['p50']:>9.0f}"
                  f"{res['p95']:>9.0f}{res['p99']:>9.0f}{added:>14}")
    # The target is the overhead of one lookup: one client, nothing queued. With several clients
    # that never pause, pgbench measures capacity instead: each waits for the CPU that pgbench,
    # PostgreSQL and lakerouter share (latency = clients / throughput), so those rows are context.
    for mode, clients, delta in verdicts:
        if clients == 1:
            ok = "met" if delta <= TARGET_ADDED_P50_US else "MISSED"
            print(f"target added p50 <= {TARGET_ADDED_P50_US:.0f} us, -M {mode} -c 1: {delta:+.0f} us {ok}")
        else:
            print(f"context, -M {mode} -c {clients} (closed loop, CPU-bound on {os.cpu_count()} cores): "
                  f"{delta:+.0f} us at p50")


# --- throughput ---------------------------------------------------------------------------------

def duckdb_baseline(lake: Path, threads: int, repeat: int) -> dict:
    """DuckDB's own scan-and-serialize rate: COPY of the same view to /dev/null as CSV."""
    con = conftest.duckdb_connect("delta")
    con.execute(f"SET threads = {threads}")
    con.execute("CREATE SCHEMA tpch")
    con.execute(f"CREATE VIEW tpch.lineitem AS SELECT * FROM delta_scan('{lake / 'tpch' / 'lineitem'}')")
    copy = f"COPY ({THROUGHPUT_SQL}) TO '{{}}' (FORMAT csv, HEADER)"
    # The CSV's size, once, into a temporary file (COPY to /dev/null gives no byte count).
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "lineitem.csv"
        con.execute(copy.format(out))
        size = out.stat().st_size
    times, scan_times = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        con.execute(copy.format("/dev/null"))
        times.append(time.perf_counter() - t0)
    # For context: the scan alone (every column read and hashed, nothing serialized).
    for _ in range(repeat):
        t0 = time.perf_counter()
        con.execute("SELECT sum(hash(COLUMNS(*))) FROM tpch.lineitem").fetchall()
        scan_times.append(time.perf_counter() - t0)
    con.close()
    return {"bytes": size, "times": times, "scan_times": scan_times}


def curl_run(router, accept: str) -> dict:
    body = json.dumps({"sql": THROUGHPUT_SQL})
    cmd = ["curl", "-s", "-o", "/dev/null", "--noproxy", "*", "-w", "%{http_code} %{size_download} %{content_type}",
           "-H", "Content-Type: application/json", "-H", f"Accept: {accept}", "--data-binary", body,
           router.url("/v1/query")]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - t0
    code, size, ctype = (proc.stdout.split(" ", 2) + ["", "", ""])[:3]
    ok = proc.returncode == 0 and code == "200"
    return {"seconds": seconds, "bytes": int(size or 0), "content_type": ctype, "ok": ok,
            "why": "" if ok else f"curl exit {proc.returncode}, HTTP {code} {ctype}"}


PSQL_COPY_FORMS = {
    # what a user types: psql sends "COPY ( SELECT ... ) TO STDOUT CSV HEADER" (the old syntax)
    "backslash": ("psql \\copy (...) TO '/dev/null' CSV HEADER",
                  lambda: ["-c", f"\\copy ({THROUGHPUT_SQL}) TO '/dev/null' CSV HEADER"]),
    # the option-list syntax, psql writing the COPY data to its stdout (/dev/null)
    "options": ("psql -c \"COPY (...) TO STDOUT (FORMAT csv, HEADER)\" > /dev/null",
                lambda: ["-c", f"COPY ({THROUGHPUT_SQL}) TO STDOUT (FORMAT csv, HEADER)"]),
}


def psql_copy_run(router, form: str = "backslash") -> dict:
    """Timed only: psql writes to /dev/null; the bytes come from psycopg_copy_run."""
    cmd = [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", router.host, "-p", str(router.pg_port), "-U", PG_USER,
           "-d", PG_DBNAME, *PSQL_COPY_FORMS[form][1]()]
    env = {**os.environ, "PGPASSWORD": PG_PASSWORD, "PGSSLMODE": "disable"}
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.run(cmd, stdout=devnull, stderr=subprocess.PIPE, text=True, env=env, timeout=600)
    seconds = time.perf_counter() - t0
    ok = proc.returncode == 0
    return {"seconds": seconds, "bytes": 0, "ok": ok, "why": proc.stderr.strip()[:300]}


def psycopg_copy_run(router) -> dict:
    """COPY (...) TO STDOUT (FORMAT csv, HEADER) read with psycopg 3's copy(): bytes and lines counted."""
    import psycopg
    with psycopg.connect(host=router.host, port=router.pg_port, user=PG_USER, password=PG_PASSWORD,
                         dbname=PG_DBNAME, autocommit=True, sslmode="disable") as conn:
        nbytes = lines = 0
        t0 = time.perf_counter()
        with conn.cursor().copy(f"COPY ({THROUGHPUT_SQL}) TO STDOUT (FORMAT csv, HEADER)") as cp:
            for data in cp:
                nbytes += len(data)
                lines += bytes(data).count(b"\n")
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "bytes": nbytes, "rows": lines - 1, "ok": True, "why": ""}


def tcp_bytes_received(fd: int) -> int:
    """tcpi_bytes_received of a TCP socket (Linux struct tcp_info, u64 at offset 128)."""
    sock = socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM)  # a duplicate; fd stays open
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    finally:
        sock.close()
    return struct.unpack_from("=Q", info, 128)[0] if len(info) >= 136 else 0


def guarded(run, *args) -> dict:
    try:
        return run(*args)
    except Exception as e:  # a front-end that fails must not stop the other measurements
        return {"seconds": 0.0, "bytes": 0, "rows": 0, "ok": False, "why": f"{type(e).__name__}: {e}"[:300]}


def pq_chunked_run(router) -> dict:
    """libpq chunked rows mode (psycopg.pq, no value conversion): rows counted per chunk."""
    import psycopg
    with psycopg.connect(host=router.host, port=router.pg_port, user=PG_USER, password=PG_PASSWORD,
                         dbname=PG_DBNAME, autocommit=True, sslmode="disable") as conn:
        pg = conn.pgconn
        received0 = tcp_bytes_received(pg.socket)
        t0 = time.perf_counter()
        pg.send_query(THROUGHPUT_SQL.encode())
        pg.set_chunked_rows_mode(10_000)
        rows, error = 0, ""
        while (res := pg.get_result()) is not None:
            if res.status in (psycopg.pq.ExecStatus.TUPLES_CHUNK, psycopg.pq.ExecStatus.SINGLE_TUPLE,
                              psycopg.pq.ExecStatus.TUPLES_OK):
                rows += res.ntuples
            elif res.status == psycopg.pq.ExecStatus.FATAL_ERROR:
                error = (res.error_message or b"").decode(errors="replace")
        seconds = time.perf_counter() - t0
        received = tcp_bytes_received(pg.socket) - received0
    return {"seconds": seconds, "bytes": received, "rows": rows, "ok": not error, "why": error[:300]}


def throughput(args) -> list[dict]:
    lake = Path(args.lake).expanduser()
    if not (lake / "tpch" / "lineitem").is_dir():
        sys.exit(f"no SF 1 demo lake at {lake}: .venv/bin/python scripts/gen_demo_lake.py --sf 1 --out {lake}")
    bin_path = binary(args, "throughput")
    rows_out: list[dict] = []
    with RouterRun(bin_path, lake, None, query_timeout_ms=600_000) as router:
        threads = duckdb_threads(router)
        rows = router.query_ok("SELECT count(*) FROM tpch.lineitem")["rows"][0][0]
        doc = router.query_ok("EXPLAIN ROUTE " + THROUGHPUT_SQL)
        engine = next(r for r in doc["rows"] if r[0] == "decision")[1]
        print(f"binary: {bin_path}\nlake: {lake}; {THROUGHPUT_SQL!r}: {rows:,} rows, routed to {engine}; "
              f"DuckDB threads: {threads} (engines.duckdb.threads, baseline the same); best of {args.repeat}")
        print(f"{load()} (before)")

        def add(name: str, how: str, results: list[dict], nbytes: int | None = None) -> None:
            good = [r for r in results if r["ok"]]
            if not good:
                rows_out.append({"name": name, "how": how, "failed": results[0]["why"] if results else "not run"})
                print(f"  {name}: FAILED {rows_out[-1]['failed']}", flush=True)
                return
            best = min(good, key=lambda r: r["seconds"])
            size = nbytes if nbytes is not None else best["bytes"]
            rows_out.append({"name": name, "how": how, "seconds": best["seconds"], "bytes": size,
                             "rows_per_s": rows / best["seconds"], "mb_per_s": size / 1e6 / best["seconds"],
                             "all_seconds": [round(r["seconds"], 3) for r in results]})
            print(f"  {name}: {best['seconds']:.2f} s ({load()})", flush=True)

        base = duckdb_baseline(lake, threads, args.repeat)
        add("DuckDB COPY to CSV", f"in-process, threads={threads}",
            [{"seconds": t, "bytes": base["bytes"], "ok": True} for t in base["times"]])
        add("DuckDB scan only", "sum(hash(COLUMNS(*))): no serialization (context)",
            [{"seconds": t, "bytes": 0, "ok": True} for t in base["scan_times"]])

        if router.pg_port:
            # psycopg's COPY first: it counts rows and bytes (psql to /dev/null cannot).
            pcopy = [guarded(psycopg_copy_run, router) for _ in range(args.repeat)]
            for r in pcopy:
                if r["ok"] and r["rows"] != rows:
                    r["ok"], r["why"] = False, f"{r['rows']:,} rows, expected {rows:,}"
            copy_bytes = next((r["bytes"] for r in pcopy if r["ok"]), None)
            for form, (how, _) in PSQL_COPY_FORMS.items():
                copy = [guarded(psql_copy_run, router, form)]
                if not copy[0]["ok"]:
                    print(f"  pgwire: {how} refused: {copy[0]['why']}")
                    continue
                copy += [guarded(psql_copy_run, router, form) for _ in range(args.repeat - 1)]
                add("lakerouter pgwire", how, copy, copy_bytes if copy_bytes is not None else 0)
                break
            add("lakerouter pgwire (py)", "psycopg cursor.copy(COPY ... TO STDOUT CSV), rows counted", pcopy)
            if not any(r["ok"] for r in pcopy):
                chunked = [guarded(pq_chunked_run, router) for _ in range(args.repeat)]
                for r in chunked:
                    if r["ok"] and r["rows"] != rows:
                        r["ok"], r["why"] = False, f"{r['rows']:,} rows, expected {rows:,}"
                add("lakerouter pgwire rows", "libpq chunked rows (psycopg.pq), text DataRows; MB = wire bytes", chunked)
        else:
            rows_out.append({"name": "lakerouter pgwire", "how": "", "failed": "no pgwire port in this build"})
        csv = [curl_run(router, "text/csv") for _ in range(args.repeat)]
        for r in csv:
            if r["ok"] and not r["content_type"].startswith("text/csv"):
                r["ok"], r["why"] = False, f"answered {r['content_type']!r}, not text/csv"
        add("lakerouter HTTP CSV", "curl -o /dev/null, Accept: text/csv", csv)
        add("lakerouter HTTP JSON", "curl -o /dev/null, default JSON",
            [curl_run(router, "application/json") for _ in range(args.repeat)])
    print_throughput_table(rows_out, rows)
    return rows_out


def print_throughput_table(results: list[dict], rows: int) -> None:
    base = next((r for r in results if r["name"].startswith("DuckDB") and "failed" not in r), None)
    print(f"\nlarge result: {THROUGHPUT_SQL} ({rows:,} rows), best run")
    print(f"{'':<22}{'seconds':>8}{'rows/s':>12}{'MB/s':>8}{'MB':>8}{'vs DuckDB':>10}  how")
    for r in results:
        if "failed" in r:
            print(f"{r['name']:<22}  not measured: {r['failed']}")
            continue
        ratio = f"{r['rows_per_s'] / base['rows_per_s']:.2f}" if base else ""
        print(f"{r['name']:<22}{r['seconds']:>8.2f}{r['rows_per_s']:>12,.0f}{r['mb_per_s']:>8.0f}"
              f"{r['bytes'] / 1e6:>8.0f}{ratio:>10}  {r['how']}")
    if base:
        for r in results:
            if "failed" not in r and r["name"].startswith("lakerouter") and "JSON" not in r["name"]:
                ratio = r["rows_per_s"] / base["rows_per_s"]
                print(f"target >= {TARGET_RATIO} of DuckDB's rows/s, {r['name']}: {ratio:.2f} "
                      f"{'met' if ratio >= TARGET_RATIO else 'MISSED'}")


# --- main ---------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["lookup", "throughput", "all"])
    ap.add_argument("--bin", help="lakerouter binary (default $LAKEROUTER_BIN, else build/src/lakerouter)")
    ap.add_argument("--lookup-bin", help="binary for the lookup part only")
    ap.add_argument("--throughput-bin", help="binary for the throughput part only")
    ap.add_argument("--duration", type=int, default=15, help="seconds per pgbench run (default 15)")
    ap.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4])
    ap.add_argument("--modes", type=lambda s: s.split(","), default=["simple", "extended", "prepared"])
    ap.add_argument("--repeat", type=int, default=3, help="runs per throughput measurement; the best counts")
    ap.add_argument("--lake", default=str(conftest.cache_dir() / "lake" / "sf1"))
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"protocol_bench {args.what}: {stamp}; {machine()}; {load()}")
    out: dict = {"date": stamp, "machine": machine()}
    if args.what in ("lookup", "all"):
        out["lookup"] = lookup(args)
    if args.what in ("throughput", "all"):
        print()
        out["throughput"] = throughput(args)
    print(f"\n{load()} (after)")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
