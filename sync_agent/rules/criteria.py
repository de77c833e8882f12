"""Validation of ``[[criteria]]``: weighted criteria whose weights add up to 100.

Scoring modes (``scoring = ...``):

* ``all`` (default): the full weight when every check holds;
* ``any``: the full weight when at least one check holds;
* ``share``: the weight times the share of checks that hold;
* ``points``: each check carries ``points``; the sum of those that hold, capped at the weight;
* ``tiers``: ``tiers = [{ when = {...}, points = 25 }, ...]``; the first tier that holds wins.
"""

from __future__ import annotations

import math
from typing import Any, get_args

from sync_agent.rules.conditions import parse_condition
from sync_agent.rules.context import Context, Where, did_you_mean, rule_name, type_name
from sync_agent.rules.spec import Criterion, Scored, Scoring

SCORINGS: tuple[str, ...] = get_args(Scoring)
CRITERION_KEYS = frozenset({"name", "description", "weight", "scoring", "checks", "tiers"})


def parse_criteria(node: Any, ctx: Context) -> tuple[Criterion, ...]:
    """Every valid criterion; records problems, including weights not adding up to 100."""
    where = Where("criteria", ("criteria", 0))
    if not isinstance(node, list) or not node:
        ctx.add(
            where,
            "missing [[criteria]]: at least one weighted criterion is needed",
            "add [[criteria]] tables whose weights add up to 100",
        )
        return ()
    criteria, seen, total = [], set[str](), 0.0
    for index, item in enumerate(node):
        here = Where(f"criteria[{index}]", ("criteria", index))
        if not isinstance(item, dict):
            ctx.add(
                here, f"each criterion must be a table, not {type_name(item)}", "use [[criteria]]"
            )
            continue
        name = rule_name(item, here, seen, ctx)
        here = Where(f"criteria.{name}", ("criteria", index)) if name else here
        weight = _weight(item.get("weight"), here.sub("weight"), ctx)
        total += weight or 0.0
        criterion = _parse_criterion(item, name, weight, here, ctx)
        if criterion is not None:
            criteria.append(criterion)
    if not math.isclose(total, 100.0, abs_tol=1e-6):
        ctx.add(
            where,
            f"criteria weights add up to {total:g}, not 100",
            "adjust the weight of each [[criteria]] so that they add up to 100",
        )
    return tuple(criteria)


def _weight(value: Any, where: Where, ctx: Context) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 100:
        ctx.add(
            where,
            f"'weight' must be a number above 0 and at most 100, got {value!r}",
            "weight = 25",
        )
        return None
    return float(value)


def _parse_criterion(
    item: dict[str, Any], name: str | None, weight: float | None, where: Where, ctx: Context
) -> Criterion | None:
    before = len(ctx.problems)
    for key in sorted(set(item) - CRITERION_KEYS):
        ctx.add(
            where.sub(key),
            f"unknown key '{key}' in a criterion",
            did_you_mean(key, CRITERION_KEYS),
            needle=key,
        )
    scoring = item.get("scoring", "tiers" if "tiers" in item else "all")
    if scoring not in SCORINGS:
        ctx.add(
            where.sub("scoring"),
            f"unknown scoring '{scoring}'",
            did_you_mean(str(scoring), SCORINGS, "one of: " + ", ".join(SCORINGS)),
            needle="scoring",
        )
        return None
    wanted, unwanted = ("tiers", "checks") if scoring == "tiers" else ("checks", "tiers")
    if unwanted in item:
        ctx.add(
            where.sub(unwanted),
            f"scoring '{scoring}' uses '{wanted}', not '{unwanted}'",
            needle=unwanted,
        )
    entries = item.get(wanted)
    if not isinstance(entries, list) or not entries:
        ctx.add(
            where.sub(wanted),
            f"missing '{wanted}': a non-empty array",
            _example(scoring),
            needle=name,
        )
        return None
    scored = [
        _scored(entry, scoring, weight, where.sub(wanted).at(i), ctx)
        for i, entry in enumerate(entries)
    ]
    if len(ctx.problems) > before or name is None or weight is None:
        return None
    description = item.get("description", "")
    return Criterion(
        name,
        weight,
        scoring,
        tuple(s for s in scored if s is not None),
        description if isinstance(description, str) else "",
    )


def _example(scoring: str) -> str:
    if scoring == "tiers":
        return (
            'tiers = [ { when = { field = "lead_score", op = "gte", value = 70 }, points = 25 } ]'
        )
    return 'checks = [ { field = "email", op = "present" } ]'


def _scored(
    entry: Any, scoring: str, weight: float | None, where: Where, ctx: Context
) -> Scored | None:
    if not isinstance(entry, dict):
        ctx.add(where, f"each entry must be a table, not {type_name(entry)}")
        return None
    needs_points = scoring in ("points", "tiers")
    points = _points(entry, needs_points, weight, where, ctx)
    if scoring == "tiers":
        for key in sorted(set(entry) - {"when", "points"}):
            ctx.add(
                where.sub(key),
                f"unknown key '{key}' in a tier",
                "a tier has when and points",
                needle=key,
            )
        if "when" not in entry:
            ctx.add(where.sub("when"), "a tier needs a 'when' condition", _example("tiers"))
            return None
        condition = parse_condition(entry["when"], where.sub("when"), ctx)
    else:
        condition = parse_condition({k: v for k, v in entry.items() if k != "points"}, where, ctx)
    return Scored(condition, points) if condition is not None else None


def _points(
    entry: dict[str, Any], needed: bool, weight: float | None, where: Where, ctx: Context
) -> float | None:
    if "points" not in entry:
        if needed:
            ctx.add(where.sub("points"), "missing 'points'", "points = 12.5")
        return None
    value = entry["points"]
    if not needed:
        ctx.add(
            where.sub("points"),
            '\'points\' is only used with scoring = "points" or "tiers"',
            needle="points",
        )
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        ctx.add(
            where.sub("points"),
            f"'points' must be a number, 0 or more, got {value!r}",
            needle="points",
        )
        return None
    if weight is not None and value > weight:
        ctx.add(
            where.sub("points"),
            f"points {value:g} exceed the criterion's weight {weight:g}",
            needle="points",
        )
        return None
    return float(value)
