"""`sync-agent rules test|explain` and the help of every rules command."""

# ruff: noqa: E501 - tables of rule snippets and leads read best one case per line

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sync_agent.cli import main
from sync_agent.rules import run_rule_tests

REPO = Path(__file__).resolve().parents[2]
SAL = REPO / "rules" / "sal.toml"
NOW = "2026-11-25T12:00:00Z"

CASES = f"""
ruleset = "{SAL.as_posix()}"
now = 2026-11-25T12:00:00Z

[base]
email = "dana@northwind.io"
country = "US"

[[cases]]
name = "free mail is rejected"
lead = {{ email = "dana@gmail.com" }}
expect = "rejected"
reason = "gate:business_email"

[[cases]]
name = "this expectation is wrong on purpose"
expect = "accepted"
score = 99
"""


def _cases(tmp_path: Path, text: str = CASES) -> Path:
    path = tmp_path / "cases.toml"
    path.write_text(text, "utf-8")
    return path


def test_rule_test_failure_prints_a_diff_and_the_explanation(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["rules", "test", str(_cases(tmp_path))])
    assert result.exit_code == 1
    assert "FAIL" in result.output and "this expectation is wrong on purpose" in result.output
    assert "-outcome: accepted" in result.output and "+outcome: rejected" in result.output
    assert "-score: 99" in result.output
    assert "gate country_served" in result.output, "the explanation table is printed"
    assert "1 of 2 rule test case(s) passed" in result.output
    assert "Traceback" not in result.output


def test_rule_tests_pass_with_exit_0(tmp_path: Path) -> None:
    text = CASES.split('[[cases]]\nname = "this')[0]
    result = CliRunner().invoke(main, ["rules", "test", "-v", str(_cases(tmp_path, text))])
    assert result.exit_code == 0, result.output
    assert "PASS" in result.output and "1 of 1 rule test case(s) passed" in result.output


def test_rule_test_library_report(tmp_path: Path) -> None:
    report = run_rule_tests(_cases(tmp_path))
    assert [r.passed for r in report.results] == [True, False]
    failure = report.failures[0]
    assert failure.decision is not None and failure.diff[0] == "--- expected"
    assert "disqualifier:competitor" in report.uncovered["sal"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml [", "broken TOML"),
        ('ruleset = "missing.toml"\nnow = 2026-01-01T00:00:00Z\n[[cases]]\nexpect = "accepted"\n', "does not load"),
        (f'ruleset = "{SAL.as_posix()}"\n[[cases]]\nexpect = "accepted"\n', "missing now"),
        (f'ruleset = "{SAL.as_posix()}"\nnow = 2026-01-01T00:00:00Z\n[[cases]]\nexpect = "maybe"\n', "expect must be"),
        (f'ruleset = "{SAL.as_posix()}"\nnow = 2026-01-01T00:00:00Z\n[[cases]]\nexpect = "accepted"\nleed = {{}}\n',
         "unknown key(s) leed"),
    ],
)  # fmt: skip
def test_broken_test_files_are_reported(tmp_path: Path, text: str, message: str) -> None:
    result = CliRunner().invoke(main, ["rules", "test", str(_cases(tmp_path, text))])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_explain_json_for_scripts(tmp_path: Path) -> None:
    lead = tmp_path / "lead.json"
    lead.write_text(
        json.dumps({"email": "dana@gmail.com", "country": "DE", "lead_score": "80"}), "utf-8"
    )
    args = ["rules", "explain", "--lead", str(lead), "--ruleset", str(SAL), "--now", NOW, "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["outcome"] == "rejected" and data["reasons"] == ["gate:business_email"]
    assert data["ruleset_name"] == "sal" and len(data["ruleset_hash"]) == 64
    criterion = next(c for c in data["explanation"] if c["name"] == "lead_score")
    assert criterion["points"] == 25 and criterion["children"][0]["value"] == "80"


def test_explain_reads_stdin_and_prints_a_table() -> None:
    stdin = json.dumps({"fields": {"email": "lee@globex.net", "country": "DE", "trial_started": "true",
                                   "webinar_attended_date": "2026-11-20"}})  # fmt: skip
    args = ["rules", "explain", "--lead", "-", "--ruleset", str(SAL), "--now", NOW]
    result = CliRunner().invoke(main, args, input=stdin)
    assert result.exit_code == 0, result.output
    assert "ACCEPTED" in result.output and "fast_lane:trial_and_webinar" in result.output
    assert "webinar_attended_date within" in result.output


@pytest.mark.parametrize(
    ("stdin", "extra", "message"),
    [
        ("{not json", [], "not valid JSON"),
        ("[1, 2]", [], "must be a JSON object"),
        ("{}", ["--now", "yesterday"], "not an ISO date-time"),
        ("{}", ["--ruleset", "nowhere.toml"], "No such file"),
    ],
)
def test_explain_bad_input_is_a_message_not_a_traceback(
    stdin: str, extra: list[str], message: str
) -> None:
    result = CliRunner().invoke(main, ["rules", "explain", "--lead", "-", *extra], input=stdin)
    assert result.exit_code in (1, 2)
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("command", ["check", "test", "explain"])
def test_every_rules_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(main, ["rules", command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and f"sync-agent rules {command}" in result.output
