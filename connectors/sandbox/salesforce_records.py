"""sObject schemas and sObject Collections semantics for the Salesforce emulator.

Pure functions over the store's ``leads``/``tasks`` dicts (the caller holds ``store.lock``):
validation per record, per-record results in request order with the ``statusCode`` errors
Salesforce documents, and ``allOrNone`` roll-back. Kept apart from the HTTP layer so the
rules can be read (and tested) without a server.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from connectors.sandbox.soql import parse_datetime

MAX_COLLECTION = 200

#: field -> type; ``ro`` marks fields no client may write.
LEAD_FIELDS: dict[str, str] = {
    "Id": "id:ro", "Email": "email", "FirstName": "string", "LastName": "string",
    "Name": "string:ro", "Company": "string", "Title": "string", "Phone": "string",
    "Industry": "string", "NumberOfEmployees": "int", "Country": "string",
    "LeadSource": "string", "Status": "picklist", "Rating": "string", "OwnerId": "reference",
    "IsConverted": "boolean:ro", "IsDeleted": "boolean:ro", "CreatedDate": "datetime:ro",
    "LastModifiedDate": "datetime:ro", "SystemModstamp": "datetime:ro",
    "SAL_Score__c": "double", "SAL_Date__c": "datetime", "SAL_Reason__c": "string",
}
TASK_FIELDS: dict[str, str] = {
    "Id": "id:ro", "WhoId": "reference", "OwnerId": "reference", "Subject": "string",
    "Description": "textarea", "Status": "picklist", "ActivityDate": "date",
    "Priority": "picklist", "SAL_Handoff_Key__c": "string", "IsDeleted": "boolean:ro",
    "CreatedDate": "datetime:ro", "LastModifiedDate": "datetime:ro",
    "SystemModstamp": "datetime:ro",
}
LEADSTATUS_FIELDS: dict[str, str] = {
    "Id": "id:ro", "ApiName": "string:ro", "MasterLabel": "string:ro",
    "IsConverted": "boolean:ro", "IsDefault": "boolean:ro", "SortOrder": "int:ro",
}
SCHEMAS: dict[str, dict[str, str]] = {
    "Lead": LEAD_FIELDS, "Task": TASK_FIELDS, "LeadStatus": LEADSTATUS_FIELDS,
}
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
TASK_PRIORITIES = ("High", "Normal", "Low")
#: Text limits that the connector must respect (Salesforce truncates nothing for you).
MAX_LENGTH = {"SAL_Reason__c": 255, "Subject": 255, "Description": 32_000,
              "SAL_Handoff_Key__c": 255}
EXTERNAL_IDS = {"Task": ("SAL_Handoff_Key__c",)}


def error(code: str, message: str, fields: Sequence[str] = ()) -> dict[str, Any]:
    """One per-record error (note: ``statusCode``, not ``errorCode``)."""
    return {"statusCode": code, "message": message, "fields": list(fields)}


def failure(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"success": False, "errors": errors}


@dataclass
class Ctx:
    """What record operations need from the emulator: the store, time, ids, lock faults."""

    store: Any
    now: Callable[[], str]
    lock_rate: float = 0.0
    roll: Callable[[float], bool] = field(default=lambda rate: random.random() < rate)

    def table(self, sobject: str) -> dict[str, dict[str, Any]]:
        return self.store.leads if sobject == "Lead" else self.store.tasks


def _picklist(sobject: str, name: str, store: Any) -> Sequence[str] | None:
    if sobject == "Lead" and name == "Status":
        return [s["ApiName"] for s in store.lead_statuses]
    if sobject == "Task":
        return {"Status": TASK_STATUSES, "Priority": TASK_PRIORITIES}.get(name)
    return None


def _check_value(sobject: str, name: str, kind: str, value: Any, store: Any) -> Any:
    """The stored form of ``value``, or a per-record error dict."""
    if value is None:
        if kind == "picklist" and sobject == "Lead":
            return error("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                         f"{name}: bad value for restricted picklist field: null", [name])
        return None
    if kind == "picklist":
        allowed = _picklist(sobject, name, store) or ()
        if value not in allowed:
            return error("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                         f"{name}: bad value for restricted picklist field: {value}", [name])
        return value
    if kind in ("int", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return error("INVALID_TYPE_ON_FIELD_IN_RECORD",
                         f"{name}: value not of required type: {value}", [name])
        return int(value) if kind == "int" else float(value)
    if kind in ("datetime", "date"):
        try:
            return (parse_datetime(value).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
                    if kind == "datetime" else date.fromisoformat(str(value)).isoformat())
        except (TypeError, ValueError):
            return error("INVALID_TYPE_ON_FIELD_IN_RECORD",
                         f"{name}: value not of required type: {value}", [name])
    if not isinstance(value, str):
        return error("INVALID_TYPE_ON_FIELD_IN_RECORD",
                     f"{name}: value not of required type: {value}", [name])
    limit = MAX_LENGTH.get(name)
    if limit is not None and len(value) > limit:
        return error("STRING_TOO_LONG",
                     f"{name}: data value too large: {value[:20]}... (max length={limit})", [name])
    return value


def clean_fields(
    sobject: str, record: Mapping[str, Any], store: Any, skip: Sequence[str] = ()
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Validated field values to store, and the errors found (all of them)."""
    schema = SCHEMAS[sobject]
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for name, value in record.items():
        if name in ("attributes", "id", *skip):
            continue
        kind = schema.get(name)
        if kind is None:
            errors.append(error("INVALID_FIELD",
                                f"No such column '{name}' on sobject of type {sobject}", [name]))
            continue
        if kind.endswith(":ro"):
            errors.append(error("INVALID_FIELD_FOR_INSERT_UPDATE",
                                f"Unable to create/update fields: {name}. Please check the "
                                "security settings of this field.", [name]))
            continue
        checked = _check_value(sobject, name, kind, value, store)
        if isinstance(checked, dict):
            errors.append(checked)
        else:
            values[name] = checked
    if sobject == "Task" and "WhoId" in values and values["WhoId"] not in store.leads:
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


def plan_update(ctx: Ctx, record: Any) -> tuple[dict[str, Any] | None, Any]:
    """(error result | None, (sobject, id, values)) for one update record."""
    if not isinstance(record, Mapping):
        return failure([error("JSON_PARSER_ERROR", "record must be an object")]), None
    sobject = _type_of(record)
    if sobject not in ("Lead", "Task"):
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
    lock = _lock_error(ctx, rid)
    if lock:
        return failure([lock]), None
    return None, (sobject, rid, values)


def plan_create(ctx: Ctx, record: Any) -> tuple[dict[str, Any] | None, Any]:
    """(error result | None, (sobject, None, values)) for one create record."""
    if not isinstance(record, Mapping):
        return failure([error("JSON_PARSER_ERROR", "record must be an object")]), None
    sobject = _type_of(record)
    if sobject not in ("Lead", "Task"):
        return failure([error("INVALID_TYPE", f"sObject type '{sobject}' is not supported")]), None
    if record.get("id") or record.get("Id"):
        return failure([error("INVALID_FIELD_FOR_INSERT_UPDATE",
                              "cannot specify Id in an insert call", ["Id"])]), None
    values, errors = clean_fields(sobject, record, ctx.store)
    if sobject == "Lead":
        missing = [f for f in ("LastName", "Company") if not values.get(f)]
        if missing:
            errors.append(error("REQUIRED_FIELD_MISSING",
                                f"Required fields are missing: [{', '.join(missing)}]", missing))
    if errors:
        return failure(errors), None
    return None, (sobject, None, values)


def apply(ctx: Ctx, plan: tuple[str, str | None, dict[str, Any]]) -> tuple[str, bool]:
    """Write one planned record; returns (id, created)."""
    sobject, rid, values = plan
    stamp = ctx.now()
    table = ctx.table(sobject)
    if rid is not None and rid in table:
        table[rid].update(values)
        table[rid].update(LastModifiedDate=stamp, SystemModstamp=stamp)
        return rid, False
    new_id = ctx.store.new_id("lead" if sobject == "Lead" else "task")
    base: dict[str, Any] = {"Id": new_id, "IsDeleted": False, "CreatedDate": stamp,
                            "LastModifiedDate": stamp, "SystemModstamp": stamp}
    if sobject == "Lead":
        default = next((s["ApiName"] for s in ctx.store.lead_statuses if s.get("IsDefault")), None)
        base.update(IsConverted=False, Status=default)
    else:
        base.update(Status="Not Started", Priority="Normal")
    table[new_id] = {**base, **values}
    return new_id, True


def run_collection(
    ctx: Ctx, records: Sequence[Any], planner: Callable[[Ctx, Any], tuple[Any, Any]],
    all_or_none: bool, upsert: bool = False,
) -> list[dict[str, Any]]:
    """Plan every record, then apply (or roll back everything when ``allOrNone``)."""
    planned = [planner(ctx, r) for r in records]
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
        rid, created = apply(ctx, plan)
        result: dict[str, Any] = {"id": rid, "success": True, "errors": []}
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
        if errors:
            return failure(errors), None
        if hits:
            lock = _lock_error(ctx, hits[0])
            if lock:
                return failure([lock]), None
            return None, (sobject, hits[0], values)
        return None, (sobject, None, values)

    return plan
