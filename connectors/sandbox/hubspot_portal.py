"""What HubSpot itself does when a record is written, whoever writes it.

One place for the portal's own reactions, shared by the API handlers and the sales team:
a lifecycle stage never moves back unless cleared first (the write is ignored and
recorded in ``store.ignored_writes``); entering a stage stamps ``hs_v2_date_entered_<stage>``
(and the legacy ``hs_lifecyclestage_<stage>_date`` when still empty), leaving one stamps
``hs_v2_date_exited_<stage>``; a new owner stamps ``hubspot_owner_assigneddate``; the
modification stamp moves; and a :class:`~connectors.sandbox.events.Change` is emitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.sandbox.events import API, Change
from connectors.sandbox.properties import LIFECYCLE_STAGES
from connectors.sandbox.store import SandboxStore, hs_time

STAMP_KEY = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate",
             "notes": "hs_lastmodifieddate"}
OBJECT_TYPE = {"contacts": "contact", "companies": "company", "notes": "note"}


def text(value: Any) -> str | None:
    """A property value as HubSpot stores it: a string (booleans lower-case) or None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def backwards(current: str | None, new: str | None) -> bool:
    """True when a lifecycle stage change would move the contact back (HubSpot ignores it)."""
    if not current or not new or current not in LIFECYCLE_STAGES or new not in LIFECYCLE_STAGES:
        return False
    return LIFECYCLE_STAGES.index(new) < LIFECYCLE_STAGES.index(current)


def apply_changes(
    store: SandboxStore, obj: str, record: dict[str, Any], changes: Mapping[str, Any],
    *, source: str = API, source_id: str | None = None, at: datetime | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Write ``changes`` to ``record`` as HubSpot would; returns what actually changed.

    ``at`` is when the change happened, for the sandbox's sales team acting on its agenda
    (an action due at 10:00 is stamped 10:00 even when the clock was read a little later)."""
    props = record["properties"]
    now = at or store.now()
    stamp = hs_time(now)
    done: dict[str, tuple[Any, Any]] = {}
    for name, value in changes.items():
        new = text(value)
        old = props.get(name)
        if name == "lifecyclestage" and obj == "contacts" and backwards(old, new):
            store.ignored_writes.append(
                {"id": record["id"], "property": name, "from": old, "to": new})
            continue
        props[name] = new
        done[name] = (old, new)
    if obj == "contacts":
        done.update(_derived(store, props, done, stamp))
    _remember(record, done, stamp, source, source_id)
    props[STAMP_KEY[obj]] = stamp
    record["updatedAt"] = stamp
    store.events.emit(Change("hubspot", OBJECT_TYPE[obj], record["id"], False, done, now,
                             source, source_id))
    return done


#: Versions kept per property (an assumption: HubSpot documents no cap for the versions
#: ``propertiesWithHistory`` returns; the sandbox keeps the newest few).
HISTORY_VERSIONS = 20


def _remember(record: dict[str, Any], done: Mapping[str, tuple[Any, Any]], stamp: str,
              source: str, source_id: str | None) -> None:
    """Property versions, newest first, as ``propertiesWithHistory`` returns them
    (``{"value", "timestamp", "sourceType", "sourceId"}``; hubspot-api.md, batch read).
    Only changes made through the sandbox are kept; a seeded value has no versions."""
    history = record.setdefault("history", {})
    for name, (old, new) in done.items():
        if old == new:
            continue
        versions = history.setdefault(name, [])
        versions.insert(0, {"value": new if new is not None else "", "timestamp": stamp,
                            "sourceType": source,
                            **({"sourceId": source_id} if source_id else {})})
        del versions[HISTORY_VERSIONS:]


def announce_created(store: SandboxStore, obj: str, record: dict[str, Any],
                     *, source: str = API, source_id: str | None = None) -> None:
    """Emit the creation of ``record`` (its properties as changes from nothing)."""
    props = record["properties"]
    if obj == "contacts" and props.get("lifecyclestage"):
        stage = props["lifecyclestage"]
        for key in (f"hs_v2_date_entered_{stage}", f"hs_lifecyclestage_{stage}_date"):
            if key in store.contact_property_defs and not props.get(key):
                props[key] = props.get("createdate")
    changes = {k: (None, v) for k, v in props.items() if v not in (None, "")}
    store.events.emit(Change("hubspot", OBJECT_TYPE[obj], record["id"], True, changes,
                             store.now(), source, source_id))


def _derived(store: SandboxStore, props: dict[str, Any],
             done: Mapping[str, tuple[Any, Any]], stamp: str) -> dict[str, tuple[Any, Any]]:
    """The properties HubSpot sets itself after a contact write."""
    derived: dict[str, Any] = {}
    defs = store.contact_property_defs
    stage = done.get("lifecyclestage")
    if stage is not None and stage[0] != stage[1]:
        old, new = stage
        if old:
            derived[f"hs_v2_date_exited_{old}"] = stamp
        if new:
            derived[f"hs_v2_date_entered_{new}"] = stamp
            legacy = f"hs_lifecyclestage_{new}_date"
            if legacy in defs and not props.get(legacy):
                derived[legacy] = stamp
    owner = done.get("hubspot_owner_id")
    if owner is not None and owner[0] != owner[1] and owner[1]:
        derived["hubspot_owner_assigneddate"] = stamp
    changed = {}
    for name, value in derived.items():
        if name in defs:
            changed[name] = (props.get(name), value)
            props[name] = value
    return changed
