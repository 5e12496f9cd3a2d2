"""Routing through the HTTP API: every answer carries its routing decision, POST /v1/route
explains one without running anything, and the engine can be pinned by hint or header."""
from __future__ import annotations


def test_query_response_carries_the_routing_summary(router):
    r = router.query("SELECT count(*) AS n FROM tpch.nation")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["engine"] == "duckdb"
    routing = doc["routing"]
    assert routing["engine"] == "duckdb"
    assert routing["stage"] in {"only_candidate", "cost", "rule", "default", "pinned"}
    assert routing["reasons"] and all({"code", "message"} <= set(x) for x in routing["reasons"])
    assert "candidates" not in routing  # the summary; /v1/route has the whole decision


def test_route_explains_without_running(router):
    r = router.post("/v1/route", json={"sql": "SELECT o_orderpriority, count(*) FROM tpch.orders o "
                                              "JOIN tpch.lineitem l ON l.l_orderkey = o.o_orderkey GROUP BY 1"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["decision"]["engine"] == "duckdb"
    assert [c["engine"] for c in doc["decision"]["candidates"]] == ["duckdb"]
    profile = doc["profile"]
    assert profile["kind"] == "SELECT"
    assert {t["name"] for t in profile["tables"]} == {"tpch.orders", "tpch.lineitem"}
    assert profile["joins"] == 1 and profile["aggregates"] == 1
    assert len(profile["fingerprint"]) == 16


def test_route_fingerprint_ignores_constants(router):
    def fp(sql):
        return router.post("/v1/route", json={"sql": sql}).json()["profile"]["fingerprint"]
    assert fp("SELECT * FROM tpch.orders WHERE o_orderkey = 1") == fp("SELECT * FROM tpch.orders WHERE o_orderkey = 99")


def test_route_reports_errors_like_query(router):
    r = router.post("/v1/route", json={"sql": "SELEC 1"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "SYNTAX_ERROR" and r.json()["error"]["position"] == 0
    r = router.post("/v1/route", json={"sql": "SELECT 1; SELECT 2"})
    assert r.json()["error"]["code"] == "MULTIPLE_STATEMENTS"


def test_unknown_pin_is_ignored_with_a_reason(router):
    r = router.post("/v1/query", json={"sql": "SELECT 1"}, headers={"X-Lakerouter-Engine": "oracle"})
    assert r.status_code == 200, r.text
    codes = [x["code"] for x in r.json()["routing"]["reasons"]]
    assert "PIN_UNKNOWN_ENGINE" in codes, codes
    r = router.query("/*+ engine(duckdb) */ SELECT 1")
    assert r.json()["routing"]["stage"] == "pinned"
