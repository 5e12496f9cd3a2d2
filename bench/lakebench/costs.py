"""The benchmark's cost model (bench/prices.toml): what a statement, and a whole mode, would cost.

Two views:

- **statement cost** (the headline, the issue's definition): Σ max(engine_s, statement minimum) × rate,
  per statement, from the seconds the engine worked on it;
- **billed cost**: what the bill would say. Cluster and warehouse engines are billed per busy period:
  the statements' intervals merged, split where the engine idles longer than its idle tail, each
  period charged for its length plus the tail, at least the minimum, rounded up to the increment.
  Host engines (always-on machines: the router's VM with its embedded DuckDB, the application's
  PostgreSQL) are charged for the mode's wall time when the mode ran anything on them.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PRICES = Path(__file__).resolve().parents[1] / "prices.toml"
MODELS = ("host", "cluster", "warehouse")
_ENGINE_KEYS = {"usd_per_hour", "model", "increment_s", "minimum_s", "statement_minimum_s", "idle_tail_s", "source",
                "router"}
_ROUTER_KEYS = {"startup_ms", "scan_bytes_per_second", "queue_wait_ms"}


class PricesError(ValueError):
    pass


@dataclass(frozen=True)
class EnginePrice:
    name: str
    usd_per_hour: float
    model: str
    increment_s: float = 1.0
    minimum_s: float = 0.0
    statement_minimum_s: float = 0.0
    idle_tail_s: float = 0.0
    source: str = ""
    router: dict = field(default_factory=dict)  # extra router pricing keys (starting points)

    @property
    def usd_per_second(self) -> float:
        return self.usd_per_hour / 3600.0

    def statement_cost(self, engine_s: float) -> float:
        return max(engine_s, self.statement_minimum_s) * self.usd_per_second

    def period_billed_s(self, busy_s: float) -> float:
        """A busy period's billed seconds: its length plus the idle tail, at least the minimum,
        rounded up to the billing increment."""
        s = max(busy_s + self.idle_tail_s, self.minimum_s)
        if self.increment_s > 0:
            s = math.ceil(s / self.increment_s - 1e-9) * self.increment_s
        return s


@dataclass(frozen=True)
class Prices:
    engines: dict[str, EnginePrice]
    same_hardware_usd_per_hour: float
    path: Path

    def engine(self, name: str) -> EnginePrice:
        try:
            return self.engines[name]
        except KeyError:
            raise PricesError(f"{self.path}: no [engine.{name}] price (engines priced: "
                              f"{', '.join(sorted(self.engines))})") from None

    def statement_cost(self, engine: str, engine_s: float) -> float:
        return self.engine(engine).statement_cost(engine_s)

    def same_hardware_cost(self, engine_s: float) -> float:
        """Every engine at the router VM's rate: bounds how much the list prices flatter routing."""
        return engine_s * self.same_hardware_usd_per_hour / 3600.0

    def router_pricing(self, engine: str) -> dict:
        """engines.<name>.pricing for the router's configuration."""
        p = self.engine(engine)
        return {"cost_per_hour": p.usd_per_hour, "min_billed_seconds": p.statement_minimum_s, **p.router}


def _number(where: str, table: dict, key: str, default: float | None = None) -> float:
    if key not in table:
        if default is None:
            raise PricesError(f"{where}: '{key}' is required")
        return default
    v = table[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or math.isnan(v):
        raise PricesError(f"{where}: '{key}' must be a number >= 0, not {v!r}")
    return float(v)


def load_prices(path: Path | str = DEFAULT_PRICES) -> Prices:
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as e:
        raise PricesError(f"cannot read prices file {path}: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise PricesError(f"{path}: not valid TOML: {e}") from None
    if doc.get("format") != 1:
        raise PricesError(f"{path}: 'format = 1' expected (got {doc.get('format')!r})")
    unknown = set(doc) - {"format", "same_hardware", "engine"}
    if unknown:
        raise PricesError(f"{path}: unknown top-level keys {sorted(unknown)} (allowed: format, same_hardware, engine)")
    engines: dict[str, EnginePrice] = {}
    for name, t in (doc.get("engine") or {}).items():
        where = f"{path}: [engine.{name}]"
        if not isinstance(t, dict):
            raise PricesError(f"{where} must be a table")
        bad = set(t) - _ENGINE_KEYS
        if bad:
            raise PricesError(f"{where}: unknown keys {sorted(bad)} (allowed: {', '.join(sorted(_ENGINE_KEYS))})")
        model = t.get("model")
        if model not in MODELS:
            raise PricesError(f"{where}: 'model' must be one of {', '.join(MODELS)}, not {model!r}")
        router = t.get("router") or {}
        bad = set(router) - _ROUTER_KEYS
        if bad:
            raise PricesError(f"{where}.router: unknown keys {sorted(bad)} (allowed: {', '.join(sorted(_ROUTER_KEYS))})")
        engines[name] = EnginePrice(
            name=name, usd_per_hour=_number(where, t, "usd_per_hour"), model=model,
            increment_s=_number(where, t, "increment_s", 1.0), minimum_s=_number(where, t, "minimum_s", 0.0),
            statement_minimum_s=_number(where, t, "statement_minimum_s", 0.0),
            idle_tail_s=_number(where, t, "idle_tail_s", 0.0), source=str(t.get("source", "")), router=dict(router))
    if not engines:
        raise PricesError(f"{path}: no [engine.<name>] tables")
    same = doc.get("same_hardware") or {}
    rate = _number(f"{path}: [same_hardware]", same, "usd_per_hour",
                   engines["duckdb"].usd_per_hour if "duckdb" in engines else None)
    return Prices(engines=engines, same_hardware_usd_per_hour=rate, path=path)


# --- billed cost -------------------------------------------------------------------------------------

def busy_periods(intervals: list[tuple[float, float]], idle_tail_s: float) -> list[tuple[float, float]]:
    """Merges [start, end] intervals (seconds) into busy periods: a gap of at most `idle_tail_s`
    keeps the engine up, so it joins the two sides; a longer gap ends the period."""
    periods: list[list[float]] = []
    for start, end in sorted(intervals):
        if end < start:
            raise ValueError(f"interval ends before it starts: {start} > {end}")
        if periods and start - periods[-1][1] <= idle_tail_s:
            periods[-1][1] = max(periods[-1][1], end)
        else:
            periods.append([start, end])
    return [(a, b) for a, b in periods]


@dataclass(frozen=True)
class BilledCost:
    engine: str
    model: str
    billed_s: float
    usd: float
    periods: int          # busy periods (cluster/warehouse), 1 for a host that was used
    busy_s: float         # seconds inside the periods (without tails)


def billed_cost(price: EnginePrice, intervals: list[tuple[float, float]], wall_s: float) -> BilledCost:
    """The bill for one engine in one mode. `wall_s` is the mode's wall time (a host is up all along)."""
    if not intervals:
        return BilledCost(price.name, price.model, 0.0, 0.0, 0, 0.0)
    if price.model == "host":
        busy = sum(b - a for a, b in busy_periods(intervals, 0.0))
        return BilledCost(price.name, price.model, wall_s, wall_s * price.usd_per_second, 1, busy)
    periods = busy_periods(intervals, price.idle_tail_s)
    billed = sum(price.period_billed_s(b - a) for a, b in periods)
    busy = sum(b - a for a, b in periods)
    return BilledCost(price.name, price.model, billed, billed * price.usd_per_second, len(periods), busy)


def mode_billed_cost(prices: Prices, runs: list[tuple[str, float, float]]) -> dict[str, BilledCost]:
    """Per engine, the bill of a mode whose statements ran as (engine, start_s, end_s)."""
    if not runs:
        return {}
    wall_s = max(e for _, _, e in runs) - min(s for _, s, _ in runs)
    by_engine: dict[str, list[tuple[float, float]]] = {}
    for engine, start, end in runs:
        by_engine.setdefault(engine, []).append((start, end))
    return {eng: billed_cost(prices.engine(eng), iv, wall_s) for eng, iv in sorted(by_engine.items())}
