"""The demo: a full sync against the embedded sandbox, then a second pass that hands off nothing.

Library first (tests call :func:`run_demo`); ``sync-agent demo`` only renders its steps.
Everything runs on this machine: the sandbox is started in-process on 127.0.0.1, seeded
deterministically, and the default pipeline (HubSpot → ``rules/sal.toml`` → Salesforce and
HubSpot) runs through the real SDK clients over real HTTP(S).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.hubspot import build_client
from connectors.hubspot.setup import setup_properties
from connectors.sandbox import Sandbox
from connectors.sandbox.config import config_for_sandbox
from sync_agent.audit.db import AuditLog, decision_from_row
from sync_agent.config import Config
from sync_agent.engine import RunSummary, run_once
from sync_agent.model import FIELD_ORIGINS, Decision
from sync_agent.report import Report, build_report

Progress = Callable[[int, int | None], None]


@dataclass
class DemoResult:
    """What the demo did: both passes, the report, one handoff as sales sees it."""

    workdir: Path
    properties_created: list[str]  # the SAL properties the set-up step created in HubSpot
    first: list[RunSummary]
    second: list[RunSummary]
    report: Report
    example: dict[str, Any] | None  # the audit row of one accepted lead
    decision: Decision | None  # its decision, with the explanation
    note: dict[str, Any] | None  # the HubSpot note written for it
    task: dict[str, Any] | None  # the Salesforce Task written for it
    crm_before_second: dict[str, int] = field(default_factory=dict)
    crm_after_second: dict[str, int] = field(default_factory=dict)

    @property
    def origins(self) -> dict[str, str]:
        """The example's fields read from its company (``{"industry": "company.industry"}``)."""
        try:
            snapshot = json.loads((self.example or {}).get("snapshot") or "{}")
        except ValueError:
            return {}
        origins = snapshot.get(FIELD_ORIGINS) if isinstance(snapshot, dict) else None
        return dict(origins) if isinstance(origins, dict) else {}


def run_demo(
    *,
    contacts: int = 3000,
    seed: int = 42,
    workdir: str | Path | None = None,
    progress: Callable[[str], Progress] | None = None,
) -> DemoResult:
    """Seed a sandbox, sync it twice, and collect what a newcomer should see.

    ``progress(label)`` returns a callback ``(done, total)`` for each pass.
    """
    folder = Path(workdir or tempfile.mkdtemp(prefix="sync-agent-demo-"))
    with Sandbox(contacts=contacts, seed=seed) as sandbox:
        config, created = prepare_sandbox(sandbox, folder)
        first = run_once(config, progress=progress("first pass") if progress else None)
        before = _crm_counts(sandbox)
        second = run_once(config, progress=progress("second pass") if progress else None)
        after = _crm_counts(sandbox)
        with AuditLog.open(config.audit_db) as audit:
            report = build_report(audit)
            example = _accepted_example(audit)
        note, task = _written_for(sandbox, example)
    decision = decision_from_row(example) if example else None
    return DemoResult(
        folder, created, first, second, report, example, decision, note, task, before, after
    )


def prepare_sandbox(
    sandbox: Sandbox,
    workdir: str | Path,
    *,
    hubspot_options: dict[str, Any] | None = None,
    salesforce_options: dict[str, Any] | None = None,
    **config_overrides: Any,
) -> tuple[Config, list[str]]:
    """A config for a running sandbox, and the one-time portal set-up a new user does.

    The set-up is ``sync-agent hubspot setup-properties``: it creates the SAL contact
    properties and the note's ``sal_handoff_key``. Returns the config and what was created.
    ``*_options`` go into the connector tables (e.g. ``{"tier": "professional"}``).
    Benchmarks and end-to-end tests share this with the demo.
    """
    info = {
        **sandbox.info(),
        "hubspot_options": hubspot_options or {},
        "salesforce_options": salesforce_options or {},
    }
    config = config_for_sandbox(info, workdir, **config_overrides)
    client = build_client(config.connectors["hubspot"].settings, config.secrets)
    report = setup_properties(client, client.settings)
    return config, [f"{spec.object_type}.{spec.name}" for spec in report.created]


def _crm_counts(sandbox: Sandbox) -> dict[str, int]:
    totals = sandbox.state(include_records=False)["totals"]
    return {"notes": int(totals["notes"]), "tasks": int(totals["tasks"])}


def _accepted_example(audit: AuditLog) -> dict[str, Any] | None:
    """The written-back accepted decision with the highest score (ties: the oldest), one
    whose ICP fit was read from its company when there is one."""
    rows = audit.rows(
        "SELECT * FROM decisions WHERE outcome = 'accepted' AND status = 'written' "
        f"ORDER BY json_extract(snapshot, '$.{FIELD_ORIGINS}') IS NULL, score DESC, id LIMIT 1"
    )
    return rows[0] if rows else None


def _written_for(
    sandbox: Sandbox, example: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The HubSpot note and Salesforce Task the sinks created for the example's handoff key."""
    if example is None:
        return None, None
    key = example["handoff_key"]
    state = sandbox.state()
    note = next((n for n in state["notes"] if n["properties"].get("sal_handoff_key") == key), None)
    task = next((t for t in state["tasks"] if t.get("SAL_Handoff_Key__c") == key), None)
    return note, task
