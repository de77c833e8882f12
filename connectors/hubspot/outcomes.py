"""Outcome read-back from HubSpot: what sales did with the contacts the agent handed off.

One batch read per 100 contacts (``POST /crm/v3/objects/contacts/batch/read``;
``hubspot-api.md``) for ``hs_lead_status``, ``hs_last_sales_activity_timestamp``,
``hs_sa_first_engagement_date``, ``hs_v2_date_entered_salesqualifiedlead`` /
``_opportunity``, ``hubspot_owner_id``, ``lifecyclestage`` and the configured rejection
reason property (``sales-loop.md``). Only the contacts whose lead status says rejected or
recycled (not recorded yet) are read once more with ``propertiesWithHistory=hs_lead_status``
(50 per call, the documented cap with history), for when the status changed.

The events (pure :func:`events_for`): **first touch** = the earliest of the first sales
activity / last sales activity after the handoff, the stage entry into opportunity and,
when the status history was read, the first lead status change away from the "new" values;
**sql** / **opportunity** = the stage entry dates (an opportunity implies SQL);
**rejected** (with the reason property's value) and **recycled** = the lead status in the
configured lists, at the time it became that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from hubspot.crm.contacts import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

from connectors.base import OutcomeEvent, OutcomeRequest, Sink
from connectors.hubspot.settings import HubSpotSettings
from connectors.hubspot.sink import HubSpotSink, chunks
from connectors.hubspot.writeback import OWNER, batch_outcome
from sync_agent.logs import get_logger
from sync_agent.model import OutcomeKind

STATUS = "hs_lead_status"
LAST_ACTIVITY = "hs_last_sales_activity_timestamp"
FIRST_ENGAGEMENT = "hs_sa_first_engagement_date"
SQL_DATE = "hs_v2_date_entered_salesqualifiedlead"
OPPORTUNITY_DATE = "hs_v2_date_entered_opportunity"
PROPERTIES = (STATUS, LAST_ACTIVITY, FIRST_ENGAGEMENT, SQL_DATE, OPPORTUNITY_DATE, OWNER,
              "lifecyclestage")
#: Inputs per batch read: 100, or 50 with ``propertiesWithHistory`` (hubspot-api.md).
BATCH = 100
HISTORY_BATCH = 50

Props = Mapping[str, Any]
History = Sequence[Mapping[str, Any]]


def read_outcomes(sink: Sink, requests: Sequence[OutcomeRequest]) -> list[OutcomeEvent]:
    """``ConnectorSpec.read_outcomes``: the events HubSpot shows for these handoffs."""
    if not isinstance(sink, HubSpotSink):
        raise TypeError(f"not a HubSpot sink: {type(sink).__name__}")
    settings = sink.settings
    if not settings.outcomes.enabled:
        return []
    wanted: dict[str, list[OutcomeRequest]] = {}
    for request in requests:
        cid = contact_of(request, sink.name)
        if cid:
            wanted.setdefault(cid, []).append(request)
    props = _read(sink, sorted(wanted), properties(settings), None)
    later = sorted(cid for cid, found in props.items()
                   if any(needs_history(r, found, settings) for r in wanted[cid]))
    history = _read(sink, later, [STATUS], STATUS) if later else {}
    events: list[OutcomeEvent] = []
    for cid, found in props.items():
        versions = history.get(cid, {}).get(STATUS) or []
        for request in wanted[cid]:
            events += events_for(request, cid, found, versions, settings)
    get_logger("connectors.hubspot.outcomes").info(
        "hubspot_outcomes_read", handoffs=len(requests), contacts=len(wanted),
        with_history=len(later), events=len(events))
    return events


def contact_of(request: OutcomeRequest, instance: str) -> str | None:
    """The contact a handoff was written to: the id the lead carried for this portal (its
    own id when it came from it), else the write's target when that is a contact id."""
    ids = request.crm_ids
    cid = ids.get(instance) or ids.get("hubspot")
    if not cid and request.source == instance:
        cid = request.source_id
    if not cid and request.record_id and request.record_id.isdigit():
        cid = request.record_id
    return str(cid) if cid else None


def properties(settings: HubSpotSettings) -> list[str]:
    reason = settings.outcomes.rejection_reason_property
    return [*PROPERTIES, *([reason] if reason else [])]


def _read(sink: HubSpotSink, ids: Sequence[str], names: list[str],
          history: str | None) -> dict[str, dict[str, Any]]:
    """``{contact id: properties}`` (with ``history``: ``{property: versions}``) per batch."""
    out: dict[str, dict[str, Any]] = {}
    for chunk in chunks(list(ids), HISTORY_BATCH if history else BATCH):
        request = BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=cid) for cid in chunk], properties=names,
            properties_with_history=[history] if history else [])
        response = sink.client.read_contacts(request)
        done, _missing = batch_outcome(response.status, response.body, response.headers,
                                       list(chunk))
        for cid, item in done.items():
            key = "propertiesWithHistory" if history else "properties"
            value = item.get(key) if isinstance(item, Mapping) else None
            out[cid] = dict(value) if isinstance(value, Mapping) else {}
    return out


# -- pure: properties to events -----------------------------------------------------------


def needs_history(request: OutcomeRequest, props: Props, settings: HubSpotSettings) -> bool:
    """Whether the lead status's change time is needed: a rejection or recycle not recorded
    yet (recording one ends the story, so each contact costs this once). A status that
    only says "worked" is not worth a call: sales activity stamps give the first touch."""
    conf = settings.outcomes
    status = str(props.get(STATUS) or "")
    if status in conf.rejected_statuses:
        return OutcomeKind.REJECTED.value not in request.known
    if status in conf.recycled_statuses:
        return OutcomeKind.RECYCLED.value not in request.known
    return False


def events_for(request: OutcomeRequest, cid: str, props: Props, versions: History,
               settings: HubSpotSettings) -> list[OutcomeEvent]:
    """The outcome events one contact's properties show for one handoff (none before it)."""
    conf, since = settings.outcomes, request.handed_off_at
    status = str(props.get(STATUS) or "")
    changes = sorted(
        ((at, str(v.get("value") or "")) for v in versions
         if (at := parse_time(v.get("timestamp"))) is not None and at >= since),
        key=lambda pair: pair[0])
    base = {"owner": props.get(OWNER) or None, "contact_id": cid, "lead_status": status,
            "lifecyclestage": props.get("lifecyclestage")}
    found: dict[str, OutcomeEvent] = {}

    def add(kind: OutcomeKind, at: datetime | None, reason: str | None = None,
            **detail: Any) -> None:
        if at is not None and at >= since and kind.value not in found:
            found[kind.value] = OutcomeEvent(request.handoff_key, kind.value, at, reason,
                                             {**base, **detail})

    def became(values: Sequence[str]) -> datetime | None:
        return next((at for at, value in reversed(changes) if value in values), None)

    touches = [(at, {"via": name}) for name in (FIRST_ENGAGEMENT, LAST_ACTIVITY)
               if (at := parse_time(props.get(name))) is not None and at >= since]
    worked = next(((at, value) for at, value in changes if value not in conf.new_statuses),
                  None)
    if worked is not None:
        touches.append((worked[0], {"via": STATUS, "to": worked[1]}))
    sql_at, opportunity_at = parse_time(props.get(SQL_DATE)), parse_time(
        props.get(OPPORTUNITY_DATE))
    if opportunity_at is not None and opportunity_at >= since:
        touches.append((opportunity_at, {"via": "opportunity"}))
    if touches:
        at, detail = min(touches, key=lambda pair: pair[0])
        add(OutcomeKind.FIRST_TOUCH, at, **detail)
    add(OutcomeKind.SQL, sql_at, via=SQL_DATE)
    add(OutcomeKind.SQL, opportunity_at, via=OPPORTUNITY_DATE)
    add(OutcomeKind.OPPORTUNITY, opportunity_at, via=OPPORTUNITY_DATE)
    if status in conf.rejected_statuses:
        name = conf.rejection_reason_property
        reason = props.get(name) if name else None
        add(OutcomeKind.REJECTED, became(conf.rejected_statuses), str(reason) if reason else None,
            via=f"{STATUS} history")
    if status in conf.recycled_statuses:
        add(OutcomeKind.RECYCLED, became(conf.recycled_statuses), via=f"{STATUS} history")
    return [e for kind, e in found.items() if kind not in request.known]


def parse_time(value: Any) -> datetime | None:
    """HubSpot datetimes: ISO 8601 (``...Z``) or epoch milliseconds, aware (UTC)."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text) / 1000, UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
