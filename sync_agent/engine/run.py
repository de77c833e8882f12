"""One pass of a pipeline through the outbox — exactly-once under ``kill -9`` at any instant.

1. Resume writes earlier runs left open (pending, in flight, retryable whose backoff
   passed); anything already handed to a sink once is retried with ``recovering=True``.
2. Read pages from the cursor. Per page, in ONE transaction: the decisions, their pending
   writes (one per sink), malformed leads, and the page's cursor. Leads already accepted are
   not re-decided (only backfill ``--reevaluate`` does that) and an unchanged lead version
   already decided under the same ruleset is skipped, so re-reads are idempotent.
3. The page's writes go to the writer thread (mark in flight → sink → results), so reading
   page N+1 overlaps writing page N. A crash between any two steps leaves either the
   outbox row (resumed next run) or its committed result: no handoff lost, none twice.

A dry run decides and records (mode ``dry-run``), writes nothing and never saves a cursor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog

from connectors.base import Cursor, Page
from sync_agent.audit.db import AuditLog, NewDecision
from sync_agent.config import Config
from sync_agent.engine.handoff import (
    compose_note,
    fingerprinted,
    handoff_key,
    printable_id,
    same_content,
)
from sync_agent.engine.outcomes import read_back, summarize
from sync_agent.engine.pipeline import Pipeline
from sync_agent.engine.writeback import AsyncWriter, WriteBack, WriteCounts, WritePolicy
from sync_agent.errors import (
    AuthError,
    BudgetExhausted,
    FatalError,
    RetriableError,
    RulesError,
    SkippableError,
    StopSignalled,
    SyncAgentError,
)
from sync_agent.logs import Logger, get_logger
from sync_agent.model import MQL, Outcome
from sync_agent.prefetch import Prefetcher
from sync_agent.sla.watch import watch
from sync_agent.text import printable

Clock = Callable[[], datetime]
Progress = Callable[[int, int | None], None]


class Writer(Protocol):
    """What the page loop hands writes to: :class:`AsyncWriter` or a writer process."""

    error: BaseException | None

    def submit(self, items: Sequence[Any]) -> None: ...

    def close(self) -> None: ...


#: Run outcomes and the exit code each maps to (see ``sync_agent.cli``).
EXIT_CODES = {
    "ok": 0,
    "interrupted": 5,  # stopped by SIGTERM/Ctrl-C before the end: not done, run again
    "failures": 1,
    "source_error": 1,
    "auth": 1,
    "rules": 1,
    "fatal": 1,
    "error": 1,
    "locked": 3,
    "budget": 4,
}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RunSummary:
    """What one run of one pipeline did; ``exit_code`` is what a cron job should see."""

    pipeline: str
    mode: str
    run_id: int = 0
    outcome: str = "ok"
    error: str = ""
    pages: int = 0
    read: int = 0
    decided: int = 0
    accepted: int = 0
    rejected: int = 0
    review: int = 0
    skipped_accepted: int = 0
    skipped_unchanged: int = 0
    malformed: int = 0
    resumed: int = 0
    writes: WriteCounts = field(default_factory=WriteCounts)
    #: HTTP requests per connector instance (what the vendors count against budgets)
    api_calls: dict[str, int] = field(default_factory=dict)
    #: outcome events read back after the writes, by kind (new ones only)
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.outcome, 1)

    def counts(self) -> dict[str, int]:
        """Flat counts for the audit log, logs and ``--json`` output."""
        return {
            "pages": self.pages,
            "read": self.read,
            "decided": self.decided,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "review": self.review,
            "skipped_accepted": self.skipped_accepted,
            "skipped_unchanged": self.skipped_unchanged,
            "malformed": self.malformed,
            "resumed": self.resumed,
            "written": self.writes.written,
            "write_skipped": self.writes.skipped,
            "waiting": self.writes.waiting,
            "retryable": self.writes.retryable,
            "dead": self.writes.dead,
            "write_calls": self.writes.calls,
            "api_calls": sum(self.api_calls.values()),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "mode": self.mode,
            "run_id": self.run_id,
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "error": self.error,
            **self.counts(),
            "api_calls_by_system": dict(self.api_calls),
            "not_written": self.not_written(),
            "outcomes_read": dict(self.outcomes),
        }

    def not_written(self) -> dict[str, dict[str, int]]:
        """Writes skipped or waiting, by sink and reason (the run summary names them)."""
        out: dict[str, dict[str, int]] = {}
        for (sink, reason), n in sorted(self.writes.reasons.items()):
            out.setdefault(sink, {})[reason] = n
        return out


@dataclass
class RunContext:
    """Everything one run needs; built by ``run_once``/``backfill``/``replay``."""

    config: Config
    audit: AuditLog
    pipeline: Pipeline
    summary: RunSummary
    clock: Clock = utc_now
    dry_run: bool = False
    reevaluate: bool = False
    progress: Progress | None = None
    stop: threading.Event | None = None
    total_hint: int | None = None
    #: (leads done, cursor position) -> estimated total, for the progress bar's ETA
    estimate: Callable[[int, Mapping[str, Any]], int | None] | None = None
    #: read outcomes back from the sinks after the writes (incremental runs: ``run_once``)
    read_outcomes: bool = False
    #: where writes run: ``thread`` (beside the page loop), ``process`` (a writer process,
    #: :mod:`sync_agent.engine.writer_process`) or ``auto`` (a process for a long read)
    writer: str = "thread"
    #: HTTP requests a writer process made, by connector instance (added to the summary's)
    offloaded_calls: dict[str, int] = field(default_factory=dict)
    log: Logger = field(default_factory=lambda: get_logger("sync_agent.engine"))

    def writeback(self) -> WriteBack:
        policy = WritePolicy(
            self.config.max_attempts,
            self.config.backoff_base_seconds,
            self.config.backoff_max_seconds,
            self.pipeline.config.batch_size,
            self.config.reconcile_after_seconds,
            self.config.follow_up_sla_hours,
            self.config.wait_for_record_hours * 3600,
            self.config.wait_retry_minutes * 60,
            sla=self.config.sla,
        )
        return WriteBack(
            self.audit, self.pipeline.sinks, policy, self.clock, self.log, self.summary.writes
        )


def classify(exc: BaseException) -> str:
    """The run outcome for an error that stopped it."""
    if isinstance(exc, StopSignalled):
        return "interrupted"
    if isinstance(exc, BudgetExhausted):
        return "budget"
    if isinstance(exc, AuthError):
        return "auth"
    if isinstance(exc, RulesError):
        return "rules"
    if isinstance(exc, FatalError):
        return "fatal"
    if isinstance(exc, RetriableError):
        return "source_error"
    return "error"


def execute(
    ctx: RunContext,
    *,
    cursor_kind: str | None,
    start: Mapping[str, Any] | None,
    until_ms: int | None = None,
) -> RunSummary:
    """Run from ``start`` (resume, read, decide, record, write); finish the run row.

    ``cursor_kind=None`` keeps no cursor (runs over records named by id)."""
    s = ctx.summary
    s.run_id = ctx.audit.start_run(
        ctx.pipeline.name, s.mode, ctx.clock(), ctx.pipeline.rules_name, ctx.pipeline.rules_hash
    )
    ctx.log = get_logger(
        "sync_agent.engine", run_id=s.run_id, pipeline=ctx.pipeline.name, mode=s.mode
    )
    try:
        # Bound for every logger on this thread and the writer's (connectors included).
        with structlog.contextvars.bound_contextvars(run_id=s.run_id, pipeline=ctx.pipeline.name):
            if not ctx.dry_run:
                preflight(ctx)
                resume(ctx)
            if s.outcome != "interrupted":
                _read_loop(ctx, cursor_kind, start, until_ms)
            if ctx.read_outcomes and not ctx.dry_run and s.outcome != "interrupted":
                read_back_outcomes(ctx)
            if not ctx.dry_run and ctx.config.sla is not None and s.outcome != "interrupted":
                watch(ctx)
    except BaseException as exc:
        s.outcome, s.error = classify(exc), f"{type(exc).__name__}: {exc}"
        if s.outcome == "error" and isinstance(exc, Exception):
            ctx.log.exception("run_crashed")
        if not isinstance(exc, Exception):
            _finish(ctx)
            raise
    _finish(ctx)
    return s


def _finish(ctx: RunContext) -> None:
    s = ctx.summary
    s.api_calls = api_calls(ctx.pipeline)
    for name, calls in ctx.offloaded_calls.items():
        s.api_calls[name] = s.api_calls.get(name, 0) + calls
    close_parts(ctx)
    if s.outcome == "ok" and (s.writes.retryable or s.writes.dead):
        s.outcome = "failures"
    ctx.audit.finish_run(s.run_id, ctx.clock(), s.outcome, s.counts(), s.error)
    ctx.log.info(
        "run_finished",
        outcome=s.outcome,
        error=s.error or None,
        rules_hash=ctx.pipeline.rules_hash,
        **s.counts(),
    )


def api_calls(pipeline: Pipeline) -> dict[str, int]:
    """HTTP requests so far by connector instance (a source and a sink may share one)."""
    out: dict[str, int] = {}
    for name, part in [(pipeline.config.source, pipeline.source), *pipeline.sinks.items()]:
        calls = getattr(part, "api_calls", None)
        if isinstance(calls, int):
            out[name] = out.get(name, 0) + calls
    return out


def read_back_outcomes(ctx: RunContext) -> None:
    """After the writes: what sales did with earlier handoffs (never fails the run)."""
    results = read_back(ctx.config, ctx.audit, ctx.pipeline.name, ctx.pipeline.sinks,
                        ctx.clock, ctx.log)
    ctx.summary.outcomes = summarize(results)


def preflight(ctx: RunContext) -> None:
    """Check every sink can be written before the first lead is read (a wrong secret must not
    cost a whole read and decide): each sink's optional ``preflight()``."""
    for name, sink in ctx.pipeline.sinks.items():
        check = getattr(sink, "preflight", None)
        if callable(check):
            try:
                check()
            except SyncAgentError as exc:
                ctx.log.error("preflight_failed", sink=name, error=str(exc))
                raise


def close_parts(ctx: RunContext) -> None:
    """Let the source and sinks keep what must outlive the run (e.g. the day's API usage)."""
    for part in [ctx.pipeline.source, *ctx.pipeline.sinks.values()]:
        close = getattr(part, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # a connector's bookkeeping must not turn a good run bad
                ctx.log.exception("connector_close_failed")


def resume(ctx: RunContext) -> None:
    """Step 1: finish writes earlier runs left open, oldest first, in batches."""
    writeback = ctx.writeback()
    last = 0
    while True:
        if ctx.stop is not None and ctx.stop.is_set():  # a backlog must not outlast SIGTERM
            ctx.summary.outcome = "interrupted"
            ctx.log.info("stop_requested", during="resume")
            return
        items = ctx.audit.due_writes(
            ctx.pipeline.name, ctx.clock(), after_id=last, limit=ctx.pipeline.config.batch_size
        )
        if not items:
            return
        ctx.summary.resumed += len(items)
        writeback.write_items(items)
        last = items[-1].write_id


def _read_loop(
    ctx: RunContext, cursor_kind: str | None, start: Mapping[str, Any] | None,
    until_ms: int | None,
) -> None:
    """Read and record pages; hand writes to the writer thread in batches of ``batch_size``.

    Pages are committed (with their cursor) one by one; their writes are grouped so each
    sink call carries up to ``batch_size`` handoffs (fewer API calls per lead).
    """
    writer: Writer | None = None
    pending: list[Any] = []
    pages = Prefetcher(ctx.pipeline.source.read(Cursor.from_dict(start), until_ms=until_ms))
    try:
        for page in pages:
            pending += record_page(ctx, page, cursor_kind)
            if not ctx.dry_run and len(pending) >= ctx.pipeline.config.batch_size * len(
                ctx.pipeline.sinks or (1,)
            ):
                writer = writer or start_writer(ctx, page)
                # Taken off ``pending`` before it is handed over: a second Ctrl-C in between
                # must not make the ``finally`` below send it again (it is in the outbox).
                batch, pending = pending, []
                writer.submit(batch)
            if ctx.progress:
                if page.remaining is not None:  # the source's own count beats a guess
                    ctx.total_hint = ctx.summary.read + page.remaining
                elif ctx.estimate is not None:
                    ctx.total_hint = ctx.estimate(ctx.summary.read, page.cursor.to_dict())
                ctx.progress(ctx.summary.read, ctx.total_hint)
            if ctx.stop is not None and ctx.stop.is_set():
                ctx.summary.outcome = "interrupted"
                ctx.log.info("stop_requested")
                break
    finally:
        pages.close()
        if not ctx.dry_run and pending and writer is None:
            writer = start_writer(ctx, None)
        if writer is not None:
            # What was recorded still goes out, even when the source failed mid-read
            # (a writer that already failed fatally is not fed: close() raises its error).
            try:
                if pending and writer.error is None:
                    batch, pending = pending, []
                    writer.submit(batch)
            finally:
                try:
                    writer.close()
                finally:  # its calls count even when it stopped on an error
                    ctx.offloaded_calls = dict(getattr(writer, "calls", {}))


#: ``auto``: a writer process when the run looks this long (leads); its start costs about a
#: second of CPU, which a short run would not win back.
PROCESS_WRITER_MIN = 2000


def expected_leads(ctx: RunContext, page: Page | None) -> int:
    """How many leads this run will read, as far as can be told: read so far plus the
    source's own count of what remains, or the backfill's extrapolation over its window,
    whichever is larger (what was read, when neither is known or the read is over:
    ``page`` None)."""
    if page is None:
        return ctx.summary.read
    known = ctx.summary.read + (page.remaining or 0)
    guess = ctx.estimate(ctx.summary.read, page.cursor.to_dict()) if ctx.estimate else None
    return max(known, guess or 0)


def wants_process(writer: str, expected: int) -> bool:
    """Whether a run with this ``writer`` setting and ``expected`` leads writes from a process."""
    return writer == "process" or (writer == "auto" and expected >= PROCESS_WRITER_MIN)


def start_writer(ctx: RunContext, page: Page | None) -> Writer:
    """The writer for this run, started with its first batch: a thread, or a process when
    asked (``process``) or when ``auto`` expects a long run (:func:`expected_leads`). A
    process that cannot serve these sinks (a connector type that is not the installed
    one, say) falls back to the thread, saying why."""
    expected = expected_leads(ctx, page)
    if wants_process(ctx.writer, expected):
        from sync_agent.engine import writer_process

        why = writer_process.unavailable(ctx.config, tuple(ctx.pipeline.sinks))
        if ctx.clock is not utc_now:  # a test's clock cannot be shared with another process
            why = why or "the run has a clock of its own"
        if not why:
            try:
                started = writer_process.ProcessWriter(
                    ctx.writeback(), ctx.config, ctx.pipeline.name
                )
            except Exception as exc:  # no process (a pids limit, a context that won't pickle)
                why = f"it could not start: {type(exc).__name__}: {exc}"
            else:
                ctx.log.info("writer_process_started", expected_leads=expected)
                return started
        ctx.log.warning("writer_process_unavailable", reason=why)
    return AsyncWriter(ctx.writeback())


def record_page(ctx: RunContext, page: Page, cursor_kind: str | None) -> list[Any]:
    """Decide one page and commit decisions + pending writes + malformed + cursor together."""
    s, now = ctx.summary, ctx.clock()
    mqls = list({m.key: m for m in map(printable_id, page.mqls)}.values())
    priors = ctx.audit.priors(ctx.pipeline.name, [m.key for m in mqls])
    malformed = [(printable(str(raw)), printable(str(reason))) for raw, reason in page.malformed]
    new: list[NewDecision] = []
    counts = {"accepted": 0, "rejected": 0, "review": 0}
    sinks = tuple(ctx.pipeline.sinks or ctx.pipeline.config.sinks)
    for mql in mqls:
        prior = priors.get(mql.key)
        open_sinks = [k for k in sinks if prior is None or not prior.accepted_by(k)]
        if not open_sinks and not ctx.reevaluate:
            s.skipped_accepted += 1  # handed off to every sink already (by any pipeline)
            continue
        mql, fingerprint = fingerprinted(mql)
        if (
            prior is not None
            and not ctx.reevaluate
            and prior.rules_hash == ctx.pipeline.rules_hash
            and same_content(prior.fingerprint, mql, fingerprint)
        ):
            s.skipped_unchanged += 1
            continue
        decided = _decide(ctx, mql, now, malformed)
        if decided is None:
            continue
        d = decided.decision
        targets = tuple(
            k for k in open_sinks
            if prior is None or not prior.unchanged_for(k, d.outcome.value, d.score, d.reasons)
        )  # fmt: skip
        new.append(
            NewDecision(
                decided.mql, d, decided.handoff_key, decided.note,
                sinks=targets, fingerprint=fingerprint,
            )
        )  # fmt: skip
        counts[decided.decision.outcome.value] += 1
    cursor = None if ctx.dry_run or cursor_kind is None else (cursor_kind, page.cursor.to_dict())
    items = ctx.audit.record_page(
        run_id=s.run_id,
        pipeline=ctx.pipeline.name,
        decisions=new,
        malformed=malformed,
        source=ctx.pipeline.source.name,
        now=now,
        cursor=cursor,
        dry_run=ctx.dry_run,
    )
    s.pages += 1
    s.read += len(page.mqls) + len(page.malformed)
    s.decided += len(new)
    s.malformed += len(malformed)
    s.accepted += counts["accepted"]
    s.rejected += counts["rejected"]
    s.review += counts["review"]
    ctx.log.info(
        "batch",
        page=s.pages,
        leads=len(page.mqls),
        decided=len(new),
        malformed=len(malformed),
        queued_writes=len(items),
        **counts,
    )
    return items


@dataclass(frozen=True)
class _Decided:
    mql: MQL
    decision: Any
    handoff_key: str
    note: str


def _decide(
    ctx: RunContext, mql: MQL, now: datetime, malformed: list[tuple[str, str]]
) -> _Decided | None:
    """Evaluate one lead; a lead the rules engine cannot take is recorded as malformed."""
    try:
        decision = ctx.pipeline.evaluate(mql.fields, now)
    except RulesError:
        raise
    except (SkippableError, ValueError, TypeError, KeyError) as exc:
        malformed.append((mql.source_id, f"evaluation failed: {type(exc).__name__}: {exc}"))
        return None
    key = handoff_key(mql, decision)
    note = (  # accepted and review handoffs become a note/task for a person; rejections don't
        compose_note(mql, decision, sla_hours=ctx.config.follow_up_sla_hours, key=key)
        if decision.outcome is not Outcome.REJECTED
        else ""
    )
    return _Decided(mql, decision, key, note)

