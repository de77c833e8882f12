"""Reading every matching contact through a search API that stops at 10,000 results.

Pure logic, no I/O: :class:`KeysetReader` drives a ``search(Query) -> Result`` function.

HubSpot's search allows one sort rule and refuses to page past 10,000 results, so a
read is cut into *slices*: page with ``after`` inside a slice, and when the next page
would cross the cap, start a new slice from the last modified timestamp seen (``GTE``),
dropping the (id, timestamp) pairs already read. When more records share that timestamp
than a page holds, restarting with ``GTE`` would re-read them (and loop forever if a
whole slice shares it: airbyte#43317); the reader then reads that timestamp alone
(``EQ ts``, sorted by ``hs_object_id``, keyset ``GT last id``) and continues strictly
after it (``GT ts``). A cursor (:class:`Position`) is the highest timestamp emitted plus
the ids emitted within the overlap window behind it: a resumed read re-reads the window
(records reach the search index late) and drops what it has already emitted.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync_agent.errors import PermanentApiError
from sync_agent.logs import get_logger

#: How many times one slice may restart because the result set moved under us.
MAX_RESTARTS = 3


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
#: Where the next slice starts: (ms, "GTE" | "GT" | "EQ"); ms None = from the start.
Bound = tuple[int | None, str]


@dataclass(frozen=True)
class Position:
    """A resumable read position: JSON ``{"modified_ms": int, "seen": {id: ms}}``."""

    modified_ms: int | None = None
    seen: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        if self.modified_ms is None:
            return {}
        return {"modified_ms": self.modified_ms, "seen": dict(self.seen)}

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

    def __init__(self, search: Search, *, page_size: int = 200, cap: int = 10_000,
                 overlap_ms: int = 60_000, max_seen: int = 10_000,
                 until_ms: int | None = None) -> None:
        self.search = search
        self.page_size = page_size
        self.cap = cap
        self.overlap_ms = overlap_ms
        self.max_seen = max_seen
        self.until_ms = until_ms
        self.slices = 0
        self.restarts = 0
        self._seen: dict[str, int] = {}
        self._mark: int | None = None
        self.log = get_logger("connectors.hubspot.keyset")

    def pages(self, position: Position) -> Iterator[tuple[list[Hit], Position]]:
        self._seen = dict(position.seen)
        self._mark = position.modified_ms
        lower = None if self._mark is None else max(0, self._mark - self.overlap_ms)
        bound: Bound | None = (lower, "GTE")
        while bound is not None:
            self.slices += 1
            lower, op = bound
            if op == "EQ":
                assert lower is not None
                bound = yield from self._tie(lower)
            else:
                bound = yield from self._slice(lower, op)
            if bound is not None:
                self._prune(bound[0])

    def position(self) -> Position:
        """The cursor covering everything emitted so far."""
        if self._mark is None:
            return Position()
        floor = self._mark - self.overlap_ms
        window = {i: ms for i, ms in self._seen.items() if ms >= floor}
        if len(window) > self.max_seen:
            # Keep the boundary ids (needed to never re-emit) and the newest of the rest;
            # dropping older window ids only risks re-emitting, never skipping.
            ranked = sorted(window.items(), key=lambda kv: (kv[1] != self._mark, -kv[1]))
            window = dict(ranked[: max(self.max_seen, sum(v == self._mark for v in
                                                            window.values()))])
        return Position(self._mark, window)

    def _slice(
        self, lower: int | None, op: str
    ) -> Generator[tuple[list[Hit], Position], None, Bound | None]:
        """Page one slice; returns the next slice's bound, or None when all is read."""
        restarts, offset = 0, 0
        start: Bound = (lower, op)
        first_total: int | None = None
        last_ms: int | None = None
        at_last = 0
        slice_ids: set[str] = set()
        while True:
            result = self.search(Query(self.page_size, offset, start[0], start[1], self.until_ms))
            first_total = result.total if offset == 0 else first_total
            moved_from: int | None = None
            new: list[Hit] = []
            for hit in result.hits:
                if hit.ms is not None:
                    at_last = at_last + 1 if hit.ms == last_ms else 1
                    last_ms = hit.ms
                if hit.id is not None and hit.ms is not None:
                    before = self._seen.get(hit.id)
                    if before == hit.ms:
                        continue
                    if before is not None and hit.id in slice_ids and before < hit.ms:
                        moved_from = before if moved_from is None else min(moved_from, before)
                    slice_ids.add(hit.id)
                new.append(self._emit(hit))
            if new:
                yield new, self.position()
            shrunk = (first_total is not None and result.total is not None
                      and result.total < first_total)
            if (moved_from is not None or shrunk) and restarts < MAX_RESTARTS:
                # The result set moved under our offsets (a record read in this slice was
                # modified again, or one left it): records may have shifted past us.
                restarts += 1
                self.restarts += 1
                start = (lower, op) if shrunk or moved_from is None else (moved_from, "GTE")
                self.log.info("hubspot_slice_restart", lower_ms=start[0], shrunk=shrunk)
                offset, first_total, last_ms, at_last = 0, None, None, 0
                continue
            if result.next_after is None or not result.hits:
                return None
            offset = result.next_after
            if offset + self.page_size > self.cap:
                break
        return self._next_bound(start, last_ms, at_last)

    def _next_bound(self, start: Bound, last_ms: int | None, at_last: int) -> Bound:
        """After a full slice: restart from the last timestamp, or read it alone."""
        if last_ms is None:
            raise PermanentApiError("HubSpot search returned a full slice without any "
                                    "parseable modified date; cannot continue safely")
        if at_last > self.page_size:
            return (last_ms, "EQ")
        return (last_ms, "GTE")

    def _tie(self, ts: int) -> Generator[tuple[list[Hit], Position], None, Bound]:
        """Read every record at exactly ``ts`` by object id, then continue after ``ts``."""
        after_id = self._probe(ts)
        offset, restarts = 0, 0
        first_total: int | None = None
        while True:
            result = self.search(Query(self.page_size, offset, eq_ms=ts, after_id=after_id,
                                       upper_ms=self.until_ms))
            first_total = result.total if offset == 0 else first_total
            new = [self._emit(h) for h in result.hits if not self._is_seen(h)]
            if new:
                yield new, self.position()
            if (first_total is not None and result.total is not None
                    and result.total < first_total and restarts < MAX_RESTARTS):
                restarts += 1  # records left this timestamp: ids may have shifted past us
                self.restarts += 1
                offset, first_total = 0, None
                continue
            ids = [int(h.id) for h in result.hits if h.id is not None and h.id.isdigit()]
            if result.next_after is None or not result.hits:
                return (ts, "GT")
            offset = result.next_after
            if offset + self.page_size > self.cap:
                if not ids:
                    raise PermanentApiError("HubSpot search returned a full slice without "
                                            "numeric ids; cannot continue safely")
                after_id, offset = max(ids), 0
                self.slices += 1

    def _probe(self, ts: int) -> int:
        """Where the id keyset can start: after the highest id already read at ``ts``,
        if (one cheap call tells) every record at ``ts`` up to it was read; else 0."""
        ids = [int(i) for i, ms in self._seen.items() if ms == ts and i.isdigit()]
        if not ids:
            return 0
        highest = max(ids)
        probe = self.search(Query(1, 0, eq_ms=ts, id_lte=highest, upper_ms=self.until_ms))
        return highest if probe.total == len(ids) else 0

    def _is_seen(self, hit: Hit) -> bool:
        return hit.id is not None and hit.ms is not None and self._seen.get(hit.id) == hit.ms

    def _emit(self, hit: Hit) -> Hit:
        if hit.id is not None and hit.ms is not None:
            self._seen[hit.id] = hit.ms
            self._mark = hit.ms if self._mark is None else max(self._mark, hit.ms)
        return hit

    def _prune(self, lower: int | None) -> None:
        if lower is None or self._mark is None:
            return
        floor = min(lower, self._mark - self.overlap_ms)
        self._seen = {i: ms for i, ms in self._seen.items() if ms >= floor}
