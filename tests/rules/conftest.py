"""Helpers for the rules tests: write small rulesets to a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

#: A minimal valid ruleset; tests append gates etc. or replace parts of it.
MINIMAL = """
[ruleset]
name = "probe"

[threshold]
accept_at = 70
review_at = 50

[[criteria]]
name = "score"
weight = 100
scoring = "tiers"
tiers = [
  { when = { field = "lead_score", op = "gte", value = 70 }, points = 100 },
  { when = { field = "lead_score", op = "gte", value = 50 }, points = 60 },
]
"""

Writer = Callable[..., Path]


@pytest.fixture
def write_rules(tmp_path: Path) -> Writer:
    """``write_rules(text, name="r.toml", lists={"x": "a\\nb"})`` -> path of the ruleset."""

    def write(text: str, name: str = "r.toml", lists: dict[str, str] | None = None) -> Path:
        for list_name, body in (lists or {}).items():
            (tmp_path / "lists").mkdir(exist_ok=True)
            (tmp_path / "lists" / f"{list_name}.txt").write_text(body, "utf-8")
        path = tmp_path / name
        path.write_text(text, "utf-8")
        return path

    return write


@pytest.fixture
def now() -> datetime:
    """The fixed clock of every rules test."""
    return NOW


@pytest.fixture
def minimal() -> str:
    """The text of a minimal valid ruleset to extend."""
    return MINIMAL


@pytest.fixture
def probe(write_rules: Writer) -> Callable[..., Any]:
    """``probe(condition_toml, lead, lists=None)`` -> the explanation node of one gate."""
    from sync_agent.rules import evaluate, load_ruleset

    def run(condition: str, lead: dict[str, Any], lists: dict[str, str] | None = None) -> Any:
        path = write_rules(
            MINIMAL + f'\n[[gates]]\nname = "probe"\nwhen = {condition}\n', lists=lists
        )
        node = evaluate(lead, load_ruleset(path), NOW).explanation[0]
        assert node.kind == "gate" and node.name == "probe"
        return node

    return run
