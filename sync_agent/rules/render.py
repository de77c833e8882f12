"""Showing a decision to people (a rich table) and to scripts (JSON).

Both stay bounded whatever the lead holds (see :mod:`sync_agent.rules.shown`): the table
cuts values to MAX_SHOWN_CHARS characters and says so under the table; JSON keeps text
whole but replaces values nested too deep or numbers too long to print by a short repr,
and writes lone surrogates as ``\\udXXX`` escapes so that the output is always UTF-8.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from sync_agent.model import Check, Decision, Outcome
from sync_agent.rules.limits import MAX_SHOWN_CHARS
from sync_agent.rules.shown import bounded_repr, clip, printable, shown

_OUTCOME_STYLE = {
    Outcome.ACCEPTED: "bold green",
    Outcome.REJECTED: "bold red",
    Outcome.REVIEW: "bold yellow",
}
#: JSON keeps a value's structure to this depth (deeper: a short repr instead).
_JSON_DEPTH = 32
_JSON_INT_BITS = 14_000  # about 4,200 digits: Python prints no more


def decision_json(decision: Decision) -> str:
    """The decision as indented JSON (stable key order), for ``--json``."""
    safe = dataclasses.replace(decision, explanation=tuple(map(_json_check, decision.explanation)))
    text = json.dumps(safe.to_dict(), indent=2, ensure_ascii=False)
    # A lone surrogate can only sit inside a JSON string, where "\udXXX" is its escape.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _json_check(check: Check) -> Check:
    value = check.value if _json_ready(check.value) else bounded_repr(check.value)
    children = tuple(map(_json_check, check.children))
    if value is check.value and all(a is b for a, b in zip(children, check.children, strict=True)):
        return check
    return dataclasses.replace(check, value=value, children=children)


def _json_ready(value: Any) -> bool:
    """Whether ``model._jsonable`` and ``json.dumps`` can take ``value`` as it is
    (no deep nesting, no integer too long to print); checked without recursion."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, bool | float | str) or item is None:
            continue
        if isinstance(item, int):
            if item.bit_length() > _JSON_INT_BITS:
                return False
        elif isinstance(item, list | tuple | set | frozenset | dict):
            if depth >= _JSON_DEPTH:
                return False
            items = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in items)
    return True


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


def decision_table(decision: Decision, origins: Mapping[str, str] | None = None) -> Group:
    """A header with outcome, score and reasons, then one row per check and condition
    (and a note when some value had to be cut).

    ``origins`` (a lead's :data:`~sync_agent.model.FIELD_ORIGINS`) says which fields came
    from a related record; their conditions say so ("from company.industry")."""
    style = _OUTCOME_STYLE[decision.outcome]
    header = Text.assemble(
        ("Decision: ", "bold"), (decision.outcome.value.upper(), style),
        (f"   score {decision.score:g} / 100", "bold"),
        ("   reasons: ", "bold"), printable(clip("; ".join(decision.reasons))),
        ("\nruleset ", "dim"), (f"{decision.ruleset_name} {decision.ruleset_hash[:12]}", "dim"),
        ("   decided at ", "dim"), (decision.decided_at.isoformat(), "dim"),
    )  # fmt: skip
    table = Table(show_lines=False, header_style="bold", expand=True)
    # Ratios share a narrow terminal fairly; min widths keep every column readable at 80.
    table.add_column("check", overflow="fold", ratio=4, min_width=22, max_width=58)
    table.add_column("result", no_wrap=True, min_width=7)
    table.add_column("value seen", overflow="fold", ratio=2, min_width=12, max_width=32)
    table.add_column("detail", overflow="fold", ratio=3, min_width=14, max_width=52)
    cut = False
    for check in decision.explanation:
        cut = _add_rows(table, check, 0, _origins(origins)) or cut
    if not cut:
        return Group(header, table)
    note = Text(
        f"values longer than {MAX_SHOWN_CHARS} characters are cut (…); "
        "--json shows text whole",
        "dim",
    )
    return Group(header, table, note)


def _origins(origins: Any) -> dict[str, str]:
    """Only ``{field: "prefix.property"}`` strings (a snapshot may hold anything)."""
    if not isinstance(origins, Mapping):
        return {}
    return {k: v for k, v in origins.items() if isinstance(k, str) and isinstance(v, str)}


def _add_rows(table: Table, check: Check, depth: int, origins: Mapping[str, str]) -> bool:
    """Add the rows of ``check`` and its children; True if a value had to be cut."""
    name = check.name if check.kind == "condition" else f"{check.kind} {check.name}"
    indent = "  " * depth + ("└ " if depth else "")
    label = Text(indent + printable(clip(name)), "bold" if depth == 0 else "")
    value, cut = ("", False) if check.value is None else shown(check.value)
    detail = _detail(check)
    origin = origins.get(check.name.split(" ", 1)[0]) if check.kind == "condition" else None
    if origin:  # a condition's label starts with its field (operators.make_label)
        detail = f"{detail}; from {origin}" if detail else f"from {origin}"
    table.add_row(label, verdict_text(check), value, printable(clip(detail)))
    for child in check.children:
        cut = _add_rows(table, child, depth + 1, origins) or cut
    return cut


def _detail(check: Check) -> str:
    """Rule descriptions only where they explain the outcome: a failed gate, a firing
    disqualifier, a matching fast lane; criteria and conditions always show theirs."""
    if check.kind in ("gate", "disqualifier"):
        return check.detail if not check.passed else ""
    if check.kind == "fast_lane":
        return check.detail if check.passed else ""
    return check.detail
