"""Backfill: a one-shot run over a window of history, with its own resumable checkpoint.

The checkpoint is a cursor of kind ``backfill:<id>`` beside the pipeline's regular one;
re-running the same ``backfill --since X [--until Y]`` resumes an unfinished one where it
stopped (a budget stop, Ctrl-C, a crash), with the window's end fixed at its first start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from sync_agent.config import Config
from sync_agent.engine.once import each_pipeline, opened
from sync_agent.engine.run import Clock, Progress, RunSummary, execute, utc_now


def to_datetime(value: date | datetime | str) -> datetime:
    """A DATE or ISO datetime (naive = UTC) as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def to_ms(value: date | datetime | str) -> int:
    return int(to_datetime(value).timestamp() * 1000)


def estimate_total(done: int, since_ms: int, until_ms: int, at: int | None) -> int | None:
    """Leads in the window, extrapolated from how far in time the cursor (at ``at``) moved."""
    if at is None or until_ms <= since_ms or done <= 0:
        return None
    fraction = (min(at, until_ms) - since_ms) / (until_ms - since_ms)
    return max(done, int(done / fraction)) if fraction >= 0.02 else None


def backfill(
    config: Config,
    *,
    since: date | datetime | str,
    until: date | datetime | str | None = None,
    pipeline: str | None = None,
    dry_run: bool = False,
    reevaluate: bool = False,
    progress: Progress | None = None,
    clock: Clock | None = None,
    stop: threading.Event | None = None,
    writer: str = "auto",
) -> list[RunSummary]:
    """Decide (and unless ``dry_run`` write back) every MQL modified in [since, until).

    ``writer``: ``auto`` writes from a process of its own when the source counts at least
    :data:`~sync_agent.engine.run.PROCESS_WRITER_MIN` leads to read (two cores then decide
    and write at once), from a thread otherwise; ``thread`` or ``process`` choose.
    """
    clock = clock or utc_now
    mode = "dry-run" if dry_run else "backfill"
    since_ms = to_ms(since)
    until_ms = to_ms(until) if until is not None else int(clock().timestamp() * 1000)
    requested = to_datetime(until).isoformat() if until is not None else None
    out: list[RunSummary] = []
    with opened(config, lock=not dry_run) as audit:
        runs = each_pipeline(
            config,
            audit,
            pipeline,
            mode,
            clock,
            dry_run=dry_run,
            progress=progress,
            stop=stop,
            reevaluate=reevaluate,
        )
        for spec, ctx in runs:
            if isinstance(ctx, RunSummary):
                out.append(ctx)
                continue
            ctx.writer = writer
            spec_of = ctx.pipeline.instance.spec
            if dry_run:
                ctx.estimate = _estimator(since_ms, until_ms, spec_of.position_ms)
                start = spec_of.start_position(since_ms)
                out.append(execute(ctx, cursor_kind="dry-run", start=start, until_ms=until_ms))
                continue
            job, _resumed = audit.open_backfill(
                spec.name, since_ms, until_ms, requested, reevaluate, clock()
            )
            start_ms, end_ms = audit.backfill_window(job)
            kind = f"backfill:{job}"
            start = audit.get_cursor(spec.name, kind) or spec_of.start_position(start_ms)
            at = spec_of.position_ms(start)
            ctx.estimate = _estimator(
                at if at is not None else start_ms, end_ms, spec_of.position_ms
            )
            summary = execute(ctx, cursor_kind=kind, start=start, until_ms=end_ms)
            if summary.outcome in ("ok", "failures"):
                audit.finish_backfill(job, clock())
            out.append(summary)
    return out


def _estimator(
    since_ms: int, until_ms: int, where: Callable[[Mapping[str, Any]], int | None]
) -> Callable[[int, Mapping[str, Any]], int | None]:
    return lambda done, position: estimate_total(done, since_ms, until_ms, where(position))
