"""The commands through click's CliRunner: thin layers with documented exit codes."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from sync_fakes import World

from sync_agent.cli import main
from sync_agent.errors import BudgetExhausted
from sync_agent.model import WriteResult, WriteState


def seed(src: World, n: int = 4) -> None:
    for i in range(1, n + 1):
        src.add(str(i), 80 if i % 2 else 10, minute=i)


@pytest.fixture
def cli(make_config):
    config = make_config()
    runner = CliRunner()

    def invoke(*args: str) -> object:
        return runner.invoke(main, [*args, "--config", str(config.path)], catch_exceptions=False)

    invoke.config = config  # type: ignore[attr-defined]
    return invoke


def test_every_sync_command_has_help_with_examples() -> None:
    runner = CliRunner()
    for args in (
        ["run"],
        ["backfill"],
        ["replay"],
        ["report"],
        ["prune"],
        ["config", "check"],
        ["audit", "list"],
        ["audit", "show"],
        ["audit", "export"],
        ["audit", "dead-letters"],
    ):
        result = runner.invoke(main, [*args, "--help"])
        assert result.exit_code == 0 and "--config" in result.output, args
    for args in (["run"], ["backfill"], ["replay"], ["report"], ["audit"]):
        assert "Example" in runner.invoke(main, [*args, "--help"]).output, args


def test_run_once_then_audit_list_show_export(cli, worlds) -> None:
    src, _ = worlds
    seed(src)
    result = cli("run", "--once")
    assert result.exit_code == 0, result.output
    assert (
        "mqls: run #1 ok" in result.output and "decided 4 (accepted 2, rejected 2" in result.output
    )
    listed = cli("audit", "list", "--outcome", "accepted")
    assert listed.exit_code == 0 and listed.output.count("accepted") == 2
    shown = cli("audit", "show", "fake:1")
    assert "ACCEPTED score 80" in shown.output and "✓ criterion lead_score" in shown.output
    assert "write to fake2: written after 1 attempt(s)" in shown.output
    assert cli("audit", "show", "nobody").exit_code == 1
    exported = cli("audit", "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 4 and {r["outcome"] for r in rows} == {"accepted", "rejected"}
    as_json = json.loads(cli("audit", "export", "--format", "json").stdout)
    assert len(as_json) == 4 and as_json[0]["reasons"]


def test_run_json_and_failure_exit_code(cli, worlds) -> None:
    src, crm = worlds
    seed(src)
    crm.per_key["1"] = WriteResult("", WriteState.DEAD, "INVALID_FIELD")
    result = cli("run", "--once", "--json")
    assert result.exit_code == 1
    [summary] = json.loads(result.stdout)
    assert summary["dead"] == 1 and summary["outcome"] == "failures"
    dead = cli("audit", "dead-letters", "--json")
    [row] = json.loads(dead.stdout)
    crm.per_key.clear()
    replayed = cli("replay", "--id", str(row["id"]))
    assert replayed.exit_code == 0 and "1 written" in replayed.output


def test_budget_stop_exits_4(cli, worlds) -> None:
    src, crm = worlds
    seed(src)
    crm.fail_calls.append(BudgetExhausted("budget used"))
    assert cli("run", "--once").exit_code == 4


def test_backfill_and_dry_run(cli, worlds) -> None:
    src, crm = worlds
    seed(src)
    dry = cli("backfill", "--since", "2026-01-01", "--dry-run")
    assert dry.exit_code == 0 and "dry-run" in dry.output and crm.calls == {}
    real = cli("backfill", "--since", "2026-01-01", "--until", "2026-02-01")
    assert real.exit_code == 0 and "backfill #" in real.output and len(crm.sal) == 4


def test_report_text_and_json(cli, worlds) -> None:
    src, _ = worlds
    seed(src)
    cli("run", "--once")
    text = cli("report")
    assert "MQL→SAL rate: 50.0 %" in text.output
    assert "benchmarks quoted in the SAL literature" in text.output
    data = json.loads(cli("report", "--json", "--since", "2026-01-01").stdout)
    assert data["overall"]["sals"] == 2 and data["pipelines"]["mqls"]["mqls"] == 4


def test_config_check_and_connect(cli, worlds, tmp_path) -> None:
    ok = cli("config", "check")
    assert ok.exit_code == 0 and "OK" in ok.output
    connect = cli("config", "check", "--connect")
    assert "✓ fake: read contacts: ok" in connect.output
    (tmp_path / "sal.toml").write_text("broken\n")
    bad = cli("config", "check")
    assert bad.exit_code == 1 and "broken on purpose" in bad.output


def test_invalid_config_exits_1_with_every_problem_and_a_missing_one_is_a_usage_error(
    tmp_path, monkeypatch
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[agent]\nlog_levle = 1\n[[pipelines]]\nname = "x"\n')
    result = CliRunner().invoke(main, ["run", "--once", "--config", str(path)])
    assert result.exit_code == 1
    assert "log_levle" in result.output and "ruleset" in result.output
    missing = CliRunner().invoke(main, ["report", "--config", str(tmp_path / "none.toml")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    monkeypatch.chdir(tmp_path)  # no --config and no ./sync-agent.toml: how to get one
    default = CliRunner().invoke(main, ["run", "--once"])
    assert default.exit_code == 2 and "sandbox serve --write-config" in default.output


def test_prune(cli, worlds) -> None:
    src, _ = worlds
    seed(src)
    cli("run", "--once")
    result = cli("prune", "--days", "1")
    assert result.exit_code == 0 and "pruned 0 decision(s)" in result.output
