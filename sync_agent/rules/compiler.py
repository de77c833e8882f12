"""Compile a validated ruleset into closures, once, so that evaluation is fast.

Every condition becomes ``node(lead, now, cache) -> Check``. ``cache`` lives for one
evaluation: each (field, kind) is read and coerced once however many conditions use it.
Leaf results are memoised on the value seen (and ``now`` for date conditions): the same
input always yields the same immutable ``Check``, so sharing it is safe and saves most of
the work for the low-cardinality fields rules usually test.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

from sync_agent.model import Check
from sync_agent.rules.checks import make_check
from sync_agent.rules.coerce import BAD, COERCERS, KIND_WORDS, MISSING, is_missing
from sync_agent.rules.derived import days_since_source, make_resolver
from sync_agent.rules.operators import make_predicate
from sync_agent.rules.spec import Combo, Condition, Leaf

Node = Callable[[Mapping[str, Any], datetime, dict[Any, Any]], Check]
_MEMO_LIMIT = 4096
_TIMED_OPS = frozenset({"within_days", "older_than_days"})


def compile_condition(condition: Condition, free_domains: Collection[str]) -> Node:
    """The closure for one condition tree."""
    if isinstance(condition, Leaf):
        return _compile_leaf(condition, free_domains)
    return _compile_combo(condition, free_domains)


def _compile_combo(combo: Combo, free_domains: Collection[str]) -> Node:
    parts = tuple(compile_condition(item, free_domains) for item in combo.items)
    if combo.mode == "not":
        (inner,) = parts

        def negate(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Check:
            child = inner(lead, now, cache)
            return make_check("condition", "not", not child.passed, "", None, None, None, (child,))

        return negate
    label = f"{combo.mode} of {len(parts)}"
    need_all = combo.mode == "all"

    def join(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Check:
        children = tuple([part(lead, now, cache) for part in parts])
        if need_all:
            passed = all([c.passed for c in children])
        else:
            passed = any([c.passed for c in children])
        return make_check("condition", label, passed, "", None, None, None, children)

    return join


def _compile_leaf(leaf: Leaf, free_domains: Collection[str]) -> Node:
    key = (leaf.field, leaf.kind)
    resolve = make_resolver(leaf.field, free_domains)
    coerce = COERCERS[leaf.kind]
    build = _leaf_builder(leaf)
    timed = leaf.op in _TIMED_OPS or days_since_source(leaf.field) is not None
    memo: dict[Any, Check] = {}

    def node(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Check:
        got = cache.get(key)
        if got is None:
            raw = resolve(lead, now)
            got = cache[key] = (raw, MISSING if is_missing(raw) else coerce(raw))
        raw, value = got
        memo_key = (raw.__class__, raw, now) if timed else (raw.__class__, raw)
        try:
            check = memo.get(memo_key)
        except TypeError:  # an unhashable value (a list or dict): no memo
            return build(raw, value, now)
        if check is None:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            check = memo[memo_key] = build(raw, value, now)
        return check

    return node


def _leaf_builder(leaf: Leaf) -> Callable[[Any, Any, datetime], Check]:
    """``(raw, coerced, now) -> Check`` for one leaf: the comparison plus its explanation."""
    predicate = make_predicate(leaf)
    label, met_if_missing = leaf.label, leaf.op == "missing"
    unreadable = f"cannot read the value as {KIND_WORDS[leaf.kind]}: condition not met"

    def build(raw: Any, value: Any, now: datetime) -> Check:
        if value is MISSING:
            return make_check(
                "condition", label, met_if_missing, "" if met_if_missing else "missing", raw
            )
        if value is BAD:
            return make_check("condition", label, False, unreadable, raw)
        try:
            passed = predicate(value, now)
        except (TypeError, ValueError, OverflowError) as exc:  # pragma: no cover - defensive
            return make_check("condition", label, False, f"cannot compare: {exc}", raw)
        return make_check("condition", label, passed, "", raw)

    return build
