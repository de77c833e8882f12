"""The shipped candidate rules/examples/sal_stricter.toml: valid, tested, and what it says.

rules/examples/ also holds the example leads of `rules explain` and the demo: the
candidate must not change what `rules check` and `rules test` do by default.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from sync_agent.cli import main
from sync_agent.rules import check_rulesets, evaluate, load_ruleset, run_rule_tests

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "rules" / "examples"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_the_candidate_passes_rules_check_without_warnings() -> None:
    report = check_rulesets(EXAMPLES / "sal_stricter.toml")
    assert report.ok and not report.warnings, [str(p) for p in report.warnings]
    folder = check_rulesets(EXAMPLES)
    assert folder.ok and [r.name for r in folder.rulesets] == ["sal_stricter"]
    result = CliRunner().invoke(main, ["rules", "check", str(EXAMPLES / "sal_stricter.toml")])
    assert result.exit_code == 0 and "1 ruleset OK: sal_stricter" in result.output


def test_its_rule_cases_pass_and_cover_it() -> None:
    report = run_rule_tests(EXAMPLES / "tests")
    assert report.ok, [(f.name, f.diff) for f in report.failures]
    assert report.uncovered == {"sal_stricter": ()}


def test_it_is_sal_with_a_higher_bar_and_a_phone_gate() -> None:
    sal = tomllib.loads((REPO / "rules" / "sal.toml").read_text("utf-8"))
    stricter = tomllib.loads((EXAMPLES / "sal_stricter.toml").read_text("utf-8"))
    assert stricter["threshold"] == {"accept_at": 75, "review_at": 60}
    assert sal["threshold"] == {"accept_at": 70, "review_at": 55}
    assert [g["name"] for g in stricter["gates"]] == [
        "email_present", "business_email", "phone_present", "country_served"]  # fmt: skip
    assert [g for g in stricter["gates"] if g["name"] != "phone_present"] == sal["gates"]
    for part in ("disqualifiers", "fast_lanes"):
        assert stricter[part] == sal[part], part
    shape = [(c["name"], c["weight"], c.get("scoring")) for c in sal["criteria"]]
    assert [(c["name"], c["weight"], c.get("scoring")) for c in stricter["criteria"]] == shape
    assert stricter["ruleset"]["free_email_list"] == sal["ruleset"]["free_email_list"]
    # the same list files (examples/lists is a link to ../lists)
    assert load_ruleset(EXAMPLES / "sal_stricter.toml").spec.lists == load_ruleset(
        REPO / "rules" / "sal.toml").spec.lists  # fmt: skip


def test_without_its_two_changes_it_decides_as_sal(tmp_path: Path) -> None:
    """The criteria may be written otherwise (the size check as a range-safe pair), but
    with the threshold and the phone gate undone every lead is decided as by sal.toml."""
    text = (EXAMPLES / "sal_stricter.toml").read_text("utf-8")
    text = text.replace("accept_at = 75", "accept_at = 70").replace("review_at = 60",
                                                                    "review_at = 55")  # fmt: skip
    gate = text.index('[[gates]]\nname = "phone_present"')
    text = text[:gate] + text[text.index("[[gates]]", gate + 1):]
    shutil.copytree(REPO / "rules" / "lists", tmp_path / "lists")
    (tmp_path / "undone.toml").write_text(text, "utf-8")
    undone, sal = load_ruleset(tmp_path / "undone.toml"), load_ruleset(REPO / "rules" / "sal.toml")
    leads = [json.loads(p.read_text("utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]
    leads = [lead.get("fields", lead) for lead in leads]
    sizes = ["49", "50", "5000", "5001", "100-500", "1000+", "10,001+", 120, 6000, None, "many"]
    leads += [{**leads[0], "employees": size} for size in sizes]
    for lead in leads:
        a, b = evaluate(lead, undone, NOW), evaluate(lead, sal, NOW)
        assert (a.outcome, a.score, a.reasons) == (b.outcome, b.score, b.reasons), lead


def test_the_default_rules_commands_do_not_see_it() -> None:
    """`rules check` (rules/) and `rules test` (rules/tests/) are unchanged."""
    assert [r.name for r in check_rulesets(REPO / "rules").rulesets] == ["sal"]
    report = run_rule_tests(REPO / "rules" / "tests")
    assert report.ok and set(report.uncovered) == {"sal"}
    leads = sorted(p.name for p in EXAMPLES.glob("*.json"))
    assert len(leads) >= 10 and "sal_stricter.toml" not in leads
