"""Malformed and hostile input to the HTTP API: every case gets its exact status and error code.

The error document is {"error": {"code", "message", "position"?}, "query_id"?}. Syntax errors
and unknown tables carry "position", the 0-based character offset of the offending token in
the SQL text; the tests check that it points at that token.

After every test the server must still answer SELECT 42 and GET /health (an autouse fixture),
and the last test of the module checks it once more; the session fixture then requires a clean
exit 0 on SIGTERM.

"""

from __future__ import annotations

import http.client
import json
import random
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from conftest import MAX_BODY_BYTES, POOL_SIZE, READ_TIMEOUT_MS, start_router, stop_router

JSON = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def server_survives(router):
    """Cheap liveness check after each test: SELECT 42 and /health still answer."""
    yield
    router.assert_healthy()


# --- helpers -------------------------------------------------------------------------------------

def assert_error(r: requests.Response, status: int, code: str, *, sql: str | None = None,
                 position: int | str | None = None) -> dict:
    """Checks the status, the error document and (when given) the position.

    `position` is an int or a token of `sql` whose first occurrence is the expected offset.
    """
    assert r.status_code == status, f"expected {status} {code}, got {r.status_code}: {r.text[:500]}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    doc = r.json()
    assert isinstance(doc, dict) and isinstance(doc.get("error"), dict), doc
    err = doc["error"]
    assert err.get("code") == code, f"expected {code}, got {err}"
    assert isinstance(err.get("message"), str) and err["message"], err
    assert set(doc) <= {"error", "query_id"}, doc
    assert set(err) <= {"code", "message", "position"}, err
    if position is not None:
        want = sql.index(position) if isinstance(position, str) else position
        assert err.get("position") == want, (
            f"position {err.get('position')} should be {want} "
            f"({sql[want:want + 20]!r}); the server points at {sql[err['position']:][:20]!r}"
            if isinstance(err.get("position"), int) else f"no position in {err}")
    return doc


def raw_exchange(router, data: bytes, *, timeout: float = 10.0, shut_wr: bool = False) -> tuple[bytes, bool]:
    """Sends raw bytes on a new connection and reads until the server closes it or `timeout`.

    Returns (everything read, whether the server closed the connection).
    """
    with socket.create_connection((router.host, router.port), timeout=timeout) as s:
        s.sendall(data)
        if shut_wr:
            s.shutdown(socket.SHUT_WR)
        out = b""
        deadline = time.monotonic() + timeout
        while True:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                return out, False
            except ConnectionResetError:
                return out, True
            if not chunk:
                return out, True
            out += chunk


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    rest: bytes = b""  # bytes after this response

    def json(self) -> Any:
        return json.loads(self.body)


def parse_response(data: bytes, *, head: bool = False) -> RawResponse:
    """Parses one HTTP/1.x response (Content-Length or chunked body) from raw bytes."""
    assert b"\r\n\r\n" in data, f"no complete response in {data[:300]!r}"
    header, rest = data.split(b"\r\n\r\n", 1)
    lines = header.decode("latin-1").split("\r\n")
    version, status, _ = (lines[0].split(" ", 2) + [""])[:3]
    assert version.startswith("HTTP/1."), lines[0]
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    if head:
        return RawResponse(int(status), headers, b"", rest)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size_line, rest = rest.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                _, rest = rest.split(b"\r\n", 1)
                break
            body += rest[:size]
            rest = rest[size + 2:]
        return RawResponse(int(status), headers, body, rest)
    n = int(headers.get("content-length", "0"))
    return RawResponse(int(status), headers, rest[:n], rest[n:])


def assert_raw_error(resp: RawResponse, status: int, code: str) -> None:
    assert resp.status == status, (resp.status, resp.body[:300])
    assert resp.headers.get("content-type", "").startswith("application/json")
    assert resp.json()["error"]["code"] == code, resp.body


# --- table-driven cases --------------------------------------------------------------------------

@dataclass
class Case:
    body: bytes | None
    status: int
    code: str
    sql: str | None = None
    position: int | str | None = None
    method: str = "POST"
    path: str = "/v1/query"
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))


def case(id: str, body: Any, status: int, code: str, *, xfail: str | None = None, **kw: Any):
    """`body`: bytes as they are, anything else as JSON."""
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
    marks = [pytest.mark.xfail(reason=xfail, strict=True)] if xfail else []
    return pytest.param(Case(body, status, code, **kw), id=id, marks=marks)


def sql_case(id: str, sql: str, status: int, code: str, *, position: int | str | None = None,
             extra: dict | None = None, **kw: Any):
    return case(id, {"sql": sql, **(extra or {})}, status, code, sql=sql, position=position, **kw)


_rng = random.Random(20240601)
BINARY_GARBAGE = b"\x00\xff" + _rng.randbytes(4096) + b"\x00"

CASES = [
    # -- not JSON --
    case("json-truncated", b'{"sql":"SELECT 1"', 400, "INVALID_JSON"),
    case("json-truncated-in-string", b'{"sql":"SELECT', 400, "INVALID_JSON"),
    case("json-trailing-garbage", b'{"sql":"SELECT 1"} x', 400, "INVALID_JSON"),
    case("json-two-documents", b'{"sql":"SELECT 1"}{"sql":"SELECT 2"}', 400, "INVALID_JSON"),
    case("json-single-quotes", b"{'sql':'SELECT 1'}", 400, "INVALID_JSON"),
    case("json-trailing-comma", b'{"sql":"SELECT 1",}', 400, "INVALID_JSON"),
    case("json-missing-comma", b'{"sql":"SELECT 1" "params":[]}', 400, "INVALID_JSON"),
    case("json-unquoted-key", b'{sql:"SELECT 1"}', 400, "INVALID_JSON"),
    case("json-raw-newline-in-string", b'{"sql":"SELECT\n1"}', 400, "INVALID_JSON"),
    case("json-lone-surrogate-escape", b'{"sql":"SELECT \'\\ud800\'"}', 400, "INVALID_JSON"),
    case("json-empty-body", b"", 400, "INVALID_JSON"),
    case("json-whitespace-body", b"  \r\n ", 400, "INVALID_JSON"),
    case("binary-ascii-control-bytes", b"\x00\x01\x02\x03 binary", 400, "INVALID_JSON"),
    case("json-nul-then-garbage", b'{"sql":"SELECT 1"}\x00 trailing garbage', 400, "INVALID_JSON"),
    case("json-number-overflow-timeout", b'{"sql":"SELECT 1","timeout_ms":1e400}', 400, "INVALID_JSON"),
    case("json-number-overflow-param", b'{"sql":"SELECT $1","params":[-1e400]}', 400, "INVALID_JSON"),
    # -- binary and invalid UTF-8 --
    case("binary-garbage-with-nul", BINARY_GARBAGE, 400, "INVALID_UTF8"),
    case("utf8-invalid-in-sql-string", b'{"sql":"SELECT \'\xff\xfe\'"}', 400, "INVALID_UTF8"),
    case("utf8-overlong-in-sql-string", b'{"sql":"SELECT \'\xc0\xaf\'"}', 400, "INVALID_UTF8"),
    case("utf8-surrogate-in-sql-string", b'{"sql":"SELECT \'\xed\xa0\x80\'"}', 400, "INVALID_UTF8"),
    case("utf8-latin1-in-sql-string", "{\"sql\":\"SELECT 'caf\u00e9'\"}".encode("latin-1"), 400, "INVALID_UTF8"),
    case("utf8-invalid-in-key", b'{"sql":"SELECT 1","x\xff":1}', 400, "INVALID_UTF8"),
    case("utf8-invalid-after-document", b'{"sql":"SELECT 1"}\xff', 400, "INVALID_UTF8"),
    case("utf8-truncated-sequence-at-end", b'{"sql":"SELECT 1"} \xe2\x82', 400, "INVALID_UTF8"),
    # -- JSON, but not the request shape --
    case("body-array", [], 400, "INVALID_REQUEST"),
    case("body-array-of-request", [{"sql": "SELECT 1"}], 400, "INVALID_REQUEST"),
    case("body-string", "SELECT 1", 400, "INVALID_REQUEST"),
    case("body-number", 42, 400, "INVALID_REQUEST"),
    case("body-null", b"null", 400, "INVALID_REQUEST"),
    case("body-true", b"true", 400, "INVALID_REQUEST"),
    case("missing-sql", {}, 400, "INVALID_REQUEST"),
    case("missing-sql-with-params", {"params": [1]}, 400, "INVALID_REQUEST"),
    case("sql-number", {"sql": 1}, 400, "INVALID_REQUEST"),
    case("sql-null", {"sql": None}, 400, "INVALID_REQUEST"),
    case("sql-object", {"sql": {"text": "SELECT 1"}}, 400, "INVALID_REQUEST"),
    case("sql-array", {"sql": ["SELECT 1"]}, 400, "INVALID_REQUEST"),
    case("sql-bool", {"sql": True}, 400, "INVALID_REQUEST"),
    case("unknown-field", {"sql": "SELECT 1", "foo": 1}, 400, "INVALID_REQUEST"),
    case("field-name-wrong-case", {"SQL": "SELECT 1"}, 400, "INVALID_REQUEST"),
    # -- no statement --
    sql_case("sql-empty", "", 400, "EMPTY_SQL"),
    sql_case("sql-whitespace-only", " \t\r\n  ", 400, "EMPTY_SQL"),
    sql_case("sql-line-comment-only", "-- nothing to see here", 400, "EMPTY_SQL"),
    sql_case("sql-block-comment-only", "/* nothing */", 400, "EMPTY_SQL"),
    sql_case("sql-comments-and-whitespace", "  -- a\n/* b */\n", 400, "EMPTY_SQL"),
    sql_case("sql-semicolons-only", " ; ; ", 400, "EMPTY_SQL"),
    # -- SQL errors --
    sql_case("syntax-error", "SELECT * FROM WHERE", 400, "SYNTAX_ERROR", position="WHERE"),
    sql_case("syntax-misspelled-keyword", "SELEC 1", 400, "SYNTAX_ERROR", position="SELEC"),
    sql_case("syntax-double-comma", "SELECT 1,, 2", 400, "SYNTAX_ERROR", position=", 2"),
    sql_case("syntax-unterminated-string", "SELECT 'abc", 400, "SYNTAX_ERROR", position="'abc"),
    sql_case("syntax-unterminated-identifier", 'SELECT "abc', 400, "SYNTAX_ERROR", position='"abc'),
    sql_case("syntax-unexpected-end", "SELECT (1", 400, "SYNTAX_ERROR", position=len("SELECT (1")),
    sql_case("syntax-error-in-second-line", "SELECT 1\nFROM tpch.nation\nWHERE WHERE", 400, "SYNTAX_ERROR",
             position=len("SELECT 1\nFROM tpch.nation\nWHERE ")),
    sql_case("multiple-statements", "SELECT 1; SELECT 2", 400, "MULTIPLE_STATEMENTS"),
    sql_case("multiple-statements-one-invalid", "SELECT 1; DROP TABLE tpch.nation", 400, "MULTIPLE_STATEMENTS"),
    sql_case("unknown-table", "SELECT * FROM tpch.nope", 404, "UNKNOWN_TABLE", position="tpch.nope"),
    sql_case("unknown-table-unqualified", "SELECT count(*) FROM lineitem", 404, "UNKNOWN_TABLE",
             position="lineitem"),
    sql_case("unknown-table-in-join", "SELECT 1 FROM tpch.nation n JOIN tpch.nations m ON true", 404,
             "UNKNOWN_TABLE", position="tpch.nations"),
    sql_case("unknown-table-in-subquery", "SELECT (SELECT max(x) FROM tpch.ghost) AS m", 404, "UNKNOWN_TABLE",
             position="tpch.ghost"),
    # docs/api.md: an unknown schema in a table reference is an unknown table.
    sql_case("unknown-schema", "SELECT * FROM nope.nation", 404, "UNKNOWN_TABLE", position="nope.nation"),
    sql_case("unknown-column", "SELECT nocol FROM tpch.nation", 400, "BIND_ERROR", position="nocol"),
    sql_case("unknown-column-in-where", "SELECT n_name FROM tpch.nation WHERE n_nope = 1", 400, "BIND_ERROR",
             position="n_nope"),
    sql_case("unknown-function", "SELECT nofunc(1)", 400, "UNKNOWN_OBJECT", position="nofunc"),
    # Table functions outside lockdown's short list are refused before any engine looks them up.
    sql_case("unknown-table-function", "SELECT * FROM nope_fn()", 403, "PERMISSION_DENIED"),
    sql_case("unknown-type", "SELECT 1::NOTYPE", 400, "UNKNOWN_OBJECT"),
    sql_case("conversion-error", "SELECT 'abc'::INTEGER", 400, "CONVERSION_ERROR"),
    sql_case("conversion-error-bad-date", "SELECT DATE '2020-13-45'", 400, "CONVERSION_ERROR"),
    sql_case("conversion-error-on-table", "SELECT n_name FROM tpch.nation WHERE n_nationkey = 'abc'", 400,
             "CONVERSION_ERROR"),
    sql_case("integer-overflow", "SELECT 9223372036854775807::BIGINT + 1", 400, "OUT_OF_RANGE"),
    sql_case("integer-overflow-multiply", "SELECT 4611686018427387904::BIGINT * 2", 400, "OUT_OF_RANGE"),
    # -- params --
    sql_case("params-too-few", "SELECT $1, $2", 400, "INVALID_PARAMETER", extra={"params": [1]}),
    sql_case("params-too-many", "SELECT $1", 400, "INVALID_PARAMETER", extra={"params": [1, 2]}),
    sql_case("params-missing", "SELECT ? + 1", 400, "INVALID_PARAMETER"),
    sql_case("params-given-no-placeholder", "SELECT 1", 400, "INVALID_PARAMETER", extra={"params": [1]}),
    sql_case("params-object", "SELECT 1", 400, "INVALID_REQUEST", extra={"params": {"a": 1}}),
    sql_case("params-string", "SELECT 1", 400, "INVALID_REQUEST", extra={"params": "1"}),
    sql_case("param-of-object-type", "SELECT $1", 400, "INVALID_PARAMETER", extra={"params": [{"a": 1}]}),
    sql_case("param-of-array-type", "SELECT $1", 400, "INVALID_PARAMETER", extra={"params": [[1]]}),
    sql_case("param-integer-over-int64", "SELECT $1", 400, "INVALID_PARAMETER",
             extra={"params": [18446744073709551615]}),
    sql_case("param-conversion", "SELECT $1::INTEGER", 400, "CONVERSION_ERROR", extra={"params": ["x"]}),
    sql_case("param-named-given-by-position", "SELECT $a", 400, "INVALID_PARAMETER", extra={"params": [1]}),
    # -- timeout_ms --
    sql_case("timeout-zero", "SELECT 1", 400, "INVALID_REQUEST", extra={"timeout_ms": 0}),
    sql_case("timeout-negative", "SELECT 1", 400, "INVALID_REQUEST", extra={"timeout_ms": -5}),
    sql_case("timeout-string", "SELECT 1", 400, "INVALID_REQUEST", extra={"timeout_ms": "300"}),
    sql_case("timeout-fraction", "SELECT 1", 400, "INVALID_REQUEST", extra={"timeout_ms": 1.5}),
    sql_case("timeout-bool", "SELECT 1", 400, "INVALID_REQUEST", extra={"timeout_ms": True}),
    sql_case("timeout-null", "SELECT 1", 400, "INVALID_REQUEST", extra={"timeout_ms": None}),
    case("timeout-over-int64", b'{"sql":"SELECT 1","timeout_ms":18446744073709551615}', 400, "INVALID_REQUEST"),
    # -- HTTP: media type, method, path --
    case("content-type-text-plain", {"sql": "SELECT 1"}, 415, "UNSUPPORTED_MEDIA_TYPE",
         headers={"Content-Type": "text/plain"}),
    case("content-type-form", b"sql=SELECT+1", 415, "UNSUPPORTED_MEDIA_TYPE",
         headers={"Content-Type": "application/x-www-form-urlencoded"}),
    case("content-type-json-lookalike", {"sql": "SELECT 1"}, 415, "UNSUPPORTED_MEDIA_TYPE",
         headers={"Content-Type": "application/jsonx"}),
    case("get-query", None, 405, "METHOD_NOT_ALLOWED", method="GET", headers={}),
    case("put-query", {"sql": "SELECT 1"}, 405, "METHOD_NOT_ALLOWED", method="PUT"),
    case("delete-query", None, 405, "METHOD_NOT_ALLOWED", method="DELETE", headers={}),
    case("post-health", {"sql": "SELECT 1"}, 405, "METHOD_NOT_ALLOWED", path="/health"),
    case("post-tables", {"sql": "SELECT 1"}, 405, "METHOD_NOT_ALLOWED", path="/v1/tables"),
    case("unknown-path", None, 404, "NOT_FOUND", method="GET", path="/nope", headers={}),
    case("unknown-path-post", {"sql": "SELECT 1"}, 404, "NOT_FOUND", path="/v1/querys"),
    case("path-trailing-slash", {"sql": "SELECT 1"}, 404, "NOT_FOUND", path="/v1/query/"),
    case("path-wrong-case", {"sql": "SELECT 1"}, 404, "NOT_FOUND", path="/V1/QUERY"),
    case("root-path", None, 404, "NOT_FOUND", method="GET", path="/", headers={}),
]


@pytest.mark.parametrize("c", CASES)
def test_malformed(router, c: Case):
    r = router.request(c.method, c.path, data=c.body, headers=c.headers, timeout=30)
    doc = assert_error(r, c.status, c.code, sql=c.sql, position=c.position)
    if c.code in {"SYNTAX_ERROR", "UNKNOWN_TABLE"}:
        assert isinstance(doc["error"].get("position"), int), f"{c.code} without a position: {doc}"


def test_case_table_is_big_enough():
    assert len(CASES) >= 30
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"


# --- accepted edge cases -------------------------------------------------------------------------

ACCEPTED = [
    pytest.param(b'{"sql":"SELECT 42"}', {}, [[42]], id="no-content-type"),
    pytest.param(b'{"sql":"SELECT 42"}', {"Content-Type": "Application/JSON; charset=utf-8"}, [[42]],
                 id="content-type-case-and-charset"),
    pytest.param(b'{"sql":"SELECT 42;"}', JSON, [[42]], id="trailing-semicolon"),
    pytest.param(b'{"sql":"  SELECT 42 -- done\\n"}', JSON, [[42]], id="trailing-comment"),
    pytest.param(b'{"sql":"SELECT 42","params":null}', JSON, [[42]], id="params-null"),
    pytest.param(b'{"sql":"SELECT 42","params":[]}', JSON, [[42]], id="params-empty"),
    pytest.param(b'{"sql":"SELECT $1 + $2","params":[40,2]}', JSON, [[42]], id="params-ints"),
    pytest.param(b'{"sql":"SELECT $1, $2, $3, $4","params":["a\\u00e9",true,null,1.5]}', JSON,
                 [["a\u00e9", True, None, 1.5]], id="params-mixed-types"),
    pytest.param(b'{"sql":"SELECT 42","timeout_ms":9223372036854775807}', JSON, [[42]], id="timeout-huge"),
    pytest.param('{"sql":"SELECT \'\u00e9\U0001F600\'"}'.encode(), JSON, [["\u00e9\U0001F600"]], id="utf8-text"),
    pytest.param(b'{"sql":"SELECT \'\\ud83d\\ude00\'"}', JSON, [["\U0001F600"]], id="json-surrogate-pair"),
    pytest.param(b'\xef\xbb\xbf{"sql":"SELECT 42"}', JSON, [[42]], id="utf8-bom"),
    pytest.param(b'{"sql":"SELECT chr(0) || \'a\'"}', JSON, [["\u0000a"]], id="nul-in-result"),
]


@pytest.mark.parametrize("body,headers,rows", ACCEPTED)
def test_accepted_edge_cases(router, body, headers, rows):
    r = router.post("/v1/query", data=body, headers=headers)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["rows"] == rows and doc["row_count"] == len(rows), doc


def test_division_by_zero_is_documented_not_an_error(router):
    # DuckDB semantics: 1/0 is a DOUBLE Infinity, 1//0 (integer division) is NULL.
    doc = router.query_ok("SELECT 1/0 AS d, 1//0 AS i, 1 % 0 AS m, -1/0 AS n, 0/0 AS z")
    assert [c["name"] for c in doc["columns"]] == ["d", "i", "m", "n", "z"]
    assert [c["type"] for c in doc["columns"]] == ["DOUBLE", "INTEGER", "INTEGER", "DOUBLE", "DOUBLE"]
    # JSON has no Infinity/NaN: non-finite doubles travel as strings.
    assert doc["rows"] == [["Infinity", None, None, "-Infinity", "NaN"]]


def test_value_encoding(router):
    doc = router.query_ok(
        "SELECT 123.45::DECIMAL(10,2) AS dec, DATE '1995-03-15' AS d, "
        "170141183460469231731687303715884105727::HUGEINT AS h, NULL::INTEGER AS n, '\\xAA\\x00'::BLOB AS b")
    assert doc["rows"] == [["123.45", "1995-03-15", 170141183460469231731687303715884105727, None, "qgA="]]
    # the other encodings of docs/api.md
    doc = router.query_ok(
        "SELECT TIMESTAMP '1992-01-31 13:45:00' AS ts, TIMESTAMP '1992-01-31 13:45:00.5' AS ts_us, "
        "TIMESTAMPTZ '1992-01-31 13:45:00+02' AS tstz, TIME '13:45:00' AS t, DATE '10000-01-01' AS big_date, "
        "'1992-01-31 13:45:00.123456789'::TIMESTAMP_NS AS ts_ns, 18446744073709551615::UBIGINT AS ub, "
        "[1, NULL] AS l, {'a': 1} AS s, MAP {'k': 2} AS m, true AS b, 1.5::REAL AS r")
    assert doc["rows"] == [["1992-01-31T13:45:00", "1992-01-31T13:45:00.500000", "1992-01-31T11:45:00Z", "13:45:00",
                            "+10000-01-01", "1992-01-31T13:45:00.123456", 18446744073709551615, [1, None],
                            {"a": 1}, [{"key": "k", "value": 2}], True, 1.5]]


# --- the query timeout ---------------------------------------------------------------------------

def test_query_timeout_returns_504_quickly(router):
    t0 = time.monotonic()
    r = router.post("/v1/query", data=b'{"sql":"SELECT count(*) FROM range(100000000000)","timeout_ms":300}',
                    headers=JSON, timeout=30)
    elapsed = time.monotonic() - t0
    doc = assert_error(r, 504, "QUERY_TIMEOUT")
    assert doc.get("query_id"), doc
    assert elapsed < 5, f"the timed-out query took {elapsed:.1f} s to answer"
    # Every pooled connection still works after the interrupt.
    for _ in range(2 * POOL_SIZE):
        assert router.query_ok("SELECT 42")["rows"] == [[42]]


# --- bodies over the limit -----------------------------------------------------------------------

TEN_MB = 10 * 1024 * 1024


def _big_body(size: int) -> bytes:
    prefix, suffix = b'{"sql":"SELECT length(\'', b'\')"}'
    return prefix + b"x" * (size - len(prefix) - len(suffix)) + suffix


def test_body_at_the_limit_is_accepted(router):
    body = _big_body(MAX_BODY_BYTES)
    assert len(body) == MAX_BODY_BYTES
    r = router.post("/v1/query", data=body, headers=JSON)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["rows"] == [[MAX_BODY_BYTES - len(b'{"sql":"SELECT length(\'\')"}')]]


def test_body_one_byte_over_the_limit(router):
    r = router.post("/v1/query", data=_big_body(MAX_BODY_BYTES + 1), headers=JSON)
    assert_error(r, 413, "BODY_TOO_LARGE")


def test_10mb_body_requests(router):
    try:
        r = router.post("/v1/query", data=_big_body(TEN_MB), headers=JSON, timeout=30)
    except requests.ConnectionError as e:
        pytest.fail(f"server bug: the client got a connection error instead of a 413: {e!r}")
    assert_error(r, 413, "BODY_TOO_LARGE")
    assert r.headers.get("Connection", "").lower() == "close"


def test_10mb_body_http_client(router):
    conn = http.client.HTTPConnection(router.host, router.port, timeout=30)
    try:
        conn.request("POST", "/v1/query", body=_big_body(TEN_MB), headers=JSON)
        resp = conn.getresponse()
        body = resp.read()
    except (ConnectionError, http.client.HTTPException) as e:
        pytest.fail(f"server bug: the client got {e!r} instead of a 413")
    finally:
        conn.close()
    assert resp.status == 413, body[:300]
    assert json.loads(body)["error"]["code"] == "BODY_TOO_LARGE"


def test_content_length_over_limit_declared_only(router):
    # The body never comes: the server must answer from the headers alone and close.
    head = (f"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {TEN_MB}\r\n\r\n").encode()
    t0 = time.monotonic()
    data, closed = raw_exchange(router, head + b'{"sql":"SELECT 1', timeout=10)
    resp = parse_response(data)
    assert_raw_error(resp, 413, "BODY_TOO_LARGE")
    assert resp.headers.get("connection", "").lower() == "close"
    assert closed, "the server kept the connection open after a 413"
    assert time.monotonic() - t0 < 5


def test_content_length_over_limit_with_expect_continue(router):
    head = (f"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {TEN_MB}\r\nExpect: 100-continue\r\n\r\n").encode()
    data, closed = raw_exchange(router, head, timeout=10)
    assert not data.startswith(b"HTTP/1.1 100"), "the server asked for a body it will refuse"
    assert_raw_error(parse_response(data), 413, "BODY_TOO_LARGE")
    assert closed


def test_chunked_body_over_limit_requests(router):
    def chunks():
        yield b'{"sql":"SELECT \''
        for _ in range(2 * MAX_BODY_BYTES // 65536 + 1):
            yield b"x" * 65536
        yield b'\'"}'
    try:
        r = router.post("/v1/query", data=chunks(), headers=JSON, timeout=30)
    except requests.ConnectionError as e:
        pytest.fail(f"server bug: the client got a connection error instead of a 413: {e!r}")
    assert_error(r, 413, "BODY_TOO_LARGE")


def test_chunked_body_declaring_huge_chunk(router):
    head = b"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    data, closed = raw_exchange(router, head + b"%x\r\n" % (4 * MAX_BODY_BYTES) + b"x" * 1000, timeout=10)
    assert_raw_error(parse_response(data), 413, "BODY_TOO_LARGE")
    assert closed


# --- broken HTTP ---------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    pytest.param(b"GARBAGE\r\n\r\n", id="no-target-no-version"),
    pytest.param(b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n", id="bad-version"),
    pytest.param(b"GET /health\r\n\r\n", id="missing-version"),
    pytest.param(b"G(T /health HTTP/1.1\r\nHost: x\r\n\r\n", id="bad-method-token"),
    pytest.param(b"GET /hea lth HTTP/1.1\r\nHost: x\r\n\r\n", id="space-in-target"),
    pytest.param(b"GET /health HTTP/1.1\r\nBad Header Line\r\n\r\n", id="header-without-colon"),
    pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(32) + b"\r\n\r\n", id="tls-client-hello"),
    pytest.param(b"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", id="bad-content-length"),
    pytest.param(b"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n12345",
                 id="conflicting-content-length"),
    pytest.param(b"POST /v1/query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", id="bad-chunk-size"),
])
def test_malformed_http_request(router, data):
    got, closed = raw_exchange(router, data, timeout=10)
    resp = parse_response(got)
    assert_raw_error(resp, 400, "INVALID_REQUEST")
    assert resp.headers.get("connection", "").lower() == "close"
    assert closed, "the server kept a connection open after a malformed request"
    assert resp.rest == b""


@pytest.mark.parametrize("shape", ["one-big-header", "many-headers"])
def test_headers_over_16k(router, shape):
    if shape == "one-big-header":
        headers = b"X-Big: " + b"a" * (17 * 1024) + b"\r\n"
    else:
        headers = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 40) for i in range(400))
    got, closed = raw_exchange(router, b"GET /health HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n", timeout=10)
    assert_raw_error(parse_response(got), 431, "HEADERS_TOO_LARGE")
    assert closed


def test_headers_just_under_16k_are_fine(router):
    headers = b"X-Big: " + b"a" * (15 * 1024) + b"\r\n"
    got, _ = raw_exchange(router, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + b"\r\n")
    assert parse_response(got).status == 200


@pytest.mark.parametrize("data", [
    pytest.param(b"POST /v1/que", id="mid-request-line"),
    pytest.param(b"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Ty", id="mid-headers"),
    pytest.param(b"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"sql\":", id="mid-body"),
    pytest.param(b"POST /v1/query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"sql\"",
                 id="mid-chunk"),
])
def test_client_sends_half_a_request_and_disconnects(router, data):
    for _ in range(3):
        with socket.create_connection((router.host, router.port), timeout=5) as s:
            s.sendall(data)
        # and once with a hard reset (RST instead of FIN)
        s = socket.create_connection((router.host, router.port), timeout=5)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.sendall(data)
        s.close()
    router.assert_healthy()


def test_half_request_then_half_close_gets_400(router):
    got, closed = raw_exchange(
        router, b"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"sql\"", shut_wr=True)
    assert_raw_error(parse_response(got), 400, "INVALID_REQUEST")
    assert closed


@pytest.mark.parametrize("data", [
    pytest.param(b"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{\"sql\":", id="stalled-body"),
    pytest.param(b"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Ty", id="stalled-headers"),
])
def test_stalled_request_gets_408(router, data):
    t0 = time.monotonic()
    got, closed = raw_exchange(router, data, timeout=READ_TIMEOUT_MS / 1000 + 8)
    elapsed = time.monotonic() - t0
    assert_raw_error(parse_response(got), 408, "REQUEST_TIMEOUT")
    assert closed
    assert READ_TIMEOUT_MS / 1000 - 0.5 <= elapsed < READ_TIMEOUT_MS / 1000 + 5, elapsed


def test_idle_connection_is_closed_silently(router):
    got, closed = raw_exchange(router, b"", timeout=READ_TIMEOUT_MS / 1000 + 8)
    assert got == b"" and closed


def test_errors_keep_the_connection_alive(router):
    conn = http.client.HTTPConnection(router.host, router.port, timeout=30)
    try:
        sequence = [
            (b'{"sql":"SELECT 1"', 400, "INVALID_JSON"),
            (b'{"sql":"SELECT * FROM tpch.nope"}', 404, "UNKNOWN_TABLE"),
            (b'{"sql":"SELECT 42"}', 200, None),
            (b'{"sql":"SELECT count(*) FROM range(100000000000)","timeout_ms":200}', 504, "QUERY_TIMEOUT"),
            (b'{"sql":"SELECT 43"}', 200, None),
        ]
        sock = None
        for body, status, code in sequence:
            conn.request("POST", "/v1/query", body=body, headers=JSON)
            resp = conn.getresponse()
            doc = json.loads(resp.read())
            assert resp.status == status, doc
            if code:
                assert doc["error"]["code"] == code
            assert sock is None or conn.sock is sock, "the server closed a keep-alive connection"
            sock = conn.sock
    finally:
        conn.close()


def test_pipelined_requests(router):
    one = b'POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s'
    bodies = [b'{"sql":"SELECT 1"}', b'{"sql":"SELEC 1"}', b'{"sql":"SELECT 3"}']
    data = b"".join(one % (len(b), b) for b in bodies)
    data = data[:-len(bodies[-1]) - 4] + b"\r\nConnection: close\r\n\r\n" + bodies[-1]  # last one closes
    got, closed = raw_exchange(router, data, timeout=10)
    assert closed
    statuses = []
    while got:
        resp = parse_response(got)
        statuses.append((resp.status, resp.json().get("rows") or resp.json()["error"]["code"]))
        got = resp.rest
    assert statuses == [(200, [[1]]), (400, "SYNTAX_ERROR"), (200, [[3]])]


# --- protocol details that are wrong today -------------------------------------------------------

def test_head_has_no_body(router):
    # Raw bytes: http.client drops whatever follows a HEAD response's headers, hiding the bug.
    got, closed = raw_exchange(
        router, b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert closed
    head = parse_response(got, head=True)
    assert head.status == 200
    assert head.rest.startswith(b"HTTP/1.1 200"), f"bytes after the HEAD response: {head.rest[:60]!r}"
    get = parse_response(head.rest)
    assert get.json() == {"status": "ok"}


def test_http10_response_is_not_chunked(router):
    body = b'{"sql":"SELECT 42"}'
    got, closed = raw_exchange(
        router, b"POST /v1/query HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (len(body), body))
    assert closed
    header, _, payload = got.partition(b"\r\n\r\n")
    assert b"transfer-encoding" not in header.lower(), header
    assert json.loads(payload)["rows"] == [[42]]


def test_405_lists_allowed_methods(router):
    r = router.get("/v1/query")
    assert_error(r, 405, "METHOD_NOT_ALLOWED")
    assert r.headers.get("Allow") == "POST"
    r = router.request("POST", "/health", data=b"", headers={})
    assert_error(r, 405, "METHOD_NOT_ALLOWED")
    assert r.headers.get("Allow") == "GET, HEAD"


@pytest.mark.parametrize("sql,code,status,token", [
    pytest.param("SELECT '\u00e9\u00e9\U0001F600' FROM WHERE", "SYNTAX_ERROR", 400, "WHERE", id="syntax-error"),
    pytest.param("SELECT '\u00e9\u00e9\U0001F600', * FROM tpch.nope", "UNKNOWN_TABLE", 404, "tpch.nope",
                 id="unknown-table"),
    pytest.param("SELECT '\u00e9\u00e9\U0001F600', nocol FROM tpch.nation", "BIND_ERROR", 400, "nocol",
                 id="unknown-column"),
])
def test_position_is_a_character_offset_after_non_ascii_text(router, sql, code, status, token):
    assert_error(router.query(sql), status, code, sql=sql, position=token)


def test_nul_inside_sql_is_rejected(router):
    r = router.query("SELECT 1\u0000; SELECT 2")
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] in {"SYNTAX_ERROR", "INVALID_REQUEST", "MULTIPLE_STATEMENTS"}


def test_stdout_holds_only_the_port_lines(router):
    lines = router.stdout_path.read_text().splitlines()
    assert lines == [f"lakerouter pgwire: 127.0.0.1:{router.pg_port}", f"lakerouter ready: {router.base_url}"], lines[:5]


# --- concurrency ---------------------------------------------------------------------------------

TABLE_ROWS = {"lineitem": 60175, "orders": 15000, "customer": 1500, "part": 2000, "partsupp": 8000,
              "supplier": 100, "nation": 25, "region": 5}

# (body, expected status, expected rows or error code)
MIXED = [
    (b'{"sql":"SELECT 42"}', 200, [[42]]),
    (b'{"sql":"SELECT $1::INTEGER * 2","params":[21]}', 200, [[42]]),
    (b'{"sql":"SELECT n_name FROM tpch.nation WHERE n_nationkey = 7"}', 200, [["GERMANY"]]),
    (b'{"sql":"SELECT count(*) FROM tpch.lineitem l JOIN tpch.orders o ON l.l_orderkey = o.o_orderkey"}',
     200, [[60175]]),
    (b'{"sql":"SELECT l_orderkey, l_linenumber FROM tpch.lineitem ORDER BY ALL"}', 200, 60175),
    *[(json.dumps({"sql": f"SELECT count(*) FROM tpch.{t}"}).encode(), 200, [[n]]) for t, n in TABLE_ROWS.items()],
    (b'{"sql":"SELECT * FROM WHERE"}', 400, "SYNTAX_ERROR"),
    (b'{"sql":"SELECT * FROM tpch.nope"}', 404, "UNKNOWN_TABLE"),
    (b'{"sql":"SELECT nocol FROM tpch.nation"}', 400, "BIND_ERROR"),
    (b'{"sql":"SELECT 1; SELECT 2"}', 400, "MULTIPLE_STATEMENTS"),
    (b'{"sql":', 400, "INVALID_JSON"),
    (b'{"sql":"SELECT \'\xff\'"}', 400, "INVALID_UTF8"),
    (b'{"sql":"SELECT 9223372036854775807::BIGINT + 1"}', 400, "OUT_OF_RANGE"),
    (b'{"sql":"SELECT count(*) FROM range(100000000000)","timeout_ms":300}', 504, "QUERY_TIMEOUT"),
]


def test_concurrent_mixed_queries(router):
    work = (MIXED * 2)[:32]
    assert len(work) >= 16
    barrier = threading.Barrier(16)

    def run(item):
        body, status, want = item
        try:
            barrier.wait(timeout=10)
        except threading.BrokenBarrierError:
            pass
        r = router.post("/v1/query", data=body, headers=JSON, timeout=60)
        return item, r.status_code, r.text

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(run, work))
    problems = []
    for (body, status, want), got_status, text in results:
        doc = json.loads(text)
        if got_status != status:
            problems.append((body[:80], got_status, text[:200]))
        elif isinstance(want, str):
            if doc["error"]["code"] != want:
                problems.append((body[:80], doc["error"]))
        elif isinstance(want, int):
            if doc["row_count"] != want or len(doc["rows"]) != want or doc["rows"][0] != [1, 1]:
                problems.append((body[:80], doc["row_count"]))
        elif doc["rows"] != want:
            problems.append((body[:80], doc["rows"][:3]))
    assert not problems, problems


def test_tables_endpoint(router):
    r = router.get("/v1/tables")
    assert r.status_code == 200
    names = {t["name"]: t for t in r.json()["tables"]}
    for t, n in TABLE_ROWS.items():
        assert names[f"tpch.{t}"]["rows"] == n
        assert names[f"tpch.{t}"]["format"] == "delta"


def test_ready_endpoint(router):
    r = router.get("/ready")
    assert r.status_code == 200
    assert r.json()["status"] == "ready"


# --- shutdown (private server instances) ---------------------------------------------------------

def test_sigterm_after_requests_exits_cleanly(lake_dir, tmp_path):
    r = start_router(lake_dir, tmp_path / "router")
    try:
        r.assert_healthy()
        assert_error(r.query("SELECT * FROM WHERE"), 400, "SYNTAX_ERROR", sql="SELECT * FROM WHERE", position="WHERE")
    finally:
        stop_router(r, timeout=10)
    assert r.extra["shutdown_s"] < 5, r.extra


def test_sigterm_during_a_query_finishes_it_and_exits(lake_dir, tmp_path):
    r = start_router(lake_dir, tmp_path / "router")
    outcome: dict[str, Any] = {}

    def slow_query():
        try:
            resp = r.post("/v1/query", data=b'{"sql":"SELECT count(*) FROM range(100000000000)","timeout_ms":2000}',
                          headers=JSON, timeout=30)
            outcome["status"], outcome["body"] = resp.status_code, resp.text
        except requests.RequestException as e:
            outcome["error"] = repr(e)

    client = threading.Thread(target=slow_query)
    client.start()
    time.sleep(0.5)  # the query is running
    try:
        stop_router(r, timeout=10)  # "finish current requests": at most the 2 s query timeout
    finally:
        client.join(timeout=30)
    assert outcome.get("status") == 504, outcome
    assert json.loads(outcome["body"])["error"]["code"] == "QUERY_TIMEOUT"


# --- last: the server is fine after all of the above ---------------------------------------------

def test_zz_server_still_healthy_after_the_suite(router):
    router.assert_healthy()
    doc = router.query_ok("SELECT count(*) FROM tpch.lineitem")
    assert doc["rows"] == [[60175]]
