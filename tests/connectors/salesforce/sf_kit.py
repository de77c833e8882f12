"""Helpers for the Salesforce connector tests: options, secrets, controlled leads, handoffs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.sandbox.server import Sandbox
from connectors.sandbox.store import SandboxStore, sf_time
from sync_agent.model import MQL, Decision, Handoff, Outcome

DECIDED = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)
OWNER = "0055g0000000001AAA"


def options(sb: Sandbox, **extra: Any) -> dict[str, Any]:
    info = sb.info()
    return {"instance_url": info["salesforce_url"], "login_url": info["salesforce_url"],
            "ca_bundle": info["ca_bundle"], **extra}


def client_secrets(sb: Sandbox) -> dict[str, str]:
    info = sb.info()
    return {"SALESFORCE_CLIENT_ID": info["salesforce_client_id"],
            "SALESFORCE_CLIENT_SECRET": info["salesforce_client_secret"]}


def session_secrets(sb: Sandbox) -> dict[str, str]:
    return {"SALESFORCE_SESSION_ID": sb.info()["salesforce_session_id"]}


def no_sleep(_seconds: float) -> None:
    """Injected instead of time.sleep: tests never wait."""


def add_lead(store: SandboxStore, email: str, *, converted: bool = False, deleted: bool = False,
             status: str = "MQL", modstamp: datetime | None = None, **fields: Any) -> str:
    """A lead with exactly the given traits; returns its id."""
    lid = store.new_id("lead")
    stamp = sf_time(modstamp or DECIDED - timedelta(days=1))
    store.leads[lid] = {
        "Id": lid, "Email": email, "FirstName": "Ada", "LastName": "Lovelace",
        "Company": "Analytical Engines", "Title": "CTO", "Industry": "Software",
        "NumberOfEmployees": 120, "Country": "UK", "Phone": None, "LeadSource": "Web",
        "Rating": None, "Status": "Closed - Converted" if converted else status,
        "OwnerId": OWNER, "IsConverted": converted, "IsDeleted": deleted,
        "CreatedDate": stamp, "LastModifiedDate": stamp, "SystemModstamp": stamp,
        "SAL_Score__c": None, "SAL_Date__c": None, "SAL_Reason__c": None, **fields,
    }
    return lid


def handoff(key: str, *, lead_id: str | None = None, email: str | None = None,
            outcome: Outcome = Outcome.ACCEPTED, score: float = 82.0,
            note: str = "Accepted: demo requested, ICP fit.") -> Handoff:
    fields: dict[str, Any] = {"email": email, "first_name": "Ada", "last_name": "Lovelace",
                              "company": "Analytical Engines"}
    crm = {"hubspot": key, **({"salesforce": lead_id} if lead_id else {})}
    mql = MQL("hubspot", key, fields, crm_ids=crm)
    decision = Decision(outcome, score, ("score 82 >= 70", "demo requested"), (), "sal", "abc123",
                        DECIDED)
    return Handoff(f"pipe:{key}", mql, decision, note)


def sf_calls(store: SandboxStore, endpoint: str | None = None) -> int:
    return store.request_count("salesforce", endpoint)
