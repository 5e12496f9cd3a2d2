"""Malformed and hostile PostgreSQL wire protocol input (raw sockets, tests/integration/pgwire_raw.py).

Every case sends something a correct client never sends (bad lengths, unknown message types, broken
start-up packets and SCRAM exchanges, extended-protocol messages out of order, mid-message
disconnects ...) and checks what the server answers: an ErrorResponse with the expected SQLSTATE
class, or closing that one connection, or (where PostgreSQL itself does so) nothing at all.
Around every case:
  * a healthy, authenticated connection opened *before* the case still runs SELECT 1 after it;
  * a new connection afterwards authenticates and runs SELECT 1;
  * the server process is still alive.

The corpus runs against up to three servers (one module-scoped fixture, parametrized):
  postgres        the real PostgreSQL test server ($LAKEROUTER_PG_DSN; a reference that keeps the
                  expectations honest: every case must hold for PostgreSQL itself);
  lakerouter      the router ($LAKEROUTER_BIN) on its pgwire port;
  lakerouter-asan the AddressSanitizer+UBSan build ($LAKEROUTER_ASAN_BIN) with LeakSanitizer on;
                  after the corpus it is stopped with SIGTERM and its stderr must hold no
                  sanitizer report.
"""

from __future__ import annotations

import os
import random
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlparse

import pytest

from conftest import ROOT, TEST_USERS, Router, start_router, stop_router
from pgwire_raw import (AUTH_SASL, AUTH_SASL_CONTINUE, PROTOCOL_3_0, Msg, PgError, PgRaw, ScramClient,
                        bind_msg, cancel_request, close_msg, cstr, describe_msg, execute_msg, gssenc_request,
                        msg, parse_msg, password_msg, query_msg, sasl_initial_response, sasl_response,
                        ssl_request, startup_message, sync_msg, terminate_msg, untyped)

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
LSAN_SUPP = ROOT / "tests" / "unit" / "lsan.supp"
RSS_JUMP_LIMIT_KIB = 256 * 1024  # a 1 GiB declared length must not be allocated
BIG_RESULT_SQL = "SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 300000) AS t(g)"
INT4, TEXT = 23, 25


# --- the servers ---------------------------------------------------------------------------------

@dataclass
class Target:
    name: str
    host: str
    port: int
    user: str
    password: str
    database: str | None = None
    router: Router | None = None
    stopped: bool = False
    notes: list[str] = field(default_factory=list)

    def raw(self) -> PgRaw:
        return PgRaw(self.host, self.port)

    def connect(self) -> PgRaw:
        c = self.raw()
        try:
            c.connect_and_auth(self.user, self.password, self.database)
        except BaseException:
            c.close()
            raise
        return c

    def startup_params(self, **kw: str) -> dict[str, str]:
        p = {"user": self.user}
        if self.database:
            p["database"] = self.database
        p.update(kw)
        return p

    def rss_kib(self) -> int | None:
        if self.router is None:
            return None
        try:
            for line in Path(f"/proc/{self.router.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None

    def alive(self) -> bool:
        return self.router is None or self.router.alive()

    def log_tail(self) -> str:
        if not self.router:
            return ""
        return sanitizer_report(self.router.stderr_path) + self.router.log_tail(60)

    def require_alive(self) -> None:
        if not self.alive():
            pytest.fail(f"{self.name} is not running any more (exit status {self.router.proc.returncode})\n"
                        f"{self.log_tail()}", pytrace=False)


def sanitizer_report(stderr_path: Path, lines: int = 40) -> str:
    """The head of the first sanitizer report in the log (the frames that matter), if any."""
    try:
        text = stderr_path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for i, line in enumerate(text):
        if any(m in line for m in SANITIZER_MARKS):
            head = [ln[:300] for ln in text[i:i + lines]]
            return "--- sanitizer report (head) ---\n" + "\n".join(head) + "\n"
    return ""


def _postgres_target() -> Target:
    dsn = os.environ.get("LAKEROUTER_PG_DSN")
    if not dsn:
        pytest.skip("LAKEROUTER_PG_DSN not set: no reference PostgreSQL (source ~/.cache/lakerouter/run/services.env)")
    u = urlparse(dsn)
    return Target("postgres", u.hostname or "127.0.0.1", u.port or 5432, unquote(u.username or "postgres"),
                  unquote(u.password or ""), (u.path or "/").lstrip("/") or None)


def _router_target(name: str, r: Router) -> Target:
    user = "tester"
    if not r.pg_port:
        stop_router(r)
        pytest.fail(f"{name}: the router printed no 'lakerouter pgwire: ' line (pgwire front-end disabled or "
                    f"missing)\n{r.log_tail()}", pytrace=False)
    return Target(name, r.host, r.pg_port, user, TEST_USERS[user][0], None, router=r)


@pytest.fixture(scope="module", params=["postgres", "lakerouter", "lakerouter-asan"])
def target(request, lake_dir, tmp_path_factory):
    if request.param == "postgres":
        yield _postgres_target()
        return
    if request.param == "lakerouter":
        t = _router_target("lakerouter", start_router(lake_dir, tmp_path_factory.mktemp("pgwire-router")))
    else:
        asan = os.environ.get("LAKEROUTER_ASAN_BIN")
        if not asan:
            pytest.skip("LAKEROUTER_ASAN_BIN not set (scripts/test.sh sets it to the ASan+UBSan build)")
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("LAKEROUTER_BIN", asan)
            mp.setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0")
            mp.setenv("LSAN_OPTIONS", f"suppressions={LSAN_SUPP}:print_suppressions=0")
            mp.setenv("UBSAN_OPTIONS", "print_stacktrace=1")
            t = _router_target("lakerouter-asan", start_router(lake_dir, tmp_path_factory.mktemp("pgwire-asan")))
    try:
        yield t
    finally:
        if not t.stopped:  # test_shutdown did not run (deselected or failed early)
            t.stopped = True
            stop_router(t.router)


# --- outcome checks ------------------------------------------------------------------------------

def significant(msgs: list[Msg]) -> list[Msg]:
    """Without NoticeResponse / ParameterStatus, which a server may send at any time."""
    return [m for m in msgs if m.type not in (b"N", b"S")]


def check_error(m: Msg, classes: tuple[str, ...], ctx: str) -> None:
    assert m.type == b"E", f"{ctx}: expected an ErrorResponse, got {m}"
    f = m.fields
    assert f.get("severity") in ("ERROR", "FATAL", "PANIC"), f"{ctx}: bad severity in {f}"
    assert f.get("message"), f"{ctx}: ErrorResponse without message: {f}"
    state = f.get("sqlstate", "")
    assert len(state) == 5 and state.isalnum(), f"{ctx}: bad SQLSTATE in {f}"
    if classes:
        assert state[:2] in classes or state in classes, f"{ctx}: SQLSTATE {state} not in {classes}: {f}"


def expect_rejected(c: PgRaw, classes: tuple[str, ...], ctx: str, *, silent_close_ok: bool = True,
                    must_close: bool = False) -> list[Msg]:
    """The server answers with an ErrorResponse of one of `classes` (then ReadyForQuery, or closes),
    or (if allowed) closes the connection without a word. A connection left open must still work.
    Returns the messages read."""
    msgs = c.read_until(b"Z")
    sig = significant(msgs)
    if not sig:
        assert c.closed_by_peer, f"{ctx}: nothing received and not closed"
        assert silent_close_ok, f"{ctx}: the server closed without an ErrorResponse"
        return msgs
    check_error(sig[0], classes, ctx)
    rest = sig[1:]
    if c.closed_by_peer:
        assert rest == [], f"{ctx}: after the error, before closing: {rest}"
    else:
        assert must_close is False, f"{ctx}: the connection should have been closed, got {sig}"
        assert rest and rest[-1].type == b"Z" and len(rest) == 1, f"{ctx}: after the error: {rest}"
        assert sig[0].fields["severity"] != "FATAL", f"{ctx}: FATAL error but the connection continued: {sig}"
        # A connection the server keeps must still be usable.
        assert c.simple_query("SELECT 1") == [["1"]], ctx
    return msgs


def expect_closed(c: PgRaw, classes: tuple[str, ...], ctx: str, *, allow_error: bool = True,
                  allow_more: bool = False) -> list[Msg]:
    """The server closes the connection, at most after an ErrorResponse of `classes` (and, with
    `allow_more`, whatever it answers to the junk that follows)."""
    msgs, closed = c.read_until_close()
    assert closed, f"{ctx}: the server neither closed the connection nor answered; got {msgs}"
    sig = significant(msgs)
    if sig:
        assert allow_error, f"{ctx}: expected a silent close, got {sig}"
        check_error(sig[0], classes, ctx)
        assert allow_more or len(sig) == 1, f"{ctx}: more than one message before the close: {sig}"
        assert all(m.type in (b"E", b"Z") for m in sig), f"{ctx}: unexpected messages: {sig}"
    return msgs


def recv_closed_no_data(c: PgRaw, ctx: str) -> None:
    data, closed = c.read_until_close()
    assert closed and not data, f"{ctx}: expected a close without data, got {data}"


def rss_guard(t: Target) -> Callable[[], None]:
    before = t.rss_kib()

    def check() -> None:
        after = t.rss_kib()
        if before is not None and after is not None:
            assert after - before < RSS_JUMP_LIMIT_KIB, (
                f"RSS grew from {before} KiB to {after} KiB: a declared length was allocated")
    return check


# --- the cases -----------------------------------------------------------------------------------

CASES: list[tuple[str, Callable[[Target], None]]] = []


def case(id_: str):
    def register(fn):
        CASES.append((id_, fn))
        return fn
    return register


PROTO = ("08",)          # protocol violation 08P01 (and other connection exceptions)
AUTH = ("28", "08")      # invalid authorization (28000, 28P01) or protocol violation


# start-up packet

def _startup_reject(payload: bytes, classes=PROTO, *, shut: bool = False):
    def run(t: Target) -> None:
        with t.raw() as c:
            c.send(payload)
            if shut:
                c.shutdown_write()
            expect_closed(c, classes, "start-up")
    return run


case("startup-length-0")(_startup_reject(untyped(b"", length=0)))
case("startup-length-3")(_startup_reject(untyped(b"", length=3) + b"\x00\x03"))
case("startup-length-negative")(_startup_reject(untyped(struct.pack("!I", PROTOCOL_3_0), length=-8)))
case("startup-length-longer-than-payload-then-eof")(_startup_reject(
    startup_message({"user": "tester"}, length=200), shut=True))
case("startup-bad-protocol-4.0")(_startup_reject(startup_message({"user": "tester"}, version=4 << 16), ("0A", "08")))


@case("startup-bad-protocol-2.0")
def _(t: Target) -> None:
    # PostgreSQL answers a 2.0 client in the 2.0 format ('E', text, NUL) and closes; a 3.0
    # ErrorResponse or a silent close are fine too.
    with t.raw() as c:
        c.send(startup_message({"user": "tester"}, version=2 << 16))
        data, closed = c.read_raw_until_close()
        assert closed, f"not closed; got {data!r}"
        if not data:
            return
        assert data[:1] == b"E", data
        n = struct.unpack("!I", data[1:5])[0] if len(data) >= 5 else 0
        if n == len(data) - 1:  # protocol 3.0 ErrorResponse
            check_error(Msg(b"E", data[5:]), ("0A", "08"), "protocol 2.0")
        else:
            assert data.endswith(b"\x00") and b"protocol" in data, data
case("startup-missing-user")(_startup_reject(startup_message({"database": "lakerouter"}), ("28", "08")))
case("startup-empty-user")(_startup_reject(startup_message({"user": ""}), ("28", "08")))
case("startup-unterminated-string")(_startup_reject(startup_message(raw_params=b"user\x00tes")))
case("startup-param-without-terminator")(_startup_reject(
    startup_message(raw_params=b"user\x00tester\x00application_name\x00")))
case("startup-odd-param-list-empty-key-inside")(_startup_reject(
    startup_message(raw_params=b"user\x00tester\x00\x00application_name\x00x\x00\x00")))
case("startup-garbage-bytes")(_startup_reject(untyped(b"\xde\xad\xbe\xef" * 8), ("0A", "08")))
case("startup-cancel-request-bad-length")(_startup_reject(untyped(struct.pack("!II", 80877102, 1))))


@case("startup-length-shorter-than-payload")
def _(t: Target) -> None:
    # The declared length ends before the parameter list's final NUL (which then follows as junk).
    full = startup_message(t.startup_params())
    with t.raw() as c:
        c.send(struct.pack("!I", len(full) - 1) + full[4:])
        expect_closed(c, PROTO, "short start-up length")


@case("startup-length-1gib-not-allocated")
def _(t: Target) -> None:
    check = rss_guard(t)
    with t.raw() as c:
        c.send(struct.pack("!II", 1 << 30, PROTOCOL_3_0) + b"user\x00" * 2000)
        expect_closed(c, PROTO, "1 GiB start-up packet")
    check()


@case("startup-protocol-3.99-negotiated-or-refused")
def _(t: Target) -> None:
    # A newer minor version: PostgreSQL answers NegotiateProtocolVersion ('v') and goes on.
    with t.raw() as c:
        c._user = t.user
        c.send(startup_message(t.startup_params(), version=(3 << 16) | 99))
        first = c.recv_msg()
        assert first is not None, "closed without an answer"
        if first.type == b"E":
            check_error(first, ("0A", "08"), "protocol 3.99")
            return
        if first.type == b"v":
            newest, = struct.unpack("!I", first.payload[:4])
            assert newest >> 16 == 3 and (newest & 0xFFFF) < 99, first
        else:
            assert first.type == b"R", f"expected NegotiateProtocolVersion, AuthenticationXXX or an error: {first}"
            c.buf = b"R" + struct.pack("!I", len(first.payload) + 4) + first.payload + c.buf
        c.authenticate(t.password)
        assert c.simple_query("SELECT 1") == [["1"]]


@case("gssenc-request-declined-then-startup")
def _(t: Target) -> None:
    with t.raw() as c:
        c.send(gssenc_request())
        answer = c.recv_byte()
        if answer == b"G" and t.name == "postgres":
            return  # PostgreSQL built with GSSAPI accepts; lakerouter has no GSSAPI and must decline
        assert answer == b"N", f"GSSENCRequest must be declined with 'N', got {answer!r}"
        c.connect_and_auth(t.user, t.password, t.database)
        assert c.simple_query("SELECT 1") == [["1"]]


@case("sslrequest-twice")
def _(t: Target) -> None:
    with t.raw() as c:
        c.send(ssl_request())
        answer = c.recv_byte()
        assert answer == b"N", f"no TLS configured: SSLRequest must be answered 'N', got {answer!r}"
        c.send(ssl_request())
        expect_closed(c, ("0A", "08"), "second SSLRequest")


@case("cancel-request-wrong-key")
def _(t: Target) -> None:
    # The healthy connection's process id with a wrong key: nothing is cancelled, no answer.
    with t.connect() as victim:
        pid, key = victim.backend_key
        with t.raw() as c:
            c.send(cancel_request(pid, key ^ 0x5A5A5A5A))
            recv_closed_no_data(c, "CancelRequest")
        assert victim.simple_query("SELECT 1") == [["1"]]


@case("cancel-request-unknown-pid")
def _(t: Target) -> None:
    with t.raw() as c:
        c.send(cancel_request(0x7FFFFFF0, 12345))
        recv_closed_no_data(c, "CancelRequest for an unknown process")


# authentication

def _sasl_start(t: Target, c: PgRaw) -> Msg:
    m = c.begin_scram(t.user, t.database)
    assert m.type == b"R" and m.auth_code == AUTH_SASL, f"expected AuthenticationSASL (SCRAM is the default), got {m}"
    mechs = [x for x in m.payload[4:].split(b"\x00") if x]
    assert b"SCRAM-SHA-256" in mechs, mechs
    return m


def _sasl_continue(c: PgRaw, scram: ScramClient) -> bytes:
    c.send(sasl_initial_response("SCRAM-SHA-256", scram.client_first()))
    m = c.recv_msg()
    assert m is not None and m.type == b"R" and m.auth_code == AUTH_SASL_CONTINUE, m
    return m.payload[4:]


@case("auth-wrong-password")
def _(t: Target) -> None:
    with t.raw() as c:
        _sasl_start(t, c)
        scram = ScramClient(t.password + "-wrong")
        c.send(sasl_response(scram.client_final(_sasl_continue(c, scram))))
        msgs = expect_closed(c, ("28",), "wrong password", allow_error=True)
        assert significant(msgs) and significant(msgs)[0].sqlstate == "28P01", msgs


@case("auth-unknown-user")
def _(t: Target) -> None:
    with t.raw() as c:
        c._user = "no_such_user_h4"
        c.startup("no_such_user_h4", t.database)
        try:
            c.authenticate("whatever")
        except PgError as e:
            assert e.sqlstate[:2] == "28", e.fields
            assert c.read_until_close()[1]
        else:
            pytest.fail("an unknown user was authenticated")


@case("auth-wrong-scram-proof")
def _(t: Target) -> None:
    with t.raw() as c:
        _sasl_start(t, c)
        scram = ScramClient(t.password)
        c.send(sasl_response(scram.client_final(_sasl_continue(c, scram), tamper_proof=True)))
        msgs = expect_closed(c, ("28",), "tampered proof")
        assert significant(msgs), "a wrong proof must be answered with an ErrorResponse (28P01)"


@case("auth-scram-wrong-nonce")
def _(t: Target) -> None:
    with t.raw() as c:
        _sasl_start(t, c)
        scram = ScramClient(t.password)
        c.send(sasl_response(scram.client_final(_sasl_continue(c, scram), override_nonce="AAAAnotthenonce")))
        expect_closed(c, AUTH, "wrong nonce")


@case("auth-sasl-wrong-mechanism")
def _(t: Target) -> None:
    with t.raw() as c:
        _sasl_start(t, c)
        c.send(sasl_initial_response("SCRAM-SHA-1", ScramClient(t.password).client_first()))
        expect_closed(c, AUTH, "mechanism SCRAM-SHA-1")


@case("auth-sasl-malformed-client-first")
def _(t: Target) -> None:
    with t.raw() as c:
        _sasl_start(t, c)
        c.send(sasl_initial_response("SCRAM-SHA-256", b"hello, this is not SCRAM"))
        expect_closed(c, AUTH, "malformed client-first-message")


@case("auth-sasl-initial-length-beyond-message")
def _(t: Target) -> None:
    with t.raw() as c:
        _sasl_start(t, c)
        c.send(sasl_initial_response("SCRAM-SHA-256", b"n,,n=,r=abc", data_length=100000))
        expect_closed(c, AUTH, "SASLInitialResponse length beyond the message")


@case("auth-sasl-channel-binding-without-tls")
def _(t: Target) -> None:
    with t.raw() as c:
        _sasl_start(t, c)
        scram = ScramClient(t.password, gs2_header="p=tls-server-end-point,,")
        c.send(sasl_initial_response("SCRAM-SHA-256", scram.client_first()))
        expect_closed(c, AUTH, "channel binding over plain TCP")


@case("auth-sasl-malformed-client-final")
def _(t: Target) -> None:
    with t.raw() as c:
        _sasl_start(t, c)
        scram = ScramClient(t.password)
        _sasl_continue(c, scram)
        c.send(sasl_response(b"c=biws,garbage-without-proof"))
        expect_closed(c, AUTH, "client-final-message without proof")


@case("auth-cleartext-password-when-sasl-expected")
def _(t: Target) -> None:
    with t.raw() as c:
        _sasl_start(t, c)
        c.send(password_msg(t.password))
        expect_closed(c, AUTH, "PasswordMessage instead of SASLInitialResponse")


@case("auth-unknown-message-type")
def _(t: Target) -> None:
    with t.raw() as c:
        _sasl_start(t, c)
        c.send(msg(b"!", b"junk"))
        expect_closed(c, AUTH, "unknown message type during authentication")


@case("auth-query-before-authentication")
def _(t: Target) -> None:
    with t.raw() as c:
        _sasl_start(t, c)
        c.send(query_msg("SELECT 1"))
        expect_closed(c, AUTH, "Query before authentication")


@case("auth-terminate-during-sasl")
def _(t: Target) -> None:
    with t.raw() as c:
        _sasl_start(t, c)
        c.send(terminate_msg())
        expect_closed(c, AUTH, "Terminate during authentication")


# framing after authentication

def _authed_reject(payload: bytes, classes=PROTO, *, shut: bool = False, closes: bool = False):
    def run(t: Target) -> None:
        with t.connect() as c:
            c.send(payload)
            if shut:
                c.shutdown_write()
                expect_closed(c, classes, "after auth", allow_more=True)
            elif closes:
                expect_closed(c, classes, "after auth")
            else:
                expect_rejected(c, classes, "after auth")
    return run


case("msg-length-0")(_authed_reject(msg(b"Q", length=0), closes=True))
case("msg-length-3")(_authed_reject(msg(b"Q", b"\x00\x00\x00", length=3), closes=True))
case("msg-length-negative")(_authed_reject(msg(b"Q", b"SELECT 1\x00", length=-13), closes=True))
case("msg-length-longer-than-payload-then-eof")(_authed_reject(msg(b"Q", cstr("SELECT 1"), length=100), shut=True))
case("msg-truncated-header-then-eof")(_authed_reject(b"Q\x00\x00", shut=True))
case("msg-length-shorter-than-payload")(_authed_reject(msg(b"Q", cstr("SELECT 1"), length=8), shut=True))
case("unknown-message-type-after-auth")(_authed_reject(msg(b"!", b"junk"), closes=True))
case("sslrequest-after-startup")(_authed_reject(ssl_request(), closes=True))
case("startup-message-after-startup")(_authed_reject(startup_message({"user": "tester"}), closes=True))
case("query-without-terminator")(_authed_reject(msg(b"Q", b"SELECT 1")))
case("query-nul-inside-string")(_authed_reject(msg(b"Q", b"SELECT 1\x00SELECT 2\x00")))
case("query-invalid-utf8")(_authed_reject(query_msg(b"SELECT '\xff\xfe caf\xe9'"), ("22",)))
case("query-overlong-utf8")(_authed_reject(query_msg(b"SELECT '\xc0\xaf'"), ("22",)))
# FunctionCall ends with its own ReadyForQuery (no Sync).
case("function-call")(_authed_reject(msg(b"F", struct.pack("!IHHH", 0, 0, 0, 0)), ("0A", "08", "42")))
case("parse-unterminated-name")(_authed_reject(msg(b"P", b"stmt_without_nul") + sync_msg()))


@case("msg-length-1gib-not-allocated")
def _(t: Target) -> None:
    check = rss_guard(t)
    with t.connect() as c:
        c.send(msg(b"Q", b"SELECT " + b"1" * 4096, length=1 << 30))
        expect_closed(c, PROTO, "1 GiB Query")
    check()


# the extended protocol out of order

def _extended(messages: list[bytes], classes: tuple[str, ...], ctx: str, *, then: Callable[[PgRaw, list[Msg]], None] | None = None):
    def run(t: Target) -> None:
        with t.connect() as c:
            c.send(b"".join(messages) + sync_msg())
            msgs = c.read_until(b"Z")
            sig = significant(msgs)
            assert not c.closed_by_peer, f"{ctx}: connection closed ({sig}); an ERROR must not end the session"
            errors = [m for m in sig if m.type == b"E"]
            assert len(errors) == 1, f"{ctx}: expected exactly one ErrorResponse (the rest skipped until Sync): {sig}"
            check_error(errors[0], classes, ctx)
            assert errors[0].fields["severity"] == "ERROR", errors[0]
            assert sig[-1].type == b"Z" and sig[-1].payload == b"I", f"{ctx}: {sig}"
            if then:
                then(c, sig)
            assert c.simple_query("SELECT 1") == [["1"]], ctx
    return run


P1 = parse_msg("s1", "SELECT $1::int AS v", [INT4])
case("bind-before-parse")(_extended([bind_msg("", "no_such_stmt")], ("26",), "Bind before Parse"))
case("execute-unknown-portal")(_extended([execute_msg("no_such_portal")], ("34",), "Execute of an unknown portal"))
case("describe-unknown-statement")(_extended([describe_msg(b"S", "no_such_stmt")], ("26",), "Describe S unknown"))
case("describe-unknown-portal")(_extended([describe_msg(b"P", "no_such_portal")], ("34",), "Describe P unknown"))
case("errors-skip-until-sync")(_extended(
    [bind_msg("", "no_such_stmt"), execute_msg(""), describe_msg(b"S", "x"), P1], ("26",), "skip until Sync",
    then=lambda c, sig: [m.type for m in sig] == [b"E", b"Z"] or pytest.fail(f"not skipped: {sig}")))
case("parse-param-count-exceeds-types")(_extended(
    [parse_msg("s2", "SELECT $1::int, $2::int, $3::int", [INT4], declared_count=3)], PROTO, "Parse count 3, 1 type"))
case("parse-more-param-types-than-declared")(_extended(
    [msg(b"P", cstr("s2") + cstr("SELECT $1::int") + struct.pack("!HIII", 1, INT4, TEXT, TEXT))],
    PROTO, "Parse: count 1, three types"))
case("bind-too-few-params")(_extended([P1, bind_msg("", "s1", [])], PROTO, "Bind 0 of 1 params"))
case("bind-too-many-params")(_extended([P1, bind_msg("", "s1", [b"1", b"2", b"3"])], PROTO, "Bind 3 of 1 params"))
case("bind-binary-int4-wrong-width")(_extended(
    [P1, bind_msg("", "s1", [b"\x00\x01"], param_formats=[1]), execute_msg("")], ("22", "08"), "int4 of 2 bytes"))
case("bind-bad-format-code")(_extended(
    [P1, bind_msg("", "s1", [b"1"], param_formats=[7]), execute_msg("")], ("22", "08"), "format code 7"))
case("bind-negative-param-length")(_extended(
    [P1, msg(b"B", cstr("") + cstr("s1") + struct.pack("!HHi", 0, 1, -5) + b"1" + struct.pack("!H", 0))],
    PROTO, "param length -5"))
case("bind-param-length-beyond-message")(_extended(
    [P1, msg(b"B", cstr("") + cstr("s1") + struct.pack("!HHi", 0, 1, 1000) + b"1234" + struct.pack("!H", 0))],
    PROTO, "param length 1000 of 4"))
case("bind-invalid-text-int")(_extended(
    [P1, bind_msg("", "s1", [b"not a number"]), execute_msg("")], ("22",), "int parameter 'not a number'"))


@case("close-unknown-statement-is-not-an-error")
def _(t: Target) -> None:
    with t.connect() as c:
        c.send(close_msg(b"S", "never_prepared") + close_msg(b"P", "never_bound") + sync_msg())
        sig = significant(c.read_until(b"Z"))
        assert [m.type for m in sig] == [b"3", b"3", b"Z"], sig


@case("parse-duplicate-statement-name")
def _(t: Target) -> None:
    with t.connect() as c:
        c.send(P1 + sync_msg())
        assert [m.type for m in significant(c.read_until(b"Z"))] == [b"1", b"Z"]
        c.send(P1 + sync_msg())
        sig = significant(c.read_until(b"Z"))
        assert [m.type for m in sig] == [b"E", b"Z"], sig
        check_error(sig[0], ("42",), "duplicate prepared statement")


# COPY and stray messages

@case("copydata-without-copy")
def _(t: Target) -> None:
    # PostgreSQL silently ignores CopyData/CopyDone outside COPY; an ErrorResponse is fine too.
    with t.connect() as c:
        c.send(msg(b"d", b"1\tjunk\n") + msg(b"c") + sync_msg())
        sig = significant(c.read_until(b"Z"))
        assert [m.type for m in sig] in ([b"Z"], [b"E", b"Z"]), sig
        if sig[0].type == b"E":
            check_error(sig[0], ("08", "0A"), "CopyData")
        assert c.simple_query("SELECT 1") == [["1"]]


@case("copyfail-without-copy")
def _(t: Target) -> None:
    with t.connect() as c:
        c.send(msg(b"f", cstr("boom")) + sync_msg())
        sig = significant(c.read_until(b"Z"))
        assert [m.type for m in sig] in ([b"Z"], [b"E", b"Z"]), sig
        assert c.simple_query("SELECT 1") == [["1"]]


@case("query-empty-string")
def _(t: Target) -> None:
    with t.connect() as c:
        c.send(query_msg(""))
        sig = significant(c.read_until(b"Z"))
        assert [m.type for m in sig] == [b"I", b"Z"], f"expected EmptyQueryResponse: {sig}"


@case("pipelined-syncs")
def _(t: Target) -> None:
    with t.connect() as c:
        c.send(sync_msg() * 500 + query_msg("SELECT 1"))
        got = []
        for _ in range(500):
            got += [m.type for m in significant(c.read_until_ready())]
        assert got == [b"Z"] * 500, got[:10]
        sig = significant(c.read_until_ready())
        assert [m.type for m in sig] == [b"T", b"D", b"C", b"Z"], sig


# disconnects

@case("disconnect-during-large-result")
def _(t: Target) -> None:
    with t.connect() as c:
        c.send(query_msg(BIG_RESULT_SQL))
        first = c.read_until(b"D")
        assert first and first[-1].type == b"D", first
    # closed with the result half-sent; the server must notice and carry on


@case("disconnect-with-reset-during-large-result")
def _(t: Target) -> None:
    c = t.connect()
    c.send(query_msg(BIG_RESULT_SQL))
    assert c.read_until(b"D")[-1].type == b"D"
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
    c.close()


@case("disconnect-half-way-through-a-message")
def _(t: Target) -> None:
    c = t.connect()
    whole = query_msg("SELECT 'half a message'")
    c.send(whole[:len(whole) // 2])
    c.close()


@case("disconnect-half-way-through-startup")
def _(t: Target) -> None:
    c = t.raw()
    whole = startup_message(t.startup_params())
    c.send(whole[:len(whole) // 2])
    c.close()


@case("junk-after-terminate")
def _(t: Target) -> None:
    with t.connect() as c:
        c.send(terminate_msg() + random.Random(7).randbytes(3000) + query_msg("SELECT 1"))
        msgs, closed = c.read_until_close()
        assert closed, "Terminate must close the connection"
        assert significant(msgs) == [], f"nothing may be answered after Terminate: {msgs}"


# --- the tests -----------------------------------------------------------------------------------

@pytest.fixture
def healthy(target):
    """An authenticated connection opened before the case; it must still work afterwards."""
    target.require_alive()
    c = target.connect()
    assert c.simple_query("SELECT 1") == [["1"]]
    yield c
    c.close()


@pytest.mark.parametrize("fn", [pytest.param(fn, id=id_) for id_, fn in CASES])
def test_malformed(target, healthy, fn):
    try:
        fn(target)
        assert target.alive(), f"{target.name} exited with {target.router.proc.returncode}"
        assert healthy.simple_query("SELECT 1") == [["1"]], "the healthy connection stopped working"
        with target.connect() as fresh:
            assert fresh.simple_query("SELECT 1") == [["1"]], "a new connection does not work"
    except (AssertionError, PgError, OSError) as e:
        raise AssertionError(f"[{target.name}] {type(e).__name__}: {e}\n{target.log_tail()}") from e


def test_case_table_is_big_enough():
    assert len(CASES) >= 30, len(CASES)
    assert len({id_ for id_, _ in CASES}) == len(CASES), "duplicate case ids"


def test_shutdown(target):
    """Last: the router exits 0 on SIGTERM, without a crash or sanitizer report in its logs."""
    if target.router is None:
        with target.connect() as c:
            assert c.simple_query("SELECT 1") == [["1"]]
        return
    target.stopped = True
    try:
        stop_router(target.router)  # SIGTERM; exit status 0; no crash marks in the logs
    except AssertionError as e:
        raise AssertionError(f"{sanitizer_report(target.router.stderr_path)}{e}") from None
    if target.name == "lakerouter-asan":
        err = target.router.stderr_path.read_text(errors="replace")
        found = [m for m in SANITIZER_MARKS if m in err]
        assert not found, f"sanitizer reports {found}:\n{err[-8000:]}"
