#!/usr/bin/env python3
"""Generate lakerouter's demo lake: TPC-H data as Delta, Parquet and Iceberg tables.

Usage:
    gen_demo_lake.py --sf 0.01 --out DIR [--force] [--extension-dir PATH]

DuckDB's tpch extension (``CALL dbgen(sf=...)``) generates the data, and
each table is written in its own folder ``DIR/<schema>/<table>``. The schema
folder name is the catalog schema:

    tpch/{lineitem,orders,customer,part,partsupp,supplier,nation,region}
        Delta tables written by the ``deltalake`` package (delta-rs, an
        implementation independent of DuckDB). They are unpartitioned and
        keep dbgen's column types: DECIMAL(15,2) -> decimal(15,2),
        DATE -> date, INTEGER -> integer, BIGINT -> long,
        VARCHAR -> string. Every ``add`` action carries ``stats``
        (numRecords, minValues, maxValues, nullCount).
    tpch_events/orders_by_year
        Delta table holding orders plus ``o_year INTEGER`` (the year of
        o_orderdate), partitioned by o_year.
    tpch_parquet/{customer,nation}
        Folders of plain Parquet files ``part-00000.parquet``, ...
        written by DuckDB's COPY. At SF >= 1, customer is split into 4
        files.
    tpch_iceberg/{orders,nation}
        Iceberg (format v2) tables written by pyiceberg, with ``metadata/``
        and ``data/`` inside the table folder. ``metadata/version-hint.text``
        holds the current metadata file name without its ``.metadata.json``
        suffix and without a newline (for example
        ``00000-<uuid>``), because that is the form DuckDB's
        ``iceberg_scan('DIR/tpch_iceberg/orders')`` resolves.
        ``iceberg_scan('<table>/metadata/<file>.metadata.json')`` also works;
        the marker records that file as "metadata". The pyiceberg SQL catalog
        (sqlite) is kept as ``DIR/.iceberg_catalog.db``
        (catalog name "lakerouter", namespace "tpch_iceberg").

    crm/customers
        Delta table for the governance demos (row filters, column masks):
        one row per TPC-H customer with an e-mail address and the names of
        its nation and region, derived from customer, nation and region
        (see CRM_CUSTOMERS_SQL): customer_id, name, email, phone, nation,
        region, segment, balance DECIMAL(15,2), signup_date DATE.

    _lakerouter_lake.json
        Completion marker, written last:
        {"generator": 2, "sf": 0.01, "tables": {"tpch.lineitem":
         {"format": "delta", "path": "tpch/lineitem", "rows": 60175}, ...}}
        Paths are relative to DIR.

Idempotence and atomicity: if DIR already has a marker with the same sf and
generator version, the script reports that the lake is up to date and exits 0
without doing any work, unless you pass --force. Otherwise it generates
into ``DIR.tmp-<pid>`` and then renames that folder into place, replacing
any old DIR. An interrupted run therefore never leaves a half-written lake
at DIR. Concurrent runs that share a parent folder are serialized with a
flock on that parent folder.

Iceberg metadata must hold absolute paths, so the Iceberg tables record their
final location under DIR even though their files are written into
``DIR.tmp-<pid>``. After the rename, every path is valid. Do not move the
lake afterwards: Delta and Parquet tables would still work, but the
Iceberg tables would not.

Determinism: every run produces the same rows in the same order for a given
sf (dbgen is deterministic). The DuckDB-written Parquet files are
byte-identical across runs. Some things do differ between runs: the file
names that delta-rs and pyiceberg choose (they contain UUIDs), commit
timestamps, Delta table ids, Iceberg snapshot ids and the names of the
metadata files. For a multi-file Delta table (the partitioned
orders_by_year, and lineitem at large sf), the order of the ``add``
actions can also differ, so an unordered scan may return rows in a
different order. The set of rows is still identical.

DuckDB extensions are loaded only from the local extension directory:
--extension-dir, else $DUCKDB_EXTENSIONS, else
${LAKEROUTER_CACHE:-~/.cache/lakerouter}/duckdb-<version>/extensions.
Nothing is downloaded. scripts/bootstrap.sh fills that directory.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import json
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path

# 2: crm.customers added. A lake made by another version is generated again.
GENERATOR_VERSION = 2
MARKER_NAME = "_lakerouter_lake.json"
ICEBERG_CATALOG_DB = ".iceberg_catalog.db"
ICEBERG_CATALOG_NAME = "lakerouter"

TPCH_TABLES = ["lineitem", "orders", "customer", "part", "partsupp", "supplier", "nation", "region"]
PARQUET_TABLES = ["customer", "nation"]
ICEBERG_TABLES = ["orders", "nation"]
# crm.customers: TPC-H customers as a CRM would hold them, with an e-mail address (c000000042@
# <nation>.example.com) and plain region and nation names, for row filters and column masks.
CRM_CUSTOMERS_SQL = """
SELECT c.c_custkey AS customer_id,
       c.c_name AS name,
       lower(replace(c.c_name, 'Customer#', 'c')) || '@' || lower(replace(n.n_name, ' ', '-')) || '.example.com'
           AS email,
       c.c_phone AS phone,
       n.n_name AS nation,
       r.r_name AS region,
       c.c_mktsegment AS segment,
       c.c_acctbal AS balance,
       CAST(DATE '2020-01-01' + CAST((c.c_custkey * 37) % 1461 AS INTEGER) AS DATE) AS signup_date
FROM customer c
JOIN nation n ON n.n_nationkey = c.c_nationkey
JOIN region r ON r.r_regionkey = n.n_regionkey
ORDER BY c.c_custkey
"""
# Number of Parquet files for tpch_parquet/customer when sf >= 1.
CUSTOMER_FILES_LARGE_SF = 4

_T0 = time.monotonic()


class LakeError(Exception):
    """A failure with a message meant for the user (no traceback)."""


def log(msg: str) -> None:
    print(f"[gen_demo_lake {time.monotonic() - _T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- marker


def read_marker(out: Path) -> dict | None:
    try:
        with open(out / MARKER_NAME, encoding="utf-8") as f:
            marker = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None  # unreadable or corrupt marker: regenerate
    return marker if isinstance(marker, dict) else None


def marker_is_current(marker: dict | None, sf: float) -> bool:
    if not marker:
        return False
    try:
        return marker.get("generator") == GENERATOR_VERSION and float(marker.get("sf")) == sf
    except (TypeError, ValueError):
        return False


def write_json_durably(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# --------------------------------------------------------------------------- duckdb


def default_extension_dir() -> str:
    env = os.environ.get("DUCKDB_EXTENSIONS")
    if env:
        return env
    import duckdb

    cache = os.environ.get("LAKEROUTER_CACHE") or os.path.expanduser("~/.cache/lakerouter")
    return os.path.join(cache, f"duckdb-{duckdb.__version__}", "extensions")


BOOTSTRAP_HINT = ("run scripts/bootstrap.sh to download DuckDB and its extensions "
                  "(or set DUCKDB_EXTENSIONS / --extension-dir)")


def check_extension_dir(extension_dir: str) -> None:
    if not os.path.isdir(extension_dir):
        raise LakeError(f"DuckDB extension directory {extension_dir!r} does not exist; {BOOTSTRAP_HINT}")


def connect_duckdb(extension_dir: str):
    import duckdb

    check_extension_dir(extension_dir)
    con = duckdb.connect(
        config={
            "extension_directory": extension_dir,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": True,
        }
    )
    try:
        con.execute("LOAD tpch")
    except duckdb.Error as e:
        platform = con.execute("PRAGMA platform").fetchone()[0]
        expected = os.path.join(extension_dir, f"v{duckdb.__version__}", platform, "tpch.duckdb_extension")
        raise LakeError(
            f"cannot load DuckDB's tpch extension (expected {expected}): {str(e).splitlines()[0]}; "
            f"{BOOTSTRAP_HINT}"
        ) from None
    return con


# --------------------------------------------------------------------------- iceberg redirect


def _make_redirect_io_class():
    """Build a PyArrowFileIO that records paths under the final lake dir but writes into the tmp dir.

    Iceberg metadata stores absolute file paths. Files must be written into
    DIR.tmp-<pid> while the metadata names DIR/..., so that the tables are valid
    after the rename.
    """
    from pyiceberg.io.pyarrow import PyArrowFileIO

    class RedirectingFileIO(PyArrowFileIO):
        def parse_location(self, location, properties=None):  # type: ignore[override]
            props = self.properties if properties is None else properties
            scheme, netloc, path = PyArrowFileIO.parse_location(location, props)
            src = props.get("lakerouter.redirect-from")
            dst = props.get("lakerouter.redirect-to")
            if scheme == "file" and src and dst and (path == src or path.startswith(src + "/")):
                path = dst + path[len(src):]
            return scheme, netloc, path

    return RedirectingFileIO


# pyiceberg loads a custom FileIO by "module.Class" through importlib. That name
# must resolve both when this file runs as a script (__main__) and when it is imported.
RedirectingFileIO = None


# --------------------------------------------------------------------------- writers


def delta_rows(path: Path) -> int:
    from deltalake import DeltaTable

    actions = DeltaTable(str(path)).get_add_actions(flatten=True)
    import pyarrow as pa

    tbl = pa.table(actions)
    return int(sum(v for v in tbl.column("num_records").to_pylist()))


def write_delta(con, query: str, dest: Path, partition_by: list[str] | None = None) -> int:
    from deltalake import write_deltalake

    reader = con.sql(query).to_arrow_reader(batch_size=256 * 1024)
    write_deltalake(str(dest), reader, partition_by=partition_by, mode="error")
    return delta_rows(dest)


def write_parquet_folder(con, table: str, order_col: str, dest: Path, nfiles: int) -> int:
    import pyarrow.parquet as pq

    dest.mkdir(parents=True)
    total = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    rows = 0
    for i in range(nfiles):
        lo, hi = i * total // nfiles, (i + 1) * total // nfiles
        f = dest / f"part-{i:05d}.parquet"
        con.execute(
            f"COPY (SELECT * FROM {table} ORDER BY {order_col} LIMIT {hi - lo} OFFSET {lo}) "
            f"TO '{f}' (FORMAT parquet)"
        )
        rows += pq.ParquetFile(f).metadata.num_rows
    return rows


def open_iceberg_catalog(tmp: Path, final: Path):
    from pyiceberg.catalog.sql import SqlCatalog

    io_cls = RedirectingFileIO
    return SqlCatalog(
        ICEBERG_CATALOG_NAME,
        uri=f"sqlite:///{tmp / ICEBERG_CATALOG_DB}",
        warehouse=f"file://{final}",
        **{
            "py-io-impl": f"{io_cls.__module__}.{io_cls.__name__}",
            "lakerouter.redirect-from": str(final),
            "lakerouter.redirect-to": str(tmp),
        },
    )


def write_iceberg(con, catalog, schema: str, table: str, tmp: Path, final: Path) -> tuple[int, str]:
    data = con.sql(f"SELECT * FROM {table}").to_arrow_table()
    location = final / schema / table
    txn = catalog.create_table_transaction(f"{schema}.{table}", schema=data.schema, location=f"file://{location}")
    txn.append(data)
    tbl = txn.commit_transaction()
    meta_url = tbl.metadata_location
    prefix = f"file://{location}/metadata/"
    if not meta_url.startswith(prefix) or not meta_url.endswith(".metadata.json"):
        raise LakeError(f"unexpected Iceberg metadata location {meta_url} (expected it under {prefix})")
    meta_name = meta_url[len(prefix):]
    # DuckDB resolves metadata/<hint>.metadata.json (or v<hint>.metadata.json); the hint must
    # not end in a newline.
    hint = tmp / schema / table / "metadata" / "version-hint.text"
    hint.write_text(meta_name[: -len(".metadata.json")], encoding="utf-8")
    snap = tbl.current_snapshot()
    rows = int(snap.summary["total-records"]) if snap and snap.summary else -1
    return rows, f"{schema}/{table}/metadata/{meta_name}"


# --------------------------------------------------------------------------- generation


def generate(tmp: Path, final: Path, sf: float, extension_dir: str) -> dict:
    con = connect_duckdb(extension_dir)
    t = time.monotonic()
    con.execute(f"CALL dbgen(sf={sf!r})")
    expected = {tb: con.execute(f"SELECT count(*) FROM {tb}").fetchone()[0] for tb in TPCH_TABLES}
    log(f"dbgen sf={sf:g}: {sum(expected.values())} rows in {time.monotonic() - t:.1f}s")

    tables: dict[str, dict] = {}

    def done(name: str, fmt: str, path: str, rows: int, started: float, want: int, **extra) -> None:
        if rows != want:
            raise LakeError(f"{name}: wrote {rows} rows but dbgen produced {want}")
        tables[name] = {"format": fmt, "path": path, "rows": rows, **extra}
        log(f"{name:<28} {fmt:<8} {rows:>10} rows  {time.monotonic() - started:6.1f}s")

    # Delta: all 8 TPC-H tables, unpartitioned.
    for tb in TPCH_TABLES:
        t = time.monotonic()
        rows = write_delta(con, f"SELECT * FROM {tb}", tmp / "tpch" / tb)
        done(f"tpch.{tb}", "delta", f"tpch/{tb}", rows, t, expected[tb])

    # Delta, partitioned by o_year.
    t = time.monotonic()
    rows = write_delta(
        con,
        "SELECT *, CAST(year(o_orderdate) AS INTEGER) AS o_year FROM orders",
        tmp / "tpch_events" / "orders_by_year",
        partition_by=["o_year"],
    )
    done("tpch_events.orders_by_year", "delta", "tpch_events/orders_by_year", rows, t, expected["orders"],
         partition_by=["o_year"])

    # Delta: the CRM table for governance demos.
    t = time.monotonic()
    rows = write_delta(con, CRM_CUSTOMERS_SQL, tmp / "crm" / "customers")
    done("crm.customers", "delta", "crm/customers", rows, t, expected["customer"])

    # Folders of Parquet files.
    keys = {"customer": "c_custkey", "nation": "n_nationkey"}
    for tb in PARQUET_TABLES:
        t = time.monotonic()
        nfiles = CUSTOMER_FILES_LARGE_SF if (tb == "customer" and sf >= 1) else 1
        rows = write_parquet_folder(con, tb, keys[tb], tmp / "tpch_parquet" / tb, nfiles)
        done(f"tpch_parquet.{tb}", "parquet", f"tpch_parquet/{tb}", rows, t, expected[tb], files=nfiles)

    # Iceberg.
    catalog = open_iceberg_catalog(tmp, final)
    try:
        catalog.create_namespace("tpch_iceberg")
        for tb in ICEBERG_TABLES:
            t = time.monotonic()
            rows, meta = write_iceberg(con, catalog, "tpch_iceberg", tb, tmp, final)
            done(f"tpch_iceberg.{tb}", "iceberg", f"tpch_iceberg/{tb}", rows, t, expected[tb], metadata=meta)
    finally:
        engine = getattr(catalog, "engine", None)
        if engine is not None:
            engine.dispose()
    con.close()

    return {"generator": GENERATOR_VERSION, "sf": sf, "tables": tables}


# --------------------------------------------------------------------------- filesystem dance


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_siblings(out: Path) -> None:
    """Remove DIR.tmp-<pid> / DIR.old-<pid> left behind by runs that were killed."""
    pat = re.compile(re.escape(out.name) + r"\.(tmp|old)-(\d+)$")
    for p in out.parent.iterdir():
        m = pat.fullmatch(p.name)
        if m and p.is_dir() and not p.is_symlink() and not _pid_alive(int(m.group(2))):
            log(f"removing leftover {p}")
            shutil.rmtree(p, ignore_errors=True)


def lock_parent(parent: Path):
    """Serialize generators that share a parent folder. Returns an fd, or None if locking is unsupported."""
    try:
        fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log(f"another generator is working in {parent}; waiting for it")
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as e:
        if e.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
            os.close(fd)
            return None
        raise
    return fd


def install_into_place(tmp: Path, out: Path) -> None:
    old = None
    # Do not let a signal land between the two renames.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        if out.exists() or out.is_symlink():
            old = out.with_name(f"{out.name}.old-{os.getpid()}")
            os.rename(out, old)
        os.rename(tmp, out)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    if old is not None:
        if old.is_symlink() or not old.is_dir():
            old.unlink()
        else:
            shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="gen_demo_lake.py",
        description="Generate lakerouter's demo lake (TPC-H as Delta, Parquet and Iceberg tables).",
        epilog="Layout, marker format and determinism notes are in the module docstring (see the top of this file).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--sf", type=float, default=0.01, help="TPC-H scale factor (default: 0.01)")
    ap.add_argument("--out", required=True, help="lake directory to create or replace")
    ap.add_argument("--force", action="store_true",
                    help="regenerate even if the lake is up to date, and replace DIR even if it is not a lake")
    ap.add_argument("--extension-dir", default=None,
                    help="DuckDB extension directory (default: $DUCKDB_EXTENSIONS or "
                         "~/.cache/lakerouter/duckdb-<version>/extensions)")
    args = ap.parse_args(argv)
    if not (args.sf > 0) or args.sf != args.sf or args.sf == float("inf"):
        ap.error("--sf must be a positive number")
    return args


_TERMINATED_BY: int | None = None


def _on_signal(signum, frame):  # turn SIGINT/SIGTERM into an exception so the tmp dir is cleaned up
    global _TERMINATED_BY
    _TERMINATED_BY = signum
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    sf = float(args.sf)
    out = Path(os.path.abspath(os.path.expanduser(args.out)))

    if not args.force and marker_is_current(read_marker(out), sf):
        log(f"lake at {out} is up to date (sf={sf:g}, generator {GENERATOR_VERSION}); nothing to do")
        return 0

    global RedirectingFileIO
    try:
        import deltalake  # noqa: F401
        import duckdb  # noqa: F401
        import pyarrow  # noqa: F401
        import pyiceberg.catalog.sql  # noqa: F401
    except ImportError as e:
        raise LakeError(f"missing Python package ({e}); use the project venv: .venv/bin/python "
                        f"(packages pinned in tests/requirements.txt)") from None
    RedirectingFileIO = _make_redirect_io_class()

    extension_dir = args.extension_dir or default_extension_dir()
    check_extension_dir(extension_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    lock_fd = lock_parent(out.parent)
    try:
        # Another run may have finished while this one waited for the lock.
        if not args.force and marker_is_current(read_marker(out), sf):
            log(f"lake at {out} is up to date (sf={sf:g}, generator {GENERATOR_VERSION}); nothing to do")
            return 0
        if out.exists() and not args.force:
            if not out.is_dir():
                raise LakeError(f"{out} exists and is not a directory; remove it or pass --force")
            if read_marker(out) is None and any(out.iterdir()):
                raise LakeError(f"refusing to replace {out}: it is not empty and has no {MARKER_NAME} "
                                f"(not a lakerouter demo lake); remove it or pass --force")
        remove_stale_siblings(out)

        tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        old_handlers = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            log(f"generating sf={sf:g} lake into {tmp}")
            marker = generate(tmp, out, sf, extension_dir)
            write_json_durably(tmp / MARKER_NAME, marker)  # last file written
            install_into_place(tmp, out)
        finally:
            for sig, handler in old_handlers.items():
                signal.signal(sig, handler)
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if lock_fd is not None:
            os.close(lock_fd)
    log(f"lake ready at {out} ({len(marker['tables'])} tables)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LakeError as e:
        print(f"gen_demo_lake: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("gen_demo_lake: interrupted; no lake was installed", file=sys.stderr)
        sys.exit(130)
    except BaseException:
        # A signal raises SystemExit, or DuckDB's "Query interrupted" if it arrives during a query.
        if _TERMINATED_BY is not None:
            name = signal.Signals(_TERMINATED_BY).name
            print(f"gen_demo_lake: stopped by {name}; no lake was installed", file=sys.stderr)
            sys.exit(128 + _TERMINATED_BY)
        raise
