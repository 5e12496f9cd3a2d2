"""lakerouter in front of a Databricks SQL engine, through HTTP /v1/query.

Databricks cannot run here: the engine talks to tests/contract/databricks_contract_server.py, a
contract server replaying the documented Statement Execution API 2.0 with canned results (see its
docstring for the statements it knows). The fixtures start it and a lakerouter whose `databricks`
engine has a `connection:` pointing at it; statements are pinned to the engine with a hint or the
X-Lakerouter-Engine header.
"""
from __future__ import annotations

import json
import os
import secrets
import select
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, start_router, stop_router

CONTRACT_SERVER = ROOT / "tests" / "contract" / "databricks_contract_server.py"
WAREHOUSE = "wh-integration-1"
TOKEN_ENV = "LAKEROUTER_IT_DATABRICKS_TOKEN"


class ContractServer:
    def __init__(self, proc: subprocess.Popen, port: int, token: str):
        self.proc, self.port, self.token = proc, port, token

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def statements(self) -> list[dict]:
        with urllib.request.urlopen(f"{self.host}/_contract/statements", timeout=10) as r:
            return json.load(r)["statements"]

    def statement_with(self, marker: str) -> dict | None:
        return next((s for s in self.statements() if marker in s["sql"]), None)


def start_contract_server(token: str) -> ContractServer:
    proc = subprocess.Popen([sys.executable, str(CONTRACT_SERVER), "--token", token, "--warehouse-id", WAREHOUSE],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    line = proc.stdout.readline().decode().strip() if ready else ""
    if not line.isdigit():
        proc.kill()
        _, err = proc.communicate(timeout=10)
        pytest.fail(f"the contract server printed no port (got {line!r}):\n{err.decode()[-2000:]}", pytrace=False)
    return ContractServer(proc, int(line), token)


def databricks_engine(server: ContractServer, token_env: str = TOKEN_ENV) -> dict:
    return {"engines": {"databricks": {"type": "databricks", "connection": {
        "host": server.host, "warehouse_id": WAREHOUSE, "token_env": token_env,
        "catalog": "main", "schema": "tpch", "poll_interval_ms": 20}}}}


@pytest.fixture(scope="module")
def contract():
    token = "dapi" + secrets.token_hex(16)
    server = start_contract_server(token)
    old = os.environ.get(TOKEN_ENV)
    os.environ[TOKEN_ENV] = token  # the router inherits the environment
    try:
        yield server
    finally:
        if old is None:
            os.environ.pop(TOKEN_ENV, None)
        else:
            os.environ[TOKEN_ENV] = old
        server.proc.terminate()
        server.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def dbx_router(lake_dir, tmp_path_factory, contract):
    r = start_router(lake_dir, tmp_path_factory.mktemp("databricks"), databricks_engine(contract))
    try:
        yield r
    finally:
        stop_router(r)


def test_pinned_statement_runs_on_databricks(dbx_router, contract):
    marker = secrets.token_hex(6)
    doc = dbx_router.query_ok(f"/*+ engine(databricks) */ SELECT id, name /* {marker} */ FROM contract.immediate")
    assert doc["engine"] == "databricks", doc["routing"]
    assert doc["routing"]["reasons"][0]["code"] == "PINNED_BY_HINT"
    assert doc["rows"] == [[1, "alpha"], [2, "beta"], [3, None]]
    assert [c["name"] for c in doc["columns"]] == ["id", "name"]
    sent = contract.statement_with(marker)
    assert sent is not None, "the statement never reached the contract server"
    request = sent["request"]
    assert request["warehouse_id"] == WAREHOUSE
    assert (request["catalog"], request["schema"]) == ("main", "tpch")
    assert (request["disposition"], request["format"], request["on_wait_timeout"]) == ("INLINE", "JSON_ARRAY",
                                                                                      "CONTINUE")


def test_header_pin_polls_and_follows_chunks(dbx_router):
    headers = {"X-Lakerouter-Engine": "databricks"}
    doc = dbx_router.query_ok("SELECT i, label FROM contract.chunks", headers=headers)
    assert doc["engine"] == "databricks", doc["routing"]
    assert doc["row_count"] == 1000
    assert doc["rows"][0] == [0, "row-0"] and doc["rows"][-1] == [999, "row-999"]
    slow = dbx_router.query_ok("SELECT n FROM contract.slow", headers=headers)  # PENDING, RUNNING, ..., SUCCEEDED
    assert slow["rows"] == [[42]]


def test_typed_values_reach_the_client(dbx_router):
    doc = dbx_router.query_ok("/*+ engine(databricks) */ SELECT * FROM contract.types")
    row = dict(zip([c["name"] for c in doc["columns"]], doc["rows"][0]))
    assert row["b"] is True
    assert row["bi"] == 9223372036854775807
    assert row["dec"] == "-1.50"
    assert row["dt"] == "2024-02-29"
    assert row["ts_offset"] == "2024-07-01T10:00:00.500000Z"  # TIMESTAMP: an instant, in UTC
    assert row["ntz"] == "2024-01-02T03:04:05.123456"       # TIMESTAMP_NTZ: no zone
    assert row["arr"] == [1, None, 3]                         # nested values as JSON
    assert row["st"] == {"id": 1, "name": "x"}
    assert row["mp"] == [{"key": "a", "value": 1}, {"key": "b", "value": 2}]  # maps as on every engine
    assert all(v is None for v in doc["rows"][1])


def test_statement_errors_keep_their_code_and_position(dbx_router, contract):
    sql = "/*+ engine(databricks) */ SELECT * FROM contract.missing"
    r = dbx_router.query(sql)
    assert r.status_code == 404, r.text
    err = r.json()["error"]
    assert err["code"] == "UNKNOWN_TABLE", err
    assert "[TABLE_OR_VIEW_NOT_FOUND]" in err["message"]
    assert err.get("position") == sql.index("contract.missing"), err
    assert contract.token not in r.text


def test_ready_reports_the_warehouse(dbx_router):
    ready = dbx_router.get("/ready").json()
    assert ready["engines"]["databricks"]["ready"] is True, ready


def test_wrong_token_is_permission_denied_and_never_echoed(lake_dir, tmp_path, contract):
    os.environ["LAKEROUTER_IT_DATABRICKS_WRONG"] = "dapi-wrong-" + secrets.token_hex(8)
    try:
        r = start_router(lake_dir, tmp_path / "work", databricks_engine(contract, "LAKEROUTER_IT_DATABRICKS_WRONG"))
        try:
            resp = r.query("/*+ engine(databricks) */ SELECT * FROM contract.immediate")
            assert resp.status_code == 403, resp.text
            err = resp.json()["error"]
            assert err["code"] == "PERMISSION_DENIED", err
            assert "LAKEROUTER_IT_DATABRICKS_WRONG" in err["message"]
            assert os.environ["LAKEROUTER_IT_DATABRICKS_WRONG"] not in resp.text
        finally:
            stop_router(r)
        logs = (r.stderr_path.read_text(errors="replace") + r.stdout_path.read_text(errors="replace"))
        assert os.environ["LAKEROUTER_IT_DATABRICKS_WRONG"] not in logs
        assert contract.token not in logs
    finally:
        os.environ.pop("LAKEROUTER_IT_DATABRICKS_WRONG", None)


def test_unset_token_variable_stops_the_start_with_a_fix(tmp_path, contract):
    binary = Path(os.environ.get("LAKEROUTER_BIN") or ROOT / "build" / "src" / "lakerouter")
    config = tmp_path / "lakerouter.yaml"
    config.write_text(json.dumps({"catalog": {"lake_dir": str(tmp_path)},
                                  **databricks_engine(contract, "LAKEROUTER_IT_DATABRICKS_UNSET")}))
    env = {k: v for k, v in os.environ.items() if k != "LAKEROUTER_IT_DATABRICKS_UNSET"}
    proc = subprocess.run([str(binary), "check-config", str(config)], capture_output=True, text=True, timeout=60,
                          env=env)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "the environment variable LAKEROUTER_IT_DATABRICKS_UNSET is not set" in out, out
    assert "lakerouter.yaml:" in out, out
