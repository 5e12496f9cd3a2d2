"""The router the workload benchmark runs against: its configuration, start and stop.

Engines: the embedded DuckDB, the test PostgreSQL (owns public.*) and the test Trino
(scripts/services.sh), priced from bench/prices.toml so that the router's cost model and the report
use the same figures. routing.tables: public.* lives in PostgreSQL (key id), tpch.lineitem's key is
l_orderkey, and crm.* is governed by policies lakerouter does not hold (as in the seeds' rule set
iii), so only Trino, which enforces them itself, may read it: DuckDB is ruled out by the governed
hint (NOT_CAPABLE_GOVERNANCE) and PostgreSQL cannot read Delta. One rule sends point lookups to
PostgreSQL (else DuckDB); everything else is left to the cost model and its latency target.

The configuration is written by tests/integration/conftest.py's writer (users, history, DuckDB's
extension directory), like bench/protocol_bench.py does.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .costs import Prices

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))
import conftest  # noqa: E402  (the tests' router start-up and configuration writer)
from protocol_bench import services_env  # noqa: E402

ADMIN = ("admin", conftest.TEST_USERS["admin"][0])  # reads /v1/audit and /v1/calibration
ADMIN_GROUP = conftest.TEST_USERS["admin"][1][0]
DEFAULT_LATENCY_TARGET_MS = 1000


class RouterError(RuntimeError):
    pass


@dataclass(frozen=True)
class Services:
    pg_dsn: str
    trino_url: str
    lake: str  # the lake Trino's catalogs were registered from (LAKEROUTER_SERVICES_LAKE)


def find_services() -> Services:
    env = services_env()
    missing = [k for k in ("LAKEROUTER_PG_DSN", "LAKEROUTER_TRINO_URL") if not env.get(k)]
    if missing:
        raise RouterError(f"the test services are not running ({', '.join(missing)} unset): "
                          f"eval \"$(scripts/services.sh start --lake DIR)\"")
    return Services(env["LAKEROUTER_PG_DSN"], env["LAKEROUTER_TRINO_URL"], env.get("LAKEROUTER_SERVICES_LAKE", ""))


# What the router declares about tables, and its one rule (the module docstring says why);
# tests/integration/test_workloads.py configures its router with the same.
ROUTING = {
    "tables": [
        {"name": "public.*", "format": "postgres", "key_columns": ["id"]},
        {"name": "tpch.lineitem", "key_columns": ["l_orderkey"]},
        {"name": "crm.*", "governed": True},
    ],
    "rules": [{"name": "point-lookups", "match": {"point_lookup": True}, "route": ["postgres", "duckdb"]}],
}


def router_config(prices: Prices, services: Services, *,
                  latency_target_ms: int = DEFAULT_LATENCY_TARGET_MS) -> dict:
    """The top-level sections conftest._write_config merges into its base configuration."""
    return {
        "governance": {"admin_group": ADMIN_GROUP},
        "engines": {
            "duckdb": {"pool_size": conftest.POOL_SIZE, "threads": 2, "extension_directory": conftest.extension_dir(),
                       "pricing": prices.router_pricing("duckdb")},
            "postgres": {"type": "postgres", "connection": {"dsn": services.pg_dsn, "pool_size": 4},
                         "capabilities": {"owns_tables": ["public.*"]},
                         "pricing": prices.router_pricing("postgres")},
            "trino": {"type": "trino", "connection": {"url": services.trino_url, "catalog": "delta"},
                      "pricing": prices.router_pricing("trino")},
        },
        "routing": {"latency_target_ms": latency_target_ms, **ROUTING},
    }


def server_overrides(timeout_s: float) -> dict:
    return {
        "query_timeout_ms": int(timeout_s * 1000),
        # A long read timeout: a worker's pooled keep-alive connection may idle between statements.
        "http": {"host": "127.0.0.1", "port": 0, "max_body_bytes": conftest.MAX_BODY_BYTES,
                 "worker_threads": conftest.WORKER_THREADS, "read_timeout_ms": 300_000},
    }


class BenchRouter:
    """A lakerouter with the benchmark's configuration; a context manager that stops it on exit."""

    def __init__(self, lake: Path, prices: Prices, *, timeout_s: float, binary: Path | None = None,
                 latency_target_ms: int = DEFAULT_LATENCY_TARGET_MS, work: Path | None = None,
                 services: Services | None = None):
        self.lake, self.prices, self.timeout_s = lake, prices, timeout_s
        self.binary, self.latency_target_ms = binary, latency_target_ms
        self.services = services or find_services()
        self._own_work = work is None
        self.work = work or Path(tempfile.mkdtemp(prefix="workload_bench_"))
        self.router: conftest.Router | None = None

    def __enter__(self) -> conftest.Router:
        if self.services.lake and Path(self.services.lake).resolve() != self.lake.resolve():
            raise RouterError(f"the test services serve the lake {self.services.lake}, not {self.lake}: "
                              f"restart them on it (eval \"$(scripts/services.sh start --lake {self.lake})\")")
        if self.binary:
            os.environ["LAKEROUTER_BIN"] = str(self.binary)
        extra = router_config(self.prices, self.services, latency_target_ms=self.latency_target_ms)
        try:
            self.router = conftest.start_router(self.lake, self.work, extra, **server_overrides(self.timeout_s))
        except BaseException as e:  # pytest.fail outside pytest: keep its message
            if isinstance(e, KeyboardInterrupt):
                raise
            raise RouterError(f"lakerouter did not start: {e}") from None
        return self.router

    def __exit__(self, *exc) -> None:
        if self.router is not None:
            try:
                conftest.stop_router(self.router)
            except BaseException as e:
                print(f"warning: lakerouter did not stop cleanly: {e}", file=sys.stderr)
            self.router = None
        if self._own_work:
            shutil.rmtree(self.work, ignore_errors=True)
