"""Shared fixtures for the HTTP integration tests.

``lake_dir``  the SF 0.01 demo lake: $LAKEROUTER_TEST_LAKE when set, else generated (or reused
              when up to date) by scripts/gen_demo_lake.py into
              ${LAKEROUTER_CACHE:-~/.cache/lakerouter}/lake/sf0.01.
``router``    one lakerouter process for the whole session ($LAKEROUTER_BIN overrides the
              binary), started on a free port with a temporary configuration. Its stdout and
              stderr go to files; the tail of both is attached to every failing test that uses
              the fixture. On teardown the server gets SIGTERM and must exit 0.

Tests marked ``disruptive`` stop, kill or restart the shared test servers (test_faults.py): they
run after every other test of the session, in their own order.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
GEN = ROOT / "scripts" / "gen_demo_lake.py"
DEFAULT_BIN = ROOT / "build" / "src" / "lakerouter"
SF = 0.01
READY_PREFIX = "lakerouter ready: "
PGWIRE_PREFIX = "lakerouter pgwire: "
# Accounts every test router knows: name -> (password, groups).
TEST_USERS = {"tester": ("tester-secret", ["analysts"]), "admin": ("admin-secret", ["admins"])}
READY_TIMEOUT_S = 60
SHUTDOWN_TIMEOUT_S = 30

# The server configuration the tests run against (see src/server/config.cpp).
MAX_BODY_BYTES = 1 << 20        # 1 MiB
QUERY_TIMEOUT_MS = 30000
READ_TIMEOUT_MS = 2000          # short, so that the 408 test stays fast
POOL_SIZE = 4
WORKER_THREADS = 8


def cache_dir() -> Path:
    return Path(os.environ.get("LAKEROUTER_CACHE") or Path.home() / ".cache" / "lakerouter")


def extension_dir() -> str:
    if os.environ.get("DUCKDB_EXTENSIONS"):
        return os.environ["DUCKDB_EXTENSIONS"]
    import duckdb
    return str(cache_dir() / f"duckdb-{duckdb.__version__}" / "extensions")


def duckdb_connect(*extensions: str):
    """An in-memory DuckDB that loads extensions only from the local extension directory."""
    import duckdb
    con = duckdb.connect(config={
        "extension_directory": extension_dir(),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": True,
    })
    for ext in extensions:
        con.execute(f"LOAD {ext}")
    return con


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        return f"<cannot read {path}: {e}>"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Router:
    """A running lakerouter process and helpers to talk to it."""

    proc: subprocess.Popen
    base_url: str
    host: str
    port: int
    config_path: Path
    stdout_path: Path
    stderr_path: Path
    extra: dict = field(default_factory=dict)
    pg_port: int = 0  # the PostgreSQL protocol port (0: disabled)

    def url(self, path: str) -> str:
        return self.base_url + path

    def request(self, method: str, path: str, *, timeout: float = 60, **kw: Any) -> requests.Response:
        # A fresh session per call: no proxies from the environment, and no pooled keep-alive
        # connection that the server may have closed after its read timeout.
        with requests.Session() as s:
            s.trust_env = False
            return s.request(method, self.url(path), timeout=timeout, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def query(self, sql: Any, *, params: Any = None, timeout_ms: Any = None, timeout: float = 60,
              headers: dict | None = None) -> requests.Response:
        """POST /v1/query with {"sql": sql, "params"?: ..., "timeout_ms"?: ...}."""
        body: dict[str, Any] = {"sql": sql}
        if params is not None:
            body["params"] = params
        if timeout_ms is not None:
            body["timeout_ms"] = timeout_ms
        return self.post("/v1/query", data=json.dumps(body).encode(),
                         headers={"Content-Type": "application/json", **(headers or {})}, timeout=timeout)

    def query_ok(self, sql: str, **kw: Any) -> dict:
        r = self.query(sql, **kw)
        assert r.status_code == 200, f"{sql!r} -> {r.status_code} {r.text[:500]}"
        return r.json()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def assert_healthy(self) -> None:
        """The process runs, GET /health is 200 and SELECT 42 answers 42."""
        assert self.alive(), f"lakerouter exited with {self.proc.returncode}"
        h = self.get("/health", timeout=10)
        assert h.status_code == 200, h.text
        assert h.json() == {"status": "ok"}
        r = self.query("SELECT 42", timeout=10)
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["rows"] == [[42]] and doc["row_count"] == 1, doc

    def log_tail(self, lines: int = 40) -> str:
        return (f"--- stderr ({self.stderr_path}) ---\n{_tail(self.stderr_path, lines)}\n"
                f"--- stdout ({self.stdout_path}) ---\n{_tail(self.stdout_path, lines)}")


def _marker_ok(lake: Path) -> bool:
    try:
        marker = json.loads((lake / "_lakerouter_lake.json").read_text())
    except (OSError, ValueError):
        return False
    return "tpch.lineitem" in marker.get("tables", {})


@pytest.fixture(scope="session")
def lake_dir() -> Path:
    env = os.environ.get("LAKEROUTER_TEST_LAKE")
    if env:
        lake = Path(env).expanduser()
        assert _marker_ok(lake), f"LAKEROUTER_TEST_LAKE={env} is not a demo lake (no _lakerouter_lake.json)"
        return lake
    if not Path(extension_dir()).is_dir():
        pytest.skip(f"DuckDB extension directory {extension_dir()} missing; run scripts/bootstrap.sh")
    lake = cache_dir() / "lake" / f"sf{SF}"
    lake.parent.mkdir(parents=True, exist_ok=True)
    # Idempotent: returns at once when the lake is up to date.
    proc = subprocess.run([sys.executable, str(GEN), "--sf", str(SF), "--out", str(lake)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"gen_demo_lake.py failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
    assert _marker_ok(lake), f"gen_demo_lake.py left no marker in {lake}"
    return lake


def _write_config(path: Path, lake: Path, extra: dict | None = None, **server_overrides: Any) -> None:
    # JSON is valid YAML, so the paths need no YAML quoting.
    config = {
        "server": {
            "query_timeout_ms": QUERY_TIMEOUT_MS,
            "http": {"host": "127.0.0.1", "port": 0, "max_body_bytes": MAX_BODY_BYTES,
                     "worker_threads": WORKER_THREADS, "read_timeout_ms": READ_TIMEOUT_MS},
            "pgwire": {"host": "127.0.0.1", "port": 0},
            **server_overrides,
        },
        "users": [{"name": u, "password": p, "groups": g} for u, (p, g) in TEST_USERS.items()],
        # Requests without credentials from this machine run as "anonymous" (tests/integration/
        # test_auth.py covers credentials); a file with users would otherwise require them.
        "auth": {"anonymous": "loopback"},
        "catalog": {"lake_dir": str(lake)},
        "engines": {"duckdb": {"pool_size": POOL_SIZE, "threads": 2, "extension_directory": extension_dir()}},
        # The audit log of this router only, never the user's ~/.local/state one.
        "history": {"path": str(path.parent / "history.db")},
    }
    for key, value in (extra or {}).items():  # more engines, routing: merged one level deep
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    path.write_text(json.dumps(config, indent=2) + "\n")


def _stdout_value(stdout_path: Path, prefix: str) -> str | None:
    try:
        text = stdout_path.read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    return None


def _ready_url(stdout_path: Path) -> str | None:
    return _stdout_value(stdout_path, READY_PREFIX)


def start_router(lake: Path, work: Path, extra: dict | None = None, **server_overrides: Any) -> Router:
    """Starts lakerouter with a fresh configuration in `work` and waits for its ready line.

    `extra` adds top-level configuration (e.g. `engines` with connections, `routing`)."""
    binary = Path(os.environ.get("LAKEROUTER_BIN") or DEFAULT_BIN)
    assert binary.is_file() and os.access(binary, os.X_OK), (
        f"lakerouter binary not found at {binary}; build it (cmake --build build) or set LAKEROUTER_BIN")
    work.mkdir(parents=True, exist_ok=True)
    config = work / "lakerouter.yaml"
    _write_config(config, lake, extra, **server_overrides)
    stdout_path, stderr_path = work / "stdout.log", work / "stderr.log"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen([str(binary), "serve", "--config", str(config)],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=work)
    deadline = time.monotonic() + READY_TIMEOUT_S
    url = None
    while time.monotonic() < deadline:
        url = _ready_url(stdout_path)
        if url or proc.poll() is not None:
            break
        time.sleep(0.05)
    if not url:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            why = f"did not print '{READY_PREFIX}...' within {READY_TIMEOUT_S} s"
        else:
            why = f"exited with {proc.returncode} before it was ready"
        pytest.fail(f"lakerouter {why}\n--- stderr ---\n{_tail(stderr_path, 60)}\n"
                    f"--- stdout ---\n{_tail(stdout_path, 60)}", pytrace=False)
    host, port = url.removeprefix("http://").rsplit(":", 1)
    pg = _stdout_value(stdout_path, PGWIRE_PREFIX)  # printed before the ready line
    return Router(proc=proc, base_url=url, host=host, port=int(port), config_path=config,
                  stdout_path=stdout_path, stderr_path=stderr_path, pg_port=int(pg.rsplit(":", 1)[1]) if pg else 0)


def stop_router(r: Router, timeout: float = SHUTDOWN_TIMEOUT_S) -> None:
    """SIGTERM, then requires exit status 0 within `timeout` and no crash in the logs.

    A server that does not exit in time is killed (SIGKILL) before the failure is reported.
    """
    proc = r.proc
    if proc.poll() is None:
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"lakerouter did not exit within {timeout:g} s of SIGTERM (killed)\n{r.log_tail()}",
                        pytrace=False)
        r.extra["shutdown_s"] = time.monotonic() - t0
    rc = proc.returncode
    why = f"was killed by signal {signal.Signals(-rc).name}" if rc < 0 else f"exited with {rc}"
    assert rc == 0, f"lakerouter {why} instead of a clean exit 0\n{r.log_tail(80)}"
    crash_marks = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "terminate called", "Segmentation fault",
                   "INTERNAL Error")
    logs = r.stderr_path.read_text(errors="replace") + r.stdout_path.read_text(errors="replace")
    found = [m for m in crash_marks if m in logs]
    assert not found, f"lakerouter logged {found}\n{r.log_tail(80)}"


@pytest.fixture(scope="session")
def reference():
    """An in-memory DuckDB holding TPC-H at the test lake's scale factor: the reference answers."""
    con = duckdb_connect("tpch")
    con.execute(f"CALL dbgen(sf={SF})")
    yield con
    con.close()


@pytest.fixture(scope="session")
def router(lake_dir, tmp_path_factory):
    r = start_router(lake_dir, tmp_path_factory.mktemp("router"))
    try:
        yield r
    finally:
        stop_router(r)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "disruptive: stops, kills or restarts the shared test servers; runs after all other tests")


def pytest_collection_modifyitems(session, config, items):
    # Last, so that no other test meets a server that is down or restarting; a stable sort keeps
    # each group's own order (the fault tests are a sequence).
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and not hasattr(report, "wasxfail"):
        funcargs = getattr(item, "funcargs", {})
        for name, value in funcargs.items():
            if isinstance(value, Router):
                title = "lakerouter log (tail)" if name == "router" else f"lakerouter log of '{name}' (tail)"
                report.sections.append((title, value.log_tail()))
