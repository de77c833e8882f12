"""Replay dead letters: writes parked after ``max_attempts`` go back to their sinks now.

Each replayed write gets a fresh attempt budget and is sent with ``recovering=True`` (an
earlier attempt may have partly landed), so a note or task is never created twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from sync_agent.config import Config
from sync_agent.engine.once import opened, prepare
from sync_agent.engine.run import Clock, RunContext, RunSummary, _finish, utc_now
from sync_agent.logs import get_logger


def replay(
    config: Config,
    *,
    pipeline: str | None = None,
    dead_letter_ids: Sequence[int] | None = None,
    clock: Clock | None = None,
) -> list[RunSummary]:
    """Requeue dead letters (all, or those ids) and write them once; one summary per pipeline."""
    clock = clock or utc_now
    out: list[RunSummary] = []
    with opened(config, lock=True) as audit:
        for spec in config.selected(pipeline):
            ids = audit.requeue_dead(spec.name, list(dead_letter_ids or []) or None, clock())
            if not ids:
                continue
            built = prepare(config, audit, spec, "replay", clock)
            if isinstance(built, RunSummary):
                out.append(built)
                continue
            summary = RunSummary(spec.name, "replay")
            summary.run_id = audit.start_run(
                spec.name, "replay", clock(), built.rules_name, built.rules_hash
            )
            ctx = RunContext(config, audit, built, summary, clock=clock)
            ctx.log = get_logger(
                "sync_agent.engine", run_id=summary.run_id, pipeline=spec.name, mode="replay"
            )
            writeback = ctx.writeback()
            try:
                for start in range(0, len(ids), spec.batch_size):
                    chunk = ids[start : start + spec.batch_size]
                    items = audit.due_writes(spec.name, clock(), ids=chunk, limit=len(chunk))
                    summary.resumed += len(items)
                    writeback.write_items(items)
            except Exception as exc:
                from sync_agent.engine.run import classify

                summary.outcome, summary.error = classify(exc), f"{type(exc).__name__}: {exc}"
            _finish(ctx)
            out.append(summary)
    return out
