"""``[types]`` in rule test files: case values read as the agent reads them from a source
that declares those types (ranges, multi-selects, dates), and every mistake reported."""

# ruff: noqa: E501 - tables of rule snippets read best one case per line

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sync_agent.cli import main
from sync_agent.rules import run_rule_tests

REPO = Path(__file__).resolve().parents[2]
SAL = REPO / "rules" / "sal.toml"

HEAD = f"""
ruleset = "{SAL.as_posix()}"
now = 2026-11-25T12:00:00Z

[base]
email = "dana.ng@northwind.io"
first_name = "Dana"
last_name = "Ng"
company = "Northwind Traders"
title = "VP Sales"
phone = "+1 415 555 0100"
industry = "COMPUTER_SOFTWARE"
country = "US"
lead_score = "82"
demo_requested = "true"
pricing_page_views = "3"
"""


def _run(tmp_path: Path, types: str, cases: str) -> object:
    path = tmp_path / "cases.toml"
    path.write_text(f"{HEAD}\n{types}\n{cases}", "utf-8")
    return run_rule_tests(path)


def test_options_with_labels_read_an_internal_value_as_its_labelled_range(tmp_path: Path) -> None:
    types = '[types]\nemployees = { type = "enumeration", options = [["opt_1", "1-50 employees"], ["opt_2", "51-200 employees"]] }'
    cases = """
[[cases]]
name = "51-200 is in the ICP"
lead = { employees = "opt_2" }
expect = "accepted"
score = 90

[[cases]]
name = "1-50 is not"
lead = { employees = "opt_1" }
expect = "accepted"
score = 80
"""
    report = _run(tmp_path, types, cases)
    assert report.ok, [(f.name, f.diff) for f in report.failures]  # type: ignore[attr-defined]


def test_a_multi_select_declared_explicitly_is_read_as_options(tmp_path: Path) -> None:
    types = '[types]\ntimeline = { type = "string", multi = true }'
    cases = """
[[cases]]
name = "one option of the timeline is 'now'"
lead = { timeline = "later;now", demo_requested = "false" }
expect = "accepted"
score = 75  # without [types], "later;now" is one text: 70
"""
    report = _run(tmp_path, types, cases)
    assert report.ok, [(f.name, f.diff) for f in report.failures]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("types", "message"),
    [
        ("types = 5", "[types] must be a table"),
        ('[types]\nemplyees = { type = "number" }', "unknown canonical field 'emplyees'"),
        ('[types]\n"hubspot.numemployees" = { type = "number" }', "unknown canonical field"),
        ("[types]\nemployees = 5", "must be a table"),
        ('[types]\nemployees = { typ = "number" }', "unknown key(s) typ"),
        ("[types]\nemployees = { type = 5 }", "type must be"),
        ('[types]\nemployees = { type = "" }', "type must be"),
        ('[types]\nindustry = { type = "enumeration", field_type = 1 }', "field_type must be"),
        ('[types]\nindustry = { type = "enumeration", multi = "yes" }', "multi must be"),
        ('[types]\nindustry = { type = "enumeration", options = [["a"]] }', "options must be"),
        ('[types]\nindustry = { type = "enumeration", options = "a" }', "options must be"),
    ],
)
def test_mistakes_in_types_are_problems_with_a_hint_not_tracebacks(tmp_path: Path, types: str, message: str) -> None:
    path = tmp_path / "cases.toml"
    path.write_text(f'{HEAD}\n{types}\n[[cases]]\nname = "x"\nexpect = "accepted"\n' if not types.startswith("types =") else
                    f'{types}\n{HEAD}\n[[cases]]\nname = "x"\nexpect = "accepted"\n', "utf-8")  # fmt: skip
    report = run_rule_tests(path)
    assert not report.ok and any(message in p.message and p.hint for p in report.problems), report.problems
    result = CliRunner().invoke(main, ["rules", "test", str(path)])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
