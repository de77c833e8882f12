"""Schema discovery answers, kept in a connector instance's state with a refresh interval.

A CRM's schema changes rarely (an admin adds a property) while runs are frequent, so the
raw answers are cached (``StateStore``, in the audit database) and asked again after
``refresh_hours`` or on ``--refresh``. A run never waits on a system that is down for its
schema: the last known one is used, marked stale with the reason (and logged).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import StateStore
from sync_agent.errors import SyncAgentError
from sync_agent.logs import get_logger

KEY = "schema"


def cached_answers(
    state: StateStore,
    fetch: Callable[[], dict[str, Any]],
    *,
    refresh_hours: float,
    force: bool = False,
    now: datetime | None = None,
) -> tuple[dict[str, Any], str, str]:
    """``(answers, fetched_at, stale reason)``: cached unless older than ``refresh_hours``
    or ``force``; on a failed fetch, the cached answers with why (raises without any)."""
    now = now or datetime.now(UTC)
    saved = state.get(KEY)
    cached = saved if isinstance(saved, dict) and isinstance(saved.get("answers"), dict) else None
    if cached is not None and not force:
        try:
            age = now - datetime.fromisoformat(str(cached.get("fetched_at")))
        except ValueError:
            age = timedelta.max
        if age < timedelta(hours=refresh_hours):
            return cached["answers"], str(cached["fetched_at"]), ""
    try:
        answers = fetch()
    except SyncAgentError as exc:
        if cached is None:
            raise
        why = f"the schema could not be read ({exc}); using the one from {cached['fetched_at']}"
        get_logger("connectors.schema").warning("schema_stale", reason=why)
        return cached["answers"], str(cached["fetched_at"]), why
    fetched_at = now.isoformat()
    state.put(KEY, {"fetched_at": fetched_at, "answers": answers})
    return answers, fetched_at, ""
