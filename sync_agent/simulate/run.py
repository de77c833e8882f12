"""``simulate()``: re-decide the audit log's snapshots under a candidate, in parallel.

The work is cut into id ranges of the log (:mod:`sync_agent.simulate.log`), each
re-decided by :func:`~sync_agent.simulate.tally.tally_rows` with its own read-only
connection; their tallies merge in id order, so the result is the same with one process
or several. Re-deciding is pure Python (~45 µs a snapshot with the fast verdict, read and
parse included), so large logs use one process per CPU core (up to :data:`MAX_WORKERS`);
small ones stay in this process, where starting workers would cost more than it saves.

Worker processes are forked on Linux when this process runs a single thread (they inherit
the compiled candidate); otherwise they are spawned and load the candidate from its file,
checking that its content hash has not changed in between.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from sync_agent.rules import Ruleset, load_ruleset
from sync_agent.simulate import log
from sync_agent.simulate.log import FOREVER, LogFacts, SimulationError, Window
from sync_agent.simulate.result import (
    Simulation,
    flips,
    rate,
    recorded_rules,
    sales_outcomes,
)
from sync_agent.simulate.tally import ACCEPTED, Disagreement, Tally, tally_rows
from sync_agent.simulate.verdict import Verdict, compile_verdict

#: Below this many decisions in the window, one process is faster than starting workers.
PARALLEL_FROM = 20_000
MAX_WORKERS = 8
#: Id ranges per worker: several, so that a worker slowed down by a busy neighbour does
#: not hold up the end of the simulation; and at most about RANGE_ROWS decisions each
#: (around a second of work), which bounds how long Ctrl-C waits.
RANGES_PER_WORKER = 4
RANGE_ROWS = 10_000

#: Leads checked against the engine besides the examples: one in CHECK_EVERY (by id).
CHECK_EVERY = 64

#: Candidates compiled in this process, by content hash (forked workers inherit them).
_LOADED: dict[str, Ruleset] = {}
_VERDICTS: dict[str, Verdict | None] = {}


@dataclass(frozen=True)
class _Task:
    """One id range for one process (picklable: the candidate travels by path and hash)."""

    db: str
    window: Window
    lo: int
    hi: int
    ruleset_path: str | None
    ruleset_hash: str
    now: datetime | None
    limit: int
    with_outcomes: bool
    fast: bool  # outcome and score from the fast verdict, checked against the engine
    check_every: int


def simulate(
    audit_db: str | Path,
    candidate: Ruleset,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
    pipeline: str | None = None,
    limit: int = 10,
    workers: int | None = None,
    live_rulesets: dict[str, str] | None = None,
    exact: bool = False,
) -> Simulation:
    """Re-decide each lead's latest non-dry-run decision in ``[since, until)`` (one
    ``pipeline`` or all) under ``candidate``, at its own decision time or at ``now``.

    ``limit``: examples kept per kind of flip. ``workers``: processes (None: one per CPU
    core for large logs, this process for small ones). ``live_rulesets``: pipeline ->
    hash of the ruleset its configuration names now, shown beside the recorded hashes.
    ``exact``: decide every lead with ``Ruleset.evaluate`` instead of the fast verdict
    (which is checked against it anyway). Naive datetimes are UTC. Raises
    :class:`SimulationError` when the log cannot be read; an empty window is not an error
    (the result's ``message`` says so).
    """
    path = Path(audit_db)
    since, until, now = _utc(since), _utc(until), _utc(now)
    result = Simulation.empty(
        str(path), _describe(candidate), since, until, pipeline, now, limit, live_rulesets
    )
    window = Window(result.since or "", result.until or FOREVER, pipeline)
    try:
        facts = log.read_facts(path, window)
        result.decisions_in_window = facts.in_window
        if not facts.in_window:
            result.message = _nothing(facts, result)
            return result
        # Decisions recorded from now on (a running agent) are left out of every range.
        window = replace(window, last_id=facts.last_id)
        result.workers = _workers(workers, facts, candidate)
        run = partial(_run, path, window, facts, candidate, now, limit, result.workers)
        try:
            tally = run(result.notes, fast=not exact)
        except Disagreement as exc:
            result.notes.append(
                f"the fast verdict disagreed with the rules engine ({exc}): every lead was "
                "re-decided with the engine instead; please report this"
            )
            tally = run(result.notes, fast=False)
    except sqlite3.Error as exc:
        raise SimulationError(f"cannot read the audit log {path}: {exc}") from None
    return _fill(result, tally, facts, candidate)


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _describe(candidate: Ruleset) -> dict[str, str | None]:
    shown = str(candidate.path) if candidate.path is not None else None
    return {"name": candidate.name, "hash": candidate.hash, "path": shown}


def _nothing(facts: LogFacts, result: Simulation) -> str:
    if not facts.decisions:
        return (f"the audit log {result.audit_db} has no decisions yet (dry runs aside): "
                "nothing to re-decide; run `sync-agent run` first")  # fmt: skip
    scope = [f"since {result.since}" if result.since else "",
             f"until {result.until}" if result.until else "",
             f"pipeline {result.pipeline}" if result.pipeline else ""]  # fmt: skip
    where = ", ".join(s for s in scope if s)
    return (f"no decision in the window ({where}); the log has {facts.decisions:,} "
            "decision(s) (dry runs aside) outside it")  # fmt: skip


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _workers(requested: int | None, facts: LogFacts, candidate: Ruleset) -> int:
    if requested is not None:
        count = max(1, requested)
    elif facts.in_window < PARALLEL_FROM:
        count = 1
    else:
        count = min(_cpus(), MAX_WORKERS)
    if count > 1 and candidate.path is None and _start_method() != "fork":
        count = 1  # a spawned worker could not load a candidate that has no file
    return count


def _start_method() -> str:
    """fork (cheap, inherits the compiled candidate) on Linux, unless threads make it
    unsafe; spawn elsewhere (macOS system libraries do not survive a fork)."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _ranges(first: int, last: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` consecutive id ranges covering ``first..last``."""
    size = max(1, -(-(last - first + 1) // parts))
    return [(lo, min(last, lo + size - 1)) for lo in range(first, last + 1, size)]


def _run(
    path: Path,
    window: Window,
    facts: LogFacts,
    candidate: Ruleset,
    now: datetime | None,
    limit: int,
    workers: int,
    notes: list[str],
    *,
    fast: bool,
) -> Tally:
    parts = 1 if workers == 1 else max(workers * RANGES_PER_WORKER, facts.in_window // RANGE_ROWS)
    ranges = _ranges(facts.first_id, facts.last_id, parts)
    source = str(candidate.path) if candidate.path else None
    tasks = [
        _Task(str(path), window, lo, hi, source, candidate.hash, now, limit,
              bool(facts.outcomes), fast, CHECK_EVERY)
        for lo, hi in ranges
    ]  # fmt: skip
    _LOADED[candidate.hash] = candidate
    try:
        return _gather(tasks, workers, limit, notes)
    finally:
        _LOADED.pop(candidate.hash, None)


def _gather(tasks: list[_Task], workers: int, limit: int, notes: list[str]) -> Tally:
    """Run the ranges and merge their tallies in id order.

    On Ctrl-C (or an error) the ranges not started are cancelled and the running ones,
    a second or so of work each, are waited for: the workers ignore SIGINT, so that the
    terminal shows one "Aborted!" and no traceback per process."""
    total = Tally()
    if workers > 1:
        try:
            context = multiprocessing.get_context(_start_method())
            with ProcessPoolExecutor(workers, mp_context=context, initializer=_quiet) as pool:
                for part in pool.map(run_range, tasks):
                    total.merge(part, limit)
            return total
        except (OSError, BrokenProcessPool) as exc:  # no processes to be had, or one died
            notes.append(f"worker processes failed ({type(exc).__name__}: {exc}); "
                         "re-decided in this process instead")  # fmt: skip
            total = Tally()
    for one in tasks:
        total.merge(run_range(one), limit)
    return total


def _quiet() -> None:
    """In a worker: Ctrl-C is the parent's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ruleset(task: _Task) -> Ruleset:
    """The candidate in this process: inherited, or loaded once from its file."""
    found = _LOADED.get(task.ruleset_hash)
    if found is None:
        if task.ruleset_path is None:  # pragma: no cover - _workers prevents it
            raise SimulationError("the candidate ruleset has no file to load in a worker")
        found = load_ruleset(task.ruleset_path)
        if found.hash != task.ruleset_hash:
            raise SimulationError(
                f"{task.ruleset_path} changed while the simulation ran: run it again"
            )
        _LOADED[found.hash] = found
    return found


def _verdict(ruleset: Ruleset) -> Verdict | None:
    """The candidate's fast verdict, compiled once per process (None: use the engine)."""
    if ruleset.hash not in _VERDICTS:
        _VERDICTS.clear()
        _VERDICTS[ruleset.hash] = compile_verdict(ruleset.spec)
    return _VERDICTS[ruleset.hash]


def run_range(task: _Task) -> Tally:
    """Re-decide one id range (in a worker process, or in this one)."""
    ruleset = _ruleset(task)
    verdict = _verdict(ruleset) if task.fast else None
    with (
        closing(log.connect(Path(task.db))) as conn,
        closing(log.snapshots(conn, task.window, task.lo, task.hi, task.with_outcomes)) as pages,
    ):  # the cursor closes before its connection, even on an error
        return tally_rows(
            pages, ruleset, task.now, task.limit, partial(log.recorded_detail, conn),
            verdict=verdict, check_every=task.check_every,
        )  # fmt: skip


def _fill(result: Simulation, t: Tally, facts: LogFacts, candidate: Ruleset) -> Simulation:
    """The result's figures from the merged tally."""
    snapshots = sum(t.pairs.values())
    before = sum(n for (b, _), n in t.pairs.items() if b == ACCEPTED)
    after = sum(n for (_, a), n in t.pairs.items() if a == ACCEPTED)
    result.snapshots = snapshots
    result.by_kind = flips(t)
    result.flips = sum(f.leads for f in result.by_kind)
    result.score_changed = t.score_changed
    result.before, result.after = rate(before, snapshots), rate(after, snapshots)
    result.recorded = recorded_rules(t, candidate.hash)
    result.outcomes, result.outcomes_note = sales_outcomes(t, facts.outcomes)
    result.examples = [e for kind in result.by_kind for e in t.examples.get(
        (kind.before, kind.after), [])]  # fmt: skip
    result.pruned, result.unreadable, result.errors = t.pruned, t.unreadable, t.errors
    result.first_decided_at = t.first_at or None
    result.last_decided_at = t.last_at or None
    result.notes[:0] = _notes(result)
    if not snapshots:
        result.message = "no snapshot in the window could be re-decided"
    return result


def _notes(r: Simulation) -> list[str]:
    """What the figures do not say by themselves."""
    notes: list[str] = []
    live = {h for h in r.live_rulesets.values() if h}
    other = sum(x.leads for x in r.recorded if not x.is_candidate)
    stale = sum(x.leads for x in r.recorded if not x.is_candidate and x.hash not in live)
    if r.snapshots and not other:
        notes.append("the candidate is the very ruleset (same content hash) that made every "
                     "recorded decision here")  # fmt: skip
    elif live and not stale:
        notes.append("every recorded decision here came from a ruleset that is live now: the "
                     "flips are what the candidate changes")  # fmt: skip
    elif stale:
        what = "is not live now (edited since)" if live else "is not the candidate"
        notes.append(
            f'"before" is what was recorded, not a re-decision: {stale:,} of {r.snapshots:,} '
            f"leads were decided by a ruleset that {what}, see the hashes: their flips "
            "include the edits made since then, not only the candidate's"
        )
    if r.now:
        notes.append(
            f"every lead is re-decided at {r.now}, not at its own decision time: date "
            "conditions (within_days, older_than_days, days_since_*) can flip leads by "
            "themselves"
        )
    if r.pruned:
        notes.append(f"{r.pruned:,} accepted lead(s) left out: `sync-agent prune` emptied "
                     "their snapshot, so they cannot be re-decided")  # fmt: skip
    if r.unreadable:
        notes.append(f"{r.unreadable:,} snapshot(s) could not be re-decided and are left out "
                     f"(first: {r.errors[0] if r.errors else '?'})")  # fmt: skip
    return notes
