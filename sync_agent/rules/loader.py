"""TOML file -> validated :class:`RulesetSpec`, collecting every problem before failing.

Top-level tables: ``[ruleset]`` (name, description, free_email_list), ``[threshold]``
(accept_at, review_at), ``[lists]`` (inline lists or file paths), and the arrays
``[[gates]]``, ``[[disqualifiers]]``, ``[[fast_lanes]]``, ``[[criteria]]``.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from sync_agent.errors import Problem
from sync_agent.rules.conditions import COMBINATORS, LEAF_KEYS, parse_condition
from sync_agent.rules.context import Context, Where, did_you_mean, rule_name, type_name
from sync_agent.rules.criteria import parse_criteria
from sync_agent.rules.lists import ListFinder
from sync_agent.rules.source import Locator
from sync_agent.rules.spec import Rule, RulesetSpec

TOP_KEYS = ("ruleset", "threshold", "lists", "gates", "disqualifiers", "fast_lanes", "criteria")
RULE_KEYS = frozenset({"name", "description", "when"})
_HEADER_KEYS = frozenset({"name", "description", "free_email_list"})


def build_spec(
    doc: dict[str, Any],
    text: str,
    path: Path,
    display: str,
    raw_prefixes: Collection[str] | None = None,
) -> tuple[RulesetSpec | None, list[Problem], list[Problem], ListFinder]:
    """Validate a parsed document: (spec, errors, warnings, lists read).

    The spec is None whenever any error was found. ``raw_prefixes`` are the raw-property
    prefixes rules may use (None: any)."""
    finder = ListFinder(path.parent, doc.get("lists"), display)
    prefixes = tuple(sorted(raw_prefixes)) if raw_prefixes is not None else None
    ctx = Context(display, Locator(text), finder.find, raw_prefixes=prefixes)
    finder.check_table(ctx)
    for key in doc:
        if key not in TOP_KEYS:
            ctx.add(
                Where(key, (key, 0), key),
                f"unknown top-level key '{key}'",
                did_you_mean(key, TOP_KEYS, "allowed: " + ", ".join(TOP_KEYS)),
            )
    name, description, free_list = _parse_header(doc.get("ruleset", {}), path, ctx)
    accept, review = _parse_threshold(doc.get("threshold"), ctx)
    gates = _parse_rules(doc, "gates", ctx)
    disqualifiers = _parse_rules(doc, "disqualifiers", ctx)
    fast_lanes = _parse_rules(doc, "fast_lanes", ctx)
    criteria = parse_criteria(doc.get("criteria"), ctx)
    if ctx.uses_free_email:
        ctx.find_list(
            free_list, Where("ruleset.free_email_list", ("ruleset", 0), "free_email_list")
        )
    if ctx.problems or accept is None:
        return None, ctx.problems, ctx.warnings, finder
    spec = RulesetSpec(
        name=name,
        accept=accept,
        review=review,
        gates=gates,
        disqualifiers=disqualifiers,
        fast_lanes=fast_lanes,
        criteria=criteria,
        description=description,
        free_email_list=free_list,
        lists=dict(finder.loaded),
    )
    return spec, [], ctx.warnings, finder


def _parse_header(node: Any, path: Path, ctx: Context) -> tuple[str, str, str]:
    where = Where("ruleset", ("ruleset", 0))
    if not isinstance(node, dict):
        ctx.add(
            where,
            f"[ruleset] must be a table, not {type_name(node)}",
            'write [ruleset] then name = "sal"',
        )
        return path.stem, "", "free_email_domains"
    for key in sorted(set(node) - _HEADER_KEYS):
        ctx.add(
            where.sub(key), f"unknown key '{key}' in [ruleset]", did_you_mean(key, _HEADER_KEYS)
        )
    values = []
    for key, default in (
        ("name", path.stem),
        ("description", ""),
        ("free_email_list", "free_email_domains"),
    ):
        value = node.get(key, default)
        if not isinstance(value, str) or (key != "description" and not value.strip()):
            ctx.add(where.sub(key), f"'{key}' must be a non-empty string, not {type_name(value)}")
            value = default
        values.append(value)
    return values[0], values[1], values[2]


def _parse_threshold(node: Any, ctx: Context) -> tuple[float | None, float | None]:
    where = Where("threshold", ("threshold", 0))
    if not isinstance(node, dict):
        message = (
            "missing [threshold]"
            if node is None
            else f"[threshold] must be a table, not {type_name(node)}"
        )
        ctx.add(
            where, message, "add [threshold] with accept_at = 70 (and optionally review_at = 55)"
        )
        return None, None
    for key in sorted(set(node) - {"accept_at", "review_at"}):
        ctx.add(
            where.sub(key),
            f"unknown key '{key}' in [threshold]",
            did_you_mean(key, ["accept_at", "review_at"]),
        )
    accept = _score(node.get("accept_at"), where.sub("accept_at"), ctx, required=True)
    review = _score(node.get("review_at"), where.sub("review_at"), ctx, required=False)
    if accept is not None and review is not None and review >= accept:
        ctx.add(
            where.sub("review_at"),
            f"review_at ({review:g}) must be below accept_at ({accept:g})",
            "the review band is [review_at, accept_at)",
        )
    return accept, review


def _score(value: Any, where: Where, ctx: Context, *, required: bool) -> float | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        got = "nothing" if value is None else repr(value)
        ctx.add(
            where, f"'{where.key}' must be a number from 0 to 100, got {got}", f"{where.key} = 70"
        )
        return None
    return float(value)


def _parse_rules(doc: dict[str, Any], section: str, ctx: Context) -> tuple[Rule, ...]:
    node = doc.get(section, [])
    if not isinstance(node, list):
        ctx.add(
            Where(section, None, section),
            f"'{section}' must be an array of tables",
            f"write each one as [[{section}]]",
        )
        return ()
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, item in enumerate(node):
        rule = _parse_rule(item, section, index, seen, ctx)
        if rule is not None:
            rules.append(rule)
    return tuple(rules)


def _parse_rule(item: Any, section: str, index: int, seen: set[str], ctx: Context) -> Rule | None:
    where = Where(f"{section}[{index}]", (section, index))
    if not isinstance(item, dict):
        ctx.add(
            where,
            f"each entry of '{section}' must be a table, not {type_name(item)}",
            f"use [[{section}]]",
        )
        return None
    name = rule_name(item, where, seen, ctx)
    where = Where(f"{section}.{name}" if name else where.loc, (section, index))
    for key in sorted(set(item) - RULE_KEYS - LEAF_KEYS - set(COMBINATORS)):
        ctx.add(
            where.sub(key),
            f"unknown key '{key}'",
            did_you_mean(key, [*RULE_KEYS, *LEAF_KEYS, *COMBINATORS]),
            needle=key,
        )
    inline = {k: v for k, v in item.items() if k in LEAF_KEYS or k in COMBINATORS}
    if "when" in item and inline:
        ctx.add(where, "give the condition either under 'when' or inline, not both", needle="when")
        return None
    if "when" not in item and not inline:
        ctx.add(where, "missing the condition", 'add e.g. field = "email", op = "present"')
        return None
    cond_where = where.sub("when") if "when" in item else where
    condition = parse_condition(item.get("when", inline), cond_where, ctx)
    description = item.get("description", "")
    if not isinstance(description, str):
        ctx.add(where.sub("description"), "description must be a string", needle="description")
    if condition is None or name is None:
        return None
    return Rule(name, condition, description if isinstance(description, str) else "")
