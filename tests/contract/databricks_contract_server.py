#!/usr/bin/env python3
"""A contract server for lakerouter's Databricks SQL engine. It is NOT Databricks.

Databricks cannot run in the test environment, so this server replays the documented request
and response shapes of the Databricks SQL Statement Execution API 2.0
(https://docs.databricks.com/api/workspace/statementexecution) and the SQL Warehouses API's
GET, and answers with canned results chosen by the SQL text. What it checks and answers is what
the documentation says, not what a real warehouse computes: a statement that passes here can
still fail on Databricks for reasons of its own (SQL semantics, limits, permissions).

    .venv/bin/python tests/contract/databricks_contract_server.py --token TOKEN --warehouse-id ID

It listens on 127.0.0.1 on a free port and prints that port on stdout as its first line.

Endpoints (every /api/ call needs "Authorization: Bearer TOKEN": none or another scheme -> 401
UNAUTHENTICATED, a wrong token -> 403 PERMISSION_DENIED, as {"error_code", "message"}):

    POST /api/2.0/sql/statements                                   execute (validated, below)
    GET  /api/2.0/sql/statements/{id}                              status, manifest, first chunk
    GET  /api/2.0/sql/statements/{id}/result/chunks/{chunk_index}  a further chunk (ResultData)
    POST /api/2.0/sql/statements/{id}/cancel                       cancel (recorded)
    GET  /api/2.0/sql/warehouses/{id}                              the warehouse and its state

and, for tests only, without authentication:

    GET  /_contract/statements        every statement: SQL, request, state, polls, cancels
    GET  /_contract/statements/{id}   one of them
    GET  /_contract/requests          every request: method, path, whether it was authorized

An execute request must be a JSON object with only documented fields; `statement` (non-empty)
and `warehouse_id` (a known warehouse, else 404 RESOURCE_DOES_NOT_EXIST) are required;
`wait_timeout` must be "0s" or "5s".."50s", `on_wait_timeout` CONTINUE or CANCEL, `disposition`
INLINE (EXTERNAL_LINKS is documented but not replayed here), `format` JSON_ARRAY; `parameters`
a list of {name, value?, type?}; every :name marker of the statement must have a parameter
(else the statement FAILS with UNBOUND_SQL_PARAMETER). Violations answer 400
INVALID_PARAMETER_VALUE.

Canned statements, chosen by a table name in the SQL text (lower case):

    contract.immediate            SUCCEEDED within the POST: (id INT, name STRING), 3 rows
    contract.slow                 PENDING at the POST; PENDING, RUNNING, RUNNING, then SUCCEEDED
                                  on the 4th poll: (n BIGINT) = 42
    contract.chunks               SUCCEEDED; 1000 rows (i BIGINT, label STRING) in 4 chunks of
                                  250, followed through next_chunk_internal_link (the third
                                  chunk gives next_chunk_index only, which clients must accept too)
    contract.long_running         RUNNING until cancelled, then CANCELED
    contract.missing              FAILED: [TABLE_OR_VIEW_NOT_FOUND], SQLSTATE 42P01, with the
                                  name's line and pos
    a word SELEC                  FAILED: [PARSE_SYNTAX_ERROR], SQLSTATE 42601, with line and pos
    contract.fails_later          RUNNING, then FAILED on the 2nd poll: [DIVIDE_BY_ZERO], 22012
    contract.canceled_elsewhere   CANCELED on the 1st poll without a cancel request
    contract.closed               CLOSED on the 1st poll
    contract.types                one column per type of the API's type_name list, a row of
                                  values and a row of NULLs
    contract.empty                SUCCEEDED with no rows
    contract.bad_nested           SUCCEEDED with an ARRAY value that is not JSON (a broken
                                  server), which clients must refuse
    contract.echo                 one row telling what the request carried
    contract.leak_token           FAILED with a message that (wrongly) echoes the credentials,
                                  so that tests can check the client redacts them
    contract.flaky                HTTP 503 TEMPORARILY_UNAVAILABLE for the first two POSTs of
                                  the same text, then as contract.immediate
    contract.unavailable          HTTP 503 always
    contract.rate_limited         HTTP 429 always

Anything else FAILS with a message listing these. A real server holds the POST up to
wait_timeout; this one answers at once as if the wait had elapsed (tests stay fast).
"""
from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

EXECUTE_FIELDS = {"statement", "warehouse_id", "catalog", "schema", "parameters", "row_limit", "byte_limit",
                  "disposition", "format", "wait_timeout", "on_wait_timeout", "query_tags"}
WAIT_TIMEOUT = re.compile(r"^(0|[5-9]|[1-4][0-9]|50)s$")
PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
STATEMENTS = "/api/2.0/sql/statements"
STOPPED_WAREHOUSE = "stopped-warehouse"

CHUNK_ROWS = 250
CHUNK_COUNT = 4


def col(name: str, type_name: str, type_text: str, position: int, **extra: Any) -> dict:
    return {"name": name, "type_name": type_name, "type_text": type_text, "position": position, **extra}


def typed_columns() -> tuple[list[dict], list[list[str | None]]]:
    spec = [
        ("b", "BOOLEAN", "boolean", "true", {}),
        ("ti", "BYTE", "tinyint", "-7", {}),
        ("si", "SHORT", "smallint", "300", {}),
        ("i", "INT", "int", "70000", {}),
        ("bi", "LONG", "bigint", "9223372036854775807", {}),
        ("f", "FLOAT", "float", "1.1", {}),
        ("d", "DOUBLE", "double", "2.25", {}),
        ("dn", "DOUBLE", "double", "NaN", {}),
        ("dinf", "DOUBLE", "double", "-Infinity", {}),
        ("dexp", "DOUBLE", "double", "1.0E10", {}),
        ("dec38", "DECIMAL", "decimal(38,2)", "12345678901234567890123456789012345.67",
         {"type_precision": 38, "type_scale": 2}),
        ("dec", "DECIMAL", "decimal(10,2)", "-1.50", {"type_precision": 10, "type_scale": 2}),
        ("s", "STRING", "string", "h\u00e9llo", {}),
        ("c", "CHAR", "char(3)", "ab ", {}),
        ("bin", "BINARY", "binary", base64.b64encode(b"\x00\xff\x10").decode(), {}),
        ("dt", "DATE", "date", "2024-02-29", {}),
        ("ts", "TIMESTAMP", "timestamp", "2024-01-02T03:04:05.123456Z", {}),
        ("ts_offset", "TIMESTAMP", "timestamp", "2024-07-01T12:00:00.500+02:00", {}),
        ("ntz", "TIMESTAMP_NTZ", "timestamp_ntz", "2024-01-02T03:04:05.123456", {}),
        ("iv", "INTERVAL", "interval day to second", "INTERVAL '2 03:00:00' DAY TO SECOND",
         {"type_interval_type": "DAY TO SECOND"}),
        ("arr", "ARRAY", "array<int>", "[1,null,3]", {}),
        ("mp", "MAP", "map<string,int>", '{"a":1,"b":2}', {}),
        ("st", "STRUCT", "struct<id:int,name:string>", '{"id":1,"name":"x"}', {}),
        ("n", "NULL", "void", None, {}),
    ]
    columns = [col(name, tn, tt, i, **extra) for i, (name, tn, tt, _, extra) in enumerate(spec)]
    values = [v for (_, _, _, v, _) in spec]
    return columns, [values, [None] * len(values)]


def strip_literals(sql: str) -> str:
    """The statement with string literals, quoted identifiers and comments blanked out (same
    length, so positions stay)."""
    out = list(sql)
    i = 0
    while i < len(sql):
        c = sql[i]
        end = i + 1
        if c in "'\"`":
            j = i + 1
            while j < len(sql):
                if sql[j] == "\\" and c != "`":
                    j += 2
                    continue
                if sql[j] == c:
                    if j + 1 < len(sql) and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            end = min(j + 1, len(sql))
        elif sql.startswith("--", i):
            nl = sql.find("\n", i)
            end = len(sql) if nl < 0 else nl
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            end = len(sql) if close < 0 else close + 2
        else:
            i += 1
            continue
        for k in range(i, end):
            if out[k] != "\n":
                out[k] = " "
        i = end
    return "".join(out)


def line_pos(sql: str, offset: int) -> tuple[int, int]:
    """Spark's origin of a character offset: 1-based line, 0-based position in the line."""
    line = sql.count("\n", 0, offset) + 1
    start = sql.rfind("\n", 0, offset) + 1
    return line, offset - start


class Statement:
    def __init__(self, sql: str, request: dict):
        self.id = str(uuid.uuid4())
        self.sql = sql
        self.request = request
        self.state = "PENDING"
        self.polls = 0
        self.cancel_requests = 0
        self.chunk_requests: list[int] = []
        self.columns: list[dict] = []
        self.chunks: list[list[list[str | None]]] = []
        self.error: dict | None = None
        self.sql_state: str | None = None
        self.script: list[str] = []  # the states of the next polls; the last one stays

    def summary(self) -> dict:
        return {"statement_id": self.id, "sql": self.sql, "request": self.request, "state": self.state,
                "polls": self.polls, "cancel_requests": self.cancel_requests,
                "chunk_requests": self.chunk_requests}

    def fail(self, error_class: str, text: str, sql_state: str, error_code: str = "BAD_REQUEST",
             at: int | None = None) -> None:
        message = f"[{error_class}] {text} SQLSTATE: {sql_state}"
        if at is not None:
            line, pos = line_pos(self.sql, at)
            message += f"; line {line} pos {pos}"
        self.state = "FAILED"
        self.error = {"error_code": error_code, "message": message}
        self.sql_state = sql_state

    def succeed(self, columns: list[dict], rows: list[list[str | None]], chunk_rows: int | None = None) -> None:
        self.state = "SUCCEEDED"
        self.columns = columns
        size = chunk_rows or max(len(rows), 1)
        self.chunks = [rows[i:i + size] for i in range(0, len(rows), size)]

    def manifest(self) -> dict:
        row_offset = 0
        chunks = []
        for i, rows in enumerate(self.chunks):
            chunks.append({"chunk_index": i, "row_offset": row_offset, "row_count": len(rows)})
            row_offset += len(rows)
        return {"format": "JSON_ARRAY",
                "schema": {"column_count": len(self.columns), "columns": self.columns},
                "total_chunk_count": len(self.chunks), "chunks": chunks, "total_row_count": row_offset,
                "truncated": False}

    def chunk(self, index: int) -> dict:
        rows = self.chunks[index]
        out: dict[str, Any] = {"chunk_index": index, "row_offset": sum(len(c) for c in self.chunks[:index]),
                               "row_count": len(rows), "data_array": rows}
        if index + 1 < len(self.chunks):
            out["next_chunk_index"] = index + 1
            if index != 2:  # the third chunk names its successor by index only
                out["next_chunk_internal_link"] = f"{STATEMENTS}/{self.id}/result/chunks/{index + 1}"
        return out

    def response(self) -> dict:
        out: dict[str, Any] = {"statement_id": self.id, "status": {"state": self.state}}
        if self.state == "FAILED":
            out["status"]["error"] = self.error
            if self.sql_state:
                out["status"]["sql_state"] = self.sql_state
        if self.state == "SUCCEEDED":
            out["manifest"] = self.manifest()
            out["result"] = self.chunk(0) if self.chunks else {"chunk_index": 0, "row_offset": 0, "row_count": 0}
        return out


class Contract:
    def __init__(self, token: str, warehouse_id: str):
        self.token = token
        self.warehouses = {warehouse_id: "RUNNING", STOPPED_WAREHOUSE: "STOPPED"}
        self.lock = threading.Lock()
        self.statements: dict[str, Statement] = {}
        self.requests: list[dict] = []
        self.post_counts: dict[str, int] = {}

    # --- scenarios ------------------------------------------------------------------------------

    def start(self, s: Statement) -> None:
        """Sets the statement's state at the POST and the script of its next polls."""
        low = s.sql.lower()
        plain = strip_literals(s.sql)
        unbound = self.unbound_parameter(s, plain)
        if unbound:
            name, at = unbound
            s.fail("UNBOUND_SQL_PARAMETER", f"Found the unbound parameter: {name}.", "42P02", at=at)
        elif m := re.search(r"\bSELEC\b", plain, re.IGNORECASE):
            s.fail("PARSE_SYNTAX_ERROR", f"Syntax error at or near '{m.group(0)}'.", "42601", at=m.start())
        elif "contract.missing" in low:
            at = low.find("contract.missing")
            s.fail("TABLE_OR_VIEW_NOT_FOUND",
                   "The table or view `contract`.`missing` cannot be found. Verify the spelling and correctness "
                   "of the schema and catalog.", "42P01", at=at)
        elif "contract.immediate" in low or "contract.flaky" in low:
            s.succeed([col("id", "INT", "int", 0), col("name", "STRING", "string", 1)],
                      [["1", "alpha"], ["2", "beta"], ["3", None]])
        elif "contract.slow" in low:
            s.script = ["PENDING", "RUNNING", "RUNNING", "SUCCEEDED"]
            s.columns = [col("n", "LONG", "bigint", 0)]
            s.chunks = [[["42"]]]
        elif "contract.chunks" in low:
            rows = [[str(i), f"row-{i}"] for i in range(CHUNK_ROWS * CHUNK_COUNT)]
            s.succeed([col("i", "LONG", "bigint", 0), col("label", "STRING", "string", 1)], rows, CHUNK_ROWS)
        elif "contract.long_running" in low:
            s.state = "RUNNING"
            s.script = ["RUNNING"]
        elif "contract.fails_later" in low:
            s.script = ["RUNNING", "FAILED"]
        elif "contract.canceled_elsewhere" in low:
            s.script = ["CANCELED"]
        elif "contract.closed" in low:
            s.script = ["CLOSED"]
        elif "contract.types" in low:
            columns, rows = typed_columns()
            s.succeed(columns, rows)
        elif "contract.bad_nested" in low:
            s.succeed([col("arr", "ARRAY", "array<int>", 0)], [["[1,2"]])
        elif "contract.empty" in low:
            s.succeed([col("x", "INT", "int", 0)], [])
        elif "contract.echo" in low:
            r = s.request
            names = ["statement", "parameters", "catalog", "schema", "wait_timeout", "on_wait_timeout",
                     "disposition", "format"]
            values = [r.get("statement"), json.dumps(r.get("parameters"), sort_keys=True, separators=(",", ":")),
                      r.get("catalog"), r.get("schema"), r.get("wait_timeout"), r.get("on_wait_timeout"),
                      r.get("disposition"), r.get("format")]
            s.succeed([col(n, "STRING", "string", i) for i, n in enumerate(names)], [values])
        elif "contract.leak_token" in low:
            s.fail("INTERNAL_ERROR", f"a misbehaving server echoes the credentials: Bearer {self.token}", "XX000",
                   error_code="INTERNAL_ERROR")
        else:
            s.fail("CONTRACT_NO_SCENARIO", "The contract server has no canned result for this statement; use one "
                   "of the contract.* tables listed in tests/contract/databricks_contract_server.py.", "42000")

    @staticmethod
    def unbound_parameter(s: Statement, plain: str) -> tuple[str, int] | None:
        given = {p.get("name") for p in s.request.get("parameters") or []}
        for m in re.finditer(r"(?<![:\w]):([A-Za-z_]\w*)", plain):
            if m.group(1) not in given:
                return m.group(1), m.start()
        return None

    def poll(self, s: Statement) -> None:
        s.polls += 1
        if s.state not in ("PENDING", "RUNNING") or not s.script:
            return
        state = s.script.pop(0) if len(s.script) > 1 else s.script[0]
        if state == "FAILED":
            s.fail("DIVIDE_BY_ZERO", "Division by zero. Use `try_divide` to tolerate divisor being 0 and return "
                   "NULL instead.", "22012")
        else:
            s.state = state

    # --- HTTP -------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        if path.startswith("/_contract/"):
            return self.introspect(method, path)
        auth = headers.get("Authorization")
        authorized = auth == f"Bearer {self.token}"
        with self.lock:
            self.requests.append({"method": method, "path": path, "authorized": authorized})
        if not auth or not auth.startswith("Bearer "):
            return 401, {"error_code": "UNAUTHENTICATED",
                         "message": "Credential was not sent or was of an unsupported type for this API."}
        if not authorized:
            return 403, {"error_code": "PERMISSION_DENIED", "message": "Invalid access token."}

        if method == "GET" and (m := re.fullmatch(r"/api/2\.0/sql/warehouses/([^/]+)", path)):
            state = self.warehouses.get(m.group(1))
            if state is None:
                return 404, {"error_code": "RESOURCE_DOES_NOT_EXIST",
                             "message": f"Unable to find warehouse {m.group(1)}."}
            return 200, {"id": m.group(1), "name": "Contract Warehouse", "state": state,
                         "cluster_size": "2X-Small", "warehouse_type": "PRO", "enable_serverless_compute": True}
        if method == "POST" and path == STATEMENTS:
            return self.execute(headers, body)
        if m := re.fullmatch(re.escape(STATEMENTS) + r"/([^/]+)(/cancel|/result/chunks/(\d+))?", path):
            with self.lock:
                s = self.statements.get(m.group(1))
                if s is None:
                    return 404, {"error_code": "NOT_FOUND", "message": f"Statement {m.group(1)} not found."}
                suffix = m.group(2) or ""
                if method == "POST" and suffix == "/cancel":
                    s.cancel_requests += 1
                    if s.state in ("PENDING", "RUNNING"):
                        s.state = "CANCELED"
                        s.script = []
                    return 200, {}
                if method == "GET" and suffix == "":
                    self.poll(s)
                    return 200, s.response()
                if method == "GET" and m.group(3) is not None:
                    index = int(m.group(3))
                    s.chunk_requests.append(index)
                    if s.state != "SUCCEEDED":
                        return 400, {"error_code": "BAD_REQUEST",
                                     "message": f"Statement {s.id} is {s.state}; its result cannot be fetched."}
                    if index >= len(s.chunks):
                        return 400, {"error_code": "INVALID_PARAMETER_VALUE",
                                     "message": f"Chunk index {index} is out of range."}
                    return 200, s.chunk(index)
        return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No API found for '{method} {path}'."}

    def execute(self, headers: Any, body: bytes) -> tuple[int, Any]:
        def bad(message: str) -> tuple[int, Any]:
            return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": message}

        if "application/json" not in (headers.get("Content-Type") or ""):
            return bad("The request must be sent as Content-Type: application/json.")
        try:
            request = json.loads(body or b"null")
        except ValueError as e:
            return 400, {"error_code": "MALFORMED_REQUEST", "message": f"Could not parse request object: {e}"}
        if not isinstance(request, dict):
            return 400, {"error_code": "MALFORMED_REQUEST", "message": "The request body must be a JSON object."}
        unknown = sorted(set(request) - EXECUTE_FIELDS)
        if unknown:
            return bad(f"Unknown field(s): {', '.join(unknown)}.")
        statement = request.get("statement")
        if not isinstance(statement, str) or not statement.strip():
            return bad("Field 'statement' is required and must be a non-empty string.")
        warehouse = request.get("warehouse_id")
        if not isinstance(warehouse, str) or not warehouse:
            return bad("Field 'warehouse_id' is required.")
        if warehouse not in self.warehouses:
            return 404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"Unable to find warehouse {warehouse}."}
        for key in ("catalog", "schema"):
            if key in request and not isinstance(request[key], str):
                return bad(f"Field '{key}' must be a string.")
        if not WAIT_TIMEOUT.match(str(request.get("wait_timeout", "10s"))):
            return bad("wait_timeout must be 0s or between 5s and 50s, e.g. '10s'.")
        if request.get("on_wait_timeout", "CONTINUE") not in ("CONTINUE", "CANCEL"):
            return bad("on_wait_timeout must be CONTINUE or CANCEL.")
        if request.get("disposition", "INLINE") != "INLINE":
            return bad("This contract server replays the INLINE disposition only.")
        if request.get("format", "JSON_ARRAY") != "JSON_ARRAY":
            return bad("The INLINE disposition supports the JSON_ARRAY format only.")
        params = request.get("parameters")
        if params is not None:
            if not isinstance(params, list):
                return bad("Field 'parameters' must be a list.")
            for p in params:
                if not isinstance(p, dict) or set(p) - {"name", "value", "type"}:
                    return bad("Each parameter is an object with name, value and type.")
                if not isinstance(p.get("name"), str) or not PARAM_NAME.match(p["name"]):
                    return bad(f"Parameter name {p.get('name')!r} is not an identifier.")
                if p.get("value") is not None and not isinstance(p["value"], str):
                    return bad(f"Parameter {p['name']}: value must be a string (or omitted for NULL).")
                if "type" in p and not isinstance(p["type"], str):
                    return bad(f"Parameter {p['name']}: type must be a string.")

        low = statement.lower()
        with self.lock:
            count = self.post_counts[statement] = self.post_counts.get(statement, 0) + 1
        if "contract.rate_limited" in low:
            return 429, {"error_code": "RESOURCE_EXHAUSTED", "message": "Too many requests. Please retry later."}
        if "contract.unavailable" in low or ("contract.flaky" in low and count <= 2):
            return 503, {"error_code": "TEMPORARILY_UNAVAILABLE",
                         "message": "The service is temporarily unavailable. Please retry later."}

        s = Statement(statement, request)
        with self.lock:
            self.start(s)
            if s.state in ("PENDING", "RUNNING") and request.get("on_wait_timeout") == "CANCEL" \
                    and request.get("wait_timeout", "10s") != "0s":
                s.state = "CANCELED"
            self.statements[s.id] = s
            return 200, s.response()

    def introspect(self, method: str, path: str) -> tuple[int, Any]:
        if method != "GET":
            return 405, {"error_code": "BAD_REQUEST", "message": "GET only."}
        with self.lock:
            if path == "/_contract/statements":
                return 200, {"statements": [s.summary() for s in self.statements.values()]}
            if m := re.fullmatch(r"/_contract/statements/([^/]+)", path):
                s = self.statements.get(m.group(1))
                return (200, s.summary()) if s else (404, {"error_code": "NOT_FOUND", "message": "no such statement"})
            if path == "/_contract/requests":
                return 200, {"requests": list(self.requests)}
        return 404, {"error_code": "NOT_FOUND", "message": f"no contract endpoint {path}"}


def make_handler(contract: Contract, verbose: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as clients reuse connections

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0]
            try:
                status, doc = contract.handle(method, path, self.headers, body)
            except Exception as e:  # a bug here must show as a 500, not a hung client
                status, doc = 500, {"error_code": "INTERNAL_ERROR", "message": f"contract server bug: {e!r}"}
            payload = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if status in (429, 503):
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def do_DELETE(self) -> None:  # noqa: N802
            self._serve("DELETE")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            if verbose:
                sys.stderr.write("contract: " + (format % args) + "\n")

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--token", required=True, help="the bearer token requests must carry")
    parser.add_argument("--warehouse-id", required=True, help="the SQL warehouse that exists (state RUNNING)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = parser.parse_args()
    contract = Contract(args.token, args.warehouse_id)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(contract, args.verbose))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
