"""The Salesforce source: Leads matching a SOQL condition, modified since a cursor.

One query per read, ordered by ``SystemModstamp, Id``, paged lazily through
``nextRecordsUrl`` (one API call per page of ``query_batch_size`` records). The cursor is
``{"modstamp": ISO datetime, "seen_ids": [ids read AT that modstamp]}``: a closed lower
bound, so a record written in the same millisecond as the last one read is not lost, and
the ids already read at the boundary are dropped instead of being read twice. SOQL datetime
literals have second precision, so the query asks for ``>=`` the second and the source drops
what precedes the cursor itself. Each page's cursor covers that page and everything before
it, and a failed page fetch raises before any cursor past it is yielded. A page holding only
records read before is not yielded (the cursor did not move).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from simple_salesforce import format_soql

from connectors.base import Cursor, Page
from connectors.mapping import parse_datetime, to_mql
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.settings import SalesforceSettings
from sync_agent.model import MQL


def build_query(settings: SalesforceSettings, since: datetime | None,
                until: datetime | None) -> str:
    """The source SOQL; values go through ``format_soql`` (the condition is trusted config)."""
    where = "({:literal})"
    args: list[Any] = [settings.source_condition]
    if since is not None:
        where += " AND SystemModstamp >= {}"
        args.append(since.replace(microsecond=0))
    if until is not None:
        where += " AND SystemModstamp < {}"
        ceiling = until.replace(microsecond=0)
        args.append(ceiling if ceiling == until else ceiling + timedelta(seconds=1))
    return format_soql("SELECT {:literal} FROM Lead WHERE " + where
                       + " ORDER BY SystemModstamp ASC, Id ASC",
                       ", ".join(settings.source_fields()), *args)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


class SalesforceSource:
    """Reads MQL Leads page by page (see the module docstring for the cursor)."""

    def __init__(self, settings: SalesforceSettings, client: SalesforceClient,
                 name: str = "salesforce") -> None:
        self.name = name  # the instance's name: lead keys are "<name>:<Lead id>"
        self.settings = settings
        self.client = client

    def read(self, cursor: Cursor, *, until_ms: int | None = None) -> Iterator[Page]:
        position = cursor.position
        since = parse_datetime(str(position["modstamp"])) if position.get("modstamp") else None
        seen = {str(i) for i in position.get("seen_ids") or ()}
        until = (datetime.fromtimestamp(until_ms / 1000, tz=UTC)
                 if until_ms is not None else None)
        boundary, boundary_ids = since, set(seen)
        soql = build_query(self.settings, since, until)
        for records in self.client.query_pages(soql):
            mqls: list[MQL] = []
            malformed: list[tuple[str, str]] = []
            for record in records:
                raw_id = record.get("Id")
                stamp = _stamp(record.get("SystemModstamp"))
                if stamp is None:
                    malformed.append((str(raw_id or "?"), "record has no valid SystemModstamp"))
                    continue
                if since is not None and (stamp < since or (stamp == since and raw_id in seen)):
                    continue
                if until is not None and stamp >= until:
                    continue
                result = self._to_mql(raw_id, record, stamp)
                if isinstance(result, MQL):
                    mqls.append(result)
                else:
                    malformed.append(result)
                if boundary is None or stamp > boundary:
                    boundary, boundary_ids = stamp, set()
                if stamp == boundary:
                    boundary_ids.add(str(raw_id))
            if not mqls and not malformed:
                continue  # only records already read: nothing new, the cursor did not move
            position_after = {} if boundary is None else {
                "modstamp": iso(boundary), "seen_ids": sorted(boundary_ids)}
            yield Page(mqls, Cursor(position_after), malformed)

    def _to_mql(
        self, raw_id: Any, record: dict[str, Any], stamp: datetime
    ) -> MQL | tuple[str, str]:
        properties = {k: v for k, v in record.items() if k != "attributes"}
        crm = {self.name: raw_id} if isinstance(raw_id, str) else {}
        return to_mql(self.name, raw_id, properties, self.settings.field_map,
                      raw_prefix="salesforce", modified_at=stamp, crm_ids=crm)


def _stamp(value: Any) -> datetime | None:
    """A Salesforce datetime (``2026-01-15T10:30:00.000+0000``) as aware UTC, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = text[:-2] + ":" + text[-2:]
    parsed = parse_datetime(text)
    if parsed is None or not math.isfinite(parsed.timestamp()):
        return None
    return parsed
