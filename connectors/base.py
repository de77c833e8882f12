"""The two small interfaces every connector implements.

A :class:`Source` reads MQLs page by page from an explicit :class:`Cursor`; a
:class:`Sink` writes a batch of handoffs and answers with one result per handoff.
The sync engine knows only these two protocols, so a new system is a new package
under ``connectors/`` with the same file shape as ``hubspot`` and ``salesforce``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sync_agent.model import MQL, Handoff, WriteResult


@dataclass(frozen=True)
class Cursor:
    """Where a source stopped, as plain JSON-able data.

    ``position`` is source-specific (e.g. ``{"modified_ms": 1735689600000,
    "seen_ids": ["101", "102"]}`` for HubSpot: a closed lower bound plus the ids already
    read at that boundary). An empty position means "from the beginning" or from
    ``since`` when the caller gives one.
    """

    position: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.position)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Cursor:
        return cls(dict(data or {}))


@dataclass(frozen=True)
class Page:
    """One page of MQLs and the cursor that resumes right after it.

    ``malformed`` holds raw records that could not be mapped (id, reason), so the
    engine can record them without stopping the batch.
    """

    mqls: Sequence[MQL]
    cursor: Cursor
    malformed: Sequence[tuple[str, str]] = ()


class Source(Protocol):
    """Reads MQLs modified since a cursor."""

    name: str

    def read(
        self, cursor: Cursor, *, until_ms: int | None = None
    ) -> Iterator[Page]:  # pragma: no cover - protocol
        """Yield pages in modification order; each page's cursor covers it and all before.

        ``until_ms`` (epoch milliseconds) bounds a backfill window; ``None`` reads to now.
        Raises ``RetriableError``/``FatalError`` from ``sync_agent.errors`` only.
        """
        ...


class Sink(Protocol):
    """Writes SAL decisions back to a CRM."""

    name: str

    def write(
        self, handoffs: Sequence[Handoff], *, recovering: bool = False
    ) -> list[WriteResult]:  # pragma: no cover - protocol
        """Write a batch; return exactly one result per handoff, in any order.

        Must be idempotent per ``Handoff.key``: writing the same handoff twice leaves one
        note/task. ``recovering=True`` says an earlier attempt may have partly landed (the
        process died mid-write), so the sink reconciles before creating anything; first
        attempts must not pay extra calls for that. Per-record failures are results,
        never exceptions; only whole-call failures raise (``RetriableError`` etc.).
        """
        ...
