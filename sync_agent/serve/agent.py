"""``sync-agent serve``: the scheduled pipelines and the HTTP server, in one process.

:class:`Agent` puts together what ``run`` does (APScheduler, one job per pipeline, the
retention job) with webhook intake, one worker per webhook source, ``/healthz`` and
``/metrics``. The scheduled poll stays: it is the safety net for an event that never came.
A pipeline's scheduled run and its webhook runs share one lock, so they never overlap;
both write through the same outbox with the same exactly-once and supersede rules.

:func:`serve` holds the agent lock for the whole life of the process (a second agent on
the same database exits 3), and stops on SIGTERM/SIGINT as ``run`` does: the server stops
taking requests, the running passes finish their current batch, the scheduler shuts
down, the lock is released last.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from cheroot import wsgi
from prometheus_client import CollectorRegistry

from sync_agent.audit import AuditLog
from sync_agent.config import Config
from sync_agent.engine import RunSummary, run_ids
from sync_agent.errors import FatalError
from sync_agent.lock import acquire, release
from sync_agent.logs import get_logger
from sync_agent.scheduler import JobTracker, background_scheduler, is_running, pipeline_job
from sync_agent.serve.http import AgentApp
from sync_agent.serve.intake import Endpoint, Intake, WebhookMetrics, endpoints
from sync_agent.serve.metrics import CONTENT_TYPE_LATEST, AuditCollector, render
from sync_agent.serve.workers import WebhookWorker
from sync_agent.status import AgentStatus, collect
from sync_agent.triggers import Schedule, make_trigger

#: Webhook events are remembered this long for deduplication: senders retry for a day.
WEBHOOK_MEMORY = timedelta(days=3)
PRUNE_CRON = "45 3 * * *"


class Agent:
    """The long-running agent: scheduler, webhook workers, HTTP server. ``start``/``stop``."""

    def __init__(self, config: Config, *, host: str = "127.0.0.1", port: int = 8080,
                 stop: threading.Event | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.host = host
        self.port = port
        self.stop_event = stop or threading.Event()
        self.clock = clock  # None: the real clock (runs and the scheduler)
        self.tracker = JobTracker()
        self.locks = {p.name: threading.Lock() for p in config.pipelines}
        self.log = get_logger("sync_agent.serve")
        self.audit: AuditLog | None = None
        self.scheduler: Any = None
        self.server: Any = None
        self.workers: dict[str, WebhookWorker] = {}
        self.points: dict[str, Endpoint] = {}
        self.registry = CollectorRegistry()
        self._server_thread: threading.Thread | None = None
        self._stopped = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Agent:
        """Open the audit log, bind the port, start workers and the scheduler."""
        try:
            self.audit = AuditLog.open(self.config.audit_db)
        except (OSError, sqlite3.Error) as exc:
            raise FatalError(f"cannot open the audit database {self.config.audit_db}: {exc} "
                             "(check [agent] audit_db and that folder's permissions)") from exc
        self.points = endpoints(self.config)
        submit: dict[str, Callable[[Sequence[tuple[str, str]]], None]] = {}
        for name, point in self.points.items():
            worker = WebhookWorker(name, point.pipelines, self._run_ids,
                                   self._finisher(name), self.stop_event)
            self.workers[name] = worker
            submit[name] = worker.submit
        intake = Intake(self.audit, self.points, submit, WebhookMetrics(self.registry),
                        clock=self._now)
        self.registry.register(AuditCollector(self.config, self.audit, self.status,
                                              self.scheduler_running))
        app = AgentApp(intake, self.status, lambda: render(self.registry), CONTENT_TYPE_LATEST,
                       public_url=self.config.serve_public_url)
        self.server = wsgi.Server((self.host, self.port), app,
                                  numthreads=self.config.serve_threads, timeout=10,
                                  shutdown_timeout=5)
        self.server.error_log = self._server_log
        try:
            self.server.prepare()  # binds: a taken port fails here, before anything runs
        except OSError as exc:
            self.audit.close()
            raise FatalError(f"cannot listen on {self.host}:{self.port}: "
                             f"{exc.strerror or exc} (choose another --port or --host)") from exc
        self.port = int(self.server.bind_addr[1])
        self._server_thread = threading.Thread(target=self.server.serve, name="http",
                                               daemon=True)
        self._server_thread.start()
        for name, worker in self.workers.items():
            worker.start()
            waiting = self.audit.open_webhook_events(name)
            if waiting:  # received before a restart, never read: read them now
                worker.submit(waiting)
                self.log.info("webhook_backlog", source=name, events=len(waiting))
        self.audit.prune_webhook_events(self._now() - WEBHOOK_MEMORY)
        self.scheduler = self._build_scheduler()
        self.scheduler.start()
        self.log.info("agent_started", url=self.url,
                      pipelines=[p.name for p in self.config.selected(None)],
                      webhooks=sorted(p.path for p in self.points.values()),
                      webhooks_off=sorted(p.source for p in self.points.values() if not p.secret))
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking requests, let running passes finish their batch, stop everything."""
        if self._stopped:
            return
        self._stopped = True
        self.stop_event.set()
        if self.server is not None:
            self.server.stop()
        if self._server_thread is not None:
            self._server_thread.join(timeout)
        if is_running(self.scheduler):
            self.scheduler.shutdown(wait=False)
        for worker in self.workers.values():
            worker.join(timeout)
        self.tracker.wait_idle(timeout)
        if self.audit is not None:
            self.audit.close()
        self.log.info("agent_stopped")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- health ------------------------------------------------------------------------------

    def scheduler_running(self) -> bool:
        return is_running(self.scheduler)

    def runtime_problems(self) -> list[str]:
        """What is wrong with this process itself (the audit log tells the rest)."""
        out = []
        if not self.scheduler_running() and not self.stop_event.is_set():
            out.append("the scheduler is not running")
        for name, worker in self.workers.items():
            if not worker.alive and not self.stop_event.is_set():
                out.append(f"the webhook worker of {name!r} stopped")
        return out

    def status(self) -> AgentStatus:
        """The same status ``sync-agent status`` shows, with this process's own problems."""
        return collect(self.config, log=self.audit, runtime_problems=self.runtime_problems())

    def idle(self) -> bool:
        """No webhook batch queued or running (tests wait for this)."""
        return all(w.idle() for w in self.workers.values())

    # -- jobs --------------------------------------------------------------------------------

    def _build_scheduler(self) -> Any:
        sched = background_scheduler(self.config, stop=self.stop_event, tracker=self.tracker,
                                     job=self._scheduled, clock=self.clock)
        sched.add_job(self._prune, make_trigger(Schedule(cron=PRUNE_CRON)),
                      id="webhook-events", name="forget old webhook events",
                      max_instances=1, coalesce=True,
                      misfire_grace_time=self.config.misfire_grace_seconds)
        return sched

    def _scheduled(self, config: Config, name: str, stop: threading.Event,
                   tracker: JobTracker, clock: Callable[[], datetime] | None) -> list[Any]:
        """The scheduled pass of one pipeline, never at the same time as its webhook runs."""
        with self.locks[name]:
            return pipeline_job(config, name, stop, tracker, clock)

    def _run_ids(self, pipeline: str, ids: list[str]) -> RunSummary:
        with self.locks[pipeline], self.tracker:
            return run_ids(self.config, pipeline=pipeline, ids=ids, clock=self.clock,
                           stop=self.stop_event)

    def _finisher(self, source: str) -> Callable[[list[str]], None]:
        def finish(event_ids: list[str]) -> None:
            if self.audit is not None:
                self.audit.finish_webhook_events(source, event_ids, self._now())

        return finish

    def _prune(self) -> int:
        if self.audit is None:
            return 0
        return self.audit.prune_webhook_events(self._now() - WEBHOOK_MEMORY)

    def _now(self) -> datetime:
        return self.clock() if self.clock else datetime.now(UTC)

    def _server_log(self, msg: str = "", level: int = 20, traceback: bool = False) -> None:
        """cheroot's error log, through structlog (so the redactor sees it)."""
        self.log.warning("http_server", message=msg, level=level, traceback=traceback)


@contextmanager
def _lock(config: Config) -> Iterator[None]:
    """The agent lock; a folder the agent cannot write is an error that says where."""
    try:
        acquire(config.audit_db)
    except OSError as exc:
        raise FatalError(f"cannot take the agent lock next to {config.audit_db}: "
                         f"{exc.strerror or exc} (check [agent] audit_db and that folder's "
                         "permissions)") from exc
    try:
        yield
    finally:
        release(config.audit_db)


@contextmanager
def _signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM/SIGINT set ``stop`` (main thread only; elsewhere the caller sets it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    log = get_logger("sync_agent.serve")

    def handler(signum: int, _frame: Any) -> None:
        log.info("stopping", signal=signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def serve(config: Config, *, host: str = "127.0.0.1", port: int = 8080,
          stop: threading.Event | None = None,
          ready: Callable[[Agent], None] | None = None) -> int:
    """Run the agent with its HTTP server until SIGTERM/SIGINT (or ``stop``); returns 0.

    Raises AgentLocked when another agent holds the database, FatalError when the port
    cannot be bound. ``ready(agent)`` is called once it listens (``agent.url``).
    """
    stop = stop or threading.Event()
    with _lock(config), _signals(stop):
        agent = Agent(config, host=host, port=port, stop=stop).start()
        try:
            if ready is not None:
                ready(agent)
            while not stop.wait(0.5):
                pass
        finally:
            agent.stop()
    return 0
