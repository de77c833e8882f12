"""Compiled criteria: each returns a ``criterion`` Check carrying its points.

``passed`` on a criterion means "earned some points"; ``points``/``max_points`` tell how
many. See :mod:`sync_agent.rules.criteria` for the scoring modes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sync_agent.model import Check
from sync_agent.rules.checks import PASSED, make_check
from sync_agent.rules.compiler import compile_condition, memo_fields
from sync_agent.rules.memo import MemoKey, child_memo, subtree_memo
from sync_agent.rules.spec import Criterion

CriterionNode = Callable[[Mapping[str, Any], datetime, dict[Any, Any]], Check]


def compile_criterion(criterion: Criterion, free: frozenset[str]) -> CriterionNode:
    """The closure scoring one criterion, according to its scoring mode."""
    parts = tuple(compile_condition(s.condition, free) for s in criterion.checks)
    build = _tiers(criterion) if criterion.scoring == "tiers" else _counted(criterion)
    key = _key(criterion, free)
    cached = child_memo(build, key.timed)

    def node(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Check:
        return cached(tuple([part(lead, now, cache) for part in parts]))

    return subtree_memo(node, key)


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

    def score(met: tuple[bool, ...]) -> tuple[float, str]:
        hits = sum(met)
        if mode == "share":
            earned = round(weight * hits / count, 2)
        elif mode == "points":
            earned = min(weight, sum([p for p, ok in zip(points, met, strict=True) if ok]))
        elif mode == "all":
            earned = weight if hits == count else 0.0
        else:
            earned = weight if hits else 0.0
        return earned, f"{hits} of {count} checks met"

    return _by_pattern(name, weight, score)


def _tiers(criterion: Criterion) -> Callable[[tuple[Check, ...]], Check]:
    weight, name = criterion.weight, criterion.name
    tiers = [(s.points or 0.0) for s in criterion.checks]

    def score(met: tuple[bool, ...]) -> tuple[float, str]:
        for index, ok in enumerate(met):
            if ok:
                return tiers[
                    index
                ], f"tier {index + 1} of {len(tiers)} met: {tiers[index]:g} points"
        return 0.0, "no tier met"

    return _by_pattern(name, weight, score)


def _by_pattern(
    name: str, weight: float, score: Callable[[tuple[bool, ...]], tuple[float, str]]
) -> Callable[[tuple[Check, ...]], Check]:
    """The criterion node: points depend only on which checks passed, so they are
    computed once per pattern of passes (a few dozen patterns at most in practice)."""
    patterns: dict[tuple[bool, ...], tuple[float, str]] = {}

    def build(children: tuple[Check, ...]) -> Check:
        met = tuple(map(PASSED, children))
        scored = patterns.get(met)
        if scored is None:
            if len(patterns) >= 4096:
                patterns.clear()
            scored = patterns[met] = score(met)
        earned, detail = scored
        return make_check("criterion", name, earned > 0, detail, None, earned, weight, children)

    return build
