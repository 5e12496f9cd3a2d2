"""Real JDBC drivers against lakerouter: pgjdbc on the PostgreSQL wire protocol port and the Trino
JDBC driver on the HTTP port (Trino client protocol).

tests/jdbc/JdbcProbe.java is compiled with the system javac into a temporary directory and run
with java, one section per test; it prints what the driver returned as tab-separated lines, which
are compared with the same statements over lakerouter's HTTP API (POST /v1/query). The pgjdbc and
Trino sections run against the real PostgreSQL / Trino test servers too (ids "postgres", "trino"),
which keeps the probe and the comparison honest.

Skipped (with the reason) only when java or javac is missing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import unquote, urlparse

import pytest

from conftest import ROOT, TEST_USERS, cache_dir

JAVA, JAVAC = shutil.which("java"), shutil.which("javac")
pytestmark = pytest.mark.skipif(
    not (JAVA and JAVAC), reason=f"the JDBC tests need a JDK: java={JAVA}, javac={JAVAC} (Debian: openjdk-17-jdk-headless)")

JARS = cache_dir() / "jars"
PGJDBC = JARS / "postgresql-42.7.14.jar"
TRINO_JDBC = JARS / "trino-jdbc-476.jar"
PROBE_SRC = ROOT / "tests" / "jdbc"
PROBE_TIMEOUT_S = 300

# The same text as JdbcProbe.PLAIN_SQL / PREPARED_SQL.
PLAIN_SQL = ("SELECT 1 AS one, 'two' AS two, CAST(3.50 AS DECIMAL(10,2)) AS three, DATE '2024-02-29' AS d, "
             "TIMESTAMP '2024-02-29 13:45:00.123456' AS ts, TRUE AS b, CAST(NULL AS INTEGER) AS n, "
             "CAST(9007199254740993 AS BIGINT) AS big")
PREPARED_SQL = ("SELECT CAST(? AS INTEGER) + 1 AS i, CAST(? AS VARCHAR) AS t, CAST(? AS DECIMAL(12,2)) AS n, "
                "CAST(? AS DATE) AS d, CAST(? AS TIMESTAMP) AS ts, CAST(? AS BOOLEAN) AS b, CAST(? AS INTEGER) AS z")
PREPARED_RUNS = 8
NATION_SQL = "SELECT n_nationkey, n_name, n_regionkey FROM tpch.nation ORDER BY n_nationkey"


def prepared_params(k: int) -> list:
    return [41 + k, f"text {k} ünï", str(Decimal("1234.5") + k), f"2024-01-{1 + k:02d}",
            f"2024-03-01 12:00:{k:02d}.5", k % 2 == 0, None]


# --- running the probe ---------------------------------------------------------------------------

@dataclass
class ProbeOut:
    lines: list[list[str | None]]
    stdout: str
    stderr: str
    cols: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        for line in self.lines:
            kind, rest = line[0], line[1:]
            if kind == "cols":
                self.cols = rest
            elif kind == "types":
                self.types = rest
            elif kind == "row":
                self.rows.append(rest)
            elif kind == "info":
                self.info[rest[0]] = rest[1]
            elif kind == "error":
                self.errors.append({"sqlstate": rest[0], "position": rest[1], "message": rest[2],
                                    "code": rest[3] if len(rest) > 3 else None})

    def describe(self) -> str:
        return f"--- probe stdout ---\n{self.stdout[-6000:]}\n--- probe stderr ---\n{self.stderr[-6000:]}"


def _unescape(field_: str) -> str | None:
    if field_ == "\\N":
        return None
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "\\": "\\"}.get(m.group(1), m.group(1)), field_)


@pytest.fixture(scope="module")
def probe_classpath(tmp_path_factory) -> str:
    missing = [str(j) for j in (PGJDBC, TRINO_JDBC) if not j.is_file()]
    assert not missing, f"JDBC jars missing: {missing} (scripts/bootstrap.sh downloads them from Maven Central)"
    out = tmp_path_factory.mktemp("jdbc-classes")
    jars = f"{PGJDBC}{os.pathsep}{TRINO_JDBC}"
    sources = sorted(str(p) for p in PROBE_SRC.glob("*.java"))
    proc = subprocess.run([JAVAC, "-encoding", "UTF-8", "-d", str(out), "-cp", jars, *sources],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"javac failed:\n{proc.stdout}\n{proc.stderr}"
    return f"{jars}{os.pathsep}{out}"


def run_probe(cp: str, section: str, url: str, user: str, password: str | None, *args: str) -> ProbeOut:
    cmd = [JAVA, "-Duser.timezone=UTC", "-cp", cp, "JdbcProbe", section, url, user, password or "-", *args]
    proc = subprocess.run(cmd, capture_output=True, timeout=PROBE_TIMEOUT_S)
    stdout, stderr = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, f"JdbcProbe {section} exited with {proc.returncode}\n{stdout[-4000:]}\n{stderr[-6000:]}"
    lines = [[_unescape(f) for f in line.split("\t")] for line in stdout.splitlines() if line]
    assert lines and lines[0] == ["section", section], stdout
    return ProbeOut(lines, stdout, stderr)


# --- expected values from the HTTP API -----------------------------------------------------------

def canonical(value, type_: str) -> str | None:
    """An HTTP API value in JdbcProbe's canonical text form."""
    if value is None:
        return None
    t = type_.upper()
    if t.startswith("DECIMAL") or t.startswith("NUMERIC"):
        m = re.search(r"\(\s*\d+\s*,\s*(\d+)\s*\)", t)
        scale = int(m.group(1)) if m else 0
        return str(Decimal(str(value)).quantize(Decimal(1).scaleb(-scale)))
    if t == "BOOLEAN":
        return "true" if value else "false"
    if t.startswith("TIMESTAMP") and "TIME ZONE" not in t:
        ts = dt.datetime.fromisoformat(str(value))
        s = ts.strftime("%Y-%m-%dT%H:%M:%S")
        return s + f".{ts.microsecond:06d}" if ts.microsecond else s
    return str(value)


def http_expected(router, sql: str, params: list | None = None) -> tuple[list[str], list[str], list[list]]:
    doc = router.query_ok(sql, params=params)
    names = [c["name"] for c in doc["columns"]]
    types = [c["type"] for c in doc["columns"]]
    rows = [[canonical(v, t) for v, t in zip(row, types)] for row in doc["rows"]]
    return names, types, rows


# PostgreSQL type names pgjdbc may report for the HTTP API's (DuckDB's) types.
PG_TYPE_NAMES = {"INTEGER": {"int4"}, "BIGINT": {"int8"}, "VARCHAR": {"text", "varchar"}, "DATE": {"date"},
                 "TIMESTAMP": {"timestamp"}, "BOOLEAN": {"bool"}, "DECIMAL": {"numeric"}}


def assert_pg_types(http_types: list[str], jdbc_types: list[str]) -> None:
    for ht, jt in zip(http_types, jdbc_types, strict=True):
        want = PG_TYPE_NAMES.get(ht.split("(")[0].upper())
        assert want is None or jt in want, f"HTTP type {ht} reached pgjdbc as {jt}, expected one of {want}"


def assert_clean_error(err: dict, what: str) -> None:
    msg = err["message"] or ""
    assert msg.strip(), f"{what}: empty error message: {err}"
    leaks = [w for w in ("std::", "terminate called", "Segmentation", "nullptr", "INTERNAL Error", "assert")
             if w in msg]
    assert not leaks, f"{what}: internal details in the error message: {err}"


# --- servers -------------------------------------------------------------------------------------

@dataclass
class JdbcTarget:
    name: str
    url: str
    user: str
    password: str | None


@pytest.fixture(params=["lakerouter", "postgres"])
def pg_target(request, router) -> JdbcTarget:
    if request.param == "postgres":
        dsn = os.environ.get("LAKEROUTER_PG_DSN")
        if not dsn:
            pytest.skip("LAKEROUTER_PG_DSN not set: no reference PostgreSQL")
        u = urlparse(dsn)
        return JdbcTarget("postgres", f"jdbc:postgresql://{u.hostname}:{u.port}{u.path or '/'}",
                          unquote(u.username or ""), unquote(u.password or ""))
    assert router.pg_port, f"the router printed no pgwire port (front-end disabled or missing)\n{router.log_tail()}"
    return JdbcTarget("lakerouter", f"jdbc:postgresql://{router.host}:{router.pg_port}/lakerouter",
                      "tester", TEST_USERS["tester"][0])


@pytest.fixture(params=["lakerouter", "trino"])
def trino_target(request, router) -> JdbcTarget:
    if request.param == "trino":
        url = os.environ.get("LAKEROUTER_TRINO_URL")
        if not url:
            pytest.skip("LAKEROUTER_TRINO_URL not set: no reference Trino")
        u = urlparse(url)
        return JdbcTarget("trino", f"jdbc:trino://{u.hostname}:{u.port}",
                          os.environ.get("LAKEROUTER_TRINO_USER", "lakerouter"), None)
    # The Trino JDBC driver sends a password only over TLS, so lakerouter's HTTP port is reached
    # with the user name alone (X-Trino-User).
    return JdbcTarget("lakerouter", f"jdbc:trino://{router.host}:{router.port}", "tester", None)


def lakerouter_only(t: JdbcTarget) -> None:
    if t.name != "lakerouter":
        pytest.skip(f"needs the lake's tables under lakerouter's names; {t.name} is only a reference here")


# --- pgjdbc --------------------------------------------------------------------------------------

def test_pgjdbc_plain_query_matches_http(router, probe_classpath, pg_target):
    out = run_probe(probe_classpath, "plain", pg_target.url, pg_target.user, pg_target.password)
    assert not out.errors, out.describe()
    names, types, rows = http_expected(router, PLAIN_SQL)
    assert out.cols == names, out.describe()
    assert out.rows == rows, out.describe()
    assert_pg_types(types, out.types)


def test_pgjdbc_prepared_statement_server_side_and_binary(router, probe_classpath, pg_target):
    """Eight runs of one PreparedStatement: from the fifth on pgjdbc uses a named server-side
    statement and binary transfer; every run must match the HTTP API with the same params."""
    with PgSniffer(pg_target) as sniff:
        out = run_probe(probe_classpath, "prepared", sniff.url, pg_target.user, pg_target.password)
    assert not out.errors, out.describe()
    expected_rows = []
    for k in range(PREPARED_RUNS):
        names, types, rows = http_expected(router, PREPARED_SQL, prepared_params(k))
        expected_rows += rows
    assert out.cols == names, out.describe()
    assert out.rows == expected_rows, out.describe()
    assert_pg_types(types, out.types)
    assert out.info.get("server_prepared") == "true", out.describe()
    # What pgjdbc actually sent: one named Parse, then Binds of that statement with binary formats.
    named = [m for m in sniff.messages if m["type"] == "P" and m["name"]]
    assert named, f"no named Parse (server-side prepared statement) in {sniff.summary()}"
    binds = [m for m in sniff.messages if m["type"] == "B" and m["statement"] == named[0]["name"]]
    assert len(binds) >= 3, sniff.summary()
    assert any(1 in b["param_formats"] for b in binds), f"no binary parameter: {sniff.summary()}"
    assert any(1 in b["result_formats"] for b in binds), f"no binary result column: {sniff.summary()}"


def test_pgjdbc_table_query_matches_http(router, probe_classpath, pg_target):
    lakerouter_only(pg_target)
    out = run_probe(probe_classpath, "sql", pg_target.url, pg_target.user, pg_target.password, NATION_SQL)
    assert not out.errors, out.describe()
    names, types, rows = http_expected(router, NATION_SQL)
    assert out.cols == names and out.rows == rows and len(rows) == 25, out.describe()
    assert_pg_types(types, out.types)


def test_pgjdbc_database_metadata(router, probe_classpath, pg_target):
    """getTables / getColumns on tpch.nation: the table and its columns, or a clean SQLException."""
    lakerouter_only(pg_target)
    out = run_probe(probe_classpath, "metadata", pg_target.url, pg_target.user, pg_target.password, "tpch", "nation")
    names, types, _ = http_expected(router, "SELECT * FROM tpch.nation LIMIT 0")
    parts: dict[str, list] = {}
    current = None
    for line in out.lines:
        if line[:2] == ["info", "part"]:
            current = line[2]
            parts[current] = []
        elif current and line[0] in ("row", "error"):
            parts[current].append(line)
    assert set(parts) == {"tables", "columns"}, out.describe()
    for part, lines in parts.items():
        errors = [ln for ln in lines if ln[0] == "error"]
        if errors:
            sqlstate, _, message = errors[0][1:4]
            assert sqlstate and sqlstate[:2] in ("0A", "42"), f"getMetaData().{part}: unclear SQLState {sqlstate}: {message}"
            assert_clean_error({"message": message}, f"getMetaData().get{part.title()}")
            continue
        rows = [ln[1:] for ln in lines]
        if part == "tables":
            assert [r[:3] for r in rows] == [["tpch", "nation", "TABLE"]], out.describe()
        else:
            assert [r[0] for r in rows] == names, out.describe()
            assert [r[1] for r in rows] == [str(i) for i in range(1, len(names) + 1)], out.describe()


@pytest.mark.parametrize("sql, token, sqlstate", [
    ("SELECT * FROM no_such_table_h4", "no_such_table_h4", "42P01"),
    ("SELECT 1 FROM tpch.nation WHERE no_such_column_h4 = 1", "no_such_column_h4", "42703"),
    # (not "1 +* FROM": DuckDB parses "+*" as a postfix operator and fails in the binder, so that
    # was no syntax error for lakerouter)
    ("SELECT 1 FROM tpch.nation WHERE )", ")", "42601"),
])
def test_pgjdbc_error_with_position(router, probe_classpath, pg_target, sql, token, sqlstate):
    lakerouter_only(pg_target)
    out = run_probe(probe_classpath, "error", pg_target.url, pg_target.user, pg_target.password, sql)
    assert len(out.errors) == 1 and not out.rows, out.describe()
    err = out.errors[0]
    assert err["sqlstate"] == sqlstate, out.describe()
    assert_clean_error(err, sql)
    http = router.query(sql)
    # docs/api.md: UNKNOWN_TABLE is 404, the other query errors 400.
    assert http.status_code == (404 if sqlstate == "42P01" else 400), http.text
    http_pos = http.json()["error"].get("position")
    assert http_pos == sql.index(token), http.text
    # PostgreSQL positions are 1-based characters; the HTTP API's are 0-based.
    assert err["position"] == str(http_pos + 1), f"position {err['position']} vs HTTP {http_pos}: {out.describe()}"


def test_pgjdbc_fetch_size_cursor(router, probe_classpath, pg_target):
    """Autocommit off + setFetchSize: pgjdbc runs BEGIN, then Execute with a row limit
    (PortalSuspended between chunks), then COMMIT."""
    lakerouter_only(pg_target)
    out = run_probe(probe_classpath, "fetch", pg_target.url, pg_target.user, pg_target.password,
                    "SELECT l_orderkey FROM tpch.lineitem", "1000")
    assert not out.errors, out.describe()
    doc = router.query_ok("SELECT count(*), sum(l_orderkey) FROM tpch.lineitem")
    count, total = doc["rows"][0]
    assert out.info == {**out.info, "rows": str(count), "sum": str(Decimal(str(total)))}, out.describe()


def test_pgjdbc_wrong_password_is_refused(probe_classpath, pg_target):
    out = run_probe(probe_classpath, "plain", pg_target.url, pg_target.user, "wrong-password")
    assert len(out.errors) == 1 and out.errors[0]["sqlstate"] == "28P01", out.describe()


# --- Trino JDBC ----------------------------------------------------------------------------------

def test_trino_jdbc_plain_query_matches_http(router, probe_classpath, trino_target):
    out = run_probe(probe_classpath, "plain", trino_target.url, trino_target.user, trino_target.password)
    assert not out.errors, out.describe()
    names, _, rows = http_expected(router, PLAIN_SQL)
    assert out.cols == names, out.describe()
    assert out.rows == rows, out.describe()
    assert out.types[:3] == ["integer", "varchar(3)", "decimal(10,2)"] or trino_target.name == "lakerouter", out.types


def test_trino_jdbc_table_query_matches_http(router, probe_classpath, trino_target):
    lakerouter_only(trino_target)
    out = run_probe(probe_classpath, "sql", trino_target.url, trino_target.user, trino_target.password, NATION_SQL)
    assert not out.errors, out.describe()
    names, _, rows = http_expected(router, NATION_SQL)
    assert out.cols == names and out.rows == rows and len(rows) == 25, out.describe()


@pytest.mark.parametrize("explicit_prepare", ["true", "false"], ids=["prepare-execute", "execute-immediate"])
def test_trino_jdbc_prepared_statement(router, probe_classpath, trino_target, explicit_prepare):
    """Trino JDBC 476 runs a PreparedStatement as SQL: by default (explicitPrepare=true)
    `PREPARE statement1 FROM <sql>` (the answer carries X-Trino-Added-Prepare), then per run
    `EXECUTE statement1 USING INTEGER '41', 'text', DECIMAL '1234.5', DATE '...', TIMESTAMP '...',
    true, CAST(NULL AS INTEGER)` with the header X-Trino-Prepared-Statement: statement1=<url-encoded
    SQL>; with explicitPrepare=false, `EXECUTE IMMEDIATE '<sql>' USING ...` in one request."""
    out = run_probe(probe_classpath, "prepared", f"{trino_target.url}?explicitPrepare={explicit_prepare}",
                    trino_target.user, trino_target.password)
    if out.errors and trino_target.name == "lakerouter":
        # Not supported (yet): the refusal must be a clean Trino-protocol error naming the statement.
        err = out.errors[0]
        assert_clean_error(err, "PREPARE/EXECUTE")
        assert "Query failed" in err["message"], f"not a Trino query error (protocol failure?):\n{out.describe()}"
        assert re.search(r"PREPARE|EXECUTE|prepared", err["message"], re.I), (
            f"the error does not say that PREPARE / EXECUTE is the problem:\n{out.describe()}")
        pytest.xfail(f"lakerouter's Trino front-end does not run Trino JDBC prepared statements "
                     f"(explicitPrepare={explicit_prepare}): {err['message']}")
    assert not out.errors, (f"Trino JDBC PreparedStatement (explicitPrepare={explicit_prepare}) failed "
                            f"on {trino_target.name}:\n{out.describe()}")
    expected_rows = []
    for k in range(PREPARED_RUNS):
        names, _, rows = http_expected(router, PREPARED_SQL, prepared_params(k))
        expected_rows += rows
    assert out.cols == names, out.describe()
    assert out.rows == expected_rows, out.describe()


@pytest.mark.parametrize("sql, token", [
    ("SELECT * FROM tpch.no_such_table_h4", "tpch.no_such_table_h4"),
    ("SELECT 1 FROM tpch.nation WHERE no_such_column_h4 = 1", "no_such_column_h4"),
])
def test_trino_jdbc_error_with_location(router, probe_classpath, trino_target, sql, token):
    lakerouter_only(trino_target)
    out = run_probe(probe_classpath, "error", trino_target.url, trino_target.user, trino_target.password, sql)
    assert len(out.errors) == 1 and not out.rows, out.describe()
    err = out.errors[0]
    assert_clean_error(err, sql)
    assert "no_such" in err["message"], out.describe()
    http_pos = router.query(sql).json()["error"].get("position")
    assert http_pos == sql.index(token)
    assert err["position"] == f"1:{http_pos + 1}", f"Trino errorLocation {err['position']} vs HTTP {http_pos}"


# --- a pass-through sniffer for the PostgreSQL protocol ------------------------------------------

class PgSniffer:
    """Forwards a TCP port to the target and decodes what the client sends (Parse, Bind: statement
    name, parameter and result format codes) so that the test can see what pgjdbc did."""

    def __init__(self, target: JdbcTarget):
        u = urlparse(target.url.removeprefix("jdbc:"))
        self.upstream = (u.hostname, u.port)
        self.path = u.path
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"jdbc:postgresql://127.0.0.1:{self.listener.getsockname()[1]}{self.path}"
        self.messages: list[dict] = []
        self.threads: list[threading.Thread] = []
        self.stop = False

    def __enter__(self) -> "PgSniffer":
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)
        return self

    def __exit__(self, *exc) -> None:
        self.stop = True
        self.listener.close()
        for t in self.threads[1:]:
            t.join(timeout=10)

    def summary(self) -> str:
        return "; ".join(f"{m['type']}{m.get('name') or m.get('statement') or ''}"
                         f"{'' if m['type'] != 'B' else (m['param_formats'], m['result_formats'])}"
                         for m in self.messages[:80])

    def _accept(self) -> None:
        while not self.stop:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            up = threading.Thread(target=self._pump, args=(client, server, True), daemon=True)
            down = threading.Thread(target=self._pump, args=(server, client, False), daemon=True)
            up.start()
            down.start()
            self.threads += [up, down]

    def _pump(self, src: socket.socket, dst: socket.socket, decode: bool) -> None:
        buf, started = b"", False
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
                if not decode:
                    continue
                buf += data
                while True:
                    if not started:  # untyped packets: SSLRequest/GSSENCRequest, then the StartupMessage
                        if len(buf) < 8:
                            break
                        n, code = struct.unpack("!II", buf[:8])
                        if len(buf) < n:
                            break
                        buf = buf[n:]
                        started = code == 3 << 16
                        continue
                    if len(buf) < 5:
                        break
                    n = struct.unpack("!I", buf[1:5])[0]
                    if len(buf) < 1 + n:
                        break
                    self._record(buf[:1].decode("latin-1"), buf[5:1 + n])
                    buf = buf[1 + n:]
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _record(self, type_: str, body: bytes) -> None:
        m: dict = {"type": type_}
        if type_ == "P":
            m["name"] = body[:body.index(b"\x00")].decode()
        elif type_ == "B":
            portal_end = body.index(b"\x00")
            stmt_end = body.index(b"\x00", portal_end + 1)
            m["statement"] = body[portal_end + 1:stmt_end].decode()
            i = stmt_end + 1
            (nf,) = struct.unpack("!H", body[i:i + 2])
            m["param_formats"] = list(struct.unpack(f"!{nf}h", body[i + 2:i + 2 + 2 * nf]))
            i += 2 + 2 * nf
            (npar,) = struct.unpack("!H", body[i:i + 2])
            i += 2
            for _ in range(npar):
                (ln,) = struct.unpack("!i", body[i:i + 4])
                i += 4 + max(ln, 0)
            (nr,) = struct.unpack("!H", body[i:i + 2])
            m["result_formats"] = list(struct.unpack(f"!{nr}h", body[i + 2:i + 2 + 2 * nr]))
        self.messages.append(m)
