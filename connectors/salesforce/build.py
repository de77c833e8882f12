"""Building the Salesforce connector's parts from settings and secrets, and checking them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connectors.base import ConnectionCheck, StateStore
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.settings import SalesforceSettings
from connectors.salesforce.sink import SalesforceSink
from connectors.salesforce.source import SalesforceSource
from sync_agent.errors import SyncAgentError

Options = SalesforceSettings | Mapping[str, Any]


def build_source(options: Options, secrets: Mapping[str, str], *, name: str = "salesforce",
                 state: StateStore | None = None, **client_kwargs: Any) -> SalesforceSource:
    """A source reading Leads that match ``source_condition`` (no network until read)."""
    settings = SalesforceSettings.coerce(options)
    return SalesforceSource(settings, SalesforceClient(settings, secrets, **client_kwargs),
                            name=name, state=state)


def build_sink(options: Options, secrets: Mapping[str, str], *, name: str = "salesforce",
               **client_kwargs: Any) -> SalesforceSink:
    """A sink writing SAL Status/fields and owner Tasks (no network until write)."""
    settings = SalesforceSettings.coerce(options)
    return SalesforceSink(settings, SalesforceClient(settings, secrets, **client_kwargs),
                          name=name)


def check_connection(options: Options, secrets: Mapping[str, str],
                     **client_kwargs: Any) -> list[ConnectionCheck]:
    """Settings, login, API budget, Lead Status values and custom fields: one line each."""
    try:
        settings = SalesforceSettings.coerce(options)
        client = SalesforceClient(settings, secrets, **client_kwargs)
    except SyncAgentError as exc:
        return [("salesforce settings", False, str(exc))]
    checks: list[tuple[str, bool, str]] = [("salesforce settings", True, "valid")]
    steps: list[tuple[str, Callable[[], str]]] = [
        ("salesforce login", lambda: _login(client)),
        ("salesforce API budget", lambda: _budget(client)),
        ("salesforce lead statuses", lambda: _statuses(client)),
        ("salesforce lead fields", lambda: _fields(client, "Lead", _lead_fields(settings))),
    ]
    if settings.create_task:
        steps.append(("salesforce task external id", lambda: _fields(
            client, "Task", [settings.task_key_field])))
    for what, step in steps:
        try:
            checks.append((what, True, step()))
        except (SyncAgentError, ValueError) as exc:
            checks.append((what, False, str(exc)))
            if what == "salesforce login":
                break
    return checks


def lead_statuses(client: SalesforceClient) -> list[dict[str, Any]]:
    """The org's LeadStatus picklist rows (ApiName, IsConverted, IsDefault)."""
    return client.query_all(
        "SELECT ApiName, IsConverted, IsDefault, SortOrder FROM LeadStatus ORDER BY SortOrder")


def _login(client: SalesforceClient) -> str:
    resources = client.get("")
    if not isinstance(resources, dict):
        raise ValueError("the API answered without its resource list")
    how = client.creds.flow or "session id"
    return f"authenticated ({how}); API v{client.settings.api_version}"


def _budget(client: SalesforceClient) -> str:
    limits = client.get("limits")
    daily = limits.get("DailyApiRequests") if isinstance(limits, dict) else None
    if not isinstance(daily, dict):
        raise ValueError("limits answer lacks DailyApiRequests")
    share = client.settings.daily_max_share
    return (f"{daily.get('Remaining')}/{daily.get('Max')} daily API calls remaining; the agent "
            f"stops at {share:.0%} used")


def _statuses(client: SalesforceClient) -> str:
    names = {str(r.get("ApiName")) for r in lead_statuses(client)}
    s = client.settings
    wanted = [v for v in (s.status_accepted, s.status_rejected, s.status_review) if v]
    missing = [v for v in wanted if v not in names]
    if missing:
        raise ValueError(f"Lead Status values missing in the org: {', '.join(missing)} "
                         f"(available: {', '.join(sorted(names))})")
    return "found: " + ", ".join(wanted)


def _lead_fields(settings: SalesforceSettings) -> list[str]:
    return [f for f in (settings.score_field, settings.date_field, settings.reason_field) if f]


def _fields(client: SalesforceClient, sobject: str, wanted: list[str]) -> str:
    describe = client.get(f"sobjects/{sobject}/describe")
    fields = describe.get("fields") if isinstance(describe, dict) else None
    if not isinstance(fields, list):
        raise ValueError(f"{sobject} describe answer lacks fields")
    names = {f.get("name") for f in fields if isinstance(f, dict)}
    missing = [w for w in wanted if w not in names]
    if missing:
        raise ValueError(f"{sobject} fields missing: {', '.join(missing)} (create them: see "
                         "docs/salesforce.md)")
    return "found: " + ", ".join(wanted)
