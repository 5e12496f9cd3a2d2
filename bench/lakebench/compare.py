"""Result comparison across engines (the benchmark's correctness check, and tests/integration/test_engines.py).

Values come from lakerouter's JSON (decimals as exact strings, HUGEINT as numbers or digit strings,
dates and timestamps as ISO strings) or from python duckdb (Decimal, float, date, datetime). Rules:

- numbers: ints and decimal strings become Decimal. Two values match when equal, within a relative
  tolerance (1e-9 by default, absolute 1e-12), or within half a unit of the coarser decimal scale of
  the two (Trino keeps avg() of a decimal at the input's scale: 25.58 for DuckDB's 25.575);
- NaN equals NaN; "NaN", "Infinity", "-Infinity" strings are floats;
- dates compare as ISO text; timestamps in UTC, to the coarser precision of the two (Trino's
  timestamp(3) with time zone against microseconds); a date equals the midnight timestamp without
  time zone of that day (DuckDB's date_trunc('month', date) is a TIMESTAMP, Trino's a DATE);
  strings right-trimmed (char(n) padding);
  booleans exactly; NULL only equals NULL.

Shape: columns by position (Trino lowercases names), row counts must match; rows in order when the
statement is `ordered`, else both sides sorted by their normalised values, NULLs last.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import math
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Sequence

REL_TOL = 1e-9
ABS_TOL = 1e-12

_DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$")
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


@dataclass(frozen=True)
class Num:
    """A number with the decimal scale it was written with (None: an int or a binary float)."""
    value: Decimal | float
    scale: int | None


@dataclass(frozen=True)
class Stamp:
    """A timestamp: whole seconds (UTC when zoned), microseconds, and digits of precision given."""
    seconds: dt.datetime
    micros: int
    precision: int
    zoned: bool


def normalise(v: Any) -> Any:
    """A value in comparable form: None, bool, Num, Stamp or str."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int):
        return Num(Decimal(v), None)
    if isinstance(v, Decimal):
        return Num(v, max(0, -v.as_tuple().exponent) if v.is_finite() else None)
    if isinstance(v, float):
        return Num(v, None)
    if isinstance(v, dt.datetime):
        return _stamp_of_datetime(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        if v in _NONFINITE:
            return Num(_NONFINITE[v], None)
        if _DECIMAL.match(v):  # digits only: Decimal() takes it
            return Num(Decimal(v), len(v.split(".", 1)[1]) if "." in v else None)
        if len(v) >= 19 and not _DATE.match(v):
            m = _TIMESTAMP.match(v)
            if m:
                return _stamp_of_text(m)
        return v.rstrip(" ")
    if isinstance(v, (list, tuple)):
        return tuple(normalise(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, normalise(x)) for k, x in v.items()))
    return v


def _stamp_of_text(m: re.Match) -> Stamp:
    date, time, frac, zone = m.groups()
    base = dt.datetime.fromisoformat(f"{date}T{time}")
    zoned = zone is not None
    if zoned and zone not in ("Z", "UTC"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        base -= sign * offset
    frac = frac or ""
    # lakerouter prints microseconds only when non-zero: no fraction is exact to the microsecond.
    precision = len(frac) if frac else 6
    micros = int((frac + "000000")[:6]) if frac else 0
    return Stamp(base, micros, min(precision, 6), zoned)


def _stamp_of_datetime(v: dt.datetime) -> Stamp:
    zoned = v.tzinfo is not None
    if zoned:
        v = v.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return Stamp(v.replace(microsecond=0), v.microsecond, 6, zoned)


def numbers_match(a: Num, b: Num, rel_tol: float = REL_TOL) -> bool:
    fa, fb = float(a.value), float(b.value)
    if math.isnan(fa) or math.isnan(fb):
        return math.isnan(fa) and math.isnan(fb)
    if math.isinf(fa) or math.isinf(fb):
        return fa == fb
    if a.value == b.value:
        return True
    diff = abs(fa - fb)
    if diff <= max(rel_tol * max(abs(fa), abs(fb)), ABS_TOL):
        return True
    scales = [s for s in (a.scale, b.scale) if s is not None]
    if scales:  # half a unit of the coarser scale: one side rounded to fewer digits
        return diff <= 0.5 * 10.0 ** -min(scales) * (1 + 1e-9) + ABS_TOL
    return False


def stamps_match(a: Stamp, b: Stamp) -> bool:
    # Across whole seconds too: a rounding at the coarser precision may carry into the next second.
    delta = (a.seconds - b.seconds).total_seconds() * 1_000_000 + a.micros - b.micros
    return abs(delta) < 10 ** (6 - min(a.precision, b.precision))


def _is_midnight_of(stamp: Stamp, date_text: str) -> bool:
    if stamp.zoned or stamp.micros or not _DATE.match(date_text):
        return False
    return stamp.seconds == dt.datetime.fromisoformat(date_text)


def normalised_match(a: Any, b: Any, rel_tol: float = REL_TOL) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, Num) and isinstance(b, Num):
        return numbers_match(a, b, rel_tol)
    if isinstance(a, Stamp) and isinstance(b, Stamp):
        return stamps_match(a, b)
    if isinstance(a, Stamp) and isinstance(b, str) or isinstance(a, str) and isinstance(b, Stamp):
        stamp, text = (a, b) if isinstance(a, Stamp) else (b, a)
        return _is_midnight_of(stamp, text)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(normalised_match(x, y, rel_tol) for x, y in zip(a, b))
    return a == b


def values_match(a: Any, b: Any, rel_tol: float = REL_TOL) -> bool:
    """Whether two result values are the same (see the module's rules)."""
    return normalised_match(normalise(a), normalise(b), rel_tol)


# --- rows ---------------------------------------------------------------------------------------------

def _sort_key(v: Any) -> tuple:
    # Ranks keep values of different kinds apart; NULLs sort last.
    if v is None:
        return (9, 0)
    if isinstance(v, bool):
        return (0, int(v))
    if isinstance(v, Num):
        f = float(v.value)
        return (1, (1, 0.0) if math.isnan(f) else (0, f))
    if isinstance(v, Stamp):
        return (2, (v.seconds, v.micros))
    if isinstance(v, tuple):
        return (4, tuple(_sort_key(x) for x in v))
    return (3, str(v))


def row_sort_key(row: Sequence[Any]) -> tuple:
    return tuple(_sort_key(v) for v in row)


@dataclass(frozen=True)
class Difference:
    row: int | None        # index in the compared order (None: a shape difference)
    column: int | None
    reference: Any
    got: Any
    message: str


def compare_rows(reference: Sequence[Sequence[Any]], got: Sequence[Sequence[Any]], *, ordered: bool,
                 rel_tol: float = REL_TOL) -> Difference | None:
    """None when the two results match, else the first difference."""
    if len(reference) != len(got):
        return Difference(None, None, len(reference), len(got), f"{len(got)} rows, reference has {len(reference)}")
    ref = [[normalise(v) for v in r] for r in reference]
    out = [[normalise(v) for v in r] for r in got]
    if ref and len(ref[0]) != len(out[0]):
        return Difference(None, None, len(ref[0]), len(out[0]), f"{len(out[0])} columns, reference has {len(ref[0])}")
    order = list(range(len(ref)))
    ref_order, got_order = order, order
    if not ordered:
        ref_order = sorted(order, key=lambda i: row_sort_key(ref[i]))
        got_order = sorted(order, key=lambda i: row_sort_key(out[i]))
    for n, (i, j) in enumerate(zip(ref_order, got_order)):
        a, b = ref[i], out[j]
        if len(a) != len(b):
            return Difference(n, None, len(a), len(b), f"row {n}: {len(b)} columns, reference has {len(a)}")
        for c, (x, y) in enumerate(zip(a, b)):
            if not normalised_match(x, y, rel_tol):
                return Difference(n, c, reference[i][c], got[j][c],
                                  f"row {n} column {c}: {got[j][c]!r}, reference {reference[i][c]!r}")
    return None


# --- known differences ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class KnownDifference:
    template: str               # template id or fnmatch pattern
    engines: tuple[str, ...]    # the engines whose result differs (empty: any)
    column: int | str | None    # 0-based index or column name (None: any)
    reason: str


def load_known_differences(path: Path) -> list[KnownDifference]:
    """Reads `[[difference]]` entries (template, reason; optional engine/engines, column) from the
    workloads' known_differences.toml. A missing file means none. Entries without a reason are an
    error: a difference is "known" only when someone has explained it."""
    if not path.is_file():
        return []
    try:
        doc = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not valid TOML: {e}") from None
    out: list[KnownDifference] = []
    for key, value in doc.items():
        if not (isinstance(value, list) and all(isinstance(x, dict) for x in value)):
            continue  # format, version, comments-as-keys: not entries
        for n, e in enumerate(value):
            where = f"{path}: [[{key}]] #{n + 1}"
            template = e.get("template") or e.get("id")
            reason = e.get("reason") or e.get("why")
            if not template or not reason:
                raise ValueError(f"{where}: needs 'template' and 'reason'")
            engines = e.get("engines", e.get("engine", ()))
            engines = (engines,) if isinstance(engines, str) else tuple(engines)
            out.append(KnownDifference(str(template), engines, e.get("column"), str(reason)))
    return out


def find_known(known: Iterable[KnownDifference], template: str, engines: Iterable[str], diff: Difference,
               columns: Sequence[str] = ()) -> KnownDifference | None:
    engines = set(engines)
    for k in known:
        if not fnmatch.fnmatchcase(template, k.template):
            continue
        if k.engines and not engines & set(k.engines):
            continue
        if k.column is not None:
            if diff.column is None:
                continue
            if isinstance(k.column, int) and k.column != diff.column:
                continue
            if isinstance(k.column, str) and (diff.column >= len(columns) or
                                              columns[diff.column].lower() != k.column.lower()):
                continue
        return k
    return None
