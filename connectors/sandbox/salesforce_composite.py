"""``POST /services/data/vNN.N/composite`` for the Salesforce emulator.

Documented shape: ``{"allOrNone": bool, "compositeRequest": [{"method", "url", "referenceId",
"body"}]}`` with at most 25 subrequests, at most 5 of them sObject Collections or queries;
the whole request counts as ONE API call; the answer is ``{"compositeResponse": [{"body",
"httpHeaders", "httpStatusCode", "referenceId"}]}`` in request order. Subrequests run through
the emulator's own handlers (no extra auth, no extra charge). With ``allOrNone`` true the first
failing subrequest rolls everything back and the others answer 400 ``PROCESSING_HALTED``.
References between subrequests (``@{ref.id}``) are not supported: the connector does not use
them. A subrequest's ``httpHeaders`` reach its resource (``Sforce-Auto-Assign`` among them);
``Accept``, ``Authorization`` and ``Content-Type`` are inherited from the top-level request and
refused in ``httpHeaders`` (documented). Whether other top-level headers reach subrequests is
not documented: by default they don't (``org.composite_inherits_auto_assign``).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any
from urllib.parse import urlsplit

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

MAX_SUBREQUESTS = 25
MAX_HEAVY = 5  # collections and queries per composite request
_SUB_URL = re.compile(r"^/services/data/v(?P<ver>\d+\.\d)/(?P<rest>.*?)/?$")
_REF = re.compile(r"^[A-Za-z0-9_]+$")
INHERITED = ("accept", "authorization", "content-type")
AUTO_ASSIGN = "Sforce-Auto-Assign"


def _error(code: str, message: str) -> list[dict[str, Any]]:
    return [{"message": message, "errorCode": code, "fields": []}]


def _is_heavy(rest: str) -> bool:
    return rest.startswith(("composite/sobjects", "query", "queryAll"))


def validate(body: Any) -> tuple[list[dict[str, Any]], bool] | list[dict[str, Any]]:
    """(subrequests, allOrNone) or an error body for a 400."""
    if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
        return _error("JSON_PARSER_ERROR", "body must have a 'compositeRequest' array")
    subs = body["compositeRequest"]
    if not subs or len(subs) > MAX_SUBREQUESTS:
        return _error("INVALID_COMPOSITE_REQUEST", f"composite requests take 1 to "
                      f"{MAX_SUBREQUESTS} subrequests, got {len(subs)}")
    refs: set[str] = set()
    heavy = 0
    for sub in subs:
        if not isinstance(sub, dict) or not isinstance(sub.get("url"), str) \
                or sub.get("method") not in ("GET", "POST", "PATCH", "DELETE", "PUT"):
            return _error("JSON_PARSER_ERROR", "each subrequest needs a method and a url")
        headers = sub.get("httpHeaders") or {}
        if not isinstance(headers, dict) or any(str(k).lower() in INHERITED for k in headers):
            return _error("INVALID_COMPOSITE_REQUEST", "httpHeaders must be an object and "
                          "must not set Accept, Authorization or Content-Type")
        ref = sub.get("referenceId")
        if not isinstance(ref, str) or not _REF.match(ref) or ref in refs:
            return _error("INVALID_COMPOSITE_REQUEST", f"invalid or duplicate referenceId: {ref}")
        refs.add(ref)
        match = _SUB_URL.match(urlsplit(sub["url"]).path)
        if match is None:
            return _error("INVALID_COMPOSITE_REQUEST", f"unsupported subrequest url {sub['url']}")
        heavy += _is_heavy(match.group("rest"))
    if heavy > MAX_HEAVY:
        return _error("INVALID_COMPOSITE_REQUEST", f"at most {MAX_HEAVY} collection or query "
                      f"subrequests per composite request, got {heavy}")
    return subs, bool(body.get("allOrNone", False))


def run_composite(app: Any, request: Request) -> Response:
    """Execute a composite request with the emulator ``app``'s handlers."""
    try:
        body = json.loads(request.get_data() or b"")
    except ValueError:
        body = None
    checked = validate(body)
    if isinstance(checked, list):
        return Response(json.dumps(checked), status=400, content_type="application/json")
    subs, all_or_none = checked
    store = app.store
    snapshot = (copy.deepcopy(store.leads), copy.deepcopy(store.tasks),
                len(store.lead_history)) if all_or_none else None
    answers: list[dict[str, Any]] = []
    for sub in subs:
        response = _dispatch(app, request, sub)
        answers.append({"body": json.loads(response.get_data() or b"null"),
                        "httpHeaders": {}, "httpStatusCode": response.status_code,
                        "referenceId": sub["referenceId"]})
        if snapshot is not None and response.status_code >= 400:
            store.leads.clear()
            store.leads.update(snapshot[0])
            store.tasks.clear()
            store.tasks.update(snapshot[1])
            del store.lead_history[snapshot[2]:]
            halted = _error("PROCESSING_HALTED", "The transaction was rolled back since another "
                            "operation in the same transaction failed.")
            answers = [a if a is answers[-1] else {**a, "body": halted, "httpStatusCode": 400}
                       for a in answers]
            answers += [{"body": halted, "httpHeaders": {}, "httpStatusCode": 400,
                         "referenceId": s["referenceId"]} for s in subs[len(answers):]]
            break
    return Response(json.dumps({"compositeResponse": answers}), status=200,
                    content_type="application/json")


def _dispatch(app: Any, outer: Request, sub: dict[str, Any]) -> Response:
    parts = urlsplit(sub["url"])
    match = _SUB_URL.match(parts.path)
    assert match is not None  # validated
    headers = [("Content-Type", "application/json"),
               ("Authorization", outer.headers.get("Authorization", ""))]
    own = {str(k): str(v) for k, v in (sub.get("httpHeaders") or {}).items()}
    inherited = outer.headers.get(AUTO_ASSIGN)
    if inherited is not None and app.store.org.composite_inherits_auto_assign:
        own.setdefault(AUTO_ASSIGN, inherited)
    headers += list(own.items())
    builder = EnvironBuilder(
        path=parts.path, query_string=parts.query, method=sub["method"],
        data=json.dumps(sub["body"]) if "body" in sub else None,
        headers=headers,
    )
    try:
        request = builder.get_request()
    finally:
        builder.close()
    rest = match.group("rest")
    _label, handler = app.route(sub["method"], rest)
    if rest == "composite":
        handler = None  # no nesting
    result: Response = app.invoke(handler, request, match.group("ver"), rest)
    return result
