"""Named lists: empty list files, paths confined to the rules folder, bounded reads."""

# ruff: noqa: E501 - rule snippets read best one per line

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sync_agent.cli import main
from sync_agent.errors import RulesError
from sync_agent.rules import check_rulesets, load_ruleset, run_rule_tests

Probe = Callable[..., Any]
Writer = Callable[..., Path]
EMPTY = {"competitors": "# competitors: none yet\n"}


@pytest.mark.parametrize(
    ("op", "field", "lead", "holds"),
    [
        ("in", "email_domain", {"email": "kim@rival.com"}, False),
        ("not_in", "email_domain", {"email": "kim@rival.com"}, True),
        ("in", "employees", {"employees": "120"}, False),
        ("not_in", "employees", {"employees": "120"}, True),
        ("in", "hubspot.source", {"hubspot.source": "ads"}, False),
    ],
)
def test_an_empty_list_never_holds_for_in_and_always_for_not_in(
    probe: Probe, op: str, field: str, lead: dict[str, Any], holds: bool
) -> None:
    node = probe(f'{{ field = "{field}", op = "{op}", list = "competitors" }}', lead, lists=EMPTY)
    assert node.passed is holds


def _sal_with_empty_competitors(tmp_path: Path) -> Path:
    repo = Path(__file__).resolve().parents[2] / "rules"
    (tmp_path / "lists").mkdir()
    for path in (repo / "lists").glob("*.txt"):
        (tmp_path / "lists" / path.name).write_text(path.read_text("utf-8"), "utf-8")
    (tmp_path / "lists" / "competitor_domains.txt").write_text(EMPTY["competitors"], "utf-8")
    (tmp_path / "sal.toml").write_text((repo / "sal.toml").read_text("utf-8"), "utf-8")
    (tmp_path / "tests").mkdir()
    for path in (repo / "tests").glob("*.toml"):
        (tmp_path / "tests" / path.name).write_text(path.read_text("utf-8"), "utf-8")
    return tmp_path / "sal.toml"


def test_rules_check_warns_about_an_empty_list_and_still_exits_0(tmp_path: Path) -> None:
    sal = _sal_with_empty_competitors(tmp_path)
    report = check_rulesets(sal)
    assert report.ok and not report.problems
    assert any("competitor_domains" in w.message and "empty" in w.message for w in report.warnings)
    result = CliRunner().invoke(main, ["rules", "check", str(sal)])
    assert result.exit_code == 0, result.output
    assert "warning" in result.output and "competitor_domains" in result.output
    assert "Traceback" not in result.output


def test_rules_test_and_explain_work_with_an_empty_list(tmp_path: Path) -> None:
    sal = _sal_with_empty_competitors(tmp_path)
    report = run_rule_tests(tmp_path / "tests")
    assert not report.problems and report.results
    assert all(r.decision is not None for r in report.results), "every case was decided"
    assert {r.name for r in report.failures} >= {
        "disqualifier competitor: a competitor's domain rejects"
    }, "with no competitors listed, the competitor cases now fail as they should"
    lead = tmp_path / "lead.json"
    lead.write_text(json.dumps({"email": "kim@rivalcrm.com", "country": "US"}), "utf-8")
    args = ["rules", "explain", "--lead", str(lead), "--ruleset", str(sal), "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "disqualifier:competitor" not in json.loads(result.output)["reasons"]


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ('"/etc/hosts"', "absolute"),
        ('"/dev/zero"', "absolute"),
        ('"../secrets.txt"', ".."),
        ('"lists/../../outside.txt"', ".."),
        ('"lists/a\\u0000b.txt"', "NUL"),
        ('"' + "x" * 300 + '.txt"', "characters"),
    ],
    ids=["absolute", "device", "parent", "sneaky_parent", "nul_byte", "300_chars"],
)
def test_list_paths_outside_the_rules_folder_are_refused(
    write_rules: Writer, minimal: str, entry: str, why: str
) -> None:
    text = minimal.replace("[threshold]", f"[lists]\ncompetitors = {entry}\n\n[threshold]")
    text += '\n[[gates]]\nname = "g"\nfield = "email_domain"\nop = "not_in"\nlist = "competitors"\n'
    with pytest.raises(RulesError) as caught:
        load_ruleset(write_rules(text))
    problem = next(p for p in caught.value.problems if p.location == "lists.competitors")
    assert why in problem.message and problem.line == 6
    assert "relative to the ruleset" in problem.hint


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "a\u0000b", "y" * 300])
def test_list_names_cannot_point_outside_the_lists_folder(
    write_rules: Writer, minimal: str, name: str
) -> None:
    escaped = name.replace("\u0000", "\\u0000")
    text = minimal + f'\n[[gates]]\nname = "g"\nfield = "country"\nop = "in"\nlist = "{escaped}"\n'
    with pytest.raises(RulesError) as caught:
        load_ruleset(write_rules(text))
    (problem,) = caught.value.problems
    assert problem.location == "gates.g.list" and "list name" in problem.message


def test_a_list_path_that_is_a_folder_is_a_problem(write_rules: Writer, minimal: str) -> None:
    path = write_rules(minimal + '\n[[gates]]\nname = "g"\nfield = "country"\nop = "in"\nlist = "dir"\n')
    (path.parent / "lists" / "dir.txt").mkdir(parents=True)
    with pytest.raises(RulesError) as caught:
        load_ruleset(path)
    assert "not a regular file" in caught.value.problems[0].message


def test_reading_a_list_is_bounded_in_size(write_rules: Writer, minimal: str) -> None:
    from sync_agent.rules.limits import MAX_FILE_BYTES

    path = write_rules(minimal + '\n[[gates]]\nname = "g"\nfield = "country"\nop = "in"\nlist = "big"\n')
    (path.parent / "lists").mkdir(exist_ok=True)
    with (path.parent / "lists" / "big.txt").open("w") as out:
        out.write("DE\n" * (MAX_FILE_BYTES // 3 + 1))
    with pytest.raises(RulesError) as caught:
        load_ruleset(path)
    (problem,) = caught.value.problems
    assert "too large" in problem.message and "MiB" in problem.message
