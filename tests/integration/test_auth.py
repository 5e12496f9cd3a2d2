"""Authentication on every front-end: missing, wrong and right credentials.

HTTP API (requests): Basic (password), Bearer (API token, JWT); the Trino protocol (requests and
the trino Python client): X-Trino-User with Basic or Bearer, and pages tied to their query's owner;
pgwire (psycopg): SCRAM-SHA-256, and `auth: trust`. JWTs are made here with PyJWT (HS256). The demo
default (no configuration file) admits anonymous clients from loopback and says so; a configuration
file that does not set auth.anonymous requires credentials. Last, the logs of every router started
here are searched for every secret these tests sent: none may appear.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import time

import jwt
import psycopg
import pytest
import requests
import trino

from conftest import (DEFAULT_BIN, PGWIRE_PREFIX, READY_PREFIX, READY_TIMEOUT_S, Router, _stdout_value, _tail,
                      _write_config, extension_dir, start_router, stop_router)

JWT_SECRET = "jwt-secret-for-the-auth-tests-0123456789abcdef"
JWT_ENV = "LAKEROUTER_TEST_JWT_SECRET"
API_TOKEN = "lr_api_token_for_tests_6f1d2c3b4a5e"
DORA_PASSWORD = "dora-scram-only-secret"
# Every secret a test sends, right or wrong: none may show up in the routers' logs.
SECRETS: set[str] = {JWT_SECRET, API_TOKEN, DORA_PASSWORD, "tester-secret", "admin-secret"}
# Every router this module starts: the last test searches their logs.
ROUTERS: list[Router] = []


def scram_verifier(password: str, salt: bytes = b"auth-test-salt16", iterations: int = 4096) -> str:
    """A PostgreSQL-style SCRAM-SHA-256 verifier, as pg_authid stores it."""
    import hmac
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def make_jwt(sub: str = "jwt-user", *, exp_in: int = 600, secret: str = JWT_SECRET, **claims) -> str:
    payload = {"sub": sub, "exp": int(time.time()) + exp_in, "iss": "lr-tests", "aud": "lakerouter",
               "groups": ["analysts"], **claims}
    token = jwt.encode(payload, secret, algorithm="HS256")
    SECRETS.add(token)
    return token


def basic(user: str, password: str) -> dict:
    SECRETS.add(password)
    SECRETS.add(base64.b64encode(f"{user}:{password}".encode()).decode())
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def bearer(token: str) -> dict:
    SECRETS.add(token)
    return {"Authorization": "Bearer " + token}


def http(r: Router, method: str, path: str, headers: dict | None = None, **kw) -> requests.Response:
    with requests.Session() as s:
        s.trust_env = False
        return s.request(method, r.url(path), headers=headers or {}, timeout=60, **kw)


def query(r: Router, sql: str, headers: dict | None = None, **body) -> requests.Response:
    return http(r, "POST", "/v1/query", {"Content-Type": "application/json", **(headers or {})},
                json={"sql": sql, **body})


def assert_401(resp: requests.Response, scheme: str = "Basic") -> None:
    assert resp.status_code == 401, resp.text
    assert scheme in resp.headers.get("WWW-Authenticate", ""), resp.headers
    err = resp.json()["error"]
    assert err.get("code", err.get("errorName")) in ("UNAUTHENTICATED", "PERMISSION_DENIED"), err
    for secret in SECRETS:
        assert secret not in resp.text


@pytest.fixture(scope="module")
def secured(lake_dir, tmp_path_factory):
    """A router that requires credentials: anonymous none, API token, SCRAM-only user, HS256 JWTs."""
    os.environ[JWT_ENV] = JWT_SECRET  # the child inherits it; the file names only the variable
    from conftest import TEST_USERS
    users = [{"name": u, "password": p, "groups": g} for u, (p, g) in TEST_USERS.items()]
    users += [{"name": "carol", "groups": ["etl"],
               "api_tokens": [{"name": "ci", "sha256": hashlib.sha256(API_TOKEN.encode()).hexdigest()}]},
              {"name": "dora", "groups": ["analysts"], "scram_sha256": scram_verifier(DORA_PASSWORD)}]
    extra = {"users": users,
             "auth": {"anonymous": "none",
                      "jwt": {"algorithm": "HS256", "secret_env": JWT_ENV, "issuer": "lr-tests",
                              "audience": "lakerouter"}}}
    r = start_router(lake_dir, tmp_path_factory.mktemp("auth"), extra, log_level="debug")
    ROUTERS.append(r)
    yield r
    stop_router(r)


# --- HTTP API ------------------------------------------------------------------------------------------

def test_http_health_and_readiness_stay_open(secured):
    assert http(secured, "GET", "/health").status_code == 200
    assert http(secured, "GET", "/ready").status_code in (200, 503)


def test_http_missing_credentials_are_401(secured):
    assert_401(query(secured, "SELECT 1"))
    assert_401(http(secured, "GET", "/v1/tables"))
    assert_401(http(secured, "POST", "/v1/route", {"Content-Type": "application/json"}, json={"sql": "SELECT 1"}))
    assert_401(http(secured, "GET", "/v1/queries/nope"))
    assert_401(http(secured, "GET", "/v1/no-such-endpoint"))  # nothing is revealed before authentication


def test_http_wrong_credentials_are_401(secured):
    assert_401(query(secured, "SELECT 1", basic("tester", "not-the-password")))
    assert_401(query(secured, "SELECT 1", basic("nobody", "tester-secret")))
    assert_401(query(secured, "SELECT 1", basic("dora", "wrong-dora-password")))
    assert_401(query(secured, "SELECT 1", bearer("lr_not_a_configured_token")))
    assert_401(query(secured, "SELECT 1", bearer(hashlib.sha256(API_TOKEN.encode()).hexdigest())))
    assert_401(query(secured, "SELECT 1", {"Authorization": "Digest username=tester"}))


def test_http_schemes_without_credentials_say_what_is_missing(secured):
    for header, why in (("Basic", "Basic credentials missing"), ("Basic   ", "Basic credentials missing"),
                        ("Bearer", "Bearer token missing"), ("bearer \t", "Bearer token missing"),
                        ("Basic abc", "malformed Basic credentials")):
        resp = query(secured, "SELECT 1", {"Authorization": header})
        assert_401(resp)
        assert why in resp.json()["error"]["message"], (header, resp.text)
    # A tab separates the scheme as well as a space.
    resp = query(secured, "SELECT 1", {"Authorization": "Bearer\t" + API_TOKEN})
    assert resp.status_code == 200, resp.text


def test_http_right_credentials(secured):
    for headers in (basic("tester", "tester-secret"), basic("dora", DORA_PASSWORD), bearer(API_TOKEN),
                    bearer(make_jwt())):
        r = query(secured, "SELECT 42 AS x", headers)
        assert r.status_code == 200, r.text
        assert r.json()["rows"] == [[42]]
    assert http(secured, "GET", "/v1/tables", basic("admin", "admin-secret")).status_code == 200


def test_http_jwt_expired_bad_signature_wrong_audience(secured):
    assert_401(query(secured, "SELECT 1", bearer(make_jwt(exp_in=-3600))))
    assert_401(query(secured, "SELECT 1", bearer(make_jwt(secret="another-secret-0123456789abcdef-0123"))))
    assert_401(query(secured, "SELECT 1", bearer(make_jwt(aud="someone-else"))))
    assert_401(query(secured, "SELECT 1", bearer(make_jwt(iss="another-issuer"))))
    none_token = jwt.encode({"sub": "admin", "exp": int(time.time()) + 600, "iss": "lr-tests", "aud": "lakerouter"},
                            None, algorithm="none")
    assert_401(query(secured, "SELECT 1", bearer(none_token)))


def test_http_async_results_belong_to_their_owner(secured):
    carol = bearer(API_TOKEN)
    r = query(secured, "SELECT 7 AS x", carol, **{"async": True})
    assert r.status_code == 202, r.text
    status_uri = r.json()["status_uri"]
    results_uri = r.json()["results_uri"]
    for _ in range(100):
        s = http(secured, "GET", status_uri, carol)
        assert s.status_code == 200, s.text
        if s.json()["status"] in ("finished", "failed"):
            break
        time.sleep(0.05)
    assert http(secured, "GET", results_uri, carol).json()["rows"] == [[7]]
    tester = basic("tester", "tester-secret")
    for path in (status_uri, results_uri):
        assert http(secured, "GET", path, tester).status_code == 404
    assert http(secured, "DELETE", status_uri, tester).status_code == 404
    assert http(secured, "GET", status_uri, carol).status_code == 200  # still there for its owner


def test_hash_token_cli_prints_the_configured_hash():
    binary = os.environ.get("LAKEROUTER_BIN") or str(DEFAULT_BIN)
    out = subprocess.run([binary, "hash-token"], input=API_TOKEN + "\n", capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == hashlib.sha256(API_TOKEN.encode()).hexdigest()
    # A token file with blanks or CRLF around the token hashes as the server compares it.
    for text in (" " + API_TOKEN + " \t\r\n", API_TOKEN, "\n" + API_TOKEN + "\n\n"):
        out = subprocess.run([binary, "hash-token"], input=text.encode(), capture_output=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert out.stdout.decode().strip() == hashlib.sha256(API_TOKEN.encode()).hexdigest(), repr(text)
    two = subprocess.run([binary, "hash-token"], input="one-token-0123456789\nanother-token-01234\n",
                         capture_output=True, text=True, timeout=30)
    assert two.returncode != 0 and "more than one line" in two.stderr, two.stderr
    gen = subprocess.run([binary, "hash-token", "--generate"], capture_output=True, text=True, timeout=30)
    assert gen.returncode == 0, gen.stderr
    lines = dict(line.split(":", 1) for line in gen.stdout.strip().splitlines())
    assert hashlib.sha256(lines["token"].strip().encode()).hexdigest() == lines["sha256"].strip()


# --- Trino protocol ---------------------------------------------------------------------------------------

def trino_post(r: Router, sql: str, headers: dict) -> requests.Response:
    return http(r, "POST", "/v1/statement", headers, data=sql.encode())


def trino_run(r: Router, sql: str, headers: dict) -> list:
    resp = trino_post(r, sql, headers)
    assert resp.status_code == 200, resp.text
    doc, rows = resp.json(), []
    while True:
        rows += doc.get("data") or []
        assert not doc.get("error"), doc["error"]
        if not doc.get("nextUri"):
            return rows
        page = requests.get(doc["nextUri"], headers=headers, timeout=60)
        assert page.status_code == 200, page.text
        doc = page.json()


def test_trino_missing_and_wrong_credentials_are_401(secured):
    resp = trino_post(secured, "SELECT 1", {"X-Trino-User": "tester"})
    assert_401(resp)
    assert resp.headers["WWW-Authenticate"] == 'Basic realm="lakerouter"'
    assert_401(trino_post(secured, "SELECT 1", {"X-Trino-User": "tester", **basic("tester", "wrong-trino-pw")}))
    assert_401(trino_post(secured, "SELECT 1", {"X-Trino-User": "tester", **bearer("lr_wrong_trino_token")}))
    assert_401(trino_post(secured, "SELECT 1", {"X-Trino-User": "jwt-user", **bearer(make_jwt(exp_in=-600))}))
    # Basic credentials prove one user: X-Trino-User may not name another.
    assert_401(trino_post(secured, "SELECT 1", {"X-Trino-User": "admin", **basic("tester", "tester-secret")}))


def test_trino_right_credentials(secured):
    assert trino_run(secured, "SELECT 1", {"X-Trino-User": "tester", **basic("tester", "tester-secret")}) == [[1]]
    assert trino_run(secured, "SELECT 2", basic("dora", DORA_PASSWORD)) == [[2]]  # user from the credentials
    assert trino_run(secured, "SELECT 3", {"X-Trino-User": "carol", **bearer(API_TOKEN)}) == [[3]]
    assert trino_run(secured, "SELECT 4", bearer(make_jwt("jwt-user"))) == [[4]]


def test_trino_pages_belong_to_the_query_owner(secured):
    tester = {"X-Trino-User": "tester", **basic("tester", "tester-secret")}
    resp = trino_post(secured, "SELECT * FROM range(10)", tester)
    assert resp.status_code == 200, resp.text
    next_uri = resp.json()["nextUri"]
    assert_401(requests.get(next_uri, headers={"X-Trino-User": "tester"}, timeout=30))
    other = requests.get(next_uri, headers={"X-Trino-User": "admin", **basic("admin", "admin-secret")}, timeout=30)
    assert other.status_code in (404, 410), other.text
    assert trino_run_from(next_uri, tester) == [[i] for i in range(10)]


def test_trino_delete_by_another_user_does_not_cancel(secured):
    tester = {"X-Trino-User": "tester", **basic("tester", "tester-secret")}
    resp = trino_post(secured, "SELECT * FROM range(20)", tester)
    assert resp.status_code == 200, resp.text
    next_uri = resp.json()["nextUri"]
    admin = {"X-Trino-User": "admin", **basic("admin", "admin-secret")}
    gone = requests.delete(next_uri, headers=admin, timeout=30)
    # Nothing tells the other user whether the query exists (Trino itself answers 404; lakerouter
    # answers a DELETE of a query it does not find 204, as for one that is gone).
    assert gone.status_code in (204, 404), gone.text
    assert_401(requests.delete(next_uri, headers={"X-Trino-User": "tester"}, timeout=30))
    # The owner still reads every row: the query was neither cancelled nor dropped.
    assert trino_run_from(next_uri, tester) == [[i] for i in range(20)]


def trino_run_from(next_uri: str, headers: dict) -> list:
    rows = []
    while next_uri:
        page = requests.get(next_uri, headers=headers, timeout=60)
        assert page.status_code == 200, page.text
        doc = page.json()
        assert not doc.get("error"), doc["error"]
        rows += doc.get("data") or []
        next_uri = doc.get("nextUri")
    return rows


def trino_connect(r: Router, **kw):
    return trino.dbapi.connect(host="127.0.0.1", port=r.port, http_scheme="http", allow_insecure_auth=True, **kw)


def test_trino_python_client(secured):
    SECRETS.add("wrong-client-pw")
    with trino_connect(secured, user="tester",
                       auth=trino.auth.BasicAuthentication("tester", "tester-secret")) as conn:
        cur = conn.cursor()
        cur.execute("SELECT 40 + 2")
        assert cur.fetchall() == [[42]]
    token = make_jwt("jwt-user")
    with trino_connect(secured, user="jwt-user", auth=trino.auth.JWTAuthentication(token)) as conn:
        cur = conn.cursor()
        cur.execute("SELECT 'jwt'")
        assert cur.fetchall() == [["jwt"]]
    for auth in (trino.auth.BasicAuthentication("tester", "wrong-client-pw"),
                 trino.auth.JWTAuthentication(make_jwt("jwt-user", exp_in=-600))):
        with trino_connect(secured, user="tester" if isinstance(auth, trino.auth.BasicAuthentication) else "jwt-user",
                           auth=auth) as conn:
            with pytest.raises(trino.exceptions.HttpError, match="401"):
                conn.cursor().execute("SELECT 1")
    with trino_connect(secured, user="tester") as conn:  # no credentials at all
        with pytest.raises(trino.exceptions.HttpError, match="401"):
            conn.cursor().execute("SELECT 1")


# --- pgwire ------------------------------------------------------------------------------------------------

def pg_connect(r: Router, user: str, password: str | None):
    if password:
        SECRETS.add(password)
    kw = {"password": password} if password is not None else {}
    return psycopg.connect(host="127.0.0.1", port=r.pg_port, user=user, dbname="lake", sslmode="disable",
                           connect_timeout=10, autocommit=True, **kw)


def test_pgwire_missing_wrong_and_right_passwords(secured):
    env_password = os.environ.pop("PGPASSWORD", None)
    try:
        with pytest.raises(psycopg.OperationalError):
            pg_connect(secured, "tester", None)
        for user, password in (("tester", "wrong-pg-password"), ("nobody", "tester-secret"),
                               ("dora", "not-doras-pg-password"), ("anonymous", "")):
            with pytest.raises(psycopg.OperationalError) as refused:
                pg_connect(secured, user, password or None)
            if password:
                assert "password authentication failed" in str(refused.value)
                assert getattr(refused.value, "sqlstate", None) in (None, "28P01")
        with pg_connect(secured, "tester", "tester-secret") as c:
            assert c.execute("SELECT 1").fetchone() == (1,)
        with pg_connect(secured, "dora", DORA_PASSWORD) as c:  # a SCRAM verifier, no password in the file
            assert c.execute("SELECT 2").fetchone() == (2,)
    finally:
        if env_password is not None:
            os.environ["PGPASSWORD"] = env_password


# --- the demo default ----------------------------------------------------------------------------------------

def launch(work, args: list[str], config_path) -> Router:
    """Runs `lakerouter serve <args>` in `work` and waits for its ready line."""
    binary = os.environ.get("LAKEROUTER_BIN") or str(DEFAULT_BIN)
    env = {**os.environ, "DUCKDB_EXTENSIONS": extension_dir(), "XDG_STATE_HOME": str(work)}
    stdout_path, stderr_path = work / "stdout.log", work / "stderr.log"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen([binary, "serve", *args], stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=work,
                                env=env)
    deadline = time.monotonic() + READY_TIMEOUT_S
    url = None
    while time.monotonic() < deadline and proc.poll() is None and not url:
        url = _stdout_value(stdout_path, READY_PREFIX)
        time.sleep(0.05)
    if not url:
        proc.kill()
        proc.wait()
        pytest.fail(f"the router ({args}) did not start\n{_tail(stderr_path, 60)}", pytrace=False)
    host, port = url.removeprefix("http://").rsplit(":", 1)
    pg = _stdout_value(stdout_path, PGWIRE_PREFIX)
    r = Router(proc=proc, base_url=url, host=host, port=int(port), config_path=config_path,
               stdout_path=stdout_path, stderr_path=stderr_path, pg_port=int(pg.rsplit(":", 1)[1]) if pg else 0)
    ROUTERS.append(r)
    return r


@pytest.fixture(scope="module")
def demo(lake_dir, tmp_path_factory):
    """`lakerouter serve` without a configuration file: the demo account and anonymous on loopback."""
    work = tmp_path_factory.mktemp("demo")
    r = launch(work, ["--lake", str(lake_dir), "--port", "0", "--pgwire-port", "0"], work / "none")
    yield r
    stop_router(r)


@pytest.fixture(scope="module")
def jwt_only(lake_dir, tmp_path_factory):
    """A configuration file with auth.jwt, no users and no auth.anonymous, listening on loopback."""
    os.environ[JWT_ENV] = JWT_SECRET
    work = tmp_path_factory.mktemp("jwt-only")
    config = work / "lakerouter.yaml"
    _write_config(config, lake_dir, {"auth": {"jwt": {"algorithm": "HS256", "secret_env": JWT_ENV}}})
    doc = json.loads(config.read_text())
    doc.pop("users")
    doc["auth"].pop("anonymous")  # conftest's routers admit anonymous clients; this one says nothing
    config.write_text(json.dumps(doc, indent=2) + "\n")
    r = launch(work, ["--config", str(config)], config)
    yield r
    stop_router(r)


@pytest.fixture(scope="module")
def trusting(lake_dir, tmp_path_factory):
    """pgwire `auth: trust`, with conftest's auth.anonymous: loopback and its two accounts."""
    r = start_router(lake_dir, tmp_path_factory.mktemp("trust"),
                     pgwire={"host": "127.0.0.1", "port": 0, "auth": "trust"}, log_level="debug")
    ROUTERS.append(r)
    yield r
    stop_router(r)


def test_a_configuration_file_requires_credentials_unless_it_says_otherwise(jwt_only):
    """Loopback is no default for a configuration file: a reverse proxy on the host would admit everyone."""
    assert_401(query(jwt_only, "SELECT 1"))
    assert_401(trino_post(jwt_only, "SELECT 1", {"X-Trino-User": "whoever"}))
    log = jwt_only.stderr_path.read_text(errors="replace")
    assert "anonymous access is ON" not in log, log[-3000:]
    r = query(jwt_only, "SELECT 1 AS x", bearer(make_jwt("jwt-user")))
    assert r.status_code == 200, r.text
    env_password = os.environ.pop("PGPASSWORD", None)
    try:
        with pytest.raises(psycopg.OperationalError):
            pg_connect(jwt_only, "anonymous", None)
    finally:
        if env_password is not None:
            os.environ["PGPASSWORD"] = env_password


def session_user(conn) -> str:
    return conn.execute("SHOW session_authorization").fetchone()[0]


def test_pgwire_trust_needs_passwords_of_accounts_and_runs_others_as_anonymous(trusting):
    env_password = os.environ.pop("PGPASSWORD", None)
    try:
        # A configured account proves itself even under trust.
        with pytest.raises(psycopg.OperationalError) as refused:
            pg_connect(trusting, "tester", None)
        assert "password" in str(refused.value).lower(), refused.value
        with pytest.raises(psycopg.OperationalError) as refused:
            pg_connect(trusting, "admin", "not-the-admin-password")
        assert "password authentication failed" in str(refused.value)
        with pg_connect(trusting, "tester", "tester-secret") as c:
            assert session_user(c) == "tester"
            assert c.execute("SELECT 1").fetchone() == (1,)
        # Any other name gets in without a password, as "anonymous", not as the name it sent.
        for name in ("whoever", "anonymous", "Tester"):
            with pg_connect(trusting, name, None) as c:
                assert session_user(c) == "anonymous", name
                assert c.execute("SELECT 2").fetchone() == (2,)
    finally:
        if env_password is not None:
            os.environ["PGPASSWORD"] = env_password
    time.sleep(0.2)
    assert "'whoever' is no configured account; the session runs as anonymous" in \
        trusting.stderr_path.read_text(errors="replace")


def test_demo_default_admits_anonymous_on_loopback_and_says_so(demo):
    log = demo.stderr_path.read_text(errors="replace")
    assert "anonymous access is ON for clients on this machine (loopback) by default" in log, log[-3000:]
    # The demo's public default account is announced (README documents it too).
    assert "demo account: user 'lakerouter', password 'lakerouter' (the documented demo default" in log, log[-3000:]
    r = query(demo, "SELECT 1 AS x")
    assert r.status_code == 200, r.text
    # Credentials that are sent are still checked.
    assert query(demo, "SELECT 1", basic("lakerouter", "lakerouter")).status_code == 200
    assert_401(query(demo, "SELECT 1", basic("lakerouter", "wrong-demo-password")))
    assert trino_run(demo, "SELECT 5", {"X-Trino-User": "whoever"}) == [[5]]  # runs as anonymous
    with psycopg.connect(host="127.0.0.1", port=demo.pg_port, user="anonymous", dbname="lake", sslmode="disable",
                         connect_timeout=10, autocommit=True) as c:
        assert c.execute("SELECT 3").fetchone() == (3,)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host="127.0.0.1", port=demo.pg_port, user="lakerouter", password="wrong-demo-pg",
                        dbname="lake", sslmode="disable", connect_timeout=10)
    SECRETS.add("wrong-demo-pg")


# --- logs ----------------------------------------------------------------------------------------------------

def test_no_secret_appears_in_the_logs(secured, demo):
    """Last in this file: every password, token and JWT the tests above sent is absent from the logs
    of every router this module started (the demo's included)."""
    # Make sure this router saw at least one of each kind before looking.
    query(secured, "SELECT 1", bearer(API_TOKEN))
    query(secured, "SELECT 1", bearer(make_jwt()))
    query(secured, "SELECT 1", basic("tester", "wrong-log-pw"))
    time.sleep(0.2)  # let the log lines be written
    assert secured in ROUTERS and demo in ROUTERS
    assert "401" in secured.stderr_path.read_text(errors="replace")  # refusals are logged (without what was sent)
    logs = "".join(r.stderr_path.read_text(errors="replace") + r.stdout_path.read_text(errors="replace")
                   for r in ROUTERS)
    # The demo account's password is the product's name, which every log names anyway; the Basic
    # header carrying it (base64) is still searched for.
    leaked = sorted(s for s in SECRETS - {"lakerouter"} if s and s in logs)
    assert not leaked, f"secrets in the log: {[s[:6] + '...' for s in leaked]}"
