"""The Salesforce source: Leads matching a SOQL condition, modified since a cursor.

One query per read, ordered by ``SystemModstamp, Id``, paged lazily through
``nextRecordsUrl`` (one API call per page of ``query_batch_size`` records). The cursor is
``{"modstamp": ISO datetime, "seen": {id: modstamp}}``: a closed lower bound, so a record
written in the same millisecond as the last one read is not lost. Each read starts
``lookback_seconds`` before that bound, because some writes reach SOQL only after later
ones were read (airbyte#27146, tap-salesforce#135), and drops the versions listed in
``seen`` (every record read in that window), so nothing is read twice. SOQL datetime
literals have second precision, so the query asks for ``>=`` the second and the source drops
what precedes the cursor itself. Each page's cursor covers that page and everything before
it, and a failed page fetch raises before any cursor past it is yielded. A page holding only
records read before is not yielded (the cursor did not move).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from simple_salesforce import format_soql

from connectors.base import Cursor, MemoryState, Page, StateStore
from connectors.mapping import parse_datetime, to_mql
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.schema import load_answers, parse_describe
from connectors.salesforce.settings import SalesforceSettings
from sync_agent.errors import SyncAgentError
from sync_agent.logs import get_logger
from sync_agent.model import MQL
from sync_agent.rules.reading import PropertyType


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
                 name: str = "salesforce", state: StateStore | None = None) -> None:
        self.name = name  # the instance's name: lead keys are "<name>:<Lead id>"
        self.settings = settings
        self.client = client
        self.state = state or MemoryState()
        self.types: Mapping[str, PropertyType] | None = None

    @property
    def api_calls(self) -> int:
        """HTTP requests this connector made so far (retries and logins included)."""
        return int(self.client.calls)

    def read(self, cursor: Cursor, *, until_ms: int | None = None) -> Iterator[Page]:
        self.types = self._types()
        position = cursor.position
        boundary = parse_datetime(str(position["modstamp"])) if position.get("modstamp") else None
        seen = _seen(position, boundary)
        lookback = timedelta(seconds=self.settings.lookback_seconds)
        # A cursor from before lookbacks knows only the ids at its bound: no look back then.
        behind = lookback if "seen" in position else timedelta(0)
        since = boundary - behind if boundary is not None else None
        until = (datetime.fromtimestamp(until_ms / 1000, tz=UTC)
                 if until_ms is not None else None)
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
                if since is not None and stamp < since:
                    continue
                if seen.get(str(raw_id)) == iso(stamp):
                    continue  # this version was read before (the lookback re-reads it)
                if until is not None and stamp >= until:
                    continue
                result = self._to_mql(raw_id, record, stamp)
                if isinstance(result, MQL):
                    mqls.append(result)
                else:
                    malformed.append(result)
                seen[str(raw_id)] = iso(stamp)
                if boundary is None or stamp > boundary:
                    boundary = stamp
            if not mqls and not malformed:
                continue  # only records already read: nothing new, the cursor did not move
            assert boundary is not None
            seen = _trim(seen, boundary - lookback, self.settings.max_seen)
            yield Page(mqls, Cursor({"modstamp": iso(boundary), "seen": dict(seen)}), malformed)

    def _types(self) -> Mapping[str, PropertyType] | None:
        """The Lead's declared field types (cached describe; an org that can't be asked:
        values are read untyped, the read goes on)."""
        try:
            answers, _, _ = load_answers(self.client, self.settings, self.state)
        except SyncAgentError as exc:
            get_logger("connectors.salesforce.source").warning("schema_unavailable",
                                                               error=str(exc))  # fmt: skip
            return None
        return parse_describe(answers.get("lead"))

    def _to_mql(
        self, raw_id: Any, record: dict[str, Any], stamp: datetime
    ) -> MQL | tuple[str, str]:
        properties = {k: v for k, v in record.items() if k != "attributes"}
        crm = {self.name: raw_id} if isinstance(raw_id, str) else {}
        return to_mql(self.name, raw_id, properties, self.settings.field_map,
                      raw_prefix="salesforce", modified_at=stamp, crm_ids=crm,
                      schema=self.types)


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


def _seen(position: Mapping[str, Any], boundary: datetime | None) -> dict[str, str]:
    """``{id: modstamp}`` of the versions read in the lookback window; older cursors kept
    only the ids read at the boundary (``seen_ids``)."""
    seen = {str(k): str(v) for k, v in dict(position.get("seen") or {}).items()}
    for item in position.get("seen_ids") or ():
        if boundary is not None:
            seen.setdefault(str(item), iso(boundary))
    return seen


def _trim(seen: dict[str, str], floor: datetime, cap: int) -> dict[str, str]:
    """Keep the versions the next read's lookback still reaches (newest ``cap`` at most)."""
    kept = {k: v for k, v in seen.items() if (_stamp(v) or floor) >= floor}
    if len(kept) > cap:
        kept = dict(sorted(kept.items(), key=lambda kv: kv[1])[-cap:])
    return kept
