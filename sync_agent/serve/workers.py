"""One worker thread per webhook source: read the records events named, decide, write.

A worker takes everything queued since its last pass as one batch (a burst of events is
one run, not one run per event), runs each pipeline of its source over those records
(:func:`sync_agent.engine.run_ids`, under that pipeline's lock, so a webhook run and a
scheduled run of one pipeline never overlap), then marks the events processed. A run
that a stop interrupted leaves its events open: the next start picks them up. A run that
fails is recorded like any run; its records are left to the scheduled poll.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from sync_agent.engine import RunSummary
from sync_agent.logs import get_logger

RunIds = Callable[[str, list[str]], RunSummary]
Finish = Callable[[list[str]], None]


class WebhookWorker:
    """Batches the record ids of one source's events and runs its pipelines over them."""

    def __init__(self, source: str, pipelines: Sequence[str], run: RunIds, finish: Finish,
                 stop: threading.Event) -> None:
        self.source = source
        self.pipelines = tuple(pipelines)
        self.run = run
        self.finish = finish
        self.stop = stop
        self.log = get_logger("sync_agent.serve", source=source)
        self._cond = threading.Condition()
        self._queued: dict[str, str] = {}  # event id -> record id
        self._busy = False
        self.batches = 0
        self._thread = threading.Thread(target=self._loop, name=f"webhooks-{source}",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, events: Sequence[tuple[str, str]]) -> None:
        """Queue (event id, record id) pairs; returns at once."""
        with self._cond:
            self._queued.update(events)
            self._cond.notify_all()

    def wake(self) -> None:
        """Let a waiting worker see that ``stop`` is set."""
        with self._cond:
            self._cond.notify_all()

    def idle(self) -> bool:
        with self._cond:
            return not self._queued and not self._busy

    def join(self, timeout: float | None = None) -> None:
        self.wake()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queued and not self.stop.is_set():
                    self._cond.wait(1.0)
                if self.stop.is_set():
                    return
                batch, self._queued = self._queued, {}
                self._busy = True
            try:
                self._pass(batch)
            except Exception:  # a worker must outlive any one batch
                self.log.exception("webhook_batch_failed", events=len(batch))
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _pass(self, batch: dict[str, str]) -> None:
        ids = sorted(set(batch.values()), key=lambda i: (len(i), i))
        interrupted = False
        for pipeline in self.pipelines:
            summary = self.run(pipeline, ids)
            interrupted = interrupted or summary.outcome == "interrupted"
            self.log.info("webhook_run", pipeline=pipeline, run_id=summary.run_id,
                          records=len(ids), outcome=summary.outcome, decided=summary.decided)
        self.batches += 1
        if not interrupted:
            self.finish(list(batch))
