"""A ruleset's verdict without its explanation: outcome and score only, twice as fast.

Counting flips needs each lead's outcome and score, not the explanation tree that
:meth:`Ruleset.evaluate` always builds (the profile in docs/simulate.md: building and
memoising explanation nodes is half an evaluation or more). This compiles the same
validated :class:`~sync_agent.rules.spec.RulesetSpec` from the rules package's own parts
(its coercers, predicates and derived-field resolvers), and only the few lines that
combine them are written again here: a missing value meets only ``missing``, an
unreadable one meets nothing; ``all``/``any``/``not``; gates, disqualifiers, fast lanes
in the engine's order; the five scoring modes; the score rounded to 0.01. Only plain
values (a number, a text, a date, a yes/no) are compared here: for anything else the
coercers return (a range, options) the engine's own leaf decides.

It is kept honest three ways: property tests compare it with ``evaluate`` on random
rulesets and leads (tests/simulate/test_verdict.py); every simulation re-decides its
examples and a sample of its leads with ``evaluate`` and, on any disagreement, throws
the fast result away and re-decides everything with ``evaluate`` (a note says so); and a
ruleset using anything this does not know (a new scoring mode) compiles to None, which
means "use ``evaluate``". It belongs in ``sync_agent.rules`` (as ``Ruleset.verdict``), next
to the code it must agree with; it lives here because that package is not this change's.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sync_agent.model import CANONICAL_FIELDS, Outcome
from sync_agent.rules.coerce import BAD, COERCERS, is_missing
from sync_agent.rules.compiler import derived_getter
from sync_agent.rules.derived import days_since_source
from sync_agent.rules.memo import HitRate
from sync_agent.rules.operators import make_predicate
from sync_agent.rules.spec import Combo, Condition, Criterion, Leaf, RulesetSpec

Test = Callable[[Mapping[str, Any], datetime, dict[Any, Any]], bool]
#: ``(fields, now) -> (outcome, score)``, or None for a lead only the engine may decide.
Verdict = Callable[[Mapping[str, Any], datetime], tuple[Outcome, float] | None]
#: Results a leaf remembers by value (cleared when full); the cache switches itself off
#: for fields whose values rarely repeat, as the engine's do (rules.memo.HitRate).
MEMO_LIMIT = 4096
_TIMED_OPS = frozenset({"within_days", "older_than_days"})
_SCALARS = frozenset({str, int, float, bool})


#: What the coercers give for one plain value. Anything else (a range of numbers, several
#: options, whatever the rules package reads tomorrow) has comparison rules of its own,
#: which live in the engine's leaf: the verdict asks that leaf (or, without it, leaves the
#: lead to ``Ruleset.evaluate``).
_PLAIN = frozenset({float, int, str, bool, datetime, date})


class Unsupported(Exception):
    """The spec uses something this module does not know: use ``Ruleset.evaluate``."""


class _Defer(Exception):
    """This lead holds a value that is not plain: the engine decides it."""


def compile_verdict(spec: RulesetSpec) -> Verdict | None:
    """The fast verdict of ``spec``, or None if it cannot be compiled (use the engine)."""
    try:
        return _compile(spec)
    except (Unsupported, KeyError):
        return None


def _compile(spec: RulesetSpec) -> Verdict:
    free = frozenset(d.strip().lower() for d in spec.lists.get(spec.free_email_list, ()))
    gates = [_condition(r.condition, free) for r in spec.gates]
    disqualifiers = [_condition(r.condition, free) for r in spec.disqualifiers]
    lanes = [_condition(r.condition, free) for r in spec.fast_lanes]
    criteria = [_criterion(c, free) for c in spec.criteria]
    accept, review = spec.accept, spec.review

    def verdict(lead: Mapping[str, Any], now: datetime) -> tuple[Outcome, float] | None:
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        cache: dict[Any, Any] = {}  # derived values (email_domain ...), once per lead
        # every check is evaluated, as the engine does (no short cut can skip an error)
        try:
            held = [test(lead, now, cache) for test in gates]
            fired = [test(lead, now, cache) for test in disqualifiers]
            matched = [test(lead, now, cache) for test in lanes]
            score = round(sum([points(lead, now, cache) for points in criteria]), 2)
        except _Defer:
            return None
        if not all(held) or any(fired):
            return Outcome.REJECTED, score
        if any(matched):
            return Outcome.ACCEPTED, score
        if score >= accept:
            return Outcome.ACCEPTED, score
        if review is not None and score >= review:
            return Outcome.REVIEW, score
        return Outcome.REJECTED, score

    return verdict


def _condition(condition: Condition, free: Collection[str]) -> Test:
    if isinstance(condition, Leaf):
        return _leaf(condition, free)
    if not isinstance(condition, Combo) or condition.mode not in ("all", "any", "not"):
        raise Unsupported(repr(condition)[:80])
    parts = [_condition(item, free) for item in condition.items]
    if condition.mode == "not":
        (only,) = parts
        return lambda lead, now, cache: not only(lead, now, cache)
    combine = all if condition.mode == "all" else any
    return lambda lead, now, cache: combine([part(lead, now, cache) for part in parts])


def _leaf(leaf: Leaf, free: Collection[str]) -> Test:
    predicate, coerce = make_predicate(leaf), COERCERS[leaf.kind]
    met_if_missing = leaf.op == "missing"
    name = leaf.field
    derived = None if name in CANONICAL_FIELDS else derived_getter(name, free)
    explained = _engine_leaf(leaf)

    def decide(raw: Any, now: datetime) -> bool:
        if is_missing(raw):
            return met_if_missing
        value = coerce(raw)
        if value is BAD:
            return False
        if value.__class__ not in _PLAIN:
            if explained is None:
                raise _Defer
            return bool(explained(raw, value, now).passed)
        try:
            return bool(predicate(value, now))
        except (TypeError, ValueError, OverflowError):
            return False

    if leaf.op in _TIMED_OPS or days_since_source(name) is not None:  # depends on now too
        if derived is None:
            return lambda lead, now, cache: decide(lead.get(name), now)
        timed = derived
        return lambda lead, now, cache: decide(timed(lead, now, cache), now)
    # Otherwise the result depends on the value alone: remembered by (type, value) for
    # plain scalars (1, 1.0 and True are equal keys but may not decide alike).
    memo: dict[tuple[type, Any], bool] = {}
    rate = HitRate()

    def test(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> bool:
        raw = lead.get(name) if derived is None else derived(lead, now, cache)
        if raw is None:
            return met_if_missing
        kind = raw.__class__
        if kind not in _SCALARS or not rate.on:
            return decide(raw, now)
        key = (kind, raw)
        found = memo.get(key)
        if found is not None:
            rate.hits += 1
            return found
        found = memo[key] = decide(raw, now)
        rate.missed()
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        return found

    return test


def _engine_leaf(leaf: Leaf) -> Callable[[Any, Any, datetime], Any] | None:
    """The engine's own ``(raw, coerced, now) -> Check`` for one leaf, used for the values
    that are not plain; None if the rules package no longer offers it."""
    try:
        from sync_agent.rules.compiler import _leaf_builder
    except ImportError:  # pragma: no cover - a rules package without it: defer instead
        return None
    return _leaf_builder(leaf)


def _criterion(criterion: Criterion, free: Collection[str]) -> Callable[..., float]:
    weight, mode = criterion.weight, criterion.scoring
    tests = [_condition(s.condition, free) for s in criterion.checks]
    points = [s.points or 0.0 for s in criterion.checks]
    count = len(tests)
    if mode not in ("all", "any", "share", "points", "tiers"):
        raise Unsupported(f"scoring {mode!r}")

    def earned(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> float:
        met = [test(lead, now, cache) for test in tests]
        if mode == "tiers":
            return next((p for p, ok in zip(points, met, strict=True) if ok), 0.0)
        hits = sum(met)
        if mode == "share":
            return round(weight * hits / count, 2)
        if mode == "points":
            return min(weight, sum([p for p, ok in zip(points, met, strict=True) if ok]))
        if mode == "all":
            return weight if hits == count else 0.0
        return weight if hits else 0.0

    return earned
