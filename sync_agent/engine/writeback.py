"""Write-back through the outbox: mark in flight, call the sink, commit the results.

:class:`WriteBack` does it synchronously for a list of outbox items; :class:`AsyncWriter`
runs a WriteBack on one thread fed by a bounded queue, so the page loop can read and
record page N+1 while page N is being written. The first fatal error a sink raises stops
the writer; the page loop sees it on its next submit (or at close) and stops too.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NoReturn

from connectors.base import Sink
from sync_agent.audit.db import AuditLog, OutboxItem, WriteUpdate
from sync_agent.backoff import next_attempt_at
from sync_agent.errors import FatalError, PermanentApiError, RetriableError
from sync_agent.logs import Logger
from sync_agent.model import Handoff, Outcome, WriteResult, WriteState
from sync_agent.reasons import reason_label
from sync_agent.sla.watch import sla_action


@dataclass
class WriteCounts:
    """Write results of one run (shared by the page loop and the writer thread)."""

    written: int = 0
    skipped: int = 0
    waiting: int = 0
    retryable: int = 0
    dead: int = 0
    calls: int = 0
    #: why writes were skipped or are waiting, by sink: {(sink, reason): writes}
    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, state: WriteState, sink: str = "", reason: str = "") -> None:
        if state in _COUNTED:
            with self.lock:
                setattr(self, state.value, getattr(self, state.value) + 1)
                if state in (WriteState.SKIPPED, WriteState.WAITING) and sink:
                    self.reasons[(sink, reason_label(reason))] += 1


_COUNTED = (
    WriteState.WRITTEN, WriteState.SKIPPED, WriteState.WAITING, WriteState.RETRYABLE,
    WriteState.DEAD,
)


@dataclass
class WritePolicy:
    max_attempts: int = 5
    backoff_base: float = 60.0
    backoff_cap: float = 3600.0
    batch_size: int = 200
    #: A write interrupted mid-call (crash, kill) is retried, reconciling, only this long after
    #: it was sent: a CRM's search may index new notes with a delay, and the reconciling search
    #: must see a note that did land, or it would create it again. The wait counts from the
    #: start of the call, so it must also cover the longest call (paced, retried on 429s).
    reconcile_after: float = 600.0
    #: The follow-up SLA every sink states (note text, task due date), in hours.
    follow_up_hours: float = 24.0
    #: A write whose target record does not exist yet (a CRM sync creates leads minutes
    #: later) is tried again every ``wait_retry`` seconds, for ``wait_for`` seconds.
    wait_for: float = 24 * 3600.0
    wait_retry: float = 15 * 60.0
    #: ``[sla]`` (a ``SlaSection``): the deadline and targets of SLA breach actions
    sla: Any = None


class WriteBack:
    """Writes outbox items to their sinks, committing state before and after each call."""

    def __init__(
        self,
        audit: AuditLog,
        sinks: dict[str, Sink],
        policy: WritePolicy,
        clock: Callable[[], datetime],
        log: Logger,
        counts: WriteCounts | None = None,
    ) -> None:
        self.audit = audit
        self.sinks = sinks
        self.policy = policy
        self.clock = clock
        self.log = log
        self.counts = counts or WriteCounts()
        #: Sinks whose whole call failed retryably in this run: later batches for them are
        #: parked without a call (the service is down or throttling; the next run retries).
        self.down: dict[str, RetriableError] = {}

    def write_items(self, items: Sequence[OutboxItem]) -> None:
        """Write ``items`` sink by sink, in batches; a FatalError is recorded, then raised."""
        by_sink: dict[str, list[OutboxItem]] = defaultdict(list)
        for item in items:
            by_sink[item.sink].append(item)
        for sink_name, group in by_sink.items():
            for recovering in (True, False):
                for acting in (False, True):  # SLA actions go to ``act``, after the handoffs
                    part = [i for i in group if i.sent == recovering and bool(i.action) == acting]
                    for start in range(0, len(part), self.policy.batch_size):
                        self._call(sink_name, part[start : start + self.policy.batch_size],
                                   recovering)

    def _call(self, sink_name: str, items: list[OutboxItem], recovering: bool) -> None:
        sink = self.sinks.get(sink_name)
        now = self.clock()
        if sink is None:
            self._record(items, {}, f"sink {sink_name!r} is not configured for this pipeline", now)
            return
        if sink_name in self.down:
            self._park(items, self.down[sink_name], now)
            return
        reconcile_at = now + timedelta(seconds=self.policy.reconcile_after)
        self.audit.mark_in_flight([i.write_id for i in items], now, reconcile_at)
        with self.counts.lock:
            self.counts.calls += 1
        try:
            results = self._send(sink, items, recovering)
        except RetriableError as exc:
            self.log.warning(
                "sink_retryable", sink=sink_name, error=str(exc), correlation_id=exc.correlation_id
            )
            self._record(
                items, {}, f"{type(exc).__name__}: {exc}", self.clock(), retry_after=exc.retry_after
            )
            self.down[sink_name] = exc
            return
        except PermanentApiError as exc:
            if not exc.configuration:
                self._isolate(sink_name, items, recovering, exc)
                return
            self._stop(sink_name, items, exc, reconcile_at)
        except FatalError as exc:
            self._stop(sink_name, items, exc, reconcile_at)
        except Exception as exc:  # a sink bug must not lose the batch: park it as retryable
            self.log.exception("sink_crashed", sink=sink_name)
            error = f"sink error {type(exc).__name__}: {exc}"
            crashed = {i.key: WriteResult(i.key, WriteState.RETRYABLE, error,
                                          uncertain=True) for i in items}  # fmt: skip
            self._record(items, crashed, error, self.clock(), reconcile_at=reconcile_at)
            return
        self._record(
            items, {r.key: r for r in results}, "sink returned no result", self.clock(),
            reconcile_at=reconcile_at,
        )  # fmt: skip

    def _stop(
        self, sink_name: str, items: list[OutboxItem], exc: FatalError, reconcile_at: datetime
    ) -> NoReturn:
        """A fatal error stops the run: the batch goes back to pending, the attempt not
        counted (an operator must act), but not before the reconcile time: part of the call
        (an earlier chunk's notes) may have landed."""
        self.log.error("sink_fatal", sink=sink_name, error=str(exc), error_type=type(exc).__name__)
        error = f"{type(exc).__name__}: {exc}"
        refunds = [
            WriteUpdate(i.write_id, WriteState.PENDING, error, next_attempt_at=reconcile_at,
                        refund=True)
            for i in items
        ]  # fmt: skip
        self.audit.record_results(refunds, self.clock())
        raise exc

    def _isolate(
        self, sink_name: str, items: list[OutboxItem], recovering: bool, exc: PermanentApiError
    ) -> None:
        """A refusal that does not name the set-up may be one record's fault: split the batch
        and send the halves, down to the records that fail alone, which become dead letters
        (the rest is written). A pipeline never wedges on one bad record."""
        if len(items) == 1:
            error = f"{type(exc).__name__}: {exc}"
            self.log.warning("sink_refused_record", sink=sink_name, error=str(exc),
                             correlation_id=exc.correlation_id)  # fmt: skip
            update = WriteUpdate(items[0].write_id, WriteState.DEAD, error)
            self.counts.add(update.state)
            self.audit.record_results([update], self.clock())
            return
        half = len(items) // 2
        self.log.info("sink_batch_split", sink=sink_name, size=len(items), error=str(exc))
        for part in (items[:half], items[half:]):
            self._call(sink_name, part, recovering)

    def _waiting(self, item: OutboxItem, result: WriteResult, now: datetime) -> WriteUpdate:
        """Not there yet: try again later (no attempt spent), a dead letter after the window."""
        since = item.created_at or now
        if (now - since).total_seconds() >= self.policy.wait_for:
            hours = self.policy.wait_for / 3600
            reason = f"{result.reason or 'no target record'} after waiting {hours:g} h"
            return WriteUpdate(item.write_id, WriteState.DEAD, reason, result.target_id)
        when = min(now + timedelta(seconds=self.policy.wait_retry),
                   since + timedelta(seconds=self.policy.wait_for))  # fmt: skip
        return WriteUpdate(item.write_id, WriteState.WAITING, result.reason, result.target_id,
                           next_attempt_at=when, refund=True)  # fmt: skip

    def _send(self, sink: Sink, items: list[OutboxItem], recovering: bool) -> list[WriteResult]:
        """Handoffs go to ``write``; SLA breach actions to the sink's ``act`` capability (a
        sink without it answers nothing for them: they are skipped, saying why)."""
        if not items[0].action:
            return sink.write([self._with_follow_up(i) for i in items], recovering=recovering)
        act = getattr(sink, "act", None)
        if not callable(act):
            return [WriteResult(i.key, WriteState.SKIPPED, "this sink has no SLA actions")
                    for i in items]
        actions = [sla_action(self.policy.sla, self.policy.follow_up_hours, item.sink,
                              self._with_follow_up(item), item.action) for item in items]
        results: list[WriteResult] = act(actions, recovering=recovering)
        return results

    def _with_follow_up(self, item: OutboxItem) -> Handoff:
        """The handoff with the agent's follow-up SLA: the deadline sales has for an accepted
        lead, and a reviewer for a lead in review (rejections ask no one for anything)."""
        handoff = item.handoff
        if handoff.decision.outcome is Outcome.REJECTED:
            return handoff
        hours = self.policy.follow_up_hours
        due = handoff.decision.decided_at + timedelta(hours=hours)
        return replace(handoff, follow_up_hours=hours, due_at=due)

    def _park(self, items: list[OutboxItem], exc: RetriableError, now: datetime) -> None:
        """Leave writes for a sink that is down to a later run; no attempt is spent."""
        when = next_attempt_at(
            now,
            1,
            base=self.policy.backoff_base,
            cap=self.policy.backoff_cap,
            retry_after=exc.retry_after,
        )
        error = f"not attempted: sink unavailable in this run ({type(exc).__name__}: {exc})"
        outcomes = [
            WriteUpdate(i.write_id, WriteState.RETRYABLE, error, next_attempt_at=when)
            for i in items
        ]
        for o in outcomes:
            self.counts.add(o.state)
        self.audit.record_results(outcomes, now)

    def _record(
        self,
        items: list[OutboxItem],
        results: dict[str, WriteResult],
        missing: str,
        now: datetime,
        retry_after: float | None = None,
        reconcile_at: datetime | None = None,
    ) -> None:
        outcomes = []
        for item in items:
            result = results.get(item.key)
            outcome = self._outcome(item, result, missing, now, retry_after)
            if result is not None and result.uncertain and outcome.next_attempt_at is not None:
                later = max(outcome.next_attempt_at, reconcile_at or now)
                outcome = replace(outcome, next_attempt_at=later)
            outcomes.append(outcome)
            self.counts.add(outcome.state, item.sink, outcome.error)
        self.audit.record_results(outcomes, now)

    def _outcome(
        self,
        item: OutboxItem,
        result: WriteResult | None,
        missing: str,
        now: datetime,
        retry_after: float | None,
    ) -> WriteUpdate:
        if result is not None and result.status is WriteState.WRITTEN:
            return WriteUpdate(item.write_id, WriteState.WRITTEN, target_id=result.target_id)
        if result is not None and result.status is WriteState.SKIPPED:
            return WriteUpdate(item.write_id, WriteState.SKIPPED, result.reason, result.target_id)
        if result is not None and result.status is WriteState.WAITING:
            return self._waiting(item, result, now)
        if result is not None and result.status is WriteState.DEAD:
            return WriteUpdate(
                item.write_id,
                WriteState.DEAD,
                result.reason or "permanent failure",
                result.target_id,
            )
        attempts = item.attempts + 1
        state = WriteState.DEAD if attempts >= self.policy.max_attempts else WriteState.RETRYABLE
        error = (result.reason if result is not None else missing) or "retryable failure"
        when = (
            None
            if state is WriteState.DEAD
            else next_attempt_at(
                now,
                attempts,
                base=self.policy.backoff_base,
                cap=self.policy.backoff_cap,
                retry_after=retry_after,
                jitter=(item.write_id % 97) / 97,
            )
        )
        return WriteUpdate(item.write_id, state, error, next_attempt_at=when)


_STOP = object()


class AsyncWriter:
    """A writer thread behind a bounded queue: reads of page N+1 overlap writes of page N."""

    def __init__(self, writeback: WriteBack, depth: int = 2) -> None:
        self.writeback = writeback
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        # The writer logs with the run's bound context (run_id, pipeline), connectors' logs too.
        context = contextvars.copy_context()
        self.thread = threading.Thread(
            target=context.run, args=(self._loop,), name="sync-agent-writer", daemon=True
        )
        self.thread.start()

    def _loop(self) -> None:
        while True:
            items = self.queue.get()
            if items is _STOP:
                return
            if self.error is None:
                try:
                    self.writeback.write_items(items)
                except BaseException as exc:  # handed to the page loop, which stops the run
                    self.error = exc

    def submit(self, items: Sequence[OutboxItem]) -> None:
        """Queue a page's writes (blocks while the queue is full); raise the writer's error."""
        self.raise_error()
        self.queue.put(list(items))

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Finish what is queued, stop the thread, then raise its error if it had one."""
        self.queue.put(_STOP)
        self.thread.join()
        self.raise_error()
