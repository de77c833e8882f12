"""Read ahead on a thread so that a paced source keeps its pace while pages are decided.

Used twice: the engine reads a source's pages ahead of the page loop, and a CRM source may
run its searches ahead of mapping their answers (a search limit's pace is the floor of a
backfill, see docs/performance.md).

A source behind a paced API (a search limited to 5 requests/s): if the page loop asked for page N+1
only after deciding and recording page N, every page would cost its read pacing PLUS its
processing. The prefetcher keeps up to ``depth`` pages ready. Pages still come out in
order and the cursor is committed by the page loop, so a crash only re-reads what was
prefetched but not yet recorded.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_END = object()


class Prefetcher(Generic[T]):
    """Iterate ``pages`` on a thread; iterate this object to get them in order."""

    def __init__(self, pages: Iterator[T], depth: int = 2, name: str = "sync-agent-reader") -> None:
        self._pages = pages
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._closed = threading.Event()
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._produce,), name=name, daemon=True
        )
        self._thread.start()

    def _produce(self) -> None:
        try:
            for page in self._pages:
                if not self._put(page):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(_Failure(exc))
        finally:
            close = getattr(self._pages, "close", None)
            if close is not None:
                close()

    def _put(self, item: Any) -> bool:
        """Block until there is room or the consumer went away (False)."""
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item

    def close(self) -> None:
        """Stop reading ahead (the source's generator is closed on its own thread)."""
        self._closed.set()
        self._thread.join()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
