"""The writer in a process of its own: a long backfill's writes beside the page loop.

Why: in one process the page loop (decide, record) and the writer thread (the sinks' SDK
calls, the outbox commits) share one interpreter lock, so on two cores they took turns
and a backfill took the sum of both (docs/performance.md). In a process of its own the
writer runs on the other core.

It speaks the outbox protocol the writer thread speaks. The page loop commits each
page's decisions and pending writes first, then sends the batch (pickled: cheaper than
reading the rows back from SQLite there); the child marks it in flight, calls its sinks
and commits the results with the same :class:`~sync_agent.engine.writeback.WriteBack`.
Exactly-once does not change: a crash of either process leaves the outbox as a crash of
the thread would, and the child dies with its parent (``PR_SET_PDEATHSIG``, so Linux only;
it also checks its parent before each batch), so no write starts after the run is gone.

The child builds its own sinks from the configuration (connector types found again by
name among the installed ones), so each connector paces its calls from there as it would
in a second agent sharing the account: a connector that keeps a daily usage must save it
by adding to what the other process saved, not by replacing it (the bundled CRM
connectors do). It logs with the run's context through the parent's log stream and
reports its write counts and API calls with each batch's acknowledgement. SIGINT and
SIGTERM are the parent's to handle: the child finishes what it was sent, as the thread
does.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TextIO, cast

import structlog

from connectors.base import Sink
from sync_agent.audit.db import AuditLog, OutboxItem
from sync_agent.config import Config
from sync_agent.engine.writeback import WriteBack, WriteCounts, WritePolicy
from sync_agent.errors import FatalError, StopSignalled, SyncAgentError
from sync_agent.logs import (
    configure_logging,
    get_logger,
    log_stream,
    logging_settings,
    register_secret,
)
from sync_agent.registry import installed

#: The run's write counters (every ``int`` of :class:`WriteCounts`), sent back by the child:
#: derived, so a counter added there is never dropped here.
_COUNTED = tuple(f.name for f in fields(WriteCounts) if f.type in ("int", int))


@dataclass(frozen=True)
class _Job:
    """What the child needs to write like the parent's writer thread would."""

    config: Config
    pipeline: str
    audit_path: str
    policy: WritePolicy
    logging: Mapping[str, Any]
    context: Mapping[str, Any]
    parent: int


def unavailable(config: Config, sinks: Sequence[str]) -> str:
    """Why a writer process cannot serve these sinks ('' when it can): each connector type
    must be the installed one (the child finds it again by name) and the configuration
    must travel to the child."""
    if not sys.platform.startswith("linux"):  # PR_SET_PDEATHSIG ties its life to the agent's
        return "a writer process needs Linux (it must die with the agent)"
    registry = installed()
    for name in sinks:
        spec = config.connectors[name].spec
        try:
            if registry.get(spec.name) is not spec:
                return f"connector type {spec.name!r} is not the installed one"
        except FatalError as exc:
            return f"connector type {spec.name!r}: {exc}"
    try:
        pickle.dumps(config)
    except Exception as exc:  # a plugin's settings that do not pickle: use the thread
        return f"the configuration cannot be sent to a process ({type(exc).__name__})"
    return ""


class ProcessWriter:
    """The writer thread's interface (``submit``, ``close``, ``error``) over a child process.

    ``depth`` batches may be in the child at once; ``submit`` blocks beyond that, as the
    thread's bounded queue does, so reads never run far ahead of writes.
    """

    def __init__(
        self, writeback: WriteBack, config: Config, pipeline: str, depth: int = 2
    ) -> None:
        self.writeback = writeback
        self.error: BaseException | None = None
        #: HTTP requests the child's sinks made, by connector instance
        self.calls: dict[str, int] = {}
        self._counts: dict[str, Any] = {}
        self._merged = False
        self._finished = False  # the child said "done"
        self._slots = threading.Semaphore(depth)
        self._done = threading.Event()
        # A fresh interpreter (never a fork of this threaded process) that imports only what
        # it needs: not multiprocessing's spawn, which would run this program's main module
        # again in it (a second or more of CPU) and start a resource tracker.
        job = pickle.dumps(_Job(
            config, pipeline, str(Path(writeback.audit.path)), writeback.policy,
            logging_settings(), structlog.contextvars.get_contextvars(), os.getpid(),
        ))  # fmt: skip
        commands_in, commands_out = os.pipe()
        events_in, events_out = os.pipe()
        self._commands = Connection(commands_out, readable=False)
        self._events = Connection(events_in, writable=False)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _ENTRY, str(commands_in), str(events_out)],
                pass_fds=(commands_in, events_out), stdin=subprocess.DEVNULL,
                start_new_session=True,  # a terminal's Ctrl-C is the agent's, not its
            )  # fmt: skip
        except BaseException:
            self._commands.close()
            self._events.close()
            raise
        finally:
            os.close(commands_in)
            os.close(events_out)
        try:
            self._commands.send_bytes(pickle.dumps(sys.path))  # before it imports the agent
            self._commands.send_bytes(job)
        except BaseException:  # it died at once: no batch was sent, the thread can take over
            self.process.kill()
            self.process.wait()
            self._commands.close()
            self._events.close()
            raise
        self._listener = threading.Thread(
            target=self._listen, name="sync-agent-writer-events", daemon=True
        )
        self._listener.start()

    def submit(self, items: Sequence[OutboxItem]) -> None:
        """Send a batch (blocks while ``depth`` batches are out); raise the child's error,
        if it had one."""
        self.raise_error()
        while not self._slots.acquire(timeout=0.1):
            self.raise_error()
            if self._done.is_set():
                raise self._gone()
        self._commands.send(("write", list(items)))

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Let the child finish what it was sent, then stop it; merge its counts into the
        run's; raise its error if it had one."""
        with contextlib.suppress(OSError):  # already gone: the listener says why
            self._commands.send(("close", None))
        self._done.wait()
        self.process.wait()
        self._commands.close()
        self._merge()
        self.raise_error()
        if not self._finished:  # gone without a word after its last batch
            raise self._gone()

    def _listen(self) -> None:
        try:
            while True:
                kind, payload = self._events.recv()
                if kind == "log":  # through structlog's writer: its lock keeps lines whole
                    structlog.PrintLogger(file=log_stream()).msg(payload.rstrip("\n"))
                elif kind == "ack":
                    self._counts, self.calls = payload
                    self._slots.release()
                elif kind == "error":
                    self.error = self.error or pickle.loads(payload)
                elif kind == "done":
                    self._counts, self.calls = payload
                    self._finished = True
                    return
        except (EOFError, OSError):
            if self.error is None:
                self.error = self._gone()
        except BaseException as exc:  # a garbled frame, an error that does not unpickle
            self.error = self.error or FatalError(
                f"the writer process's answer could not be read ({type(exc).__name__}: "
                f"{exc}); what it did not write stays in the outbox for the next run"
            )
        finally:
            self._done.set()
            self._events.close()

    def _gone(self) -> SyncAgentError:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        code = self.process.returncode
        if code in (-signal.SIGTERM, -signal.SIGINT):  # signalled before it could ignore it
            return StopSignalled(
                f"the writer process was stopped by {signal.Signals(-code).name}; the writes "
                "it was sent stay in the outbox and the next run resumes them"
            )
        return FatalError(
            f"the writer process stopped unexpectedly (exit code {self.process.returncode}); "
            "the writes it was sent stay in the outbox and the next run resumes them"
        )

    def _merge(self) -> None:
        """Add the child's counts to the run's (once), as if the thread had counted them."""
        if self._merged or not self._counts:
            return
        self._merged = True
        counts = self.writeback.counts
        with counts.lock:
            for name in _COUNTED:
                setattr(counts, name, getattr(counts, name) + int(self._counts.get(name, 0)))
            counts.reasons.update(self._counts.get("reasons", {}))


class _Events:
    """The child's end of the events pipe: one frame at a time (a plugin sink may log from
    threads of its own while the main thread acknowledges a batch)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()

    def send(self, event: tuple[str, Any]) -> None:
        with self._lock:
            self._connection.send(event)


class _Relay:
    """A text stream that sends what structlog printed to the parent, one message per
    flush (``print(..., flush=True)``), so a multi-line message stays whole."""

    def __init__(self, events: _Events, tty: bool) -> None:
        self._events = events
        self._tty = tty
        self._buffer = ""

    def write(self, text: str) -> int:
        self._buffer += text
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            text, self._buffer = self._buffer, ""
            self._events.send(("log", text))

    def isatty(self) -> bool:
        return self._tty


#: The child's first lines: SIGINT and SIGTERM are the parent's to handle, from the first
#: instant (a service manager signals the whole group, maybe while this still imports);
#: then the parent's import path, before anything of the agent is imported.
_ENTRY = (
    "import signal, sys, os, pickle\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "from multiprocessing.connection import Connection\n"
    "commands = Connection(int(sys.argv[1]), writable=False)\n"
    "sys.path[:] = pickle.loads(commands.recv_bytes())\n"
    "from sync_agent.engine.writer_process import main\n"
    "main(commands, int(sys.argv[2]))\n"
)


def main(commands: Connection, events_fd: int) -> None:
    """The writer process, once its path is set: its job, then the batches."""
    events = _Events(Connection(events_fd, readable=False))
    try:
        job = commands.recv()
    except EOFError:
        return
    _child_main(commands, events, job)


def _child_main(commands: Connection, events: _Events, job: _Job) -> None:
    """The writer process: write what the parent sends until it says ``close``."""
    _die_with_parent(job.parent)
    settings = job.logging
    for secret in settings.get("secrets", ()):
        register_secret(secret)
    configure_logging(
        json=settings.get("json", False),
        level=settings.get("level", "INFO"),
        redact_pii=settings.get("redact_pii", True),
        stream=cast(TextIO, _Relay(events, bool(settings.get("tty", False)))),
    )
    structlog.contextvars.bind_contextvars(**job.context)
    log = get_logger("sync_agent.engine", writer="process")
    log.info("writer_process_ready", pid=os.getpid())
    audit: AuditLog | None = None
    sinks: dict[str, Sink] = {}
    writeback: WriteBack | None = None
    try:
        audit = AuditLog.open(job.audit_path)
        sinks = _build_sinks(job, audit)
        writeback = WriteBack(audit, sinks, job.policy, _utc_now, log, WriteCounts())
        failed = False
        while True:
            try:
                kind, batch = commands.recv()
            except EOFError:  # the parent is gone: start nothing more
                return
            if kind == "close":
                break
            if os.getppid() != job.parent:  # orphaned: what is left stays in the outbox
                return
            if not failed:
                try:
                    writeback.write_items(batch)
                except BaseException as exc:  # the first error stops this writer, as the thread
                    failed = True
                    events.send(("error", _portable(exc)))
            events.send(("ack", _report(writeback, sinks)))
        _close(sinks, log)
        events.send(("done", _report(writeback, sinks)))
    except BaseException as exc:
        log.exception("writer_process_failed")
        events.send(("error", _portable(exc)))
        events.send(("done", _report(writeback, sinks)))
    finally:
        if audit is not None:
            audit.close()


def _build_sinks(job: _Job, audit: AuditLog) -> dict[str, Sink]:
    config = job.config
    states = audit.connector_states(config)
    sinks: dict[str, Sink] = {}
    for name in config.pipeline(job.pipeline).sinks:
        instance = config.instance(name, states.get(name))
        builder = instance.spec.build_sink
        if builder is None:
            raise FatalError(f"connector {name!r} cannot be written to")
        sinks[name] = builder(instance)
    return sinks


def _close(sinks: Mapping[str, Sink], log: Any) -> None:
    """What the sinks keep between runs (the day's API usage), saved before the parent's."""
    for sink in sinks.values():
        close = getattr(sink, "close", None)
        if callable(close):
            try:
                close()
            except Exception:
                log.exception("connector_close_failed")


def _report(writeback: WriteBack | None, sinks: Mapping[str, Sink]) -> tuple[dict[str, Any],
                                                                             dict[str, int]]:
    counts: dict[str, Any] = {}
    if writeback is not None:
        c = writeback.counts
        with c.lock:
            counts = {name: getattr(c, name) for name in _COUNTED}
            counts["reasons"] = Counter(c.reasons)
    calls = {name: int(getattr(sink, "api_calls", 0)) for name, sink in sinks.items()
             if isinstance(getattr(sink, "api_calls", None), int)}  # fmt: skip
    return counts, calls


def _portable(exc: BaseException) -> bytes:
    """The error, pickled for the parent; one that does not survive pickling is sent as a
    FatalError with its type and text (the child logged its traceback)."""
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
        return data
    except Exception:
        return pickle.dumps(FatalError(f"{type(exc).__name__}: {exc}"))


def _die_with_parent(parent: int) -> None:
    """Never outlive the run: the kernel kills this process when its parent dies (``kill
    -9`` included). Where that cannot be set, stop at once: batches already in the pipe
    would still be read after the parent's death, and a new run would resume the same
    writes (the parent sees the exit and says why)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGKILL) != 0:  # PR_SET_PDEATHSIG
            os._exit(3)
    except (OSError, AttributeError):
        os._exit(3)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(0)


def _utc_now() -> datetime:
    return datetime.now(UTC)
