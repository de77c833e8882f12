"""A lead file made from a sandbox's contacts, and a config whose pipeline reads it.

The file carries the contacts' e-mails, so the sinks (the sandbox's Salesforce and
HubSpot, through the real SDKs) find the same people by e-mail, as they would for a
trade-show list of known prospects.
"""

from __future__ import annotations

import csv
from pathlib import Path

from connectors.sandbox import Sandbox
from connectors.sandbox.config import sandbox_config_text, write_sandbox_config

#: canonical column <- HubSpot property of the sandbox's contacts
COLUMNS = {
    "email": "email",
    "first_name": "firstname",
    "last_name": "lastname",
    "company": "company",
    "title": "jobtitle",
    "industry": "industry",
    "employees": "numemployees",
    "country": "country",
    "lead_score": "hubspotscore",
    "demo_requested": "demo_requested",
    "trial_started": "trial_started",
    "webinar_attended_date": "webinar_attended_date",
    "pricing_page_views": "pricing_page_views",
    "mql_date": "hs_lifecyclestage_marketingqualifiedlead_date",
}


def write_lead_file(sandbox: Sandbox, path: Path, limit: int | None = None) -> int:
    """A CSV of the sandbox's contacts (in id order); returns its row count."""
    with sandbox.store.lock:
        contacts = [
            c["properties"]
            for _, c in sorted(sandbox.store.contacts.items(), key=lambda kv: int(kv[0]))
        ]
    rows = [c for c in contacts if c.get("email")][:limit]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for props in rows:
            writer.writerow([props.get(p) or "" for p in COLUMNS.values()])
    return len(rows)


def file_pipeline_config(sandbox: Sandbox, workdir: Path, lead_file: Path) -> Path:
    """The sandbox config with a ``fair`` file source feeding the pipeline ``fair-leads``."""
    path, _ = write_sandbox_config(sandbox.info(), workdir / "sync-agent.toml")
    text = path.read_text(encoding="utf-8").replace(
        'name = "hubspot-mqls"', 'name = "hubspot-mqls"\nenabled = false'
    )
    text += (
        "\n[connectors.fair]\n"
        'type = "file"\n'
        f'path = "{lead_file}"\n'
        "\n[[pipelines]]\n"
        'name = "fair-leads"\n'
        'source = "fair"\n'
        f'ruleset = "{_ruleset(text)}"\n'
        'sinks = ["salesforce", "hubspot"]\n'
        "schedule = { every_minutes = 60 }\n"
    )
    path.write_text(text, encoding="utf-8")
    return path


def _ruleset(text: str) -> str:
    line = next(ln for ln in text.splitlines() if ln.startswith("ruleset = "))
    return line.split("=", 1)[1].strip().strip('"')


__all__ = ["file_pipeline_config", "sandbox_config_text", "write_lead_file"]
