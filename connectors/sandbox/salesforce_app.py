"""The Salesforce REST emulator: a WSGI app over a :class:`~connectors.sandbox.store.SandboxStore`.

It answers what sync-agent's Salesforce connector (and simple-salesforce) send, with the
documented shapes (``/work/shared/docs/salesforce-api.md``): the OAuth token endpoint (client
credentials, password, JWT bearer), SOQL queries with ``nextRecordsUrl`` paging, sObject
Collections (update, create, upsert on an external id) with per-record ``statusCode``
errors, ``limits``, ``describe``, the versions list. Every data call carries
``Sforce-Limit-Info`` and is counted in the store as ``store.count("salesforce", "<METHOD>
<route>", status)``; past the daily allocation the answer is 403 ``REQUEST_LIMIT_EXCEEDED``.

Faults (``faults``, read on every call so tests may change them): ``session_expiry_every``
(every N-th authenticated call invalidates all sessions and answers 401
``INVALID_SESSION_ID``), ``rate_5xx`` (503 before anything is applied), ``rate_lock``
(share of collection records failing with ``UNABLE_TO_LOCK_ROW``), ``malformed_rate``
(the operation IS applied, then the body is garbled: truncated JSON, an HTML error page,
or a JSON body of the wrong shape, which is what a flaky proxy does), ``latency_ms``.
Tests can also queue exact faults with :meth:`SalesforceEmulator.inject`, or lose the answer
of one endpoint's next calls after applying them with ``faults.cut_next(n, "PATCH
composite/sobjects/upsert")`` (a dropped connection after the org committed); the emulator
is reachable as ``store.salesforce_emulator``.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.sandbox import salesforce_records as recs
from connectors.sandbox.faults import proxy_page, truncate
from connectors.sandbox.salesforce_auth import TokenIssuer
from connectors.sandbox.salesforce_composite import run_composite
from connectors.sandbox.salesforce_org import auto_assign_requested
from connectors.sandbox.salesforce_rows import queryable_rows
from connectors.sandbox.salesforce_schema import SCHEMAS, WRITABLE_OBJECTS, describe, fields_of
from connectors.sandbox.soql import SoqlError, parse, run
from connectors.sandbox.store import sf_time

API_VERSIONS = ("58.0", "59.0", "60.0", "61.0", "62.0")
DEFAULT_BATCH = 2000
_DATA = re.compile(r"^/services/data/v(?P<ver>\d+\.\d)/(?P<rest>.*?)/?$")
_MORE = re.compile(r"^(query|queryAll)/(?P<loc>01g[0-9A-Za-z]+)-(?P<off>\d+)$")
_UPSERT = re.compile(r"^composite/sobjects/(?P<type>\w+)/(?P<field>\w+)$")
_DESCRIBE = re.compile(r"^sobjects/(?P<type>\w+)/describe$")
INJECTABLE = ("truncated", "html", "shape", "5xx", "expire", "lock")


def sf_errors(code: str, message: str, status: int, fields: Iterable[str] = ()) -> Response:
    """A REST error response: ``[{"message", "errorCode", "fields"}]``."""
    body = [{"message": message, "errorCode": code, "fields": list(fields)}]
    return Response(json.dumps(body), status=status, content_type="application/json")


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


class SalesforceEmulator:
    """One emulated org. ``__call__`` is the WSGI entry point."""

    def __init__(self, store: Any, faults: Any = None, limits: Any = None) -> None:
        self.store = store
        self.faults = faults
        self.rng = random.Random(_fault(faults, "seed", 0))
        self.auth = TokenIssuer(store)
        self.calls_since_expiry = 0
        self.locators: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self.locator_seq = 0
        self.injected: deque[str] = deque()
        daily_max = getattr(limits, "daily_api_max", getattr(limits, "daily_max", None))
        if daily_max is not None:
            store.api_usage["sf_api_max"] = int(daily_max)
        self.enforce_daily = bool(getattr(limits, "enforce_daily", True))

    # -- test hooks ----------------------------------------------------------------------

    def inject(self, *kinds: str) -> None:
        """Queue exact faults for the next data calls, one per call (see ``INJECTABLE``)."""
        for kind in kinds:
            if kind not in INJECTABLE:
                raise ValueError(f"unknown fault {kind!r}; one of {INJECTABLE}")
            self.injected.append(kind)

    # -- WSGI ----------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        label, response = self.handle(request)
        self.store.count("salesforce", label, response.status_code)
        return response(environ, start_response)

    def handle(self, request: Request) -> tuple[str, Response]:
        latency = _fault(self.faults, "latency_ms", 0) or 0
        if latency:
            getattr(self.faults, "sleep", time.sleep)(latency / 1000)
        path = request.path
        if path.rstrip("/") == "/services/oauth2/token":
            if request.method != "POST":
                return "GET oauth2/token", sf_errors("METHOD_NOT_ALLOWED", "use POST", 405)
            with self.store.lock:
                return "POST oauth2/token", self.auth.token(request)
        if path.rstrip("/") == "/services/data":
            return "GET versions", json_response(self._versions())
        match = _DATA.match(path)
        if not match:
            return f"{request.method} unknown", sf_errors(
                "NOT_FOUND", "The requested resource does not exist", 404)
        return self._data_call(request, match.group("ver"), match.group("rest"))

    # -- data API ------------------------------------------------------------------------

    def _data_call(self, request: Request, version: str, rest: str) -> tuple[str, Response]:
        label, handler = self.route(request.method, rest)
        label = f"{request.method} {label}"
        if version not in API_VERSIONS:
            return label, sf_errors("NOT_FOUND", "The requested resource does not exist", 404)
        with self.store.lock:
            denied = self._authorise(request)
            if denied is None:
                denied = self._refuse_or_charge()
            if denied is not None:
                return label, self._with_limits(denied)
            resp = self.invoke(handler, request, version, rest)
            if 200 <= resp.status_code < 300 and self._take_cut(label):
                resp = Response(truncate(resp.get_data()), status=resp.status_code,
                                content_type="application/json")
            return label, self._with_limits(self._maybe_garble(resp))

    def invoke(self, handler: Any, request: Request, version: str, rest: str) -> Response:
        """Run one handler (also for composite subrequests); bad JSON bodies become 400s."""
        if handler is None:
            return sf_errors("NOT_FOUND", "The requested resource does not exist", 404)
        try:
            response: Response = handler(request, version, rest)
        except _BadBody as exc:
            response = sf_errors("JSON_PARSER_ERROR", str(exc), 400)
        return response

    def route(self, method: str, rest: str) -> tuple[str, Any]:
        table: dict[tuple[str, str], Any] = {
            ("GET", "query"): self._query, ("GET", "queryAll"): self._query,
            ("PATCH", "composite/sobjects"): self._update,
            ("POST", "composite/sobjects"): self._create,
            ("GET", "limits"): self._limits, ("GET", "sobjects"): self._sobjects,
            ("GET", ""): self._resources,
            ("POST", "composite"): lambda request, _v, _r: run_composite(self, request),
        }
        if (method, rest) in table:
            return rest or "resources", table[(method, rest)]
        if method == "GET" and _MORE.match(rest):
            return "query/more", self._query_more
        if method == "PATCH" and _UPSERT.match(rest):
            return "composite/sobjects/upsert", self._upsert
        if method == "GET" and _DESCRIBE.match(rest):
            return "sobjects/describe", self._describe
        return rest.split("/")[0] or "unknown", None

    def _authorise(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else header
        if self._take_injected("expire"):
            self.auth.invalidate_all()
        if not self.auth.is_valid(token):
            return sf_errors("INVALID_SESSION_ID", "Session expired or invalid", 401)
        every = _fault(self.faults, "session_expiry_every", 0) or 0
        if every:
            self.calls_since_expiry += 1
            if self.calls_since_expiry >= every:
                self.calls_since_expiry = 0
                self.auth.invalidate_all()
                return sf_errors("INVALID_SESSION_ID", "Session expired or invalid", 401)
        return None

    def _refuse_or_charge(self) -> Response | None:
        usage = self.store.api_usage
        if self.enforce_daily and usage["sf_api_used"] >= usage["sf_api_max"]:
            return sf_errors("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", 403)
        take = getattr(self.faults, "take_queued", None)
        queued = take("salesforce") if take is not None else None
        if queued is None and (self._take_injected("5xx")
                               or self._roll(_fault(self.faults, "rate_5xx", 0) or 0)):
            queued = 503
        if queued is not None:
            return _failure_page(queued)
        usage["sf_api_used"] += 1
        return None

    def _roll(self, rate: float) -> bool:
        """A seeded coin flip: the shared Faults RNG when there is one, else our own."""
        if rate <= 0:
            return False
        roll = getattr(self.faults, "roll", None)
        return bool(roll(rate)) if roll is not None else self.rng.random() < rate

    def _with_limits(self, response: Response) -> Response:
        usage = self.store.api_usage
        response.headers["Sforce-Limit-Info"] = (
            f"api-usage={usage['sf_api_used']}/{usage['sf_api_max']}")
        return response

    def _take_cut(self, label: str) -> bool:
        """``faults.cut_next(n, label)``: apply the next n calls of this endpoint (labels as
        counted, e.g. ``"PATCH composite/sobjects/upsert"``), then cut their answers."""
        take = getattr(self.faults, "take_cut", None)
        return bool(take(label)) if take is not None else False

    def _take_injected(self, kind: str) -> bool:
        if self.injected and self.injected[0] == kind:
            self.injected.popleft()
            return True
        return False

    def _maybe_garble(self, response: Response) -> Response:
        kind = next((k for k in ("truncated", "html", "shape") if self._take_injected(k)), None)
        rate = _fault(self.faults, "malformed_rate", 0) or 0
        if kind is None and self._roll(rate):
            kind = self.rng.choice(("truncated", "html", "shape"))
        if kind is None or response.status_code >= 300:
            return response
        if kind == "truncated":
            data = response.get_data()
            return Response(data[: max(1, len(data) // 2)], status=200,
                            content_type="application/json")
        if kind == "html":
            return _failure_page(502)
        body = json.loads(response.get_data() or b"null")
        wrong: Any = {"records": "oops", "done": "maybe"} if isinstance(body, dict) else {
            "results": None}
        return json_response(wrong)

    # -- handlers ------------------------------------------------------------------------

    def _versions(self) -> list[dict[str, str]]:
        return [{"label": f"v{v}", "url": f"/services/data/v{v}", "version": v}
                for v in API_VERSIONS]

    def _resources(self, _request: Request, version: str, _rest: str) -> Response:
        base = f"/services/data/v{version}"
        names = ("sobjects", "query", "queryAll", "composite", "limits")
        return json_response({name: f"{base}/{name}" for name in names})

    def _limits(self, _request: Request, _version: str, _rest: str) -> Response:
        usage = self.store.api_usage
        maximum = usage["sf_api_max"]
        return json_response({
            "DailyApiRequests": {
                "Max": maximum, "Remaining": max(0, maximum - usage["sf_api_used"])},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
        })

    def _sobjects(self, _request: Request, version: str, _rest: str) -> Response:
        objects = [{"name": name, "label": name, "queryable": True,
                    "updateable": name in WRITABLE_OBJECTS, "createable": name in WRITABLE_OBJECTS,
                    "urls": {"describe": f"/services/data/v{version}/sobjects/{name}/describe"}}
                   for name in SCHEMAS]
        return json_response({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objects})

    def _describe(self, _request: Request, version: str, rest: str) -> Response:
        match = _DESCRIBE.match(rest)
        body = describe(match.group("type") if match else "", self.store, version)
        if body is None:
            return sf_errors("NOT_FOUND", "The requested resource does not exist", 404)
        return json_response(body)

    def _query(self, request: Request, version: str, rest: str) -> Response:
        text = request.args.get("q")
        if not text:
            return sf_errors("MALFORMED_QUERY", "A query string has to be specified", 400)
        security = self.store.org.security
        try:
            query = parse(text, {k: list(fields_of(k, security)) for k in SCHEMAS})
        except SoqlError as exc:
            return sf_errors(exc.code, exc.message, 400)
        rows = run(query, queryable_rows(self.store, query.sobject,
                                         include_all=rest == "queryAll"))
        projected = [self._project(query.sobject, query.fields, r, version) for r in rows]
        return json_response(self._page(projected, 0, _batch_size(request), version, rest))

    def _query_more(self, request: Request, version: str, rest: str) -> Response:
        match = _MORE.match(rest)
        assert match is not None
        rows = self.locators.get(match.group("loc"))
        if rows is None:
            return sf_errors("INVALID_QUERY_LOCATOR", "invalid query locator", 400)
        return json_response(self._page(rows, int(match.group("off")), _batch_size(request),
                                        version, rest.split("/")[0], match.group("loc")))

    def _page(self, rows: list[dict[str, Any]], offset: int, batch: int, version: str,
              endpoint: str, locator: str | None = None) -> dict[str, Any]:
        chunk = rows[offset : offset + batch]
        done = offset + batch >= len(rows)
        body: dict[str, Any] = {"totalSize": len(rows), "done": done, "records": chunk}
        if not done:
            if locator is None:
                self.locator_seq += 1
                locator = f"01g5g{self.locator_seq:010d}AAA"
                self.locators[locator] = rows
                while len(self.locators) > 50:
                    self.locators.popitem(last=False)
            body["nextRecordsUrl"] = (
                f"/services/data/v{version}/{endpoint}/{locator}-{offset + batch}")
        return body

    @staticmethod
    def _project(sobject: str, fields: Iterable[str], row: Mapping[str, Any],
                 version: str) -> dict[str, Any]:
        url = f"/services/data/v{version}/sobjects/{sobject}/{row.get('Id')}"
        out: dict[str, Any] = {"attributes": {"type": sobject, "url": url}}
        for name in fields:
            if name == "Name" and sobject == "Lead":
                out[name] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p)
            else:
                out[name] = row.get(name)
        return out

    def _collection_ctx(self, request: Request) -> recs.Ctx:
        rate = 1.0 if self._take_injected("lock") else (_fault(self.faults, "rate_lock", 0) or 0)
        assign = auto_assign_requested(request.headers.get("Sforce-Auto-Assign"))
        return recs.Ctx(self.store, now=self._now, lock_rate=rate, roll=self._roll,
                        auto_assign=assign)

    def _now(self) -> str:
        return sf_time(self.store.now())

    def _collection_body(self, request: Request) -> tuple[list[Any], bool] | Response:
        body = _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise _BadBody("body must be an object with a 'records' array")
        records = body["records"]
        if len(records) > recs.MAX_COLLECTION:
            return sf_errors("EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than "
                             f"{recs.MAX_COLLECTION} records into this call", 400)
        if not records:
            return sf_errors("INVALID_FIELD", "no records to process", 400)
        return records, bool(body.get("allOrNone", False))

    def _update(self, request: Request, _version: str, _rest: str) -> Response:
        parsed = self._collection_body(request)
        if isinstance(parsed, Response):
            return parsed
        records, all_or_none = parsed
        return json_response(recs.run_collection(self._collection_ctx(request), records,
                                                 recs.plan_update, all_or_none))

    def _create(self, request: Request, _version: str, _rest: str) -> Response:
        parsed = self._collection_body(request)
        if isinstance(parsed, Response):
            return parsed
        records, all_or_none = parsed
        return json_response(recs.run_collection(self._collection_ctx(request), records,
                                                 recs.plan_create, all_or_none))

    def _upsert(self, request: Request, _version: str, rest: str) -> Response:
        match = _UPSERT.match(rest)
        assert match is not None
        sobject, ext_field = match.group("type"), match.group("field")
        if sobject not in ("Lead", "Task"):
            return sf_errors("NOT_FOUND", f"The requested resource does not exist: {sobject}", 404)
        if ext_field not in recs.EXTERNAL_IDS.get(sobject, ()):
            return sf_errors("INVALID_FIELD", f"Field name provided, {ext_field} is not an "
                             f"External ID or indexed field for {sobject}", 400)
        parsed = self._collection_body(request)
        if isinstance(parsed, Response):
            return parsed
        records, all_or_none = parsed
        planner = recs.upsert_planner(sobject, ext_field)
        return json_response(recs.run_collection(self._collection_ctx(request), records, planner,
                                                 all_or_none, upsert=True))


class _BadBody(Exception):
    """The request body is not the JSON the endpoint expects."""


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.get_data() or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise _BadBody(f"Unexpected character in request body: {exc}") from exc


def _batch_size(request: Request) -> int:
    options = request.headers.get("Sforce-Query-Options", "")
    match = re.search(r"batchSize\s*=\s*(\d+)", options)
    if not match:
        return DEFAULT_BATCH
    return min(2000, max(200, int(match.group(1))))


def _failure_page(status: int) -> Response:
    """An injected failure: JSON 503 like Salesforce's own, HTML pages like a proxy's."""
    if status == 503:
        return sf_errors("SERVER_UNAVAILABLE", "Server temporarily unavailable", 503)
    if status in (401, 403, 400, 404):
        code = {401: "INVALID_SESSION_ID", 403: "REQUEST_LIMIT_EXCEEDED", 400: "MALFORMED_QUERY",
                404: "NOT_FOUND"}[status]
        return sf_errors(code, "injected failure", status)
    return Response(proxy_page(status), status=status, content_type="text/html")


def _fault(faults: Any, name: str, default: Any) -> Any:
    return getattr(faults, name, default) if faults is not None else default


def make_salesforce_app(store: Any, faults: Any = None, limits: Any = None) -> SalesforceEmulator:
    """The WSGI app the sandbox server mounts; also ``store.salesforce_emulator``."""
    app = SalesforceEmulator(store, faults, limits)
    store.salesforce_emulator = app
    return app


__all__ = ["SalesforceEmulator", "make_salesforce_app", "sf_errors"]
