"""HubSpot endpoint logic: search, batch read/update, notes, companies, properties.

Each handler returns ``(status, payload)`` or raises :class:`ApiError` with HubSpot's error
shape. Search results are cached per query; when records change (also directly from a
test) only those records are re-filtered and re-inserted, so paging 25,000 MQLs while
writing back between pages never re-sorts them all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request

from connectors.sandbox import hubspot_search as hs
from connectors.sandbox.faults import Faults
from connectors.sandbox.hubspot_associations import batch_read_associations
from connectors.sandbox.hubspot_portal import STAMP_KEY, announce_created, apply_changes, text
from connectors.sandbox.hubspot_properties import handle_properties
from connectors.sandbox.hubspot_validate import (
    ApiError,
    check_batch_size,
    check_properties,
    check_unique_ids,
    error_body,
    property_types,
)
from connectors.sandbox.store import SandboxStore, hs_time

__all__ = ["ApiError", "HubSpotHandlers", "error_body"]

DEFAULT_PROPERTIES = {
    "contacts": [
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    ],
    "companies": ["createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"],
    "notes": ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
}
ALWAYS = {
    "contacts": ["createdate", "hs_object_id", "lastmodifieddate"],
    "companies": ["createdate", "hs_lastmodifieddate", "hs_object_id"],
    "notes": ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
}
KINDS = {"contacts": "CONTACT", "companies": "COMPANY", "notes": "NOTE"}
NOTE_TO_CONTACT = 202
_MAX_CACHE = 32
#: Above this many changed records, a full re-sort is cheaper than patching the cache.
_INCREMENTAL_MAX = 5_000


@dataclass(frozen=True)
class _Cached:
    """One query's sorted result at one store version."""

    version: int
    entries: list[hs.Entry]
    ids: list[str]
    #: an ascending sort key is NaN somewhere: bisection is unsafe, scan instead
    nan: bool = False


class HubSpotHandlers:
    """The endpoint implementations, bound to one store."""

    def __init__(self, store: SandboxStore, faults: Faults | None = None) -> None:
        self.store = store
        self.faults = faults
        self._cache: dict[tuple[str, str], _Cached] = {}

    def dispatch(self, endpoint: str, kwargs: dict[str, Any], request: Request) -> tuple[int, Any]:
        """Run the handler for ``endpoint``; JSON bodies are parsed here once."""
        obj = kwargs.pop("obj")
        raw = request.get_data(as_text=True)
        body = _parse(raw) if request.method in ("POST", "PATCH") else {}
        with self.store.lock:
            if endpoint == "associations_read":
                return batch_read_associations(self.store, obj, kwargs["to"], body)
            if endpoint == "search":
                return self.search(obj, body, len(raw))
            if endpoint == "batch_read":
                return self.batch_read(obj, body)
            if endpoint == "batch_update":
                return self.batch_update(obj, body)
            if endpoint == "batch_create":
                return self.batch_create(obj, body)
            if endpoint == "create":
                return self.create_one(obj, body)
            if endpoint == "get":
                return self.get(obj, kwargs["oid"], request)
            if endpoint == "update":
                return self.update_one(obj, kwargs["oid"], body)
            return self.properties(obj, endpoint, kwargs.get("name"), body)

    # -- search --------------------------------------------------------------------------

    def search(self, obj: str, body: dict[str, Any], raw_length: int) -> tuple[int, Any]:
        """``POST /crm/v3/objects/{obj}/search``."""
        records = self._records(obj)
        types = property_types(self._defs(obj))
        try:
            limit, after, sort = hs.parse_request(body, raw_length)
            ids = self._matching_ids(obj, body.get("filterGroups"), sort, types)
        except hs.SearchError as exc:
            raise ApiError(400, str(exc)) from exc
        faults = self.faults
        if faults is not None and (faults.search_lag_ms > 0 or faults.late_visible_share > 0):
            ids = self._indexed(obj, ids, faults.search_lag_ms)
        wanted = self._wanted(obj, body.get("properties"))
        page = [_shape(records[i], wanted) for i in ids[after : after + limit]]
        result: dict[str, Any] = {"total": len(ids), "results": page}
        if after + limit < len(ids):
            result["paging"] = {"next": {"after": str(after + limit)}}
        return 200, result

    def _indexed(self, obj: str, ids: list[str], lag_ms: int) -> list[str]:
        """Only records whose last change is older than the index lag (HubSpot's is seconds)."""
        now_ms = self.store.now().timestamp() * 1000
        stamp = STAMP_KEY[obj]
        records = self._records(obj)
        faults = self.faults
        visible = []
        for i in ids:
            changed = records[i]["properties"].get(stamp) or "0"
            wait = lag_ms
            if faults is not None and faults.late_visible(i, changed):
                wait += faults.late_visible_ms
            if (hs.to_millis(changed) or 0) + wait <= now_ms:
                visible.append(i)
        return visible

    def _matching_ids(
        self, obj: str, groups: Any, sort: tuple[str, bool], types: dict[str, str]
    ) -> list[str]:
        """Sorted matching ids, from the cache when only a few records changed since.

        Range filters on the (ascending) sort property are not part of the cache key: they
        cut the cached list by bisection (:func:`hs.split_sort_range`), so every keyset
        page of a backfill reuses one sorted list instead of scanning every contact.
        """
        hs.compile_groups(groups, types)  # validates the whole request, as before
        rest, bounds = hs.split_sort_range(groups, sort, types)
        cached = self._sorted(obj, rest, sort, types)
        if not bounds:
            return cached.ids
        if cached.nan:
            return self._sorted(obj, groups, sort, types).ids
        start, stop = hs.range_slice(cached.entries, bounds)
        return cached.ids[start:stop]

    def _sorted(
        self, obj: str, groups: Any, sort: tuple[str, bool], types: dict[str, str]
    ) -> _Cached:
        """The cached sorted result of ``groups``, brought up to the store's version."""
        records = self._records(obj)
        key = (obj, json.dumps([groups, sort], sort_keys=True))
        version = self.store.changes.version
        cached = self._cache.get(key)
        if cached is not None and cached.version == version:
            return cached
        predicate = hs.compile_groups(groups, types)
        changed = self.store.changes.changed_since(cached.version) if cached else None
        if cached is not None and changed is not None and len(changed) <= _INCREMENTAL_MAX:
            entries = hs.refresh_entries(cached.entries, changed, records, predicate, sort, types)
            # NaN stays flagged until a full rebuild: a slower, never a wrong, answer
            nan = cached.nan or (not sort[1] and hs.has_nan(
                [hs.sort_entry(rid, records[rid]["properties"], sort, types)
                 for rid in changed if rid in records]))
        else:
            entries = hs.sorted_entries(records, predicate, sort, types)
            nan = not sort[1] and hs.has_nan(entries)
        if len(self._cache) >= _MAX_CACHE:
            self._cache.clear()
        self._cache[key] = _Cached(version, entries, [e[-1] for e in entries], nan)
        return self._cache[key]

    # -- reads ---------------------------------------------------------------------------

    def batch_read(self, obj: str, body: dict[str, Any]) -> tuple[int, Any]:
        """``POST .../batch/read``: 207 lists the ids that don't exist."""
        inputs = body.get("inputs")
        history = body.get("propertiesWithHistory") or []
        check_batch_size(inputs, 50 if history else 100)
        id_property = body.get("idProperty")
        wanted = self._wanted(obj, body.get("properties"))
        results, missing = [], []
        for item in inputs or []:
            record = self._find(obj, str(item.get("id", "")), id_property)
            if record is None:
                missing.append(str(item.get("id", "")))
            else:
                results.append(_shape(record, wanted, history))
        return _batch_result(results, missing, obj)

    def get(self, obj: str, oid: str, request: Request) -> tuple[int, Any]:
        """``GET /crm/v3/objects/{obj}/{id}?properties=...&propertiesWithHistory=...``."""
        record = self._find(obj, oid, request.args.get("idProperty"))
        if record is None:
            raise ApiError(
                404,
                "Object not found.  objectId are usually numeric.",
                "OBJECT_NOT_FOUND",
                context={"id": [oid]},
            )
        wanted = self._wanted(obj, _csv_args(request, "properties") or None)
        return 200, _shape(record, wanted, _csv_args(request, "propertiesWithHistory"))

    # -- writes --------------------------------------------------------------------------

    def batch_update(self, obj: str, body: dict[str, Any]) -> tuple[int, Any]:
        """``POST .../batch/update``: validate every input first, then apply the known ids."""
        inputs = body.get("inputs")
        check_batch_size(inputs, 100)
        check_unique_ids(inputs or [])
        defs = self._defs(obj)
        for item in inputs or []:
            check_properties(item.get("properties"), defs, writing=True)
        results, missing = [], []
        for item in inputs or []:
            record = self._find(obj, str(item.get("id", "")), item.get("idProperty"))
            if record is None:
                missing.append(str(item.get("id", "")))
                continue
            self._apply(obj, record, item["properties"])
            results.append(_shape(record, list(item["properties"]) + ALWAYS[obj]))
        return _batch_result(results, missing, obj)

    def update_one(self, obj: str, oid: str, body: dict[str, Any]) -> tuple[int, Any]:
        """``PATCH /crm/v3/objects/{obj}/{id}``."""
        check_properties(body.get("properties"), self._defs(obj), writing=True)
        record = self._find(obj, oid, None)
        if record is None:
            raise ApiError(404, "Object not found.", "OBJECT_NOT_FOUND", context={"id": [oid]})
        self._apply(obj, record, body["properties"])
        return 200, _shape(record, list(body["properties"]) + ALWAYS[obj])

    def _apply(self, obj: str, record: dict[str, Any], changes: dict[str, Any]) -> None:
        apply_changes(self.store, obj, record, changes)

    def batch_create(self, obj: str, body: dict[str, Any]) -> tuple[int, Any]:
        """``POST .../batch/create`` (notes): 201, or 207 with per-input errors."""
        inputs = body.get("inputs")
        check_batch_size(inputs, 100)
        defs = self._defs(obj)
        for item in inputs or []:
            check_properties(item.get("properties"), defs, writing=True)
        results, errors = [], []
        for index, item in enumerate(inputs or []):
            problem = self._create_problem(obj, item)
            if problem:
                errors.append(_input_error(problem, index))
            else:
                results.append(self._create(obj, item))
        status = 207 if errors else 201
        return status, _batch_payload(results, errors)

    def create_one(self, obj: str, body: dict[str, Any]) -> tuple[int, Any]:
        """``POST /crm/v3/objects/{obj}``: 201 or 400."""
        check_properties(body.get("properties"), self._defs(obj), writing=True)
        problem = self._create_problem(obj, body)
        if problem:
            raise ApiError(400, problem[1], "VALIDATION_ERROR", code=problem[0])
        return 201, self._create(obj, body)

    def _create_problem(self, obj: str, item: dict[str, Any]) -> tuple[str, str] | None:
        props = item.get("properties") or {}
        if obj == "notes":
            if not props.get("hs_timestamp"):
                return ("REQUIRED_PROPERTY", 'Property "hs_timestamp" is required')
            if hs.to_millis(text(props["hs_timestamp"]) or "") is None:
                return ("INVALID_DATE", "hs_timestamp is not a valid date")
            if len(text(props.get("hs_note_body")) or "") > 65_536:
                return ("INVALID_LENGTH", "hs_note_body is longer than 65536 characters")
        for assoc in item.get("associations") or []:
            target = str((assoc.get("to") or {}).get("id", ""))
            type_ids = [t.get("associationTypeId") for t in assoc.get("types") or []]
            if target not in self.store.contacts:
                return ("INVALID_ASSOCIATION", f"Contact {target} does not exist")
            if obj == "notes" and type_ids != [NOTE_TO_CONTACT]:
                return ("INVALID_ASSOCIATION", f"Invalid association types {type_ids}")
        return None

    def _create(self, obj: str, item: dict[str, Any]) -> dict[str, Any]:
        props = {k: text(v) for k, v in (item.get("properties") or {}).items()}
        if obj in ("contacts", "companies"):
            add = self.store.add_contact if obj == "contacts" else self.store.add_company
            oid = add(props)
            record = self._records(obj)[oid]
            announce_created(self.store, obj, record)
            return _shape(record, list(props) + ALWAYS[obj])
        stamp = hs_time(self.store.now())
        nid = self.store.new_id("note")
        props.update(hs_createdate=stamp, hs_lastmodifieddate=stamp, hs_object_id=nid)
        note = {
            "id": nid,
            "properties": props,
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": False,
            "associations": [str(a["to"]["id"]) for a in item.get("associations") or []],
        }
        self.store.notes[nid] = note
        return _shape(note, list(props))

    # -- properties ----------------------------------------------------------------------

    def properties(
        self, obj: str, endpoint: str, name: str | None, body: dict[str, Any]
    ) -> tuple[int, Any]:
        """``GET/POST /crm/v3/properties/{obj}`` and ``GET .../{name}``."""
        return handle_properties(self._defs(obj), endpoint, name, body)

    # -- helpers -------------------------------------------------------------------------

    def _records(self, obj: str) -> dict[str, dict[str, Any]]:
        return {"contacts": self.store.contacts, "companies": self.store.companies,
                "notes": self.store.notes}[obj]

    def _defs(self, obj: str) -> dict[str, dict[str, Any]]:
        return {"contacts": self.store.contact_property_defs,
                "companies": self.store.company_property_defs,
                "notes": self.store.note_property_defs}[obj]

    def _find(self, obj: str, key: str, id_property: str | None) -> dict[str, Any] | None:
        records = self._records(obj)
        if not id_property or id_property == "hs_object_id":
            return records.get(key)
        for record in records.values():
            if (record["properties"].get(id_property) or "").lower() == key.lower():
                return record
        return None

    def _wanted(self, obj: str, requested: Any) -> list[str]:
        if not requested:
            return DEFAULT_PROPERTIES[obj]
        return [str(p) for p in requested] + [p for p in ALWAYS[obj] if p not in requested]


def _parse(raw: str) -> dict[str, Any]:
    try:
        body = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        raise ApiError(
            400, f"Invalid input JSON on line {exc.lineno}, column {exc.colno}", code="INVALID_JSON"
        ) from exc
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object", code="INVALID_JSON")
    return body


def _shape(
    record: dict[str, Any], wanted: list[str], history: list[str] | None = None
) -> dict[str, Any]:
    props = record["properties"]
    shaped: dict[str, Any] = {
        "id": record["id"],
        "properties": {name: props.get(name) for name in wanted},
        "createdAt": record["createdAt"],
        "updatedAt": record["updatedAt"],
        "archived": record.get("archived", False),
    }
    if history:
        kept = record.get("history") or {}
        shaped["propertiesWithHistory"] = {
            # a value never changed through the sandbox was set when the record was made
            # (an assumption: HubSpot lists that first version with its own timestamp)
            name: [dict(v) for v in kept[name]] if kept.get(name) else [
                {"value": props.get(name), "timestamp": record["createdAt"], "sourceType": "API"}
            ]
            for name in history
            if props.get(name) is not None or kept.get(name)
        }
    return shaped


def _csv_args(request: Request, name: str) -> list[str]:
    return [p for raw in request.args.getlist(name) for p in raw.split(",") if p]


def _input_error(problem: tuple[str, str], index: int) -> dict[str, Any]:
    code, message = problem
    return {
        "status": "error",
        "category": "VALIDATION_ERROR",
        "message": message,
        "context": {"inputIndex": [str(index)]},
        "links": {},
        "errors": [{"message": message, "code": code}],
        "subCategory": code,
    }


def _batch_payload(results: list[Any], errors: list[Any]) -> dict[str, Any]:
    now = hs_time(datetime.now(UTC))
    payload: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": now,
        "completedAt": now,
    }
    if errors:
        payload["numErrors"] = len(errors)
        payload["errors"] = errors
    return payload


def _batch_result(results: list[Any], missing: list[str], obj: str) -> tuple[int, Any]:
    if not missing:
        return 200, _batch_payload(results, [])
    kind = KINDS[obj]
    message = (
        f"Could not get some {kind} objects, they may be deleted or not exist. "
        "Check that ids are valid."
    )
    error = {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": message,
        "context": {"ids": missing},
        "links": {},
        "errors": [],
    }
    return 207, _batch_payload(results, [error])
