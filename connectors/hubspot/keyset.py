"""Reading every matching contact through a search API that stops at 10,000 results.

Pure logic, no I/O: :class:`KeysetReader` drives a ``search(Query) -> Result`` function.

HubSpot's search allows one sort rule, refuses to page past 10,000 results, and pages by
*offset* (``after``), which silently skips records when the result set moves under it (a
record already read is modified again, e.g. by our own write-back, and jumps to the end).
So the reader never follows ``after``: every page is a fresh keyset query, "modified
``GTE`` the last timestamp read", dropping the (id, timestamp) pairs already read. That is
immune to the cap and to moving data; it costs the records re-read at the boundary
timestamp, usually one per page. When a page ends on a timestamp shared by half a page
or more (bulk updates; restarting with ``GTE`` would re-read them, and loop forever on a
full page of them: airbyte#43317), the reader reads that timestamp alone (``EQ ts``,
sorted by ``hs_object_id``, keyset ``GT last id``) and then continues strictly after it
(``GT ts``). A cursor (:class:`Position`) is the highest timestamp emitted plus the ids
emitted within the overlap window behind it: a resumed read re-reads the window (records
reach the search index late) and drops what it has already emitted.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync_agent.errors import PermanentApiError


@dataclass(frozen=True)
class Query:
    """One search request in keyset terms (the source turns it into HubSpot filters).

    Range mode: ``modified <lower_op> lower_ms`` (and ``<= upper_ms``), sorted by modified
    date. Tie mode (``eq_ms`` set): ``modified = eq_ms`` and ``id > after_id`` (or, for a
    probe, ``id <= id_lte``), sorted by object id.
    """

    limit: int
    after: int = 0
    lower_ms: int | None = None
    lower_op: str = "GTE"
    upper_ms: int | None = None
    eq_ms: int | None = None
    after_id: int | None = None
    id_lte: int | None = None


@dataclass(frozen=True)
class Hit:
    """One search result: its id and modified time when they parse, and the raw record."""

    id: str | None
    ms: int | None
    raw: Any


@dataclass(frozen=True)
class Result:
    hits: list[Hit]
    total: int | None
    next_after: int | None


Search = Callable[[Query], Result]
#: Where the next page starts: (ms, "GTE" | "GT" | "EQ"); ms None = from the start.
Bound = tuple[int | None, str]


@dataclass(frozen=True)
class Position:
    """A resumable read position: JSON ``{"modified_ms": int, "seen": {id: ms}}``."""

    modified_ms: int | None = None
    seen: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        if self.modified_ms is None:
            return {}
        seen = self.seen if isinstance(self.seen, dict) else dict(self.seen)  # no copy per page
        return {"modified_ms": self.modified_ms, "seen": seen}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Position:
        """Also accepts ``seen_ids`` (ids seen exactly at ``modified_ms``)."""
        mark = data.get("modified_ms")
        if mark is None:
            return cls()
        mark = int(mark)
        seen = {str(k): int(v) for k, v in dict(data.get("seen") or {}).items()}
        for item in data.get("seen_ids") or ():
            seen.setdefault(str(item), mark)
        return cls(mark, seen)


class KeysetReader:
    """Yields ``(new hits, position after them)`` page by page; never loops, never skips."""

    def __init__(self, search: Search, *, page_size: int = 200,
                 overlap_ms: int = 60_000, max_seen: int = 10_000,
                 until_ms: int | None = None) -> None:
        self.search = search
        self.page_size = page_size
        self.overlap_ms = overlap_ms
        self.max_seen = max_seen
        self.until_ms = until_ms
        self.queries = 0
        self.ties = 0
        #: records HubSpot still counts after the last page (its search ``total``), for
        #: progress bars; None until a range query answered with a total
        self.remaining: int | None = None
        self._seen: dict[str, int] = {}
        self._mark: int | None = None

    def pages(self, position: Position) -> Iterator[tuple[list[Hit], Position]]:
        self._seen = dict(position.seen)
        self._mark = position.modified_ms
        lower = None if self._mark is None else max(0, self._mark - self.overlap_ms)
        bound: Bound | None = (lower, "GTE")
        while bound is not None:
            lower, op = bound
            if op == "EQ":
                assert lower is not None
                self.ties += 1
                bound = yield from self._tie(lower)
            else:
                bound = yield from self._range(lower, op)
                if bound is not None:
                    self._prune(bound[0])

    def position(self) -> Position:
        """The cursor covering everything emitted so far."""
        if self._mark is None:
            return Position()
        mark = self._mark
        floor = mark - self.overlap_ms
        window = {i: ms for i, ms in self._seen.items() if ms >= floor}
        if len(window) > self.max_seen:
            # Keep the boundary ids (needed to never re-emit) and the newest of the rest;
            # dropping older window ids only risks re-emitting, never skipping.
            at_mark = {i: ms for i, ms in window.items() if ms == mark}
            if len(at_mark) >= self.max_seen:  # inside a big tie: nothing else fits
                return Position(mark, at_mark)
            ranked = sorted(window.items(), key=lambda kv: (kv[1] != mark, -kv[1]))
            window = dict(ranked[: self.max_seen])
        return Position(mark, window)

    def _range(self, lower: int | None,
               op: str) -> Generator[tuple[list[Hit], Position], None, Bound | None]:
        """One page of ``modified <op> lower``; returns where the next page starts."""
        result = self._search(Query(self.page_size, 0, lower, op, self.until_ms))
        if result.total is not None:
            self.remaining = max(0, result.total - len(result.hits))
        last_ms: int | None = None
        at_last = 0
        for hit in result.hits:
            if hit.ms is not None:
                at_last = at_last + 1 if hit.ms == last_ms else 1
                last_ms = hit.ms
        new = [self._emit(h) for h in result.hits if not self._is_seen(h)]
        if new:
            yield new, self.position()
        if result.next_after is None or not result.hits:
            return None
        if last_ms is None:
            raise PermanentApiError("HubSpot search returned a full page without any "
                                    "parseable modified date; cannot continue safely")
        if 2 * at_last >= self.page_size:
            return (last_ms, "EQ")
        return (last_ms, "GTE")

    def _tie(self, ts: int) -> Generator[tuple[list[Hit], Position], None, Bound]:
        """Read every record at exactly ``ts`` by object id, then continue after ``ts``."""
        after_id = self._tie_start(ts)
        while True:
            result = self._search(Query(self.page_size, 0, eq_ms=ts, after_id=after_id,
                                        upper_ms=self.until_ms))
            if self.remaining is not None:  # a tie's total counts only its own timestamp
                self.remaining = max(0, self.remaining - len(result.hits))
            new = [self._emit(h) for h in result.hits if not self._is_seen(h)]
            if new:
                yield new, self.position()
            ids = [int(h.id) for h in result.hits if h.id is not None and h.id.isdigit()]
            if result.next_after is None or not result.hits:
                return (ts, "GT")
            if not ids:
                raise PermanentApiError("HubSpot search returned a full page without "
                                        "numeric ids; cannot continue safely")
            after_id = max(ids)

    def _tie_start(self, ts: int) -> int:
        """Where the id keyset starts: 0 (re-reading under a page of already-seen records),
        or, when more than a page was seen at ``ts`` (a resumed read), after the highest
        seen id if one cheap probe shows that every record up to it was seen."""
        ids = [int(i) for i, ms in self._seen.items() if ms == ts and i.isdigit()]
        if len(ids) <= self.page_size:
            return 0
        highest = max(ids)
        probe = self._search(Query(1, 0, eq_ms=ts, id_lte=highest, upper_ms=self.until_ms))
        return highest if probe.total == len(ids) else 0

    def _search(self, query: Query) -> Result:
        self.queries += 1
        return self.search(query)

    def _is_seen(self, hit: Hit) -> bool:
        return hit.id is not None and hit.ms is not None and self._seen.get(hit.id) == hit.ms

    def _emit(self, hit: Hit) -> Hit:
        if hit.id is not None and hit.ms is not None:
            if hit.ms != self._mark:
                self._mark = hit.ms if self._mark is None else max(self._mark, hit.ms)
            # One int object for every id at the mark (a tie holds thousands of them).
            self._seen[hit.id] = self._mark if hit.ms == self._mark else hit.ms
        return hit

    def _prune(self, lower: int | None) -> None:
        """Forget ids that no later page can return again (below both bounds)."""
        if lower is None or self._mark is None or len(self._seen) <= 4 * self.page_size:
            return
        floor = min(lower, self._mark - self.overlap_ms)
        self._seen = {i: ms for i, ms in self._seen.items() if ms >= floor}
