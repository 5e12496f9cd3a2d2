"""Engine timing in responses and the calibration of the cost model (docs/routing.md,
"Calibration"; docs/api.md): the JSON result's "timing", the routing summary's "estimate",
POST /v1/route's static and calibrated estimates, GET/DELETE /v1/calibration (admin group only),
and the validation of routing.calibration. At SF 0.01, through the real router; the Trino and
PostgreSQL engines join when the test servers run (scripts/services.sh)."""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import DEFAULT_BIN, TEST_USERS, Router, _write_config, start_router, stop_router

PG_DSN = os.environ.get("LAKEROUTER_PG_DSN")
TRINO_URL = os.environ.get("LAKEROUTER_TRINO_URL")
SERVICES = bool(PG_DSN and TRINO_URL)
needs_services = pytest.mark.skipif(not SERVICES, reason="start the test servers: eval \"$(scripts/services.sh start)\"")

ESTIMATE_KEYS = {"latency_ms", "cost_usd", "static_latency_ms", "static_cost_usd", "size_class", "calibration_samples",
                 "calibrated"}
CLASS_NAMES = {"tiny", "small", "medium", "large"}
# Aggregates over the lake: every engine but PostgreSQL can run them.
LAKE_QUERY = "SELECT o_orderpriority, count(*) AS n FROM tpch.orders GROUP BY 1 ORDER BY 1"


def creds(user: str) -> tuple[str, str]:
    return (user, TEST_USERS[user][0])


ADMIN = creds("admin")


def config() -> dict[str, Any]:
    extra: dict[str, Any] = {
        "governance": {"admin_group": "admins"},
        "routing": {"calibration": {"alpha": 0.3, "min_samples": 3}},
    }
    if SERVICES:
        extra["engines"] = {
            "postgres": {"type": "postgres", "connection": {"dsn": "${LAKEROUTER_PG_DSN}", "pool_size": 2},
                         "capabilities": {"owns_tables": ["public.*"]}},
            "trino": {"type": "trino", "connection": {"url": "${LAKEROUTER_TRINO_URL}", "catalog": "delta"}},
        }
        extra["routing"]["tables"] = [{"name": "public.*", "format": "postgres", "key_columns": ["id"]}]
    return extra


@pytest.fixture(scope="module")
def router(lake_dir, tmp_path_factory):
    r = start_router(lake_dir, tmp_path_factory.mktemp("calibration"), config())
    try:
        yield r
    finally:
        stop_router(r)


def reset(r: Router) -> dict:
    resp = r.request("DELETE", "/v1/calibration", auth=ADMIN)
    assert resp.status_code == 200, resp.text
    return resp.json()


def calibration(r: Router) -> dict:
    resp = r.get("/v1/calibration", auth=ADMIN)
    assert resp.status_code == 200, resp.text
    return resp.json()


def engine_classes(doc: dict, engine: str) -> dict[str, dict]:
    (entry,) = [e for e in doc["engines"] if e["engine"] == engine]
    return {c["size_class"]: c for c in entry["classes"]}


def pinned(r: Router, sql: str, engine: str) -> dict:
    return r.query_ok(sql, headers={"X-Lakerouter-Engine": engine})


def check_timing(doc: dict) -> None:
    timing = doc["timing"]
    assert set(timing) == {"queued_ms", "engine_ms"}, timing
    assert timing["queued_ms"] >= 0
    assert 0 <= timing["engine_ms"] <= doc["elapsed_ms"], doc
    assert timing["engine_ms"] + timing["queued_ms"] <= doc["elapsed_ms"] + 0.01, doc


def test_results_carry_timing_and_the_estimate(router):
    doc = router.query_ok(LAKE_QUERY)
    assert doc["row_count"] == 5 and "elapsed_ms" in doc  # the existing fields stay
    check_timing(doc)
    estimate = doc["routing"]["estimate"]
    assert set(estimate) == ESTIMATE_KEYS, estimate
    assert estimate["size_class"] in CLASS_NAMES
    assert estimate["size_class"] == doc["routing"]["size_class"]
    assert estimate["latency_ms"] > 0 and estimate["static_latency_ms"] > 0
    assert estimate["cost_usd"] >= 0 and estimate["static_cost_usd"] >= 0
    assert "candidates" not in doc["routing"]
    # The same summary travels in the routing header.
    header = json.loads(router.post("/v1/query", json={"sql": "SELECT 1", "format": "csv"})
                        .headers["X-Lakerouter-Routing"])
    assert set(header["estimate"]) == ESTIMATE_KEYS and header["size_class"] == "tiny"
    # EXPLAIN ROUTE runs on no engine: no timing.
    explain = router.query_ok("EXPLAIN ROUTE " + LAKE_QUERY)
    assert explain["engine"] == "lakerouter" and "timing" not in explain


@needs_services
@pytest.mark.parametrize("engine", ["duckdb", "trino"])
def test_engine_time_is_measured_on_each_engine(router, engine):
    doc = pinned(router, LAKE_QUERY, engine)
    assert doc["engine"] == engine
    check_timing(doc)
    if engine == "trino":  # a remote engine's round trips are real time
        assert doc["timing"]["engine_ms"] > 1


def test_async_status_carries_timing(router):
    resp = router.post("/v1/query", json={"sql": LAKE_QUERY, "async": True})
    assert resp.status_code == 202, resp.text
    status_uri = resp.json()["status_uri"]
    deadline = time.monotonic() + 30
    while True:
        status = router.get(status_uri).json()
        if status["status"] not in ("queued", "running") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status["status"] == "finished", status
    assert 0 <= status["timing"]["engine_ms"] <= status["elapsed_ms"]
    assert set(status["routing"]["estimate"]) == ESTIMATE_KEYS
    page = router.get(status["results_uri"]).json()
    assert page["timing"] == status["timing"]


def test_runs_calibrate_and_delete_resets(router):
    reset(router)
    doc = calibration(router)
    assert doc["enabled"] is True and doc["alpha"] == 0.3 and doc["min_samples"] == 3
    assert [c["name"] for c in doc["size_classes"]] == ["tiny", "small", "medium", "large"]
    assert doc["size_classes"][-1]["below_bytes"] is None
    assert all(e["samples"] == 0 for e in doc["engines"])
    engines = ["duckdb", "trino"] if SERVICES else ["duckdb"]
    size_class = router.query_ok(LAKE_QUERY)["routing"]["size_class"]
    reset(router)  # that run counted: start from zero again

    for engine in engines:
        for _ in range(4):
            assert pinned(router, LAKE_QUERY, engine)["engine"] == engine
    doc = calibration(router)
    for engine in engines:
        learnt = engine_classes(doc, engine)[size_class]
        assert learnt["samples"] == 4 and learnt["applied"] is True, learnt
        assert learnt["startup_ms"] > 0 and learnt["bytes_per_second"] > 0, learnt
        (entry,) = [e for e in doc["engines"] if e["engine"] == engine]
        assert entry["samples"] == 4
        assert set(entry["configured"]) == {"startup_ms", "bytes_per_second"}
    # EXPLAIN ROUTE, refusals and failures teach nothing.
    router.query_ok("EXPLAIN ROUTE " + LAKE_QUERY)
    assert router.query("SELECT FROM WHERE").status_code == 400
    assert router.query("SELECT * FROM tpch.no_such_table").status_code >= 400
    assert sum(e["samples"] for e in calibration(router)["engines"]) == 4 * len(engines)

    # Decisions now use the learnt figures and say so.
    route = router.post("/v1/route", json={"sql": LAKE_QUERY}).json()["decision"]
    assert route["size_class"] == size_class
    by_engine = {c["engine"]: c for c in route["candidates"]}
    for engine in engines:
        c = by_engine[engine]
        assert c["calibration_samples"] == 4 and c["calibrated"] is True, c
        assert {"est_latency_ms_static", "est_cost_usd_static"} <= set(c)
    chosen = router.query_ok(LAKE_QUERY)["routing"]
    assert chosen["estimate"]["calibrated"] is True
    assert chosen["estimate"]["calibration_samples"] >= 4
    assert "calibrated from" in chosen["reasons"][-1]["message"], chosen["reasons"]

    dropped = reset(router)
    assert dropped["status"] == "reset" and dropped["samples_dropped"] >= 4 * len(engines) + 1
    doc = calibration(router)
    assert all(e["samples"] == 0 for e in doc["engines"])
    assert all(c["startup_ms"] is None for e in doc["engines"] for c in e["classes"])
    route = router.post("/v1/route", json={"sql": LAKE_QUERY}).json()["decision"]
    for c in route["candidates"]:
        assert c["calibrated"] is False and c["calibration_samples"] == 0
        assert c["est_latency_ms"] == c["est_latency_ms_static"]


def test_what_was_learnt_survives_a_restart(lake_dir, tmp_path):
    # The same work folder: the same history store (history.path), where calibration is kept.
    extra = {"governance": {"admin_group": "admins"}, "routing": {"calibration": {"min_samples": 3}}}
    r = start_router(lake_dir, tmp_path, extra)
    try:
        size_class = r.query_ok(LAKE_QUERY)["routing"]["size_class"]
        for _ in range(3):
            pinned(r, LAKE_QUERY, "duckdb")
        before = engine_classes(calibration(r), "duckdb")[size_class]
        assert before["samples"] == 4 and before["applied"] is True, before
    finally:
        stop_router(r)  # saves what was learnt

    r = start_router(lake_dir, tmp_path, extra)
    try:
        log = r.stdout_path.read_text() + r.stderr_path.read_text()
        assert "calibration: 4 runs learnt before taken back from" in log, log
        after = engine_classes(calibration(r), "duckdb")[size_class]
        assert after == before
        (duckdb,) = [c for c in r.post("/v1/route", json={"sql": LAKE_QUERY}).json()["decision"]["candidates"]
                     if c["engine"] == "duckdb"]
        assert duckdb["calibrated"] is True and duckdb["calibration_samples"] == 4, duckdb
        reset(r)  # forgetting is kept too
    finally:
        stop_router(r)

    r = start_router(lake_dir, tmp_path, extra)
    try:
        assert all(e["samples"] == 0 for e in calibration(r)["engines"])
        assert "calibration: 0 runs learnt before taken back" in r.stdout_path.read_text() + r.stderr_path.read_text()
    finally:
        stop_router(r)


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("user", ["tester", None])
def test_calibration_api_is_for_administrators_only(router, method, user):
    resp = router.request(method, "/v1/calibration", auth=creds(user) if user else None)
    assert resp.status_code == 403, resp.text
    error = resp.json()["error"]
    assert error["code"] == "PERMISSION_DENIED"
    assert "routing calibration" in error["message"] and "'admins' (governance.admin_group)" in error["message"]


def test_other_methods_are_refused_with_allow(router):
    resp = router.post("/v1/calibration", auth=ADMIN)
    assert resp.status_code == 405
    assert resp.headers["Allow"] == "GET, HEAD, DELETE"


def test_calibration_can_be_turned_off(lake_dir, tmp_path):
    r = start_router(lake_dir, tmp_path, {"governance": {"admin_group": "admins"},
                                          "routing": {"calibration": {"enabled": False}}})
    try:
        doc = r.query_ok(LAKE_QUERY)
        check_timing(doc)  # timing does not depend on calibration
        assert doc["routing"]["estimate"]["calibration_samples"] == 0
        off = r.get("/v1/calibration", auth=ADMIN).json()
        assert off["enabled"] is False and off["engines"] == []
        resp = r.request("DELETE", "/v1/calibration", auth=ADMIN)
        assert resp.status_code == 404 and "calibration is off" in resp.json()["error"]["message"]
    finally:
        stop_router(r)


@pytest.mark.parametrize("calibration_config, message", [
    ({"alpha": 1.5}, "'routing.calibration.alpha' must be more than 0 and at most 1, not 1.5"),
    ({"min_samples": 0}, "'routing.calibration.min_samples' must be at least 1, not 0"),
    ({"size_classes": [{"name": "big", "below": "1GB"}, {"name": "small", "below": "1MB"}, {"name": "rest"}]},
     "size class 'small' ends below 1 MB, which is not above where 'big' ends (1 GB)"),
    ({"size_classes": [{"name": "a", "below": "1MB"}]}, "the last size class 'a' must not have 'below'"),
    ({"alpah": 0.5}, "unknown key 'alpah' in 'routing.calibration' (did you mean 'alpha'?)"),
])
def test_bad_calibration_settings_are_refused_clearly(lake_dir, tmp_path, calibration_config, message):
    config_path = tmp_path / "bad.yaml"
    _write_config(config_path, lake_dir, {"routing": {"calibration": calibration_config}})
    binary = os.environ.get("LAKEROUTER_BIN") or str(DEFAULT_BIN)
    out = subprocess.run([binary, "check-config", str(config_path)], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    text = out.stderr + out.stdout
    assert message in text, text
    assert f"{Path(config_path).name}:" in text  # names the file (and the line)
