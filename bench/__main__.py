"""The benchmark suite: every benchmark, one table.

    .venv/bin/python -m bench [--quick] [--postgres URL] [--only NAME[,NAME]] [--out FILE]

Runs the benchmarks one after another, each in a fresh Python process (so
one's memory, threads and open files do not weigh on the next; with
`--in-process` all in this one), first on SQLite, then, with `--postgres`,
those that use a database again on a fresh PostgreSQL database created (and
dropped) next to URL. Prints each benchmark's own report as it goes and at
the end one table: name, measured, baseline, ratio, target, pass/fail.
Exit status 1 if a target was missed or a benchmark failed.

`--quick` runs smaller sizes, once each (a few minutes; for a first look,
not for the record). `--only` picks benchmarks by name: burst, fanout,
reminders, spread, digest, report, startup, memory, scaleout (PostgreSQL only: it runs
with `--postgres`, and is left out of the SQLite run).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import json
import logging
import subprocess
import sys
from pathlib import Path
from time import monotonic

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Row, table  # noqa: E402

BENCHMARKS = ["burst", "fanout", "reminders", "spread", "digest", "report", "startup", "memory", "scaleout"]
SQLITE_ONLY = {"fanout", "startup", "memory"}  # no database, or `kimbot run` on SQLite
POSTGRES_ONLY = {"scaleout"}  # several `kimbot run` on one database
RESULT = "BENCH-ROWS "


def worker(name: str, quick: bool, postgres: str | None) -> None:
    """Run one benchmark here; its rows go to stdout as one marked JSON line."""
    logging.basicConfig(level=logging.WARNING)
    module = importlib.import_module(f"bench.{name}")
    rows = asyncio.run(module.suite(quick, postgres))
    print(RESULT + json.dumps([dataclasses.asdict(r) for r in rows]), flush=True)


def run_one(name: str, quick: bool, postgres: str | None, in_process: bool) -> list[Row]:
    where = "PostgreSQL" if postgres else "SQLite"
    print(f"\n=== {name} ({where}) ===", flush=True)
    began = monotonic()
    try:
        if in_process:
            module = importlib.import_module(f"bench.{name}")
            rows = asyncio.run(module.suite(quick, postgres))
        else:
            command = [sys.executable, "-m", "bench", "--worker", name] + (["--quick"] if quick else [])
            command += ["--postgres", postgres] if postgres else []
            process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
            assert process.stdout is not None
            rows = []
            for line in process.stdout:
                if line.startswith(RESULT):
                    rows = [Row(**r) for r in json.loads(line[len(RESULT) :])]
                else:
                    print(line, end="", flush=True)
            if process.wait() != 0:
                raise RuntimeError(f"exit status {process.returncode}")
    except Exception as error:  # noqa: BLE001 - one failed benchmark must not stop the suite
        print(f"{name} failed: {error!r}", flush=True)
        return [Row(f"{name} ({where})", f"failed: {error}", "-", None, "-", False)]
    print(f"--- {name} ({where}) took {monotonic() - began:.0f} s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, once each")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also on PostgreSQL, e.g. postgresql://postgres@127.0.0.1:5432/postgres",
    )
    parser.add_argument(
        "--only",
        metavar="NAME",
        action="append",
        help=f"only these ({', '.join(BENCHMARKS)}); repeatable or comma-separated",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="with --postgres: skip the SQLite runs")
    parser.add_argument("--in-process", action="store_true", help="run every benchmark in this process")
    parser.add_argument("--out", metavar="FILE", help="also write the table to FILE")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.quick, args.postgres)
        return
    names = BENCHMARKS
    if args.only:
        names = [n.strip() for part in args.only for n in part.split(",") if n.strip()]
        unknown = [n for n in names if n not in BENCHMARKS]
        if unknown:
            parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    backends: list[str | None] = [] if args.no_sqlite and args.postgres else [None]
    if args.postgres:
        backends.append(args.postgres)
    began = monotonic()
    rows: list[Row] = []
    for name in names:
        if name in POSTGRES_ONLY and not args.postgres:
            print(f"\n=== {name}: PostgreSQL only, left out (run with --postgres URL)", flush=True)
        for postgres in backends:
            if name in (SQLITE_ONLY if postgres else POSTGRES_ONLY):
                continue
            rows += run_one(name, args.quick, postgres, args.in_process)
    result = table(rows)
    print(f"\nKIM-Bot benchmarks{' (quick)' if args.quick else ''}, {monotonic() - began:.0f} s in all\n")
    print(result)
    if args.out:
        Path(args.out).write_text(result + "\n")
    sys.exit(0 if all(r.ok is not False for r in rows) else 1)


if __name__ == "__main__":
    main()
