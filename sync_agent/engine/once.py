"""``run_once``: one pass of every (or one) pipeline, and the set-up shared with backfill/replay."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sync_agent.audit.db import AuditLog
from sync_agent.config import Config, PipelineConfig
from sync_agent.engine import pipeline as pipelines
from sync_agent.engine.pipeline import Pipeline, build_pipeline
from sync_agent.engine.run import (
    Clock,
    Progress,
    RunContext,
    RunSummary,
    classify,
    execute,
    utc_now,
)
from sync_agent.errors import ConfigError, FatalError
from sync_agent.lock import agent_lock
from sync_agent.logs import get_logger


@contextmanager
def opened(config: Config, *, lock: bool) -> Iterator[AuditLog]:
    """The audit log, under the agent lock when the caller will write to a CRM."""
    with agent_lock(config.audit_db) if lock else nullcontext():
        audit = AuditLog.open(config.audit_db)
        try:
            yield audit
        finally:
            audit.close()


def prepare(
    config: Config,
    audit: AuditLog,
    spec: PipelineConfig,
    mode: str,
    clock: Clock,
    *,
    sinks: bool = True,
) -> Pipeline | RunSummary:
    """Build the pipeline, or record (and return) a failed run: bad ruleset or options."""
    try:
        ruleset = pipelines.load_pipeline_ruleset(config, spec)
        states = audit.connector_states(config)
        return build_pipeline(config, spec, ruleset, sinks=sinks, state=states)
    except (FatalError, ImportError, OSError) as exc:
        summary = RunSummary(
            spec.name, mode, outcome=classify(exc) if isinstance(exc, FatalError) else "fatal"
        )
        summary.error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, ConfigError | FatalError) and getattr(exc, "problems", None):
            summary.error += "; " + "; ".join(str(p) for p in exc.problems)  # type: ignore[attr-defined]
        summary.run_id = audit.start_run(spec.name, mode, clock())
        audit.finish_run(summary.run_id, clock(), summary.outcome, summary.counts(), summary.error)
        get_logger("sync_agent.engine", run_id=summary.run_id, pipeline=spec.name).error(
            "pipeline_unavailable", outcome=summary.outcome, error=summary.error
        )
        return summary


def run_once(
    config: Config,
    *,
    pipeline: str | None = None,
    dry_run: bool = False,
    clock: Clock | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> list[RunSummary]:
    """One pass of each selected pipeline (incremental, from its cursor).

    Raises AgentLocked when another agent holds the database (not for dry runs, which
    never write to a CRM nor move a cursor).
    """
    clock = clock or utc_now
    mode = "dry-run" if dry_run else "run"
    out: list[RunSummary] = []
    with opened(config, lock=not dry_run) as audit:
        runs = each_pipeline(
            config, audit, pipeline, mode, clock, dry_run=dry_run, progress=progress, stop=stop
        )
        for spec, ctx in runs:
            if isinstance(ctx, RunSummary):
                out.append(ctx)
                continue
            # Read up to the run's start only: our own write-backs bump the leads' modification
            # dates, and chasing them would make a run re-read what it just wrote.
            until_ms = int(clock().timestamp() * 1000)
            start = audit.get_cursor(spec.name, "run")
            ctx.read_outcomes = True  # after the writes: what sales did (docs/loop.md)
            out.append(execute(ctx, cursor_kind="run", start=start, until_ms=until_ms))
    return out


def each_pipeline(
    config: Config,
    audit: AuditLog,
    pipeline: str | None,
    mode: str,
    clock: Clock,
    *,
    dry_run: bool,
    progress: Progress | None,
    stop: threading.Event | None,
    reevaluate: bool = False,
) -> Iterator[tuple[PipelineConfig, RunContext | RunSummary]]:
    """Each selected pipeline with its run context, or the failed run of one that can't be built.

    Shared by runs and backfills; stops early once ``stop`` is set (SIGTERM/SIGINT).
    """
    for spec in config.selected(pipeline):
        built = prepare(config, audit, spec, mode, clock, sinks=not dry_run)
        if isinstance(built, RunSummary):
            yield spec, built
        else:
            summary = RunSummary(spec.name, mode)
            yield spec, RunContext(
                config, audit, built, summary, clock=clock, dry_run=dry_run,
                reevaluate=reevaluate, progress=progress, stop=stop,
            )  # fmt: skip
        if stop is not None and stop.is_set():
            return


def exit_code(summaries: list[RunSummary]) -> int:
    """The worst exit code of a list of runs: a run that stopped early (lock, budget, signal)
    wins over plain failures, because running again is what the caller must do next."""
    codes = [s.exit_code for s in summaries] or [0]
    for preferred in (3, 4, 5, 1):
        if preferred in codes:
            return preferred
    return 0

