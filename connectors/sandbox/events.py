"""Change events: one record per create or update, whoever made it (the API or a rep).

The emulators and the sales team announce every change to a contact, lead or task here;
what reacts to changes subscribes: HubSpot's Salesforce sync (late leads), the sales
team (acting on handoffs), webhooks (``contact.propertyChange``). Listeners run in the
writer's thread under ``store.lock`` and must only record or schedule, never do I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: Who made a change, as HubSpot's webhook ``changeSource`` names it (unverified values
#: apart from the documented examples; see docs/sandbox.md).
API = "INTEGRATION"
SALES_REP = "CRM_UI"
SYNC = "SALESFORCE"


@dataclass(frozen=True)
class Change:
    """One record created or updated; ``changes`` maps field -> (old, new)."""

    system: str
    object_type: str
    object_id: str
    created: bool
    changes: Mapping[str, tuple[Any, Any]]
    at: datetime
    source: str = API
    source_id: str | None = None

    def changed(self, name: str) -> bool:
        """Whether ``name`` took a new value in this change."""
        pair = self.changes.get(name)
        return pair is not None and pair[0] != pair[1]

    def new(self, name: str) -> Any:
        """The value ``name`` has after the change (None if it wasn't touched)."""
        pair = self.changes.get(name)
        return pair[1] if pair else None


Listener = Callable[[Change], None]


class EventBus:
    """Synchronous fan-out of :class:`Change` events to subscribers."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def emit(self, change: Change) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(change)

    def __bool__(self) -> bool:
        return bool(self._listeners)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Fields whose value differs between two versions of a record."""
    return {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}
