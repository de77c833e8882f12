"""`report --json` past the handoff, checked against the sandbox sales team's own record.

The pipeline hands MQLs off (real SDKs, real HTTP), the sandbox clock moves ten days while
its reps touch, qualify, convert, reject and recycle (``/_sandbox/state`` → ``team``), and
the next run reads it back and lets the SLA watch record breaches. Every expected figure is
computed from the team's plans and the decision times, never from the agent's tables of
outcomes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from connectors.sandbox import Sandbox, TeamConfig
from sync_agent.audit import AuditLog
from sync_agent.cli import main
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import run_once
from sync_agent.sla.settings import SlaSection

QUALIFIED = ("converted", "working")  # the plans whose rep moves the contact to SQL


@dataclass
class Loop:
    report: dict[str, Any]  # report --json
    sals: list[dict[str, Any]]  # accepted leads: source_id, decided_at (first acceptance)
    plans: dict[str, dict[str, Any]]  # contact id -> the team's plan


def when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    folder = tmp_path_factory.mktemp("loop")
    with Sandbox(contacts=900, seed=31, mql_share=0.6, team=TeamConfig(seed=31)) as sb:
        config, _ = prepare_sandbox(
            sb, folder, hubspot_options={"backoff_base": 0, "backoff_max": 0},
            wait_for_record_hours=24.0 * 60, sla=SlaSection(hours=24))  # fmt: skip
        [first] = run_once(config, clock=sb.now)
        assert first.outcome == "ok" and first.accepted > 40, first.error
        sb.advance(days=10)
        [later] = run_once(config, clock=sb.now)
        assert later.outcome == "ok", later.error
        plans = {h["contact_id"]: h for h in sb.state()["team"]["handoffs"] if h["contact_id"]}
        with AuditLog.open(config.audit_db) as log:
            sals = log.rows("SELECT source_id, MIN(decided_at) AS decided_at FROM decisions "
                            "WHERE outcome = 'accepted' AND dry_run = 0 GROUP BY lead_key")
        out = CliRunner().invoke(main, ["report", "--json", "--config", str(config.path)])
        assert out.exit_code == 0, out.output
        yield Loop(json.loads(out.output), sals, plans)


def plan(loop: Loop, sal: dict[str, Any]) -> dict[str, Any]:
    return loop.plans[str(sal["source_id"])]


def concluded(loop: Loop, outcome: str) -> int:
    return sum(plan(loop, s)["outcome"] == outcome and bool(plan(loop, s)["outcome_at"])
               for s in loop.sals)


def test_the_funnel_is_what_the_team_did(loop: Loop) -> None:
    assert {str(s["source_id"]) for s in loop.sals} <= set(loop.plans), "each SAL was worked"
    funnel = loop.report["funnel"]
    touched = [s for s in loop.sals if plan(loop, s)["first_touch_at"]]
    sql = [s for s in touched if plan(loop, s)["outcome"] in QUALIFIED]
    assert funnel["sals"] == len(loop.sals) == loop.report["overall"]["sals"]
    assert funnel["first_touched"] == len(touched)
    assert funnel["sql"] == len(sql)
    assert funnel["opportunity"] == concluded(loop, "converted") > 0
    assert funnel["rejected"] == concluded(loop, "rejected") > 0
    assert funnel["recycled"] == concluded(loop, "recycled")
    assert funnel["sal_to_sql_pct"] == pytest.approx(100 * len(sql) / len(loop.sals), abs=0.05)
    assert sum(funnel["rejection_reasons"].values()) == funnel["rejected"]


def test_sla_attainment_is_the_teams_first_touches_against_the_deadline(loop: Loop) -> None:
    def met(sal: dict[str, Any]) -> bool:
        touched = plan(loop, sal)["first_touch_at"]
        due = datetime.fromisoformat(sal["decided_at"]) + timedelta(hours=24)
        return touched is not None and when(touched) <= due

    n_met = sum(map(met, loop.sals))
    sla = loop.report["funnel"]["sla"]
    assert (sla["met"], sla["breached"], sla["pending"]) == (
        n_met, len(loop.sals) - n_met, 0)
    assert 0 < sla["breached"] < len(loop.sals)
    assert sla["attainment_pct"] == pytest.approx(100 * n_met / len(loop.sals), abs=0.05)
    by_owner = loop.report["funnel"]["sla_by_owner"]
    assert sum(a["sals"] for a in by_owner.values()) == len(loop.sals)
    assert sum(a["met"] for a in by_owner.values()) == n_met


def test_feedback_per_rule_adds_up_to_the_teams_rejections(loop: Loop) -> None:
    rows = {r["rule"]: r for r in loop.report["feedback"]}
    rejected = concluded(loop, "rejected")
    gates = [r for r in rows.values() if r["kind"] == "gate"]
    assert gates, "every SAL passed the gates"
    for gate in gates:
        assert (gate["sals"], gate["rejected"]) == (len(loop.sals), rejected), gate["rule"]
    # The bands of one criterion split the SALs: their counts add up to the team's.
    criteria = {r["name"] for r in rows.values() if r["kind"] == "criterion"}
    assert criteria
    for name in criteria:
        bands = [r for r in rows.values() if r["kind"] == "criterion" and r["name"] == name]
        assert sum(b["sals"] for b in bands) == len(loop.sals), name
        assert sum(b["rejected"] for b in bands) == rejected, name
        assert sum(b["opportunity"] for b in bands) == concluded(loop, "converted"), name
