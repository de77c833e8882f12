"""A sandbox world for SLA tests: a config with ``[sla]``, first touches by hand, checks."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.sandbox import Sandbox
from connectors.sandbox.config import config_for_sandbox
from sync_agent.audit import AuditLog
from sync_agent.audit.sla import action_key, record_outcome
from sync_agent.config import Config
from sync_agent.model import OutcomeKind
from sync_agent.sla.settings import SlaSection

ACTIONS = ("mark", "escalate", "reassign")


def sla_config(sb: Sandbox, workdir: Path, **overrides: Any) -> Config:
    """The sandbox config with every SLA action: reassign to a queue (Salesforce) and to a
    HubSpot owner; escalation to the lead owner's manager (no user configured)."""
    import connectors.hubspot as hubspot
    import connectors.hubspot.setup as setup

    queue = sorted(sb.store.groups)[0]
    owner = sorted(sb.store.hubspot_owners)[0]
    info = {**sb.info(), "hubspot_options": overrides.pop("hubspot_options", {})}
    sla = SlaSection.model_validate({
        "hours": 24, "actions": list(ACTIONS),
        "reassign_to": {"salesforce": queue, "hubspot": owner}})
    config = config_for_sandbox(info, workdir, sla=sla, **overrides)
    client = hubspot.build_client(config.connectors["hubspot"].settings, config.secrets)
    setup.setup_properties(client, client.settings)
    return config


def accepted(config: Config) -> list[dict[str, Any]]:
    """Accepted handoffs and the sinks each was written to."""
    with AuditLog.open(config.audit_db) as log:
        return log.rows(
            "SELECT d.lead_key, d.source_id, d.handoff_key, d.decided_at, "
            "group_concat(w.sink) AS sinks FROM decisions d JOIN writes w ON "
            "w.decision_id = d.id AND w.handoff_key = d.handoff_key AND w.state = 'written' "
            "WHERE d.outcome = 'accepted' GROUP BY d.id ORDER BY d.id")


def touch(config: Config, rows: list[dict[str, Any]], after: timedelta, now: datetime) -> None:
    """Record a first touch ``after`` each handoff, as the read-back would."""
    with AuditLog.open(config.audit_db) as log:
        for row in rows:
            at = datetime.fromisoformat(row["decided_at"]) + after
            record_outcome(log, lead_key=row["lead_key"], handoff_key=row["handoff_key"],
                           system="hubspot", kind=OutcomeKind.FIRST_TOUCH, at=at, now=now,
                           detail={"owner": "rep-1"})


def breached_keys(config: Config) -> list[str]:
    with AuditLog.open(config.audit_db) as log:
        rows = log.rows("SELECT handoff_key FROM outcomes WHERE kind = 'sla_breached'")
    return sorted(r["handoff_key"] for r in rows)


def action_counts(sb: Sandbox) -> tuple[Counter[str], Counter[str]]:
    """Escalation notes (HubSpot) and Tasks (Salesforce) per SLA action key."""
    state = sb.state()
    notes = Counter(n["properties"].get("sal_handoff_key") for n in state["notes"])
    tasks = Counter(t.get("SAL_Handoff_Key__c") for t in state["tasks"])
    return (Counter({k: n for k, n in notes.items() if k and ":sla:" in k}),
            Counter({k: n for k, n in tasks.items() if k and ":sla:" in k}))


def escalation(key: str) -> str:
    return action_key(key, "escalate")


def action_states(config: Config) -> set[str]:
    """The outbox states of the SLA action writes."""
    with AuditLog.open(config.audit_db) as log:
        rows = log.rows("SELECT DISTINCT state FROM writes WHERE handoff_key LIKE '%:sla:%'")
    return {r["state"] for r in rows}


def sla_config_file(sb: Sandbox, workdir: Path) -> Path:
    """The sandbox config file with an ``[sla]`` table (every action) and a short
    reconcile delay, for agents in child processes; returns its path."""
    queue = sorted(sb.store.groups)[0]
    owner = sorted(sb.store.hubspot_owners)[0]
    config = sla_config(sb, workdir)  # writes the file and creates the HubSpot properties
    path = config.path
    path.write_text(path.read_text() + f"""
[writeback]
reconcile_after_seconds = 1

[sla]
hours = 24
actions = ["mark", "escalate", "reassign"]
[sla.reassign_to]
salesforce = "{queue}"
hubspot = "{owner}"
""")
    return path
