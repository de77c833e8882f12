"""`matches` runs on RE2: linear time whatever the pattern and the text, so a hostile lead
cannot stall a run; patterns RE2 cannot run are `rules check` problems with a hint."""

# ruff: noqa: E501 - tables of rule snippets read best one case per line

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sync_agent.errors import RulesError
from sync_agent.rules import load_ruleset

Probe = Callable[..., Any]
Writer = Callable[..., Path]
CATASTROPHIC = "'^(\\w+\\s?)+$'"
HOSTILE_TITLE = "a" * 64 + "!"  # backtracking engines try 2**64 ways to split the a's


@pytest.mark.timeout(30)  # a safety net only: the assertions are on the answers
def test_a_catastrophic_pattern_on_a_hostile_title_gives_its_answer(probe: Probe) -> None:
    condition = f'{{ field = "title", op = "matches", value = {CATASTROPHIC} }}'
    assert probe(condition, {"title": HOSTILE_TITLE}).passed is False
    assert probe(condition, {"title": "VP of Sales"}).passed is True


@pytest.mark.timeout(30)
def test_nested_quantifiers_do_not_blow_up_either(probe: Probe) -> None:
    condition = "{ field = \"title\", op = \"matches\", value = '^(a|aa)+$|(x+x+)+y' }"
    assert probe(condition, {"title": "a" * 5000 + "b" + "x" * 5000}).passed is False


@pytest.mark.parametrize(
    ("pattern", "construct"),
    [
        ("'(vp)\\s+\\1'", "backreference"),
        ("'^(?!intern)'", "lookaround"),
        ("'(?<=head of )sales'", "lookaround"),
        ("'(?>vp|head)'", "atomic"),
    ],
)
def test_patterns_re2_cannot_run_are_problems_with_a_hint(
    write_rules: Writer, minimal: str, pattern: str, construct: str
) -> None:
    text = minimal + f'\n[[gates]]\nname = "g"\nfield = "title"\nop = "matches"\nvalue = {pattern}\n'
    with pytest.raises(RulesError) as caught:
        load_ruleset(write_rules(text))
    (problem,) = caught.value.problems
    assert problem.location == "gates.g.value" and problem.line == 22
    assert "RE2" in problem.message and construct in problem.message
    assert "docs/rules.md" in problem.hint


@pytest.mark.parametrize(
    ("condition", "title", "holds"),
    [
        ("{ field = \"title\", op = \"matches\", value = '^vp\\b' }", "VP Sales", True),
        ("{ field = \"title\", op = \"matches\", value = '^vp', case_sensitive = true }", "VP Sales", False),
        ("{ field = \"title\", op = \"matches\", value = '^VP', case_sensitive = true }", "VP Sales", True),
        ("{ field = \"title\", op = \"matches\", value = 'étudiant' }", "ÉTUDIANT en master", True),
        ("{ field = \"title\", op = \"matches\", value = '(?P<role>vp|head) of' }", "Head of IT", True),
    ],
)  # fmt: skip
def test_matches_ignores_case_unless_case_sensitive(
    probe: Probe, condition: str, title: str, holds: bool
) -> None:
    assert probe(condition, {"title": title}).passed is holds


def test_matches_and_contains_see_only_the_first_max_text_chars(probe: Probe) -> None:
    from sync_agent.rules.limits import MAX_TEXT_CHARS

    late = "x" * MAX_TEXT_CHARS + " intern"
    early = "intern " + "x" * (2 * MAX_TEXT_CHARS)
    for op, value in (("matches", "'intern$'"), ("contains", '"intern"')):
        condition = f'{{ field = "title", op = "{op}", value = {value} }}'
        assert probe(condition, {"title": late}).passed is False, op
    assert probe("{ field = \"title\", op = \"matches\", value = '^intern' }", {"title": early}).passed
    contains = '{ field = "title", op = "contains", value = "intern" }'
    assert probe(contains, {"title": early}).passed


def test_lone_surrogates_in_a_title_do_not_break_matching(probe: Probe) -> None:
    condition = "{ field = \"title\", op = \"matches\", value = 'vp' }"
    assert probe(condition, {"title": "\ud800 VP \udfff"}).passed is True
