"""Compiled criteria: each returns a ``criterion`` Check carrying its points.

``passed`` on a criterion means "earned some points"; ``points``/``max_points`` tell how
many. See :mod:`sync_agent.rules.criteria` for the scoring modes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sync_agent.model import Check
from sync_agent.rules.checks import make_check
from sync_agent.rules.compiler import compile_condition, memo_fields
from sync_agent.rules.memo import MemoKey, child_memo, subtree_memo
from sync_agent.rules.spec import Criterion

CriterionNode = Callable[[Mapping[str, Any], datetime, dict[Any, Any]], Check]


def compile_criterion(criterion: Criterion, free: frozenset[str]) -> CriterionNode:
    """The closure scoring one criterion, according to its scoring mode."""
    parts = tuple(compile_condition(s.condition, free) for s in criterion.checks)
    build = _tiers(criterion) if criterion.scoring == "tiers" else _counted(criterion)
    cached = child_memo(build)

    def node(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Check:
        return cached(tuple([part(lead, now, cache) for part in parts]))

    return subtree_memo(node, _key(criterion, free))


def _key(criterion: Criterion, free: frozenset[str]) -> MemoKey:
    """What all of a criterion's conditions together depend on."""
    keys = [memo_fields(s.condition, free) for s in criterion.checks]
    timed = any(k.timed for k in keys)
    if any(k.fields is None for k in keys):
        return MemoKey(None, (), timed)
    fields = tuple(sorted({name for k in keys for name in k.fields or ()}))
    return MemoKey(fields, tuple(g for k in keys for g in k.derived), timed)


def _counted(criterion: Criterion) -> Callable[[tuple[Check, ...]], Check]:
    weight, name, mode = criterion.weight, criterion.name, criterion.scoring
    points = [s.points or 0.0 for s in criterion.checks]
    count = len(points)
    details = [f"{k} of {count} checks met" for k in range(count + 1)]

    def build(children: tuple[Check, ...]) -> Check:
        met = [c.passed for c in children]
        hits = sum(met)
        if mode == "share":
            earned = round(weight * hits / count, 2)
        elif mode == "points":
            earned = min(weight, sum([p for p, ok in zip(points, met, strict=True) if ok]))
        elif mode == "all":
            earned = weight if hits == count else 0.0
        else:
            earned = weight if hits else 0.0
        return make_check(
            "criterion", name, earned > 0, details[hits], None, earned, weight, children
        )

    return build


def _tiers(criterion: Criterion) -> Callable[[tuple[Check, ...]], Check]:
    weight, name = criterion.weight, criterion.name
    tiers = [(s.points or 0.0) for s in criterion.checks]
    details = [f"tier {i + 1} of {len(tiers)} met: {p:g} points" for i, p in enumerate(tiers)]

    def build(children: tuple[Check, ...]) -> Check:
        for index, child in enumerate(children):
            if child.passed:
                earned = tiers[index]
                return make_check(
                    "criterion", name, earned > 0, details[index], None, earned, weight, children
                )
        return make_check("criterion", name, False, "no tier met", None, 0.0, weight, children)

    return build
