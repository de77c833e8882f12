"""Showing a decision to people (a rich table) and to scripts (JSON)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from sync_agent.model import Check, Decision, Outcome

_OUTCOME_STYLE = {
    Outcome.ACCEPTED: "bold green",
    Outcome.REJECTED: "bold red",
    Outcome.REVIEW: "bold yellow",
}


def decision_json(decision: Decision) -> str:
    """The decision as indented JSON (stable key order), for ``--json``."""
    return json.dumps(decision.to_dict(), indent=2, ensure_ascii=False)


def verdict_text(check: Check) -> Text:
    """What a check's ``passed`` means for its kind, in words."""
    if check.kind == "criterion":
        style = "green" if check.points == check.max_points else "yellow" if check.passed else "red"
        return Text(f"{check.points:g} / {check.max_points:g}", style)
    words = {
        "gate": ("pass", "FAIL"),
        "disqualifier": ("no", "FIRED"),
        "fast_lane": ("MATCH", "no"),
        "threshold": ("reached", "not reached"),
    }.get(check.kind, ("✓", "✗"))
    word = words[0] if check.passed else words[1]
    bad = (check.kind in ("gate", "disqualifier", "threshold", "condition")) and not check.passed
    return Text(
        word, "red" if bad else "green" if check.kind != "fast_lane" or check.passed else "dim"
    )


def decision_table(decision: Decision) -> Group:
    """A header with outcome, score and reasons, then one row per check and condition."""
    style = _OUTCOME_STYLE[decision.outcome]
    header = Text.assemble(
        ("Decision: ", "bold"), (decision.outcome.value.upper(), style),
        (f"   score {decision.score:g} / 100", "bold"),
        ("   reasons: ", "bold"), "; ".join(decision.reasons),
        ("\nruleset ", "dim"), (f"{decision.ruleset_name} {decision.ruleset_hash[:12]}", "dim"),
        ("   decided at ", "dim"), (decision.decided_at.isoformat(), "dim"),
    )  # fmt: skip
    table = Table(show_lines=False, header_style="bold", expand=True)
    # Ratios share a narrow terminal fairly; min widths keep every column readable at 80.
    table.add_column("check", overflow="fold", ratio=4, min_width=22, max_width=58)
    table.add_column("result", no_wrap=True, min_width=7)
    table.add_column("value seen", overflow="fold", ratio=2, min_width=12, max_width=32)
    table.add_column("detail", overflow="fold", ratio=3, min_width=14, max_width=52)
    for check in decision.explanation:
        _add_rows(table, check, 0)
    return Group(header, table)


def _add_rows(table: Table, check: Check, depth: int) -> None:
    name = check.name if check.kind == "condition" else f"{check.kind} {check.name}"
    label = Text("  " * depth + ("└ " if depth else "") + name, "bold" if depth == 0 else "")
    value = "" if check.value is None else _show(check.value)
    table.add_row(label, verdict_text(check), value, _detail(check))
    for child in check.children:
        _add_rows(table, child, depth + 1)


def _detail(check: Check) -> str:
    """Rule descriptions only where they explain the outcome: a failed gate, a firing
    disqualifier, a matching fast lane; criteria and conditions always show theirs."""
    if check.kind in ("gate", "disqualifier"):
        return check.detail if not check.passed else ""
    if check.kind == "fast_lane":
        return check.detail if check.passed else ""
    return check.detail


def _show(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)
