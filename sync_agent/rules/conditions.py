"""Validation of one condition: ``{ field, op, value | list, case_sensitive }`` or a combinator.

Combinators: ``{ all = [...] }``, ``{ any = [...] }``, ``{ not = {...} }``. Every problem is
recorded in the :class:`Context` with a hint; a condition with problems yields ``None``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sync_agent.rules.context import Context, Where, did_you_mean, type_name
from sync_agent.rules.derived import field_type, known_names, raw_prefix
from sync_agent.rules.operators import OPS, OpInfo, all_op_names, canonical_op, make_label
from sync_agent.rules.regex import compile_pattern
from sync_agent.rules.spec import Combo, Condition, Leaf, Origin
from sync_agent.rules.values import (
    VALUE_HINTS,
    control_character,
    from_text,
    show,
    typed_value,
)

LEAF_KEYS = frozenset({"field", "op", "value", "list", "case_sensitive"})
COMBINATORS = ("all", "any", "not")


def parse_condition(node: Any, where: Where, ctx: Context) -> Condition | None:
    """The validated condition, or None after recording its problems."""
    if not isinstance(node, dict):
        ctx.add(
            where,
            f"a condition must be a table, not {type_name(node)}",
            'write e.g. { field = "email", op = "present" }',
        )
        return None
    combos = [k for k in COMBINATORS if k in node]
    if combos:
        return _parse_combo(node, combos, where, ctx)
    return _parse_leaf(node, where, ctx)


def _parse_combo(
    node: dict[str, Any], combos: list[str], where: Where, ctx: Context
) -> Condition | None:
    mode = combos[0]
    if len(node) > 1:
        ctx.add(
            where,
            f"'{mode}' cannot be mixed with other keys ({', '.join(sorted(set(node) - {mode}))})",
            "wrap the other condition in the all/any array",
            needle=mode,
        )
        return None
    body, inner = node[mode], where.sub(mode)
    if mode == "not":
        body = body[0] if isinstance(body, list) and len(body) == 1 else body
        item = parse_condition(body, inner, ctx)
        return Combo("not", (item,)) if item is not None else None
    if not isinstance(body, list) or not body:
        ctx.add(
            inner,
            f"'{mode}' needs a non-empty array of conditions",
            f'write {mode} = [ {{ field = "...", op = "..." }}, ... ]',
            needle=mode,
        )
        return None
    items = [parse_condition(item, inner.at(i), ctx) for i, item in enumerate(body)]
    clean = [c for c in items if c is not None]
    # mode is all or any here, a str from COMBINATORS that mypy cannot narrow to the Literal
    return Combo(mode, tuple(clean)) if len(clean) == len(items) else None  # type: ignore[arg-type]


def _parse_leaf(node: dict[str, Any], where: Where, ctx: Context) -> Leaf | None:
    before = len(ctx.problems)
    for key in sorted(set(node) - LEAF_KEYS):
        ctx.add(
            where.sub(key),
            f"unknown key '{key}' in a condition",
            did_you_mean(
                key,
                [*LEAF_KEYS, *COMBINATORS],
                "a condition has field, op, value or list, case_sensitive",
            ),
            needle=key,
        )
    name, ftype = _parse_field(node.get("field"), where.sub("field"), ctx)
    op = _parse_op(node.get("op"), where.sub("op"), ctx)
    if len(ctx.problems) > before or name is None or op is None:
        return None
    info = OPS[op]
    if ftype is not None and ftype not in info.types:
        allowed = " or ".join(sorted(info.types))
        ctx.add(
            where.sub("op"),
            f"operator '{op}' needs a {allowed} field, but '{name}' is a {ftype}",
            _op_advice(ftype),
            needle=str(node.get("op")),
        )
        return None
    folded = _case_insensitive(node, where, ctx)
    if folded is None:
        return None
    value_where = where.sub("value")
    if "value" in node and control_character(node["value"], op == "matches", value_where, ctx):
        return None
    ctx.uses_free_email = ctx.uses_free_email or name == "is_free_email"
    leaf = _typed_leaf(name, ftype, op, info, node, folded, where, ctx)
    return replace(leaf, origin=_origin(node, name, where, ctx)) if leaf is not None else None


def _origin(node: dict[str, Any], name: str, where: Where, ctx: Context) -> Origin:
    """Where the condition is written (its field's line), and its value as written."""
    line = ctx.locator.line(where.anchor, "field", f'"{name}"')
    listed = node.get("list")
    return Origin(ctx.file, line, where.loc, node.get("value"),
                  listed if isinstance(listed, str) else "")  # fmt: skip


def _parse_field(value: Any, where: Where, ctx: Context) -> tuple[str | None, str | None]:
    if not isinstance(value, str) or not value.strip():
        ctx.add(where, "missing 'field' (the lead field to test)", 'add field = "email"')
        return None, None
    try:
        kind = field_type(value)
    except KeyError:
        ctx.add(
            where,
            f"unknown field '{value}'",
            did_you_mean(value, known_names(), ctx.field_advice()),
            needle=f'"{value}"',
        )
        return None, None
    prefix = raw_prefix(value)
    if prefix is not None and ctx.raw_prefixes is not None and prefix not in ctx.raw_prefixes:
        ctx.add(
            where,
            f"no source here has '{prefix}.' properties",
            did_you_mean(prefix, ctx.raw_prefixes, ctx.field_advice()),
            needle=f'"{value}"',
        )
        return None, None
    return value, kind


def _parse_op(value: Any, where: Where, ctx: Context) -> str | None:
    if not isinstance(value, str):
        ctx.add(where, "missing 'op' (the operator)", f"one of: {', '.join(OPS)}")
        return None
    op = canonical_op(value)
    if op is None:
        ctx.add(
            where,
            f"unknown operator '{value}'",
            did_you_mean(value.lower(), all_op_names(), "see docs/rules.md for every operator"),
            needle=f'"{value}"',
        )
    return op


def _op_advice(ftype: str) -> str:
    return {
        "date": "for dates use within_days, older_than_days, gt/lt or between with dates",
        "bool": "for yes/no fields use is_true, is_false or equals true/false",
        "number": "for numbers use equals, gt, gte, lt, lte, between or in",
        "string": "for text use equals, in, contains, starts_with, ends_with or matches",
    }[ftype]


def _case_insensitive(node: dict[str, Any], where: Where, ctx: Context) -> bool | None:
    flag = node.get("case_sensitive", False)
    if not isinstance(flag, bool):
        ctx.add(
            where.sub("case_sensitive"),
            "case_sensitive must be true or false",
            needle="case_sensitive",
        )
        return None
    return not flag


def _typed_leaf(
    name: str,
    ftype: str | None,
    op: str,
    info: OpInfo,
    node: dict[str, Any],
    folded: bool,
    where: Where,
    ctx: Context,
) -> Leaf | None:
    has_value, has_list = "value" in node, "list" in node
    vwhere = where.sub("list" if has_list and not has_value else "value")
    if info.arg == "none":
        if has_value or has_list:
            ctx.add(
                vwhere, f"operator '{op}' takes no value", "remove the value", needle=vwhere.key
            )
            return None
        kind = "bool" if op in ("is_true", "is_false") else "any"
        return Leaf(name, op, kind, make_label(name, op, ""))
    if info.arg == "members":
        return _members_leaf(name, ftype, op, node, folded, vwhere, ctx)
    if has_list:
        ctx.add(
            where.sub("list"),
            f"operator '{op}' does not take a named list",
            "use value = ...",
            needle="list",
        )
        return None
    if not has_value:
        ctx.add(
            vwhere, f"operator '{op}' needs a value", _value_example(op), needle=f'"{node["op"]}"'
        )
        return None
    return _valued_leaf(name, ftype, op, info, node["value"], folded, vwhere, ctx)


def _value_example(op: str) -> str:
    examples = {
        "between": "value = [50, 5000]",
        "within_days": "value = 30",
        "matches": 'value = "^vp|director"',
    }
    return f"add e.g. {examples.get(op, 'value = ...')}"


def _valued_leaf(
    name: str,
    ftype: str | None,
    op: str,
    info: OpInfo,
    value: Any,
    folded: bool,
    where: Where,
    ctx: Context,
) -> Leaf | None:
    if info.arg == "days":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 <= value < 100_000
        ):
            ctx.add(
                where,
                f"'{op}' needs a number of days (0 or more), got {type_name(value)}",
                "value = 30",
            )
            return None
        return Leaf(name, op, "date", make_label(name, op, f"{value:g}"), value=value)
    if info.arg in ("text", "regex"):
        return _text_leaf(name, op, value, folded, where, ctx)
    if info.arg == "pair":
        return _pair_leaf(name, ftype, op, value, where, ctx)
    typed = typed_value(ftype, value, folded, where, ctx, ordered=op in ("gt", "gte", "lt", "lte"))
    if typed is None:
        return None
    kind, target = typed
    return Leaf(name, op, kind, make_label(name, op, show(value)), value=target)


def _text_leaf(
    name: str, op: str, value: Any, folded: bool, where: Where, ctx: Context
) -> Leaf | None:
    if not isinstance(value, str) or not value:
        ctx.add(
            where,
            f"'{op}' needs a non-empty text value, got {type_name(value)}",
            VALUE_HINTS["string"],
        )
        return None
    kind = "istring" if folded else "string"
    if op != "matches":
        target = value.casefold() if folded else value
        return Leaf(name, op, kind, make_label(name, op, show(value)), value=target)
    pattern = compile_pattern(value, case_sensitive=not folded)
    if isinstance(pattern, str):
        hint = (
            "rules use RE2 syntax, which runs in linear time and so has no backreferences, "
            "lookaround or atomic groups: rewrite the pattern, or split it into conditions "
            "combined with all/any/not (see docs/rules.md)"
            if pattern.startswith("RE2 does not support")
            else "check brackets and escapes; write patterns in 'single quotes' "
            "(RE2 syntax, see docs/rules.md)"
        )
        ctx.add(where, f"bad regular expression {value!r}: {pattern}", hint, needle="value")
        return None
    return Leaf(name, op, "string", make_label(name, op, show(value)), value=value, pattern=pattern)


def _pair_leaf(
    name: str, ftype: str | None, op: str, value: Any, where: Where, ctx: Context
) -> Leaf | None:
    if not isinstance(value, list) or len(value) != 2:
        ctx.add(
            where,
            f"'between' needs value = [low, high], got {type_name(value)}",
            "value = [50, 5000]",
        )
        return None
    low = typed_value(ftype, value[0], False, where.at(0), ctx, ordered=True)
    high = typed_value(ftype, value[1], False, where.at(1), ctx, ordered=True)
    if low is None or high is None:
        return None
    if low[0] != high[0]:
        ctx.add(where, "both ends of 'between' must be the same type", "two numbers or two dates")
        return None
    if low[1] > high[1]:
        ctx.add(
            where, f"'between' range is empty: {value[0]} is above {value[1]}", "write [low, high]"
        )
        return None
    label = make_label(name, op, f"{show(value[0])} and {show(value[1])}")
    return Leaf(name, op, low[0], label, bounds=(low[1], high[1]))


def _members_leaf(
    name: str,
    ftype: str | None,
    op: str,
    node: dict[str, Any],
    folded: bool,
    where: Where,
    ctx: Context,
) -> Leaf | None:
    if ("value" in node) == ("list" in node):
        ctx.add(
            where,
            f"'{op}' needs either value = [..] or list = \"<name>\" (exactly one)",
            'e.g. list = "countries_served" reads rules/lists/countries_served.txt',
            needle=where.key,
        )
        return None
    if "list" in node:
        list_name = node["list"]
        if not isinstance(list_name, str) or not list_name:
            ctx.add(
                where, "list must be the name of a list", 'list = "countries_served"', needle="list"
            )
            return None
        items: Any = ctx.find_list(list_name, where)
        shown = f"list {list_name}"
        if items is None:
            return None
        items = [from_text(ftype, item) for item in items]
    else:
        items, shown = node["value"], show(node["value"])
        if not isinstance(items, list) or not items:
            ctx.add(
                where,
                f"'{op}' needs a non-empty array, got {type_name(items)}",
                'value = ["DE", "FR"]',
            )
            return None
    typed = [typed_value(ftype, item, folded, where.at(i), ctx) for i, item in enumerate(items)]
    if any(t is None for t in typed):
        return None
    if not typed:  # an empty list file (ListFinder warned): `in` never holds, `not_in` always
        kind = "number" if ftype == "number" else "istring" if folded else "string"
        return Leaf(name, op, kind, make_label(name, op, shown), values=frozenset())
    kinds = {t[0] for t in typed if t is not None}
    if len(kinds) > 1:
        ctx.add(where, f"'{op}' values must all be the same type", "all text or all numbers")
        return None
    members = frozenset(t[1] for t in typed if t is not None)
    return Leaf(name, op, kinds.pop(), make_label(name, op, shown), values=members)
