"""Inputs a fuzzer found that ended in a traceback or ran for ages: each is now a clear
problem (file, place, fix; exit 1) or a bounded display. Driven through the library and
through the CLI (click's CliRunner), which must never print a traceback."""

# ruff: noqa: E501 - tables of hostile snippets read best one per line

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sync_agent.cli import main
from sync_agent.errors import RulesError
from sync_agent.rules import check_rulesets, load_ruleset, run_rule_tests

REPO = Path(__file__).resolve().parents[2]
SAL = REPO / "rules" / "sal.toml"
GOOD = """[threshold]
accept_at = 70

[[criteria]]
name = "score"
weight = 100
checks = [ { field = "lead_score", op = "gte", value = 70 } ]
"""
HUGE_DECIMAL = "1" * 5000  # past Python's 4,300-digit int-conversion limit
HUGE_HEX = "0x" + "f" * 5000  # parses (power-of-two base) but cannot be printed in decimal
TOO_BIG_FOR_FLOAT = "1" + "0" * 400


def _cli(args: Sequence[str], stdin: str | None = None) -> Result:
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2)
    return result


def _ruleset(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "r.toml"
    path.write_text(text, "utf-8")
    return path


def assert_refused(path: Path, *expected: str) -> None:
    """Both the library and `rules check` refuse the ruleset with a located, hinted problem."""
    with pytest.raises(RulesError) as caught:
        load_ruleset(path)
    text = " | ".join(str(p) for p in caught.value.problems)
    assert all(part in text for part in expected), text
    assert all(p.hint for p in caught.value.problems), text
    result = _cli(["rules", "check", str(path)])
    assert result.exit_code == 1 and all(part in result.output for part in expected)
    assert len(result.output) < 5_000, "problem messages never echo huge values"


@pytest.mark.parametrize(
    ("snippet", "expected", "line"),
    [
        (f'[[gates]]\nname = "g"\nfield = "employees"\nop = "gte"\nvalue = {HUGE_DECIMAL}\n', "more than 4,300 digits", 13),
        (f'[[gates]]\nname = "g"\nfield = "employees"\nop = "gte"\nvalue = {HUGE_HEX}\n', "too big", 13),
        (f'[[gates]]\nname = "g"\nfield = "employees"\nop = "gte"\nvalue = {TOO_BIG_FOR_FLOAT}\n', "too big", 13),
        (f'[[gates]]\nname = "g"\nfield = "hubspot.n"\nop = "equals"\nvalue = {TOO_BIG_FOR_FLOAT}\n', "too big", 13),
        (f'[[criteria]]\nname = "p"\nweight = 1\nscoring = "points"\nchecks = [ {{ field = "email", op = "present", points = {TOO_BIG_FOR_FLOAT} }} ]\n', "too big", 13),
        (f'[[criteria]]\nname = "w"\nweight = {HUGE_HEX}\nchecks = [ {{ field = "email", op = "present" }} ]\n', "too big", 11),
        ('[[gates]]\nname = "g"\nfield = "employees"\nop = "gte"\nvalue = nan\n', "not a finite number", 13),
    ],
    ids=["decimal_5000_digits", "hex_5000_digits", "value_too_big_for_float", "raw_field_too_big", "points_too_big", "weight_hex", "nan"],
)
def test_numbers_beyond_a_float_are_problems(tmp_path: Path, snippet: str, expected: str, line: int) -> None:
    path = _ruleset(tmp_path, GOOD + "\n" + snippet)
    assert_refused(path, expected, f"r.toml:{line}:")


@pytest.mark.parametrize("depth", [400, 1000])
def test_conditions_nested_hundreds_deep_are_a_problem(tmp_path: Path, depth: int) -> None:
    key = "when" + ".not" * depth
    path = _ruleset(tmp_path, GOOD + f'\n[[gates]]\nname = "deep"\n{key}.field = "email"\n{key}.op = "present"\n')
    assert_refused(path, "nested", "r.toml:11:", "gates[0].when")


def test_a_big_flat_ruleset_is_checked_with_every_line_in_linear_work(tmp_path: Path) -> None:
    from sync_agent.rules.source import Locator

    gates = "".join(f'[[gates]]\nname = "g{i}"\nfield = "emplyees"\nop = "present"\n\n' for i in range(8000))
    path = _ruleset(tmp_path, GOOD + "\n" + gates)
    with pytest.raises(RulesError) as caught:
        load_ruleset(path)
    problems = caught.value.problems
    assert len(problems) == 8000
    assert (problems[0].line, problems[-1].line) == (11, 11 + 5 * 7999)
    text = path.read_text("utf-8")
    locator = Locator(text)
    for index in range(0, 8000, 7):
        assert locator.line(("gates", index), "field", '"emplyees"') == 11 + 5 * index
    assert locator.work <= 20 * len(text.splitlines()), "lines are found in linear time"


def _cases(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.toml"
    path.write_text(f'ruleset = "{SAL.as_posix()}"\nnow = 2026-11-25T12:00:00Z\n' + text, "utf-8")
    return path


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ('expect = "accepted"\nreasons = 5\n', "reasons must be an array of texts"),
        ("expect = []\n", "expect must be accepted, rejected or review"),
        ('expect = "accepted"\nunset = [[]]\n', "unset must be an array of field names"),
        ('expect = "accepted"\nreason = ["a"]\n', "reason must be a text"),
        ('expect = "accepted"\nfast_lane = 3\n', "fast_lane must be a text"),
        ('expect = "accepted"\nnow = "yesterday"\n', "now must be a date-time"),
        ('expect = "accepted"\nlead = []\n', "lead must be a table"),
        (f'expect = "accepted"\nscore = {TOO_BIG_FOR_FLOAT}\n', "too big"),
        (f'expect = "accepted"\nscore = {HUGE_DECIMAL}\n', "more than 4,300 digits"),
        (f'expect = "accepted"\nscore = {HUGE_HEX}\n', "too big"),
        ("expect = \"accepted\"\n" + "lead" + ".a" * 500 + " = 1\n", "nested"),
    ],
    ids=["reasons_5", "expect_array", "unset_nested", "reason_array", "fast_lane_number", "now_text", "lead_array",
         "score_too_big", "score_5000_digits", "score_hex", "lead_nested_500"],
)
def test_wrong_types_in_rule_test_files_are_problems(tmp_path: Path, case: str, expected: str) -> None:
    path = _cases(tmp_path, '[[cases]]\nname = "c"\n' + case)
    report = run_rule_tests(path)
    texts = [str(p) for p in report.problems] + [r.problem for r in report.results]
    assert not report.ok and any(expected in t for t in texts), texts
    result = _cli(["rules", "test", str(path)])
    assert result.exit_code == 1 and expected in result.output


@pytest.mark.parametrize(
    "ruleset",
    ["nul\\u0000.toml", "x" * 300 + ".toml", "/dev/zero", 5],
    ids=["nul", "300_chars", "dev_zero", "number"],
)
def test_bad_ruleset_paths_in_rule_test_files_are_problems(tmp_path: Path, ruleset: object) -> None:
    shown = json.dumps(ruleset) if isinstance(ruleset, int) else f'"{ruleset}"'
    path = tmp_path / "cases.toml"
    path.write_text(f'ruleset = {shown}\nnow = 2026-11-25T12:00:00Z\n[[cases]]\nexpect = "accepted"\n', "utf-8")
    report = run_rule_tests(path)
    assert not report.ok and report.problems
    assert _cli(["rules", "test", str(path)]).exit_code == 1


@pytest.mark.parametrize("path", ["nul\x00.toml", "y" * 300 + ".toml", "y" * 300 + "/r.toml"], ids=["nul", "300_chars", "300_char_folder"])
def test_bad_paths_on_the_command_line_are_problems(path: str) -> None:
    assert not check_rulesets(path).ok
    assert not run_rule_tests(path).ok
    with pytest.raises(RulesError):
        load_ruleset(path)
    assert _cli(["rules", "check", path]).exit_code == 1
    assert _cli(["rules", "test", path]).exit_code == 1
    assert _cli(["rules", "explain", "--lead", "-", "--ruleset", path], stdin="{}").exit_code in (1, 2)


def _explain(lead: str, *extra: str) -> Result:
    return _cli(["rules", "explain", "--lead", "-", "--ruleset", str(SAL), "--now", "2026-11-25T12:00:00Z", *extra], stdin=lead)


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
@pytest.mark.parametrize(
    "lead",
    [
        '{"title": ' + "[" * 900 + "]" * 900 + "}",
        '{"email": ' + "[" * 900 + "]" * 900 + ', "country": "US"}',
        '{"hubspot": {"source": ' + '{"a": ' * 900 + "1" + "}" * 900 + "}}",
        '{"title": "\\ud800 VP \\udfff", "email": "\\udc80@x.io", "country": "\\ud800"}',
        '{"employees": ' + "9" * 4000 + ', "title": ' + "7" * 4000 + "}",
    ],
    ids=["title_nested_900", "email_nested_900", "raw_nested_900", "lone_surrogates", "4000_digit_numbers"],
)
def test_hostile_lead_values_give_a_bounded_decision(lead: str, as_json: bool) -> None:
    result = _explain(lead, *(["--json"] if as_json else []))
    assert result.exit_code == 0, result.output
    assert len(result.output) < 40_000
    if as_json:
        assert json.loads(result.output)["outcome"] in ("accepted", "rejected", "review")


def test_a_lead_number_past_the_int_limit_is_a_clear_error() -> None:
    result = _explain('{"lead_score": ' + HUGE_DECIMAL + "}")
    assert result.exit_code == 1 and "more than 4,300 digits" in result.output


def test_a_toml_error_that_quotes_a_deep_key_path_is_clipped(tmp_path: Path) -> None:
    key = "when" + ".not" * 1000
    text = GOOD + f'\n[[gates]]\nname = "g"\nwhen = {{ field = "email", op = "present" }}\n{key}.op = "x"\n'
    assert_refused(_ruleset(tmp_path, text), "broken TOML", "r.toml:12:")
