"""Benchmark: ``rules simulate`` over 200,000 stored decisions (target: 20,000 snapshots/s).

    .venv/bin/python bench/simulate.py [--decisions 200000] [--db PATH] [--workers N]
                                       [--candidate rules/examples/sal_stricter.toml]

The audit log is generated first (or reused: ``--db PATH`` keeps it for the next run):
leads shaped like the sandbox's (its seeder's contacts, mapped to canonical fields by the
default field map, raw properties kept under ``hubspot.``), decided under rules/sal.toml
at their page's clock (pages of 200 leads, one clock each, over ~100 days), written by
direct SQL with their snapshot and full explanation, as the agent writes them. On top of
the N latest decisions: older decisions of 3 % of the leads and dry runs of 2 % (which
the simulation must skip), and sales outcomes for 40 % of the SALs.

The simulation runs in a child process, so that the peak RSS is the simulation's, not the
generator's: the child's own high-water mark (VmHWM) and its largest worker's (it waits
for them), ``peak_rss_mb`` the larger. ``wall_s`` is the ``simulate()`` call; ``cpu_s`` is
all CPU the child and its workers used (``wait4``, interpreter start included),
``simulate_cpu_s`` the part spent in the call:
on a shared machine the wall time moves with the neighbours, the CPU time much less, and
``snapshots_per_cpu_s`` says what one free core does. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import emit  # noqa: E402
from _smoke import smoke  # noqa: E402

from connectors.hubspot.settings import DEFAULT_FIELD_MAP  # noqa: E402
from connectors.mapping import FieldMapping  # noqa: E402
from connectors.sandbox.seed import seed_store  # noqa: E402
from connectors.sandbox.store import SandboxStore  # noqa: E402
from sync_agent.audit import AuditLog  # noqa: E402
from sync_agent.audit.records import dumps  # noqa: E402
from sync_agent.rules import load_ruleset  # noqa: E402

PIPELINE = "hubspot-mqls"
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
PAGE = 200  # leads per page of the original run: one clock each
CHUNK = 5_000  # leads generated per task
DAYS = 100
OLDER, DRY = 0.03, 0.02  # shares of extra rows the simulation must skip
REASONS = ["no budget", "wrong contact", "bad timing", "not reachable", ""]
INSERT = (
    "INSERT INTO decisions (run_id, pipeline, lead_key, source, source_id, crm_ids, outcome, "
    "score, reasons, explanation, fast_lane, rules_name, rules_hash, snapshot, modified_at, "
    "fingerprint, mql_date, decided_at, handoff_key, note, dry_run, status) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _chunk_rows(task: tuple[int, int, int]) -> list[tuple[Any, ...]]:
    """Decision rows for leads ``first .. first+count-1`` (a worker of the generator)."""
    first, count, total = task
    ruleset = load_ruleset(ROOT / "rules" / "sal.toml")
    store = SandboxStore()
    clock = START + timedelta(days=DAYS * first / total)
    seed_store(store, count, seed=first + 1, mql_share=1.0, anchor=clock - timedelta(hours=1))
    mapping = FieldMapping(DEFAULT_FIELD_MAP)
    rng = random.Random(first)
    rows: list[tuple[Any, ...]] = []
    for i, contact in enumerate(store.contacts.values()):
        n = first + i
        fields = mapping.map_record(contact["properties"], "hubspot")
        fields["hubspot.hs_object_id"] = str(n)
        now = clock + timedelta(minutes=5 * (i // PAGE))
        kind = "latest"
        roll = rng.random()
        if roll < OLDER:
            kind = "older"
        elif roll < OLDER + DRY:
            kind = "dry"
        rows.append(_row(n, fields, ruleset, now, kind))
    return rows


def _row(n: int, fields: dict[str, Any], ruleset: Any, now: datetime, kind: str) -> tuple[Any, ...]:
    """(kind, decision row); ``kind``: latest, older (another row follows), dry."""
    d = ruleset.evaluate(fields, now)
    mql_date = fields.get("mql_date")
    return (
        kind, PIPELINE, f"hubspot:{n}", "hubspot", str(n), dumps({"hubspot": str(n)}),
        d.outcome.value, d.score, dumps(list(d.reasons)),
        dumps([c.to_dict() for c in d.explanation]), d.fast_lane, d.ruleset_name,
        d.ruleset_hash, dumps(fields), now.isoformat(), f"fp{n}",
        mql_date.isoformat() if isinstance(mql_date, datetime) else mql_date,
        now.isoformat(), f"sal-{n:032x}", "", 0, "written",
    )  # fmt: skip


def generate(path: Path, decisions: int, workers: int) -> dict[str, int]:
    """A fresh audit log at ``path`` with ``decisions`` latest decisions (and extras)."""
    AuditLog.open(path).close()  # the schema, by the audit module's own migrations
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    run = conn.execute(
        "INSERT INTO runs (pipeline, mode, started_at) VALUES (?, 'run', ?)",
        (PIPELINE, START.isoformat()),
    ).lastrowid
    tasks = [(f, min(CHUNK, decisions - f), decisions) for f in range(0, decisions, CHUNK)]
    counts = {"latest": 0, "older": 0, "dry": 0, "outcomes": 0}
    rng = random.Random(1)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for rows in pool.imap(_chunk_rows, tasks):
            for kind, *row in rows:
                counts["latest"] += 1
                if kind == "older":  # an earlier decision, then the latest one
                    counts["older"] += 1
                    earlier = (datetime.fromisoformat(row[16]) - timedelta(days=7)).isoformat()
                    conn.execute(INSERT, (run, *row[:16], earlier, *row[17:]))
                    conn.execute(INSERT, (run, *row))
                elif kind == "dry":  # the latest decision, then a dry run the sim must skip
                    counts["dry"] += 1
                    conn.execute(INSERT, (run, *row))
                    later = (datetime.fromisoformat(row[16]) + timedelta(hours=1)).isoformat()
                    conn.execute(INSERT, (run, *row[:16], later, *row[17:19], 1, "dry_run"))
                else:
                    conn.execute(INSERT, (run, *row))
                if row[5] == "accepted" and rng.random() < 0.4:
                    counts["outcomes"] += _outcomes(conn, rng, row)
    conn.execute("COMMIT")
    conn.close()
    return counts


def _outcomes(conn: sqlite3.Connection, rng: random.Random, row: list[Any]) -> int:
    lead, key, at = row[1], row[17], row[16]
    events = [("first_touch", None)]
    roll = rng.random()
    if roll < 0.15:
        events.append(("rejected", rng.choice(REASONS) or None))
    elif roll < 0.40:
        events.append(("sql", None))
        if rng.random() < 0.3:
            events.append(("opportunity", None))
    conn.executemany(
        "INSERT INTO outcomes (lead_key, handoff_key, system, kind, at, reason, recorded_at) "
        "VALUES (?,?,?,?,?,?,?)",
        [(lead, key, "salesforce", kind, at, reason, at) for kind, reason in events],
    )
    return len(events)


def _stored(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])


def _peaks_mb() -> tuple[float, float]:
    """This process's peak RSS and its largest finished child's, in MB.

    VmHWM (/proc) is this process's own high-water mark since it started this program;
    ``ru_maxrss`` would also count the parent's before ``exec`` (the generator's)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                own = int(line.split()[1]) / 1024
    return own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_only(args: argparse.Namespace) -> None:
    """The measured part, in its own process: one ``simulate()`` call."""
    from sync_agent.simulate import simulate

    candidate = load_ruleset(args.candidate)
    before, own = _children_cpu(), time.process_time()
    start = time.perf_counter()
    result = simulate(args.run_only, candidate, workers=args.workers, limit=10)
    wall = time.perf_counter() - start
    cpu = time.process_time() - own + _children_cpu() - before
    main_mb, worker_mb = _peaks_mb()
    o = result.outcomes
    print(json.dumps({
        "snapshots": result.snapshots, "wall_s": wall, "workers": result.workers,
        "flips": result.flips, "by_kind": [(f.before, f.after, f.leads) for f in result.by_kind],
        "before_pct": result.before.rate_pct, "after_pct": result.after.rate_pct,
        "stopped": o.stopped if o else None, "lost_sql": o.lost_sql if o else None,
        "peak_rss_mb_main": main_mb, "peak_rss_mb_worker": worker_mb, "simulate_cpu_s": cpu,
    }))  # fmt: skip


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(db: Path, candidate: Path, workers: int | None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--run-only", str(db), "--candidate", str(candidate)]
    if workers:
        command += ["--workers", str(workers)]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"the simulation failed: {output}")
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    figures["process_wall_s"] = time.perf_counter() - start
    figures["cpu_s"] = usage.ru_utime + usage.ru_stime  # the child's and its workers'
    figures["peak_rss_mb"] = max(figures["peak_rss_mb_main"], figures["peak_rss_mb_worker"])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--db", type=Path, default=None, help="keep (or reuse) the log here")
    parser.add_argument("--workers", type=int, default=None, help="simulation processes")
    parser.add_argument("--candidate", type=Path,
                        default=ROOT / "rules" / "examples" / "sal_stricter.toml")  # fmt: skip
    parser.add_argument("--run-only", type=Path, default=None, help=argparse.SUPPRESS)
    smoke(parser, decisions=2_000)  # SYNC_AGENT_BENCH_SMOKE=1: a few seconds (README test)
    args = parser.parse_args()
    if args.run_only:
        run_only(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.db"
        if db.exists() and _stored(db) >= args.decisions:
            print(f"reusing {db} ({_stored(db):,} stored decisions)")
        else:
            db.unlink(missing_ok=True)
            start = time.perf_counter()
            counts = generate(db, args.decisions, max(1, os.cpu_count() or 1))
            print(f"generated {db} in {time.perf_counter() - start:.1f} s: {counts}")
        figures = measure(db, args.candidate, args.workers)
        size_mb = db.stat().st_size / 2**20
    rate = figures["snapshots"] / figures["wall_s"]
    print(f"stored decisions: {_count_note(figures)}; log {size_mb:.0f} MB")
    print(f"candidate {args.candidate.name}: {figures['flips']:,} flips {figures['by_kind']}; "
          f"MQL→SAL {figures['before_pct']} % → {figures['after_pct']} %; "
          f"stopped {figures['stopped']}, lost SQLs {figures['lost_sql']}")  # fmt: skip
    print(f"{figures['snapshots']:,} snapshots in {figures['wall_s']:.2f} s with "
          f"{figures['workers']} worker(s) = {rate:,.0f}/s (target >= 20,000); "
          f"{figures['simulate_cpu_s']:.1f} CPU s in simulate() ({figures['cpu_s']:.1f} with "
          f"start-up); peak RSS {figures['peak_rss_mb_main']:.0f} MB "
          f"(main), {figures['peak_rss_mb_worker']:.0f} MB (largest worker)")  # fmt: skip
    emit({
        "snapshots": figures["snapshots"],
        "wall_s": round(figures["wall_s"], 2),
        "snapshots_per_s": round(rate),
        "peak_rss_mb": round(figures["peak_rss_mb"], 1),
        "cpu_s": round(figures["cpu_s"], 2),
        "simulate_cpu_s": round(figures["simulate_cpu_s"], 2),
        "snapshots_per_cpu_s": round(figures["snapshots"] / figures["simulate_cpu_s"]),
        "workers": figures["workers"],
    })  # fmt: skip


def _count_note(figures: dict[str, Any]) -> str:
    return f"{figures['snapshots']:,} leads' latest (plus older and dry-run rows skipped)"


if __name__ == "__main__":
    main()
