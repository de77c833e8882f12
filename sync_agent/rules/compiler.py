"""Compile a validated ruleset into closures, once, so that evaluation is fast.

Every condition becomes ``node(lead, now, cache) -> Check``. ``cache`` lives for one
evaluation and holds derived values (``email_domain`` ...) computed once per lead.
Nodes are memoised (see :mod:`sync_agent.rules.memo`): rules mostly test low-cardinality
fields, so most evaluations reuse explanation nodes instead of rebuilding them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

from sync_agent.model import CANONICAL_FIELDS, Check
from sync_agent.rules.checks import PASSED, make_check
from sync_agent.rules.coerce import BAD, COERCERS, KIND_WORDS, MISSING, is_missing
from sync_agent.rules.derived import DERIVED_FIELDS, days_since_source, is_free, make_resolver
from sync_agent.rules.memo import DerivedGetter, MemoKey, ValueMemo, child_memo
from sync_agent.rules.operators import make_predicate
from sync_agent.rules.shapes import NumberRange, Options, any_or_every, range_detail, range_tests
from sync_agent.rules.spec import Combo, Condition, Leaf

Node = Callable[[Mapping[str, Any], datetime, dict[Any, Any]], Check]
_TIMED_OPS = frozenset({"within_days", "older_than_days"})


def compile_condition(condition: Condition, free_domains: Collection[str]) -> Node:
    """The closure for one condition tree."""
    if isinstance(condition, Leaf):
        return _compile_leaf(condition, free_domains)
    return _compile_combo(condition, free_domains)


def memo_fields(condition: Condition, free_domains: Collection[str]) -> MemoKey:
    """What a condition's result depends on: the plain lead fields it reads, the derived
    values it reads (as getters), and whether it reads the clock. ``None`` fields mean it
    reads raw source properties and is not memoised as a whole."""
    leaves: list[Leaf] = []
    _collect(condition, leaves)
    fields: set[str] = set()
    derived: dict[str, DerivedGetter] = {}
    timed = False
    for leaf in leaves:
        source = days_since_source(leaf.field)
        timed = timed or leaf.op in _TIMED_OPS or source is not None
        if leaf.field in CANONICAL_FIELDS:
            fields.add(leaf.field)
        elif leaf.field in DERIVED_FIELDS or (source in CANONICAL_FIELDS):
            derived[leaf.field] = derived_getter(leaf.field, free_domains)
        else:
            return MemoKey(None, (), timed)
    return MemoKey(tuple(sorted(fields)), tuple(derived[k] for k in sorted(derived)), timed)


def derived_getter(name: str, free_domains: Collection[str]) -> DerivedGetter:
    """``(lead, now, cache) -> value`` of a derived field, computed once per evaluation."""
    if name == "is_free_email":  # reuse the evaluation's email_domain
        domain_of = derived_getter("email_domain", free_domains)

        def free(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Any:
            value = cache.get(name, cache)
            if value is cache:
                value = cache[name] = is_free(domain_of(lead, now, cache), free_domains)
            return value

        return free
    resolve = make_resolver(name, free_domains)

    def get(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Any:
        value = cache.get(name, cache)
        if value is cache:
            value = cache[name] = resolve(lead, now)
        return value

    return get


def _collect(condition: Condition, into: list[Leaf]) -> None:
    if isinstance(condition, Leaf):
        into.append(condition)
    else:
        for item in condition.items:
            _collect(item, into)


def _compile_combo(combo: Combo, free_domains: Collection[str]) -> Node:
    parts = tuple(compile_condition(item, free_domains) for item in combo.items)
    label, mode = f"{combo.mode} of {len(parts)}", combo.mode

    def build(children: tuple[Check, ...]) -> Check:
        if mode == "not":
            return make_check(
                "condition", "not", not children[0].passed, "", None, None, None, children
            )
        flags = list(map(PASSED, children))
        passed = all(flags) if mode == "all" else any(flags)
        return make_check("condition", label, passed, "", None, None, None, children)

    cached = child_memo(build, memo_fields(combo, free_domains).timed)

    def join(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Check:
        return cached(tuple([part(lead, now, cache) for part in parts]))

    return join


def _compile_leaf(leaf: Leaf, free_domains: Collection[str]) -> Node:
    build = _leaf_builder(leaf)
    coerce = COERCERS[leaf.kind]
    timed = leaf.op in _TIMED_OPS or days_since_source(leaf.field) is not None
    memo = ValueMemo(timed)
    by_value, key_of, put, rate = memo.by_value, memo.key, memo.put, memo.rate
    name = leaf.field

    def decide(raw: Any, now: datetime) -> Check:
        if not rate.on:  # a high-cardinality field: evaluate directly
            return build(raw, MISSING if is_missing(raw) else coerce(raw), now)
        key = key_of(raw, now)
        check = by_value.get(key) if key is not None else None
        if check is not None:
            rate.hits += 1
        else:
            check = build(raw, MISSING if is_missing(raw) else coerce(raw), now)
            if key is not None:
                put(key, check)
        return check

    if name in CANONICAL_FIELDS:

        def plain(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Check:
            raw = lead.get(name)
            if raw.__class__ is str and not timed:
                check = by_value.get(raw)
                if check is not None:
                    rate.hits += 1
                    return check
            return decide(raw, now)

        return plain
    get = derived_getter(name, free_domains)

    def derived(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Check:
        return decide(get(lead, now, cache), now)

    return derived


def _leaf_builder(leaf: Leaf) -> Callable[[Any, Any, datetime], Check]:
    """``(raw, coerced, now) -> Check`` for one leaf: the comparison plus its explanation.

    A range is shown as read ("range 100–500") with why it did or did not hold; options
    are tested one by one (see :mod:`sync_agent.rules.shapes` for both meanings)."""
    predicate = make_predicate(leaf)
    on_range = range_tests(leaf) if leaf.kind == "number" else None
    combine = any_or_every(leaf.op)
    label, met_if_missing = leaf.label, leaf.op == "missing"
    unreadable = f"cannot read the value as {KIND_WORDS[leaf.kind]}: condition not met"

    def one(value: Any, now: datetime) -> bool:
        if value.__class__ is NumberRange:
            return on_range is not None and on_range[0](value)
        return predicate(value, now)

    def build(raw: Any, value: Any, now: datetime) -> Check:
        if value is MISSING:
            detail = "" if met_if_missing else "missing"
            return make_check("condition", label, met_if_missing, detail, raw)
        if value is BAD:
            return make_check("condition", label, False, unreadable, raw)
        try:
            if value.__class__ is NumberRange:
                passed = one(value, now)
                some = passed or (on_range is not None and on_range[1](value))
                return make_check("condition", label, passed, range_detail(passed, some), value)
            if value.__class__ is Options:
                passed = combine(one(option, now) for option in value)
            else:
                passed = predicate(value, now)
        except (TypeError, ValueError, OverflowError) as exc:  # pragma: no cover - defensive
            return make_check("condition", label, False, f"cannot compare: {exc}", raw)
        return make_check("condition", label, passed, "", raw)

    return build
