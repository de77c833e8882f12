"""sObject Collections semantics and the one place Salesforce records are written.

Pure functions over the store (the caller holds ``store.lock``): validation per record
against the schema, field-level security and the org's rules (validation rules, owners,
triggers), per-record results in request order with the ``statusCode`` errors Salesforce
documents, ``allOrNone`` roll-back. :func:`write_record` is what every write goes through,
the API's and the sales team's alike: it stamps the record, runs the active lead
assignment rule, keeps field history, derives Task fields and emits the change event.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from connectors.sandbox import salesforce_org as rules
from connectors.sandbox.events import API, Change
from connectors.sandbox.salesforce_auth import USER_ID
from connectors.sandbox.salesforce_org import error
from connectors.sandbox.salesforce_schema import (
    SCHEMAS,
    WRITABLE_OBJECTS,
    FieldSpec,
    allowed_values,
    fields_of,
)
from connectors.sandbox.soql import parse_datetime
from connectors.sandbox.store import SandboxStore, sf_time

__all__ = ["MAX_COLLECTION", "SCHEMAS", "Ctx", "error", "failure", "write_record"]

MAX_COLLECTION = 200
#: External ID fields collections may upsert on (``PATCH composite/sobjects/{type}/{field}``,
#: REST API Developer Guide "Upsert Up to 200 Records"): the org's own custom fields.
EXTERNAL_IDS = {"Task": ("SAL_Handoff_Key__c",), "Lead": ("SAL_Handoff_Key__c",)}
#: Fields an insert must carry (REQUIRED_FIELD_MISSING), also when an upsert inserts.
REQUIRED_ON_CREATE = {"Lead": ("LastName", "Company")}
HISTORY_NAMES = {"OwnerId": "Owner"}


def failure(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"success": False, "errors": errors}


@dataclass
class Ctx:
    """What record operations need from the emulator: the store, time, request context."""

    store: Any
    now: Callable[[], str]
    lock_rate: float = 0.0
    roll: Callable[[float], bool] = field(default=lambda rate: random.random() < rate)
    auto_assign: bool = True
    actor: str = USER_ID

    def table(self, sobject: str) -> dict[str, dict[str, Any]]:
        return self.store.leads if sobject == "Lead" else self.store.tasks


def _check_value(spec: FieldSpec, sobject: str, value: Any, store: Any) -> Any:
    """The stored form of ``value``, or a per-record error dict."""
    name, kind = spec.name, spec.type
    if value is None:
        if kind == "picklist" and spec.restricted and not spec.nillable:
            return error("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                         f"{spec.label}: bad value for restricted picklist field: null", [name])
        return None
    if kind == "picklist":
        if spec.restricted and value not in allowed_values(spec, store):
            return error("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                         f"{spec.label}: bad value for restricted picklist field: {value}",
                         [name])
        return value if isinstance(value, str) else _wrong_type(name, value)
    if kind in ("int", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return _wrong_type(name, value)
        return int(value) if kind == "int" else float(value)
    if kind in ("datetime", "date"):
        try:
            return (parse_datetime(value).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
                    if kind == "datetime" else date.fromisoformat(str(value)).isoformat())
        except (TypeError, ValueError):
            return _wrong_type(name, value)
    if not isinstance(value, str):
        return _wrong_type(name, value)
    if spec.length and kind in ("string", "textarea") and len(value) > spec.length:
        return error("STRING_TOO_LONG", f"{spec.label}: data value too large: {value[:20]}... "
                     f"(max length={spec.length})", [name])
    return value


def _wrong_type(name: str, value: Any) -> dict[str, Any]:
    return error("INVALID_TYPE_ON_FIELD_IN_RECORD", f"{name}: value not of required type: "
                 f"{value}", [name])


def clean_fields(
    sobject: str, record: Mapping[str, Any], store: Any, skip: Sequence[str] = ()
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Validated field values to store, and every field error found (FLS applied)."""
    security = store.org.security
    visible = fields_of(sobject, security)
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for name, value in record.items():
        if name in ("attributes", "id", *skip):
            continue
        spec = visible.get(name)
        if spec is None:
            errors.append(error("INVALID_FIELD",
                                f"No such column '{name}' on sobject of type {sobject}", [name]))
            continue
        if spec.read_only or not security.editable(sobject, name):
            errors.append(error("INVALID_FIELD_FOR_INSERT_UPDATE",
                                f"Unable to create/update fields: {name}. Please check the "
                                "security settings of this field and verify that it is "
                                "read/write for your profile or permission set.", [name]))
            continue
        checked = _check_value(spec, sobject, value, store)
        if isinstance(checked, dict):
            errors.append(checked)
        else:
            values[name] = checked
    if sobject == "Task" and values.get("WhoId") and values["WhoId"] not in store.leads:
        errors.append(error("INVALID_CROSS_REFERENCE_KEY",
                            "invalid cross reference id", ["WhoId"]))
    return values, errors


def _type_of(record: Mapping[str, Any]) -> str | None:
    attrs = record.get("attributes")
    return attrs.get("type") if isinstance(attrs, Mapping) else None


def _lock_error(ctx: Ctx, rid: str) -> dict[str, Any] | None:
    if ctx.lock_rate and ctx.roll(ctx.lock_rate):
        return error("UNABLE_TO_LOCK_ROW",
                     f"unable to obtain exclusive access to this record or 1 records: {rid}")
    return None


def _org_errors(ctx: Ctx, sobject: str, before: Mapping[str, Any],
                values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Errors for the owner being written and the validation rules the result breaks."""
    store = ctx.store
    after = {**before, **values}
    return (rules.owner_errors(store.org, store, sobject, values)
            + rules.validation_errors(store.org, sobject, after, before))


def plan_update(ctx: Ctx, record: Any) -> tuple[dict[str, Any] | None, Any]:
    """(error result | None, (sobject, id, values)) for one update record."""
    if not isinstance(record, Mapping):
        return failure([error("JSON_PARSER_ERROR", "record must be an object")]), None
    sobject = _type_of(record)
    if sobject not in WRITABLE_OBJECTS:
        return failure([error("INVALID_TYPE", f"sObject type '{sobject}' is not supported")]), None
    rid = record.get("id") or record.get("Id")
    if not isinstance(rid, str) or not rid:
        return failure([error("MISSING_ARGUMENT", "Id not specified in an update call")]), None
    existing = ctx.table(sobject).get(rid)
    if existing is None:
        return failure([error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")]), None
    if existing.get("IsDeleted"):
        return failure([error("ENTITY_IS_DELETED", "entity is deleted")]), None
    values, errors = clean_fields(sobject, {k: v for k, v in record.items() if k != "Id"},
                                  ctx.store)
    if errors:
        return failure(errors), None
    if sobject == "Lead" and existing.get("IsConverted"):
        converted = error("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
        return failure([converted]), None
    org_errors = _org_errors(ctx, sobject, existing, values)
    if org_errors:
        return failure(org_errors), None
    lock = _lock_error(ctx, rid)
    if lock:
        return failure([lock]), None
    return None, (sobject, rid, values)


def plan_create(ctx: Ctx, record: Any) -> tuple[dict[str, Any] | None, Any]:
    """(error result | None, (sobject, None, values)) for one create record."""
    if not isinstance(record, Mapping):
        return failure([error("JSON_PARSER_ERROR", "record must be an object")]), None
    sobject = _type_of(record)
    if sobject not in WRITABLE_OBJECTS:
        return failure([error("INVALID_TYPE", f"sObject type '{sobject}' is not supported")]), None
    if record.get("id") or record.get("Id"):
        return failure([error("INVALID_FIELD_FOR_INSERT_UPDATE",
                              "cannot specify Id in an insert call", ["Id"])]), None
    values, errors = clean_fields(sobject, record, ctx.store)
    errors += _required_missing(sobject, values)
    if errors:
        return failure(errors), None
    org_errors = _org_errors(ctx, sobject, {}, {"OwnerId": ctx.actor, **values})
    if org_errors:
        return failure(org_errors), None
    return None, (sobject, None, values)


def _required_missing(sobject: str, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    missing = [f for f in REQUIRED_ON_CREATE.get(sobject, ()) if not values.get(f)]
    if not missing:
        return []
    return [error("REQUIRED_FIELD_MISSING",
                  f"Required fields are missing: [{', '.join(missing)}]", missing)]


def write_record(
    store: SandboxStore, sobject: str, rid: str | None, values: Mapping[str, Any], *,
    actor: str = USER_ID, auto_assign: bool = False, source: str = API,
    at: datetime | None = None,
) -> tuple[str, bool]:
    """Create or update one Lead or Task as Salesforce would; returns (id, created).

    ``at`` stamps a change made at a planned sandbox time (the sales team acts when its plan
    falls due, not when the clock was advanced past it), so stamps match the plan exactly.
    """
    now = at or store.now()
    stamp = sf_time(now)
    table = store.leads if sobject == "Lead" else store.tasks
    created = rid is None or rid not in table
    before: dict[str, Any] = {} if created else dict(table[rid])  # type: ignore[index]
    if created:
        rid = store.new_id("lead" if sobject == "Lead" else "task")
        table[rid] = {**_defaults(store, sobject, actor), "Id": rid, "CreatedDate": stamp,
                      "CreatedById": actor}
    record = table[rid]  # type: ignore[index]
    record.update(values)
    owner = rules.reassigned_owner(store.org, store, sobject, record, auto_assign)
    if owner is not None:
        record["OwnerId"] = owner
    if sobject == "Task":
        _derive_task(store, record, before, stamp)
    record.update(LastModifiedDate=stamp, SystemModstamp=stamp, LastModifiedById=actor)
    changes = {k: (before.get(k), v) for k, v in record.items()
               if before.get(k) != v and k not in ("LastModifiedDate", "SystemModstamp")}
    _track_history(store, sobject, str(rid), created, changes, stamp, actor)
    store.events.emit(Change("salesforce", sobject, str(rid), created, changes, now, source,
                             actor))
    return str(rid), created


def _defaults(store: Any, sobject: str, actor: str) -> dict[str, Any]:
    base: dict[str, Any] = {"IsDeleted": False, "OwnerId": actor}
    if sobject == "Lead":
        default = next((s["ApiName"] for s in store.lead_statuses if s.get("IsDefault")), None)
        base.update(IsConverted=False, Status=default)
    else:
        default = next((s["ApiName"] for s in store.task_statuses if s.get("IsDefault")), None)
        base.update(Status=default, Priority="Normal", CompletedDateTime=None)
    return base


def is_closed(store: Any, status: Any) -> bool:
    """Whether a Task status counts as closed (``TaskStatus.IsClosed``)."""
    return any(s["ApiName"] == status and s.get("IsClosed") for s in store.task_statuses)


def _derive_task(store: Any, task: dict[str, Any], before: Mapping[str, Any],
                 stamp: str) -> None:
    """CompletedDateTime when a task closes; the lead's LastActivityDate follows."""
    closed = is_closed(store, task.get("Status"))
    if closed and not is_closed(store, before.get("Status")):
        task["CompletedDateTime"] = stamp
        lead = store.leads.get(task.get("WhoId"))
        if lead is not None:
            due = task.get("ActivityDate") or stamp[:10]
            lead["LastActivityDate"] = max(lead.get("LastActivityDate") or "", due)
    elif not closed:
        task["CompletedDateTime"] = None


def _track_history(store: Any, sobject: str, rid: str, created: bool,
                   changes: Mapping[str, tuple[Any, Any]], stamp: str, actor: str) -> None:
    """LeadHistory rows for tracked fields (field history tracking)."""
    tracked = store.org.history_tracked.get(sobject)
    if sobject != "Lead" or not tracked:
        return
    rows = [("created", None, None)] if created else [
        (HISTORY_NAMES.get(name, name), old, new) for name, (old, new) in changes.items()
        if HISTORY_NAMES.get(name, name) in tracked]
    for name, old, new in rows:
        store.lead_history.append({
            "Id": store.new_id("history"), "LeadId": rid, "Field": name, "OldValue": old,
            "NewValue": new, "DataType": "EntityId" if name == "Owner" else "Text",
            "IsDeleted": False, "CreatedDate": stamp, "CreatedById": actor,
        })


def run_collection(
    ctx: Ctx, records: Sequence[Any], planner: Callable[[Ctx, Any], tuple[Any, Any]],
    all_or_none: bool, upsert: bool = False,
) -> list[dict[str, Any]]:
    """Plan every record, then apply (or roll back everything when ``allOrNone``)."""
    planned = [planner(ctx, r) for r in records]
    sobject = next((p[0] for _e, p in planned if p is not None), None)
    trigger = rules.trigger_errors(ctx.store.org, sobject or "", len(records)) if sobject else []
    if trigger:
        planned = [(err, None) if err is not None else (failure(trigger), None)
                   for err, _plan in planned]
    if all_or_none and any(err is not None for err, _ in planned):
        rolled = failure([error("ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                "Record rolled back because not all records were valid and the "
                                "request was using AllOrNone header")])
        return [err if err is not None else rolled for err, _ in planned]
    results: list[dict[str, Any]] = []
    for err, plan in planned:
        if err is not None:
            results.append(err)
            continue
        kind, rid, values = plan
        new_id, created = write_record(ctx.store, kind, rid, values, actor=ctx.actor,
                                       auto_assign=ctx.auto_assign)
        result: dict[str, Any] = {"id": new_id, "success": True, "errors": []}
        if upsert:
            result["created"] = created
        results.append(result)
    return results


def upsert_planner(sobject: str, ext_field: str) -> Callable[[Ctx, Any], tuple[Any, Any]]:
    """A planner that matches records on ``ext_field`` and creates or updates."""
    seen: set[str] = set()
    index: dict[str, list[str]] = {}

    def hits_for(ctx: Ctx, key: str) -> list[str]:
        if not index:
            index["\0built"] = []
            for rid, r in ctx.table(sobject).items():
                if r.get(ext_field) and not r.get("IsDeleted"):
                    index.setdefault(r[ext_field], []).append(rid)
        return index.get(key, [])

    def plan(ctx: Ctx, record: Any) -> tuple[Any, Any]:
        if not isinstance(record, Mapping):
            return failure([error("JSON_PARSER_ERROR", "record must be an object")]), None
        if _type_of(record) != sobject:
            return failure([error("INVALID_TYPE", f"record type must be {sobject}")]), None
        key = record.get(ext_field)
        if not isinstance(key, str) or not key:
            return failure([error("MISSING_ARGUMENT", f"{ext_field} not specified")]), None
        if key in seen:
            return failure([error("DUPLICATE_EXTERNAL_ID",
                                  f"Duplicate external id specified: {key}", [ext_field])]), None
        seen.add(key)
        hits = hits_for(ctx, key)
        if len(hits) > 1:
            return failure([error("DUPLICATE_EXTERNAL_ID",
                                  f"{ext_field}: more than one record found for external id "
                                  f"field: {hits}", [ext_field])]), None
        values, errors = clean_fields(sobject, record, ctx.store)
        if not hits:  # this upsert inserts
            errors += _required_missing(sobject, values)
        if errors:
            return failure(errors), None
        existing = ctx.table(sobject).get(hits[0]) if hits else None
        org_errors = _org_errors(ctx, sobject, existing or {},
                                 values if existing else {"OwnerId": ctx.actor, **values})
        if org_errors:
            return failure(org_errors), None
        if hits:
            lock = _lock_error(ctx, hits[0])
            if lock:
                return failure([lock]), None
            return None, (sobject, hits[0], values)
        return None, (sobject, None, values)

    return plan
