"""Helpers for the ``serve`` tests: a sandbox config with the app secret, waiting for an
outcome (never on wall time), making an MQL the way marketing automation does."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connectors.hubspot import build_client
from connectors.hubspot.setup import setup_properties
from connectors.sandbox import Sandbox
from connectors.sandbox.config import config_for_sandbox
from sync_agent.config import Config
from sync_agent.serve import Agent

APP_SECRET = "serve-test-app-secret-4f9a"
MQL = "marketingqualifiedlead"
WAIT = 60.0  # generous: the suite shares two cores with everything else


def wait_for(check: Callable[[], Any], timeout: float = WAIT, what: str = "") -> Any:
    """Poll ``check`` until it returns something truthy (returned), or fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.05)


def sandbox_config(sb: Sandbox, workdir: Path, *, secret: str | None = APP_SECRET,
                   every_minutes: int = 60, **options: Any) -> Config:
    """The sandbox's config (a poll once an hour: the first one runs at start) with the app
    secret in the secrets file."""
    info: dict[str, Any] = {**sb.info(), "every_minutes": every_minutes,
                            "secrets": {"HUBSPOT_APP_SECRET": secret} if secret else {},
                            "hubspot_options": options.pop("hubspot_options", {}),
                            "salesforce_options": options.pop("salesforce_options", {})}
    config = config_for_sandbox(info, workdir, **options)
    client = build_client(config.connectors["hubspot"].settings, config.secrets)
    setup_properties(client, client.settings)
    return config


def leads_with_a_salesforce_lead(sb: Sandbox, n: int) -> list[str]:
    """Contacts at stage ``lead`` whose Salesforce lead exists and carries no SAL status yet."""
    leads = sb.store.leads
    out = []
    for cid, contact in sb.store.contacts.items():
        props = contact["properties"]
        lead = leads.get(props.get("salesforceleadid") or "")
        if (props.get("lifecyclestage") == "lead" and lead and not lead.get("IsConverted")
                and not lead.get("IsDeleted") and not lead.get("SAL_Date__c")):
            out.append(cid)
        if len(out) == n:
            break
    return out


def make_mql(sb: Sandbox, contact_id: str) -> None:
    """What marketing automation does: the contact's lifecycle stage becomes MQL (API)."""
    from hubspot import HubSpot

    info = sb.info()
    HubSpot(access_token=info["hubspot_token"], host=info["hubspot_url"]).crm.contacts.\
        basic_api.update(contact_id, simple_public_object_input={
            "properties": {"lifecyclestage": MQL}})


def handed_off(sb: Sandbox, contact_id: str) -> bool:
    """The contact's SAL status is in HubSpot and on its Salesforce lead."""
    props = sb.store.contacts[contact_id]["properties"]
    lead = sb.store.leads.get(props.get("salesforceleadid") or "") or {}
    return bool(props.get("sal_status")) and bool(lead.get("SAL_Date__c"))


def first_run_done(agent: Agent) -> bool:
    run = agent.status().pipelines[0].last_run
    return bool(run and run["ended_at"])
