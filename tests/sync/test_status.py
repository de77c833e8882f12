"""``sync-agent status``: the judgement (pure) and the command on the fake connector."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from connectors.base import Budget
from sync_agent.audit.health import PipelineFacts
from sync_agent.cli import main
from sync_agent.config import PipelineConfig
from sync_agent.engine import run_once
from sync_agent.status import judge
from sync_agent.triggers import Schedule

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
EVERY_15 = PipelineConfig("p", "src", Path("sal.toml"), ("crm",), Schedule(every_minutes=15))


def run(minutes_ago: float, outcome: str = "ok", mode: str = "run", run_id: int = 7) -> dict:
    at = (NOW - timedelta(minutes=minutes_ago)).isoformat()
    return {"id": run_id, "mode": mode, "started_at": at, "ended_at": at, "outcome": outcome,
            "error": "RetriableError: 503" if outcome != "ok" else None,
            "counts": {"decided": 3, "written": 6}}


def facts(**values) -> PipelineFacts:
    out = PipelineFacts("p", **values)
    if out.last_run is not None and out.last_finished is None and out.last_run["ended_at"]:
        out.last_finished = out.last_run
    return out


def test_a_recent_good_run_is_healthy_and_reports_its_figures() -> None:
    status = judge(facts(last_run=run(5), last_good_at=run(5)["ended_at"],
                         writes={"written": 10, "waiting": 2}, newest_lead_at=run(30)["ended_at"],
                         sla_breaches=3, open_sla_breaches=1),
                   EVERY_15, NOW, 300, {"crm": Budget(used=100, allowed=1000)})
    assert status.healthy and status.problems == []
    assert status.seconds_since_good == 300 and status.lag_seconds == 1800
    shown = status.to_dict()
    assert shown["waiting_handoffs"] == 2 and shown["open_sla_breaches"] == 1
    assert shown["api_budget"]["crm"] == {"used": 100, "allowed": 1000, "left": 900,
                                          "period": "day"}


def test_a_failed_last_run_is_a_problem_until_a_later_run_is_good() -> None:
    failed = judge(facts(last_run=run(5, "source_error")), EVERY_15, NOW, 300, {})
    assert failed.problems == ["last run #7 (run) ended source_error: RetriableError: 503"]
    newer_ok = judge(facts(last_run=run(1, mode="webhook", run_id=8)), EVERY_15, NOW, 300, {})
    assert newer_ok.healthy
    interrupted = judge(facts(last_run=run(1, "interrupted")), EVERY_15, NOW, 300, {})
    assert interrupted.healthy, "a signal stopped it: it resumes"


def test_dead_letters_need_an_operator() -> None:
    status = judge(facts(last_run=run(1), writes={"dead": 2}), EVERY_15, NOW, 300, {})
    assert len(status.problems) == 1 and "2 dead letter(s)" in status.problems[0]
    assert "sync-agent replay" in status.problems[0]


def test_overdue_after_two_missed_slots_and_the_grace() -> None:
    on_time = judge(facts(last_run=run(34)), EVERY_15, NOW, 300, {})
    assert on_time.healthy  # due at -19 and -4 min, plus 5 min grace
    late = judge(facts(last_run=run(36)), EVERY_15, NOW, 300, {})
    assert late.problems and "is the agent running?" in late.problems[0]
    running = facts(last_run={**run(600), "ended_at": None})
    assert judge(running, EVERY_15, NOW, 300, {}).healthy, "a long run is not a missed one"
    cron = PipelineConfig("p", "src", Path("x"), ("crm",), Schedule(cron="0 9 * * *"))
    assert judge(facts(last_run=run(60 * 26)), cron, NOW, 300, {}).healthy
    assert not judge(facts(last_run=run(60 * 50)), cron, NOW, 300, {}).healthy


def test_never_ran_is_a_problem_unless_disabled() -> None:
    assert judge(facts(), EVERY_15, NOW, 300, {}).problems == [
        "never ran: start the agent (sync-agent serve, or run)"]
    off = PipelineConfig("p", "src", Path("x"), ("crm",), enabled=False)
    assert judge(facts(last_run=run(1, "fatal")), off, NOW, 300, {}).healthy


def test_status_command_exit_codes_and_json(make_config, worlds, clock) -> None:
    config = make_config()
    before = CliRunner().invoke(main, ["status", "--config", str(config.path)])
    assert before.exit_code == 1 and "never ran" in before.output
    assert not config.audit_db.exists(), "status creates nothing"
    src, _ = worlds
    src.add("a", score=80, minute=1)
    [summary] = run_once(config)
    assert summary.outcome == "ok"
    text = CliRunner().invoke(main, ["status", "--config", str(config.path)])
    assert text.exit_code == 0, text.output
    assert "mqls: healthy" in text.output and text.output.strip().endswith("healthy")
    shown = CliRunner().invoke(main, ["status", "--json", "--config", str(config.path)])
    data = json.loads(shown.output)
    assert shown.exit_code == 0 and data["healthy"]
    [pipeline] = data["pipelines"]
    assert pipeline["last_run"]["outcome"] == "ok" and pipeline["writes"]["written"] >= 1
