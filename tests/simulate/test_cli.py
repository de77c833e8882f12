"""``sync-agent rules simulate`` through the CLI: output, JSON, exit codes, and the flips
checked lead by lead with ``sync-agent rules explain``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from simulate_world import SAL, STRICTER, World

from sync_agent.audit import AuditLog
from sync_agent.cli import main
from sync_agent.rules import load_ruleset
from sync_agent.simulate import simulate


def _run(world: World, *args: str) -> Result:
    return CliRunner().invoke(main, ["rules", "simulate", "--config", str(world.config_path),
                                     *args])  # fmt: skip


def _until(world: World) -> str:
    return (world.weeks[-1] + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")


def test_an_identical_candidate_prints_no_flips(world: World) -> None:
    result = _run(world, "--ruleset", str(SAL), "--until", _until(world))
    assert result.exit_code == 0, result.output
    assert "Flips: none; all " in result.output
    assert "(the candidate; live in hubspot-mqls)" in result.output
    assert "Sales outcomes: no sales outcomes recorded yet" in result.output


def test_the_stricter_example_text_output(world: World) -> None:
    result = _run(world, "--ruleset", str(STRICTER), "--until", _until(world), "--limit", "1")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Simulation of candidate sal_stricter" in out
    assert "(live in hubspot-mqls)" in out and "a ruleset that is live now" in out
    assert "accepted   review" in out and "review     rejected" in out
    assert "MQL→SAL rate" in out and "before (recorded)" in out and "after (candidate)" in out
    assert "20–30 % for fast sales cycles" in out  # the report's bands, not a copy
    assert out.count("      threshold: accept at 70") + out.count("gate phone_present") >= 2
    assert "Traceback" not in out


def test_json_is_the_library_result(world: World) -> None:
    result = _run(world, "--ruleset", str(STRICTER), "--json", "--limit", "2", "--workers", "1")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    live = {"hubspot-mqls": load_ruleset(SAL).hash}
    expected = simulate(world.db, load_ruleset(STRICTER), limit=2, workers=1,
                        live_rulesets=live).to_dict()  # fmt: skip
    assert data["examples"] == json.loads(json.dumps(expected["examples"]))
    for key in ("snapshots", "flips", "by_kind", "before", "after", "recorded", "outcomes_note"):
        assert data[key] == json.loads(json.dumps(expected[key])), key
    assert {b["label"] for b in data["bands"]} == {"fast sales cycles", "technology"}


def test_flips_match_rules_explain_lead_by_lead(world: World, tmp_path: Path) -> None:
    """The done-when of the issue: each example's candidate decision is what `rules
    explain` says for that lead's snapshot at its decision time."""
    result = _run(world, "--ruleset", str(STRICTER), "--until", _until(world), "--json",
                  "--limit", "4")  # fmt: skip
    examples = json.loads(result.output)["examples"]
    assert len(examples) >= 8
    snapshots = {r["id"]: r["snapshot"] for r in world.rows("SELECT id, snapshot FROM decisions")}
    for example in examples:
        lead = tmp_path / f"{example['decision_id']}.json"
        lead.write_text(snapshots[example["decision_id"]], "utf-8")
        explained = CliRunner().invoke(main, [
            "rules", "explain", "--lead", str(lead), "--ruleset", str(STRICTER),
            "--now", example["decided_at"], "--json",
        ])  # fmt: skip
        assert explained.exit_code == 0, explained.output
        decision = json.loads(explained.output)
        assert decision["outcome"] == example["after"]["outcome"]
        assert decision["score"] == example["after"]["score"]
        assert decision["reasons"] == example["after"]["reasons"]
        assert example["before"]["outcome"] != example["after"]["outcome"]


def test_now_changes_what_date_rules_decide(world: World) -> None:
    later = (world.weeks[-1] + timedelta(days=365)).isoformat()
    own = json.loads(_run(world, "--ruleset", str(SAL), "--until", _until(world),
                          "--json").output)  # fmt: skip
    fixed = _run(world, "--ruleset", str(SAL), "--until", _until(world), "--now", later, "--json")
    data: dict[str, Any] = json.loads(fixed.output)
    assert own["flips"] == 0 and own["now"] is None
    assert data["flips"] > 0 and data["now"] == later


def test_a_broken_candidate_exits_1_with_file_and_line(world: World, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(SAL.read_text().replace("accept_at = 70", 'accept_at = "high"'))
    result = _run(world, "--ruleset", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:" in result.output and "accept_at" in result.output
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1) if "high" in text)
    assert f"bad.toml:{line}:" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_missing_candidate_file_exits_1(world: World, tmp_path: Path) -> None:
    result = _run(world, "--ruleset", str(tmp_path / "nope.toml"))
    assert result.exit_code == 1 and "nope.toml" in result.output


def test_an_unknown_pipeline_is_a_usage_error(world: World) -> None:
    result = _run(world, "--ruleset", str(SAL), "--pipeline", "nope")
    assert result.exit_code == 2
    assert "no pipeline named 'nope' (known: hubspot-mqls)" in result.output


def test_a_known_pipeline_and_bad_options(world: World) -> None:
    ok = _run(world, "--ruleset", str(SAL), "--pipeline", "hubspot-mqls", "--until", _until(world))
    assert ok.exit_code == 0 and "pipeline hubspot-mqls" in ok.output
    assert _run(world, "--ruleset", str(SAL), "--now", "soon").exit_code == 2
    assert _run(world, "--ruleset", str(SAL), "--limit", "-1").exit_code == 2
    assert _run(world, "--ruleset", str(SAL), "--since", "yesterday").exit_code == 2
    assert _run(world).exit_code == 2  # --ruleset is required


def test_an_empty_log_says_so_and_exits_0(world: World) -> None:
    world.db.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{world.db}{suffix}").unlink(missing_ok=True)
    missing = _run(world, "--ruleset", str(SAL))
    assert missing.exit_code == 1 and "no audit log at" in missing.output
    AuditLog.open(world.db).close()
    empty = _run(world, "--ruleset", str(SAL))
    assert empty.exit_code == 0, empty.output
    assert "has no decisions yet" in empty.output and "Flips" not in empty.output
    data = json.loads(_run(world, "--ruleset", str(SAL), "--json").output)
    assert data["snapshots"] == 0 and "no decisions yet" in data["message"]


@pytest.mark.parametrize("args", [["--help"]])
def test_help_explains_the_choices(args: list[str]) -> None:
    result = CliRunner().invoke(main, ["rules", "simulate", *args])
    assert result.exit_code == 0
    for word in ("latest decision", "--now", "flip", "MQL→SAL", "outcomes", "Exit codes"):
        assert word in result.output
