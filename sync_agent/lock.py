"""One agent per audit database: an ``fcntl`` lock on a file next to the database.

A second agent process on the same database gets :class:`~sync_agent.errors.AgentLocked`
(exit code 3) with the holder's pid, instead of racing the first over the outbox. The
kernel drops the lock when its holder dies, even by ``kill -9``, so no stale lock remains.
The lock is re-entrant within one process (the scheduler's jobs run under the agent's lock).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sync_agent.errors import AgentLocked

_held: dict[str, list[int]] = {}  # lock path -> [fd, depth]
_guard = threading.Lock()


def lock_path(db_path: str | Path) -> Path:
    return Path(str(db_path) + ".lock")


def acquire(db_path: str | Path) -> None:
    """Take the agent lock for ``db_path`` or raise AgentLocked (re-entrant in-process)."""
    path = lock_path(db_path)
    key = str(path.resolve())
    with _guard:
        if key in _held:
            _held[key][1] += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise AgentLocked(
                f"another sync-agent (pid {holder}) is already running on {db_path}; "
                f"stop it first or wait for it to finish (lock file {path})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        _held[key] = [fd, 1]


def release(db_path: str | Path) -> None:
    key = str(lock_path(db_path).resolve())
    with _guard:
        entry = _held.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            del _held[key]
            fcntl.flock(entry[0], fcntl.LOCK_UN)
            os.close(entry[0])


@contextmanager
def agent_lock(db_path: str | Path) -> Iterator[None]:
    """Hold the agent lock for the duration of the block."""
    acquire(db_path)
    try:
        yield
    finally:
        release(db_path)
