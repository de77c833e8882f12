"""The Salesforce client: simple-salesforce plus auth, bounded re-login, retries and budget.

Every API call goes through :meth:`SalesforceClient.call`, which

* refuses to start a call once the configured share of the daily API allocation (read from
  ``Sforce-Limit-Info`` on every answer) would be passed (``BudgetExhausted``);
* on 401 ``INVALID_SESSION_ID`` logs in again through the token endpoint and retries, at most
  ``max_relogins`` times per call (simple-salesforce's own retry is unbounded through
  ``SFType`` and cannot reach a custom login host, so the SDK is built from a session id);
* retries 5xx, timeouts and malformed answers ``max_attempts`` times with exponential
  backoff and jitter (every call the connector makes is idempotent: queries, updates,
  upserts on an external id);
* validates the shape of what it returns, so a wrong answer is an error, never a crash.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote_plus

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from connectors.salesforce.auth import Credentials, fetch_token
from connectors.salesforce.errors import MalformedResponse, translate
from connectors.salesforce.settings import SalesforceSettings
from sync_agent.backoff import backoff_seconds
from sync_agent.errors import AuthError, BudgetExhausted, ConfigError, RetriableError
from sync_agent.logs import get_logger

T = TypeVar("T")
#: Composite allows at most 5 collection or query subrequests per call.
COMPOSITE_HEAVY = 5
_SUB_ERRORS: dict[int, type[SalesforceError]] = {
    300: SalesforceMoreThanOneRecord, 400: SalesforceMalformedRequest,
    401: SalesforceExpiredSession, 403: SalesforceRefusedRequest, 404: SalesforceResourceNotFound,
}


class CaPinnedSession(requests.Session):
    """A Session whose ``verify`` wins over ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``.

    Plain ``requests`` lets those environment variables override ``session.verify``
    (psf/requests#3829), which would silently ignore the ``ca_bundle`` setting.
    """

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> Any:
        merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None and isinstance(self.verify, str):
            merged["verify"] = self.verify
        return merged


class SalesforceClient:
    """One authenticated connection to an org (not thread-safe; one per source/sink)."""

    def __init__(
        self,
        settings: SalesforceSettings,
        secrets: Mapping[str, str],
        *,
        http: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.creds = Credentials.from_secrets(secrets)
        self.creds.require_usable()
        if self.creds.session_id and not self.creds.can_login and not settings.instance_url:
            raise ConfigError("connectors.salesforce.instance_url is required with a bare "
                              "SALESFORCE_SESSION_ID")
        self.http = http or CaPinnedSession()
        if settings.ca_bundle:
            self.http.verify = settings.ca_bundle
        self.http.hooks["response"].append(self._observe)
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.last_response: requests.Response | None = None
        self.usage: tuple[int, int] | None = None  # (used, max) from Sforce-Limit-Info
        self.logins = 0
        self.calls = 0
        #: on every write: REST runs the org's lead assignment rules unless told not to
        self.write_headers = (
            {} if settings.run_assignment_rules else {"Sforce-Auto-Assign": "FALSE"}
        )
        self._sf: Salesforce | None = None
        self.log = get_logger("connectors.salesforce")

    # -- session -------------------------------------------------------------------------

    def _observe(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        self.calls += 1  # every HTTP request answered (logins and retries included)
        self.last_response = response
        info = response.headers.get("Sforce-Limit-Info")
        if info:
            usage = Salesforce.parse_api_usage(info).get("api-usage")
            if usage is not None:
                self.usage = (int(usage[0]), int(usage[1]))

    def sf(self) -> Salesforce:
        """The SDK client, logging in on first use when there is no session id."""
        if self._sf is None:
            if self.creds.session_id and self.logins == 0:
                self._sf = self._build(self.creds.session_id, self.settings.instance_url)
            else:
                self.login()
        assert self._sf is not None
        return self._sf

    def login(self) -> None:
        """Fetch a new session through the configured flow (AuthError for a bare session)."""
        session_id, instance_url = fetch_token(
            self.http, self.creds, self.settings.login_url, self.settings.timeout)
        self.logins += 1
        self._sf = self._build(session_id, instance_url or self.settings.instance_url)
        self.log.info("salesforce_login", flow=self.creds.flow, logins=self.logins)

    def _build(self, session_id: str, instance_url: str) -> Salesforce:
        if not instance_url:
            instance_url = self.settings.instance_url or self.settings.login_url
        return Salesforce(instance_url=instance_url, session_id=session_id,
                          version=self.settings.api_version, session=self.http)

    # -- the one call path -----------------------------------------------------------------

    def check_budget(self) -> None:
        """Raise BudgetExhausted before a call would pass ``daily_max_share`` of the allocation."""
        if self.usage is None:
            return
        used, maximum = self.usage
        allowed = self.settings.daily_max_share * maximum
        if used + 1 > allowed:
            raise BudgetExhausted(
                f"Salesforce API budget reached: {used}/{maximum} calls used today, this agent "
                f"stops at {self.settings.daily_max_share:.0%} (daily_max_share)")

    def call(self, what: str, fn: Callable[[Salesforce], T]) -> T:
        """Run ``fn(sf)`` with budget check, bounded re-login and retries; errors translated."""
        relogins = 0
        attempt = 1
        while True:
            self.check_budget()
            try:
                return fn(self.sf())
            except SalesforceExpiredSession as exc:
                if not self.creds.can_login:
                    raise AuthError("the Salesforce session expired and a bare "
                                    "SALESFORCE_SESSION_ID cannot be renewed") from exc
                if relogins >= self.settings.max_relogins:
                    raise AuthError(f"Salesforce session expired again after {relogins} "
                                    f"re-logins during {what}") from exc
                relogins += 1
                self.log.info("salesforce_session_expired", call=what, relogin=relogins)
                self.login()
            except Exception as exc:  # translated below; unknown types are re-raised
                error = translate(exc, self.last_response)
                if not isinstance(error, RetriableError) or attempt >= self.settings.max_attempts:
                    if error is exc:
                        raise
                    raise error from exc
                delay = self.backoff(attempt, error.retry_after)
                self.log.warning("salesforce_retry", call=what, attempt=attempt,
                                 error=str(error), delay_s=round(delay, 2))
                attempt += 1
                self.sleep(delay)

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """The shared backoff (``Retry-After`` as a floor), jittered by this client's rng."""
        return backoff_seconds(attempt, base=self.settings.backoff_base,
                               cap=self.settings.backoff_max, jitter=self.rng.random(),
                               retry_after=retry_after)

    # -- endpoints -------------------------------------------------------------------------

    def query_pages(self, soql: str, *, include_deleted: bool = False,
                    batch_size: int | None = None) -> Iterator[list[dict[str, Any]]]:
        """Yield the record lists of a query's pages lazily, following ``nextRecordsUrl``."""
        size = batch_size or self.settings.query_batch_size
        kwargs: dict[str, Any] = {"headers": {"Sforce-Query-Options": f"batchSize={size}"},
                                  "timeout": self.settings.timeout}
        page = self.call("query", lambda sf: _page(sf.query(
            soql, include_deleted=include_deleted, **kwargs)))
        seen_urls: set[str] = set()
        while True:
            yield page["records"]
            if page["done"]:
                return
            url = page["nextRecordsUrl"]
            if url in seen_urls:
                raise MalformedResponse(f"Salesforce repeated nextRecordsUrl {url}")
            seen_urls.add(url)
            page = self.call("query_more", lambda sf, u=url: _page(  # type: ignore[misc]
                sf.query_more(u, identifier_is_url=True, **kwargs)))

    def query_all(self, soql: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        return [r for page in self.query_pages(soql, include_deleted=include_deleted) for r in page]

    def collection(self, method: str, path: str, records: Sequence[Mapping[str, Any]],
                   ) -> list[dict[str, Any]]:
        """One sObject Collections call (``allOrNone`` false); results checked, in order."""
        body = {"allOrNone": False, "records": list(records)}
        return self.call(path, lambda sf: _results(sf.restful(
            path, method=method, json=body, headers=self.write_headers,
            timeout=self.settings.timeout), len(records)))

    def collections(self, method: str, path: str,
                    chunks: Sequence[Sequence[Mapping[str, Any]]]) -> list[list[dict[str, Any]]]:
        """Several collection calls; folded 5 per Composite call when ``use_composite``."""
        if not self.settings.use_composite or len(chunks) <= 1:
            return [self.collection(method, path, chunk) for chunk in chunks]
        out: list[list[dict[str, Any]]] = []
        for start in range(0, len(chunks), COMPOSITE_HEAVY):
            group = chunks[start : start + COMPOSITE_HEAVY]
            subs = [(method, path, {"allOrNone": False, "records": list(c)}) for c in group]
            bodies = self.composite(subs)
            out += [_results(body, len(chunk)) for body, chunk in zip(bodies, group, strict=True)]
        return out

    def query_many(self, soqls: Sequence[str], *,
                   include_deleted: bool = False) -> list[dict[str, Any]]:
        """The records of several queries; folded 5 per Composite call when ``use_composite``."""
        if not self.settings.use_composite or len(soqls) <= 1:
            return [r for q in soqls for r in self.query_all(q, include_deleted=include_deleted)]
        endpoint = "queryAll" if include_deleted else "query"
        records: list[dict[str, Any]] = []
        for start in range(0, len(soqls), COMPOSITE_HEAVY):
            group = soqls[start : start + COMPOSITE_HEAVY]
            subs = [("GET", f"{endpoint}?q={quote_plus(q)}", None) for q in group]
            for body in self.composite(subs):
                page = _page(body)
                records += page["records"]
                if not page["done"]:
                    records += self._rest_of(page["nextRecordsUrl"])
        return records

    def _rest_of(self, url: str) -> list[dict[str, Any]]:
        """Follow ``nextRecordsUrl`` to the end of a query (rare for matching queries)."""
        records: list[dict[str, Any]] = []
        while True:
            page = self.call("query_more", lambda sf, u=url: _page(  # type: ignore[misc]
                sf.query_more(u, identifier_is_url=True, timeout=self.settings.timeout)))
            records += page["records"]
            if page["done"]:
                return records
            url = page["nextRecordsUrl"]

    def composite(self, subs: Sequence[tuple[str, str, Any]]) -> list[Any]:
        """One Composite call (ONE API call); the subrequest bodies in order.

        A failed subrequest (HTTP >= 300) fails the whole call with the translated error of
        that subrequest, so it is retried or reported like a plain call would be.
        """
        base = f"/services/data/v{self.settings.api_version}/"
        # Subrequests don't inherit a top-level Sforce-Auto-Assign: each write carries it.
        request = {"allOrNone": False, "compositeRequest": [
            {"method": method, "url": base + path, "referenceId": f"r{i}",
             **({"body": body} if body is not None else {}),
             **({"httpHeaders": self.write_headers} if method != "GET" and self.write_headers
                else {})}
            for i, (method, path, body) in enumerate(subs)]}

        def send(sf: Salesforce) -> list[Any]:
            answer = sf.restful("composite", method="POST", json=request,
                                headers=self.write_headers, timeout=self.settings.timeout)
            return _composite_bodies(answer, len(subs), sf.base_url + "composite")

        return self.call("composite", send)

    def get(self, path: str) -> Any:
        return self.call(path, lambda sf: sf.restful(path, timeout=self.settings.timeout))


def _page(result: Any) -> dict[str, Any]:
    """A query page, checked: records list, done bool, nextRecordsUrl when not done."""
    if not isinstance(result, dict) or not isinstance(result.get("records"), list) \
            or not isinstance(result.get("done"), bool):
        raise MalformedResponse("Salesforce query answer lacks records/done")
    if not result["done"] and not isinstance(result.get("nextRecordsUrl"), str):
        raise MalformedResponse("Salesforce query answer is not done but has no nextRecordsUrl")
    if not all(isinstance(r, dict) for r in result["records"]):
        raise MalformedResponse("Salesforce query answer has non-object records")
    return result


def _composite_bodies(answer: Any, expected: int, url: str) -> list[Any]:
    """Subrequest bodies of a Composite answer, checked; a failed subrequest raises."""
    items = answer.get("compositeResponse") if isinstance(answer, dict) else None
    if not isinstance(items, list) or len(items) != expected:
        raise MalformedResponse("Salesforce composite answer lacks compositeResponse entries")
    bodies = []
    for i, item in enumerate(items):
        status = item.get("httpStatusCode") if isinstance(item, dict) else None
        if not isinstance(status, int) or item.get("referenceId") != f"r{i}":
            raise MalformedResponse("Salesforce composite answer has a malformed entry")
        if status >= 300:
            exc_class = _SUB_ERRORS.get(status, SalesforceGeneralError)
            raise exc_class(url, status, "composite", item.get("body"))
        bodies.append(item.get("body"))
    return bodies


def _results(result: Any, expected: int) -> list[dict[str, Any]]:
    """Per-record collection results, checked: one object with a bool ``success`` each."""
    if not isinstance(result, list) or len(result) != expected:
        got = len(result) if isinstance(result, list) else type(result).__name__
        raise MalformedResponse(f"Salesforce collection answer: expected {expected} results, "
                                f"got {got}")
    for item in result:
        if not isinstance(item, dict) or not isinstance(item.get("success"), bool):
            raise MalformedResponse("Salesforce collection answer has a malformed result")
    return result
