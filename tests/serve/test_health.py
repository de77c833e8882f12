"""``status``, ``/healthz`` and ``/metrics`` follow a fault-injected pipeline and its recovery:
a failing source, then dead letters, then the fix (replay) and a good run."""

from __future__ import annotations

import json
import re
from typing import Any

import requests
from click.testing import CliRunner
from serve_kit import handed_off, leads_with_a_salesforce_lead, make_mql, sandbox_config, wait_for

from sync_agent.cli import main
from sync_agent.engine import replay


def metric(text: str, name: str, **labels: str) -> float | None:
    """One sample of the exposition text (None when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = "^" + re.escape(name + (f"{{{want}}}" if labels else "")) + r" (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else None


def status(config: Any) -> tuple[int, dict[str, Any]]:
    out = CliRunner().invoke(main, ["status", "--json", "--config", str(config.path)])
    return out.exit_code, json.loads(out.output)


def health(agent: Any) -> tuple[int, dict[str, Any], str]:
    answer = requests.get(agent.url + "/healthz", timeout=30)
    return answer.status_code, answer.json(), requests.get(agent.url + "/metrics", timeout=30).text


def test_status_and_metrics_follow_a_failure_and_its_recovery(sandbox, tmp_path, make_agent):
    config = sandbox_config(sandbox, tmp_path, max_attempts=1,
                            hubspot_options={"max_attempts": 1},
                            salesforce_options={"lock_retries": 0, "max_attempts": 1})
    sandbox.hubspot_faults.rate_5xx = 1.0  # the source fails: the first scheduled run too
    agent = make_agent(config, sandbox)
    code, body, metrics = health(agent)
    assert code == 503 and not body["healthy"]
    assert any("ended source_error" in p for p in body["problems"])
    assert metric(metrics, "sync_agent_pipeline_healthy", pipeline="hubspot-mqls") == 0
    assert metric(metrics, "sync_agent_runs_total", pipeline="hubspot-mqls", mode="run",
                  outcome="source_error") == 1
    exit_code, shown = status(config)
    assert exit_code == 1 and not shown["healthy"]
    assert shown["pipelines"][0]["last_run"]["outcome"] == "source_error"

    # HubSpot answers again, Salesforce keeps every Lead row locked: dead letters
    sandbox.hubspot_faults.rate_5xx = 0.0
    sandbox.salesforce_faults.rate_lock = 1.0
    first, second = leads_with_a_salesforce_lead(sandbox, 2)
    make_mql(sandbox, first)
    wait_for(lambda: sandbox.store.contacts[first]["properties"].get("sal_status"),
             what="the HubSpot write of the webhook run")
    wait_for(agent.idle)
    code, body, metrics = health(agent)
    assert code == 503
    assert any("dead letter" in p for p in body["problems"])
    dead = metric(metrics, "sync_agent_dead_letters", pipeline="hubspot-mqls")
    assert dead is not None and dead >= 1
    assert metric(metrics, "sync_agent_writes", pipeline="hubspot-mqls", state="dead") == dead
    exit_code, shown = status(config)
    assert exit_code == 1 and shown["pipelines"][0]["dead_letters"] == dead

    # the cause is fixed: replay the dead letters, and the next webhook run is good
    sandbox.salesforce_faults.rate_lock = 0.0
    [replayed] = replay(config)  # in-process: the agent's lock is re-entrant here
    assert replayed.writes.dead == 0
    make_mql(sandbox, second)
    wait_for(lambda: handed_off(sandbox, second), what="the recovered handoff")
    wait_for(agent.idle)
    code, body, metrics = health(agent)
    assert code == 200 and body["healthy"] and body["problems"] == []
    assert metric(metrics, "sync_agent_dead_letters", pipeline="hubspot-mqls") == 0
    assert metric(metrics, "sync_agent_pipeline_healthy", pipeline="hubspot-mqls") == 1
    assert metric(metrics, "sync_agent_healthy") == 1
    assert metric(metrics, "sync_agent_scheduler_up") == 1
    since = metric(metrics, "sync_agent_seconds_since_last_good_run", pipeline="hubspot-mqls")
    assert since is not None and since >= 0
    used = metric(metrics, "sync_agent_api_budget_used_calls", connector="hubspot", period="day")
    assert used is not None and used > 0
    exit_code, shown = status(config)
    assert exit_code == 0 and shown["healthy"]
    text = CliRunner().invoke(main, ["status", "--config", str(config.path)]).output
    assert "hubspot-mqls: healthy" in text and "API budget     hubspot" in text
