"""Change tracking for the store's HubSpot records, so search can cache safely.

Every mutation of a contact or note, including one a test makes directly on
``store.contacts[id]["properties"]``, is appended to a :class:`ChangeLog` as the id of the
record that changed. The search emulator caches a sorted result per query and, when the
log has moved on, re-sorts only the records that changed instead of all of them: a sync that
writes back between pages would otherwise pay a full filter-and-sort per page.
"""

from __future__ import annotations

import threading
from typing import Any

#: Entries kept; a cache older than this recomputes from scratch.
MAX_LOG = 200_000


class ChangeLog:
    """A monotonically increasing version plus the ids changed at each version."""

    def __init__(self) -> None:
        self.version = 0
        self._start = 0  # version of _entries[0]
        self._entries: list[str | None] = []
        self._lock = threading.Lock()

    def record(self, record_id: str | None) -> None:
        """Note that ``record_id`` changed (None: something without an id changed)."""
        with self._lock:
            self._entries.append(record_id)
            self.version += 1
            if len(self._entries) > MAX_LOG:
                drop = len(self._entries) - MAX_LOG // 2
                del self._entries[:drop]
                self._start += drop

    def changed_since(self, version: int) -> set[str] | None:
        """Ids changed after ``version``; None when unknown (log trimmed, or id-less change)."""
        with self._lock:
            if version < self._start:
                return None
            changed = self._entries[version - self._start :]
        if None in changed:
            return None
        return set(changed)  # type: ignore[arg-type]


class TrackedDict(dict[str, Any]):
    """A dict that logs every mutation as a change of its owning record.

    The top-level collection (owner None) logs the key it changed; a record and its nested
    dicts (``properties``) log the record's id. Plain dicts assigned into it are wrapped.
    """

    __slots__ = ("_log", "_owner")

    def __init__(self, log: ChangeLog, data: Any = (), owner: str | None = None) -> None:
        super().__init__(data)
        self._log = log
        self._owner = owner
        for key, value in self.items():
            if type(value) is dict:
                dict.__setitem__(self, key, TrackedDict(log, value, self._child_owner(key)))

    def _child_owner(self, key: str) -> str:
        return self._owner if self._owner is not None else str(key)

    def _changed(self, key: Any) -> None:
        self._log.record(self._owner if self._owner is not None else str(key))

    def __setitem__(self, key: str, value: Any) -> None:
        if type(value) is dict:
            value = TrackedDict(self._log, value, self._child_owner(key))
        super().__setitem__(key, value)
        self._changed(key)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._changed(key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: str, *default: Any) -> Any:
        self._changed(key)
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        item = super().popitem()
        self._changed(item[0])
        return item

    def clear(self) -> None:
        if self._owner is None:
            self._log.record(None)
        else:
            self._changed("")
        super().clear()

    def __reduce__(self) -> Any:
        return (dict, (dict(self),))
