"""`rules explain --lead`: usage errors for a lead file that is not there, and a decision
table that stays short and readable whatever the lead's values."""

# ruff: noqa: E501 - a few long assertions read best on one line

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sync_agent.cli import main

REPO = Path(__file__).resolve().parents[2]
SAL = str(REPO / "rules" / "sal.toml")
NOW = "2026-11-25T12:00:00Z"


def _explain(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["rules", "explain", "--ruleset", SAL, "--now", NOW, *args], input=stdin
    )
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize("lead", ["no/such/lead.json", "lead\u0000.json", "l" * 300 + ".json"])
def test_a_lead_file_that_cannot_be_opened_is_a_usage_error(lead: str) -> None:
    code, output = _explain("--lead", lead)
    assert code == 2
    assert "Usage:" in output and "--lead" in output
    assert "No such file" in output or "cannot" in output


def test_a_lead_folder_is_a_usage_error(tmp_path: Path) -> None:
    code, output = _explain("--lead", str(tmp_path))
    assert code == 2 and "not a regular file" in output


def _lead(tmp_path: Path, fields: dict[str, object]) -> str:
    path = tmp_path / "lead.json"
    path.write_text(json.dumps(fields), "utf-8")
    return str(path)


@pytest.mark.timeout(60)  # a safety net only: the assertions are on the output
def test_a_megabyte_value_is_shown_cut_with_an_ellipsis_and_a_note(tmp_path: Path) -> None:
    from sync_agent.rules.limits import MAX_SHOWN_CHARS

    title = "Head of " + "x" * 1_000_000
    code, output = _explain("--lead", _lead(tmp_path, {"email": "a@northwind.io", "title": title}))
    assert code == 0
    assert "x" * (MAX_SHOWN_CHARS + 1) not in output.replace("\n", "").replace("│", "")
    assert "…" in output and "characters)" in output
    assert f"longer than {MAX_SHOWN_CHARS} characters are cut" in output
    assert len(output) < 40_000


def test_json_keeps_a_long_value_whole(tmp_path: Path) -> None:
    title = "Head of " + "x" * 100_000
    code, output = _explain("--lead", _lead(tmp_path, {"title": title}), "--json")
    assert code == 0
    values = [c.get("value") for crit in json.loads(output)["explanation"] for c in crit.get("children", [])]
    assert title in values


def test_short_values_are_shown_whole_without_a_note(tmp_path: Path) -> None:
    code, output = _explain("--lead", _lead(tmp_path, {"title": "Head of IT"}))
    assert code == 0 and "Head of IT" in output and "are cut" not in output


def test_a_long_value_is_cut_to_max_shown_chars_and_says_how_long_it_was() -> None:
    from sync_agent.rules.limits import MAX_SHOWN_CHARS
    from sync_agent.rules.shown import shown

    text, cut = shown("x" * 1_000_000)
    assert cut and text == "x" * MAX_SHOWN_CHARS + "… (1,000,000 characters)"
    assert shown("Head of IT") == ("Head of IT", False)


def test_fields_read_from_the_company_say_so_in_the_explanation() -> None:
    lead = {"email": "ana@acme.io", "country": "US", "industry": "COMPUTER_SOFTWARE",
            "employees": 750, "company.industry": "COMPUTER_SOFTWARE",
            "company.numberofemployees": "750",
            "field_origins": {"industry": "company.industry",
                              "employees": "company.numberofemployees", "bad": 3}}
    code, output = _explain("--lead", "-", stdin=json.dumps(lead))
    assert code == 0
    rows = [line for line in output.splitlines() if "industry in list" in line]
    assert rows and "from company.industry" in rows[0]
    assert sum("from company.numberofemployees" in line for line in output.splitlines()) == 2
    assert "from" not in next(line for line in output.splitlines() if "email present" in line)
