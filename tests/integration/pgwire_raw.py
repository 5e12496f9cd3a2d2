"""A small raw-socket PostgreSQL wire protocol (v3) client for tests.

It frames messages by hand (struct) so that tests can send anything, well-formed or not, and see
exactly what a server answers. Authentication: SCRAM-SHA-256 (RFC 5802/7677, no channel binding,
computed with hashlib/hmac), cleartext and MD5.

    c = PgRaw(host, port)
    c.connect_and_auth("tester", "tester-secret")      # StartupMessage .. ReadyForQuery
    assert c.simple_query("SELECT 1") == [["1"]]
    c.send(msg(b"Q", b"SELECT 1"))                       # no terminator: malformed
    msgs, closed = c.read_until_close()

Message builders return bytes; nothing here asserts: the tests do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import struct
import time
from dataclasses import dataclass, field

PROTOCOL_3_0 = 3 << 16
SSL_REQUEST_CODE = 80877103
CANCEL_REQUEST_CODE = 80877102
GSSENC_REQUEST_CODE = 80877104

# Authentication request codes (message 'R').
AUTH_OK, AUTH_CLEARTEXT, AUTH_MD5, AUTH_SASL, AUTH_SASL_CONTINUE, AUTH_SASL_FINAL = 0, 3, 5, 10, 11, 12


# --- framing -------------------------------------------------------------------------------------

def cstr(s: str | bytes) -> bytes:
    return (s.encode() if isinstance(s, str) else s) + b"\x00"


def msg(type_: bytes, payload: bytes = b"", *, length: int | None = None) -> bytes:
    """A typed message; `length` overrides the length field (which counts itself, not the type)."""
    n = len(payload) + 4 if length is None else length
    return type_ + (struct.pack("!i", n) if n < 0 else struct.pack("!I", n)) + payload


def untyped(payload: bytes, *, length: int | None = None) -> bytes:
    """An untyped start-up phase packet (StartupMessage, SSLRequest, CancelRequest)."""
    n = len(payload) + 4 if length is None else length
    return (struct.pack("!i", n) if n < 0 else struct.pack("!I", n)) + payload


def startup_message(params: dict[str, str] | list[tuple[str, str]] | None = None, *,
                    version: int = PROTOCOL_3_0, raw_params: bytes | None = None,
                    length: int | None = None) -> bytes:
    """StartupMessage; `raw_params` replaces the encoded parameter list (its final NUL included)."""
    if raw_params is None:
        items = params.items() if isinstance(params, dict) else (params or [])
        raw_params = b"".join(cstr(k) + cstr(v) for k, v in items) + b"\x00"
    return untyped(struct.pack("!I", version) + raw_params, length=length)


def ssl_request() -> bytes:
    return untyped(struct.pack("!I", SSL_REQUEST_CODE))


def gssenc_request() -> bytes:
    return untyped(struct.pack("!I", GSSENC_REQUEST_CODE))


def cancel_request(pid: int, key: int) -> bytes:
    return untyped(struct.pack("!IiI", CANCEL_REQUEST_CODE, pid, key & 0xFFFFFFFF))


def query_msg(sql: str | bytes) -> bytes:
    return msg(b"Q", cstr(sql))


def parse_msg(name: str, sql: str | bytes, param_types: list[int] = (), *, declared_count: int | None = None) -> bytes:
    n = len(param_types) if declared_count is None else declared_count
    return msg(b"P", cstr(name) + cstr(sql) + struct.pack("!H", n & 0xFFFF)
               + b"".join(struct.pack("!I", t) for t in param_types))


def bind_msg(portal: str, statement: str, params: list[bytes | None] = (), *, param_formats: list[int] = (),
             result_formats: list[int] = (), declared_count: int | None = None) -> bytes:
    body = cstr(portal) + cstr(statement)
    body += struct.pack("!H", len(param_formats)) + b"".join(struct.pack("!h", f) for f in param_formats)
    n = len(params) if declared_count is None else declared_count
    body += struct.pack("!H", n & 0xFFFF)
    for p in params:
        body += struct.pack("!i", -1) if p is None else struct.pack("!i", len(p)) + p
    body += struct.pack("!H", len(result_formats)) + b"".join(struct.pack("!h", f) for f in result_formats)
    return msg(b"B", body)


def describe_msg(kind: bytes, name: str) -> bytes:  # kind: b"S" statement, b"P" portal
    return msg(b"D", kind + cstr(name))


def execute_msg(portal: str = "", max_rows: int = 0) -> bytes:
    return msg(b"E", cstr(portal) + struct.pack("!i", max_rows))


def close_msg(kind: bytes, name: str) -> bytes:
    return msg(b"C", kind + cstr(name))


def sync_msg() -> bytes:
    return msg(b"S")


def flush_msg() -> bytes:
    return msg(b"H")


def terminate_msg() -> bytes:
    return msg(b"X")


def sasl_initial_response(mechanism: str | bytes, data: bytes | None, *, data_length: int | None = None) -> bytes:
    body = cstr(mechanism)
    if data is None:
        body += struct.pack("!i", -1)
    else:
        body += struct.pack("!i", len(data) if data_length is None else data_length) + data
    return msg(b"p", body)


def sasl_response(data: bytes) -> bytes:
    return msg(b"p", data)


def password_msg(password: str | bytes) -> bytes:
    return msg(b"p", cstr(password))


# --- messages from the server --------------------------------------------------------------------

ERROR_FIELD_NAMES = {"S": "severity", "V": "severity_nonlocalized", "C": "sqlstate", "M": "message",
                     "D": "detail", "H": "hint", "P": "position", "p": "internal_position",
                     "q": "internal_query", "W": "where", "s": "schema", "t": "table", "c": "column",
                     "d": "datatype", "n": "constraint", "F": "file", "L": "line", "R": "routine"}


def parse_fields(payload: bytes) -> dict[str, str]:
    """The fields of an ErrorResponse / NoticeResponse by readable name."""
    out: dict[str, str] = {}
    i = 0
    while i < len(payload) and payload[i] != 0:
        code = chr(payload[i])
        end = payload.index(b"\x00", i + 1)
        out[ERROR_FIELD_NAMES.get(code, code)] = payload[i + 1:end].decode("utf-8", "replace")
        i = end + 1
    return out


@dataclass
class Msg:
    type: bytes          # one byte, e.g. b"E"
    payload: bytes

    @property
    def fields(self) -> dict[str, str]:
        assert self.type in (b"E", b"N"), self
        return parse_fields(self.payload)

    @property
    def sqlstate(self) -> str:
        return self.fields.get("sqlstate", "")

    @property
    def auth_code(self) -> int:
        assert self.type == b"R", self
        return struct.unpack("!I", self.payload[:4])[0]

    def __repr__(self) -> str:
        if self.type in (b"E", b"N"):
            return f"Msg({self.type.decode()}, {self.fields})"
        p = self.payload if len(self.payload) <= 80 else self.payload[:80] + b"..."
        return f"Msg({self.type.decode('latin-1')!r}, {p!r})"


def data_row_values(payload: bytes) -> list[bytes | None]:
    (n,) = struct.unpack("!H", payload[:2])
    i, out = 2, []
    for _ in range(n):
        (ln,) = struct.unpack("!i", payload[i:i + 4])
        i += 4
        if ln < 0:
            out.append(None)
        else:
            out.append(payload[i:i + ln])
            i += ln
    return out


class PgError(Exception):
    def __init__(self, m: Msg):
        self.msg = m
        self.fields = m.fields
        self.sqlstate = self.fields.get("sqlstate", "")
        super().__init__(f"{self.sqlstate}: {self.fields.get('message')}")


class ProtocolViolation(AssertionError):
    pass


# --- SCRAM-SHA-256 (client side) -----------------------------------------------------------------

def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def _scram_attrs(text: str) -> dict[str, str]:
    out = {}
    for part in text.split(","):
        if len(part) >= 2 and part[1] == "=":
            out[part[0]] = part[2:]
    return out


@dataclass
class ScramClient:
    """One SCRAM-SHA-256 exchange. The user name goes in the start-up packet; like libpq, the
    SCRAM user attribute stays empty (the server uses the start-up user)."""
    password: str
    user_attr: str = ""
    nonce: str = field(default_factory=lambda: base64.b64encode(os.urandom(18)).decode())
    gs2_header: str = "n,,"
    client_first_bare: str = ""
    server_first: str = ""
    auth_message: str = ""
    salted_password: bytes = b""

    def client_first(self) -> bytes:
        self.client_first_bare = f"n={self.user_attr},r={self.nonce}"
        return (self.gs2_header + self.client_first_bare).encode()

    def client_final(self, server_first: bytes, *, tamper_proof: bool = False,
                     override_nonce: str | None = None, override_channel: str | None = None) -> bytes:
        self.server_first = server_first.decode()
        a = _scram_attrs(self.server_first)
        nonce, salt, iterations = a["r"], base64.b64decode(a["s"]), int(a["i"])
        if not nonce.startswith(self.nonce):
            raise ProtocolViolation(f"server nonce {nonce!r} does not extend the client nonce {self.nonce!r}")
        channel = override_channel if override_channel is not None else base64.b64encode(
            self.gs2_header.encode()).decode()
        without_proof = f"c={channel},r={override_nonce if override_nonce is not None else nonce}"
        self.salted_password = hashlib.pbkdf2_hmac("sha256", self.password.encode(), salt, iterations)
        client_key = _hmac(self.salted_password, b"Client Key")
        stored_key = hashlib.sha256(client_key).digest()
        self.auth_message = f"{self.client_first_bare},{self.server_first},{without_proof}"
        signature = _hmac(stored_key, self.auth_message.encode())
        proof = bytes(x ^ y for x, y in zip(client_key, signature))
        if tamper_proof:
            proof = bytes([proof[0] ^ 0x01]) + proof[1:]
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify_server_final(self, server_final: bytes) -> bool:
        a = _scram_attrs(server_final.decode())
        server_key = _hmac(self.salted_password, b"Server Key")
        expected = base64.b64encode(_hmac(server_key, self.auth_message.encode())).decode()
        return a.get("v") == expected


# --- the connection ------------------------------------------------------------------------------

class PgRaw:
    """One TCP connection; reads whole messages; never raises on what the server sends except
    through the explicit helpers (simple_query, connect_and_auth)."""

    def __init__(self, host: str, port: int, *, timeout: float = 20.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.closed_by_peer = False
        self.params: dict[str, str] = {}
        self.backend_key: tuple[int, int] | None = None
        self.scram: ScramClient | None = None

    # raw I/O
    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def try_send(self, data: bytes) -> bool:
        """Sends, returning False when the server has already closed the connection."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def shutdown_write(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "PgRaw":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _fill(self, n: int, deadline: float) -> bool:
        while len(self.buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no complete message within {self.timeout:g} s (have {self.buf[:64]!r})")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(1 << 16)
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            except socket.timeout as e:
                raise TimeoutError(f"no complete message within {self.timeout:g} s (have {self.buf[:64]!r})") from e
            if not chunk:
                self.closed_by_peer = True
                return False
            self.buf += chunk
        return True

    def recv_byte(self, timeout: float | None = None) -> bytes | None:
        """One raw byte (the answer to SSLRequest / GSSENCRequest); None at end of stream."""
        deadline = time.monotonic() + (timeout or self.timeout)
        if not self._fill(1, deadline):
            return None
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def recv_msg(self, timeout: float | None = None) -> Msg | None:
        """The next whole message; None when the server closed the connection (a partial message
        before the close raises ProtocolViolation); TimeoutError when nothing came in time."""
        deadline = time.monotonic() + (timeout or self.timeout)
        if not self._fill(5, deadline):
            if self.buf:
                raise ProtocolViolation(f"connection closed inside a message header: {self.buf!r}")
            return None
        type_ = self.buf[:1]
        (n,) = struct.unpack("!i", self.buf[1:5])
        if n < 4:
            raise ProtocolViolation(f"server sent message {type_!r} with length {n}")
        if not self._fill(1 + n, deadline):
            raise ProtocolViolation(f"connection closed inside message {type_!r} (length {n}, have {len(self.buf)})")
        m = Msg(type_, self.buf[5:1 + n])
        self.buf = self.buf[1 + n:]
        if m.type == b"S":
            k, _, rest = m.payload.partition(b"\x00")
            self.params[k.decode()] = rest.rstrip(b"\x00").decode()
        elif m.type == b"K":
            self.backend_key = struct.unpack("!iI", m.payload[:8])
        return m

    def read_raw_until_close(self, timeout: float | None = None) -> tuple[bytes, bool]:
        """Raw bytes until the server closes (True) or nothing more comes within the timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                if not self._fill(len(self.buf) + 1, deadline):
                    break
            except TimeoutError:
                data, self.buf = self.buf, b""
                return data, False
        data, self.buf = self.buf, b""
        return data, True

    def read_until(self, *types: bytes, timeout: float | None = None) -> list[Msg]:
        """Messages up to and including the first of `types`; stops early at end of stream."""
        out = []
        while True:
            m = self.recv_msg(timeout)
            if m is None:
                return out
            out.append(m)
            if m.type in types:
                return out

    def read_until_ready(self, timeout: float | None = None) -> list[Msg]:
        return self.read_until(b"Z", timeout=timeout)

    def read_until_close(self, timeout: float | None = None) -> tuple[list[Msg], bool]:
        """Everything until the server closes. Returns (messages, closed); closed is False when
        the server neither sent more nor closed within the timeout."""
        out = []
        while True:
            try:
                m = self.recv_msg(timeout)
            except TimeoutError:
                return out, False
            if m is None:
                return out, True
            out.append(m)

    # start-up and authentication
    def startup(self, user: str | None, database: str | None = None, **params: str) -> None:
        p = {}
        if user is not None:
            p["user"] = user
        if database is not None:
            p["database"] = database
        p.update(params)
        self.send(startup_message(p))

    def authenticate(self, password: str) -> list[Msg]:
        """Answers authentication requests until ReadyForQuery; raises PgError on ErrorResponse."""
        seen = []
        while True:
            m = self.recv_msg()
            if m is None:
                raise ProtocolViolation(f"server closed during authentication after {seen}")
            seen.append(m)
            if m.type == b"E":
                raise PgError(m)
            if m.type == b"Z":
                return seen
            if m.type != b"R":
                continue
            code = m.auth_code
            if code == AUTH_OK:
                continue
            if code == AUTH_CLEARTEXT:
                self.send(password_msg(password))
            elif code == AUTH_MD5:
                user = self._user.encode()
                inner = hashlib.md5(password.encode() + user).hexdigest().encode()
                self.send(password_msg(b"md5" + hashlib.md5(inner + m.payload[4:8]).hexdigest().encode()))
            elif code == AUTH_SASL:
                mechs = [x.decode() for x in m.payload[4:].split(b"\x00") if x]
                if "SCRAM-SHA-256" not in mechs:
                    raise ProtocolViolation(f"no SCRAM-SHA-256 among {mechs}")
                self.scram = ScramClient(password)
                self.send(sasl_initial_response("SCRAM-SHA-256", self.scram.client_first()))
            elif code == AUTH_SASL_CONTINUE:
                self.send(sasl_response(self.scram.client_final(m.payload[4:])))
            elif code == AUTH_SASL_FINAL:
                if not self.scram.verify_server_final(m.payload[4:]):
                    raise ProtocolViolation(f"bad SCRAM server signature: {m.payload[4:]!r}")
            else:
                raise ProtocolViolation(f"unsupported authentication request {code}")

    def connect_and_auth(self, user: str, password: str, database: str | None = None, **params: str) -> list[Msg]:
        self._user = user
        self.startup(user, database, **params)
        return self.authenticate(password)

    def begin_scram(self, user: str, database: str | None = None) -> Msg:
        """StartupMessage; returns the server's first answer (AuthenticationSASL when SCRAM)."""
        self._user = user
        self.startup(user, database)
        m = self.recv_msg()
        if m is None:
            raise ProtocolViolation("server closed right after the StartupMessage")
        return m

    # queries
    def simple_query(self, sql: str | bytes) -> list[list[str | None]]:
        """Runs one simple Query; returns the text rows; raises PgError on an ErrorResponse (after
        reading up to ReadyForQuery)."""
        self.send(query_msg(sql))
        rows, err = [], None
        for m in self.read_until_ready():
            if m.type == b"D":
                rows.append([None if v is None else v.decode() for v in data_row_values(m.payload)])
            elif m.type == b"E":
                err = m
        if self.closed_by_peer and not err:
            raise ProtocolViolation(f"server closed the connection during {sql!r}")
        if err:
            raise PgError(err)
        return rows
