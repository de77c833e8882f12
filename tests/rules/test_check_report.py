"""`rules check` beyond validity: control characters in patterns and values, warnings
(that never change the exit code) and how fast lines are found in big files."""

# ruff: noqa: E501 - tables of rule snippets read best one case per line

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sync_agent.cli import main
from sync_agent.errors import RulesError
from sync_agent.rules import check_rulesets, load_ruleset

GOOD = """
[threshold]
accept_at = 70

[[criteria]]
name = "score"
weight = 100
checks = [ { field = "lead_score", op = "gte", value = 70 } ]
"""
CASES = """
ruleset = "../r.toml"
now = 2026-11-25T12:00:00Z

[[cases]]
name = "a strong lead is accepted"
lead = { lead_score = 80 }
expect = "accepted"
"""


def _write(folder: Path, text: str, cases: str | None = CASES) -> Path:
    path = folder / "r.toml"
    path.write_text(text, "utf-8")
    if cases is not None:
        (folder / "tests").mkdir(exist_ok=True)
        (folder / "tests" / "cases.toml").write_text(cases, "utf-8")
    return path


def test_a_regex_in_double_quotes_is_an_error_whose_fix_is_single_quotes(tmp_path: Path) -> None:
    text = GOOD + '\n[[disqualifiers]]\nname = "student"\nfield = "title"\nop = "matches"\nvalue = "\\b(student|intern)\\b"\n'
    with pytest.raises(RulesError) as caught:
        load_ruleset(_write(tmp_path, text))
    (problem,) = caught.value.problems
    assert problem.location == "disqualifiers.student.value" and problem.line == 14
    assert "control character" in problem.message and "\\x08" in problem.message
    assert "'\\b(student|intern)\\b'" in problem.hint
    result = CliRunner().invoke(main, ["rules", "check", str(tmp_path / "r.toml")])
    assert result.exit_code == 1 and "error: " in result.output and "single quotes" in result.output


@pytest.mark.parametrize(
    "condition",
    [
        '{ field = "title", op = "contains", value = "vp\\tsales" }',
        '{ field = "country", op = "in", value = ["DE", "US\\n"] }',
        '{ field = "hubspot.source", op = "equals", value = "ads\\r" }',
        '{ field = "title", op = "equals", value = "\\u001b[31mred" }',
    ],
)
def test_control_characters_in_string_values_are_errors(tmp_path: Path, condition: str) -> None:
    text = GOOD + f'\n[[gates]]\nname = "g"\nwhen = {condition}\n'
    with pytest.raises(RulesError) as caught:
        load_ruleset(_write(tmp_path, text))
    assert any("control character" in p.message for p in caught.value.problems)


def test_rules_check_warns_when_a_ruleset_has_no_test_cases(tmp_path: Path) -> None:
    report = check_rulesets(_write(tmp_path, GOOD, cases=None))
    assert report.ok, "a warning does not fail the check"
    (warning,) = report.warnings
    assert "no rule test cases" in warning.message and "tests/" in warning.hint
    result = CliRunner().invoke(main, ["rules", "check", str(tmp_path / "r.toml")])
    assert result.exit_code == 0
    assert "warning: " in result.output and "1 warning(s)" in result.output.splitlines()[-1]


@pytest.mark.parametrize(
    "cases",
    [
        CASES.replace('ruleset = "../r.toml"', 'ruleset = "../other.toml"'),
        CASES.split("[[cases]]")[0],
    ],
    ids=["cases_of_another_ruleset", "no_cases_in_the_file"],
)
def test_test_files_that_do_not_test_this_ruleset_do_not_count(tmp_path: Path, cases: str) -> None:
    report = check_rulesets(_write(tmp_path, GOOD, cases=cases))
    assert [w.message for w in report.warnings] == ["no rule test cases for this ruleset"]


def test_a_tested_ruleset_has_no_warning(tmp_path: Path) -> None:
    report = check_rulesets(_write(tmp_path, GOOD))
    assert report.ok and report.warnings == ()
    result = CliRunner().invoke(main, ["rules", "check", str(tmp_path / "r.toml")])
    assert result.exit_code == 0 and "warning" not in result.output


def test_errors_and_warnings_are_labelled_apart(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "none.txt").write_text("# nothing yet\n", "utf-8")
    text = GOOD + '\n[[gates]]\nname = "g"\nfield = "country"\nop = "in"\nlist = "none"\n'
    text += '\n[[gates]]\nname = "h"\nfield = "countri"\nop = "present"\n'
    result = CliRunner().invoke(main, ["rules", "check", str(_write(tmp_path, text))])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(ln.startswith("error: ") and "countri" in ln for ln in lines)
    assert any(ln.startswith("warning: ") and "'none' is empty" in ln for ln in lines)
    assert lines[-1] == "1 error(s) in 1 of 1 file(s); 1 warning(s)"
