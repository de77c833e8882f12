"""The rows a SOQL query sees, per sObject, at the sandbox's current time.

``query`` skips deleted records and archived tasks; ``queryAll`` returns them. A task is
archived once it is closed and its due date (its creation date without one) is older than
``org.task_archive_days``; ``IsClosed`` comes from ``TaskStatus``. A write the org makes
"late visible" (``org.late_visible_share``) stays out of both until
``org.late_visible_seconds`` after its SystemModstamp, so records changed later can be read
first. Picklist objects (``LeadStatus``, ``TaskStatus``) are the store's rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from connectors.sandbox.salesforce_org import late_visible
from connectors.sandbox.salesforce_records import is_closed
from connectors.sandbox.soql import parse_datetime


def queryable_rows(store: Any, sobject: str, include_all: bool) -> list[dict[str, Any]]:
    """Rows of ``sobject`` for ``query`` (``include_all`` False) or ``queryAll``."""
    now = store.now()
    if sobject == "Lead":
        return [r for r in _visible(store, store.leads.values(), now)
                if include_all or not r.get("IsDeleted")]
    if sobject == "Task":
        return [t for t in (_task_row(store, t, now) for t in
                            _visible(store, store.tasks.values(), now))
                if include_all or not (t.get("IsDeleted") or t["IsArchived"])]
    if sobject in ("LeadStatus", "TaskStatus"):
        rows = store.lead_statuses if sobject == "LeadStatus" else store.task_statuses
        return [{"Id": f"01J5g0000000{i + (0 if sobject == 'LeadStatus' else 100):03d}AAA",
                 "MasterLabel": s["ApiName"], "SortOrder": i + 1, **s}
                for i, s in enumerate(rows)]
    table = {"User": store.users, "Group": store.groups}.get(sobject)
    if table is not None:
        return list(table.values())
    if sobject == "LeadHistory":
        return [h for h in store.lead_history if include_all or not h.get("IsDeleted")]
    return []


def _visible(store: Any, records: Iterable[dict[str, Any]],
             now: datetime) -> Iterable[dict[str, Any]]:
    org = store.org
    if org.late_visible_share <= 0 or org.late_visible_seconds <= 0:
        return records
    delay = timedelta(seconds=org.late_visible_seconds)
    return [r for r in records
            if not late_visible(org, r["Id"], r["SystemModstamp"])
            or parse_datetime(r["SystemModstamp"]) + delay <= now]


def _task_row(store: Any, task: dict[str, Any], now: datetime) -> dict[str, Any]:
    closed = is_closed(store, task.get("Status"))
    since = task.get("ActivityDate") or str(task.get("CreatedDate") or "")[:10]
    archived = closed and bool(since) and \
        datetime.fromisoformat(since[:10]).date() < (now - timedelta(
            days=store.org.task_archive_days)).date()
    return {**task, "IsClosed": closed, "IsArchived": archived}
