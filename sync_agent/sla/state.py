"""A handoff's SLA state from its deadline, its first touch and now. Pure.

The meaning is shared with the report (``sync_agent/report``): *met* is a first touch at
or before the deadline, *breached* is none by the deadline (or one after it) once the
deadline has passed, *pending* is neither yet. A late first touch does not undo a breach.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class SlaState(StrEnum):
    PENDING = "pending"
    MET = "met"
    BREACHED = "breached"


def sla_state(deadline: datetime, first_touch: datetime | None, now: datetime) -> SlaState:
    """Met if touched by the deadline; breached once now is past it; else pending."""
    if first_touch is not None and first_touch <= deadline:
        return SlaState.MET
    if now > deadline:
        return SlaState.BREACHED
    return SlaState.PENDING
