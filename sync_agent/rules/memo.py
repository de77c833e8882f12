"""Memoisation that keeps evaluation pure but avoids rebuilding identical explanations.

Explanation nodes are immutable and each is a pure function of what it was built from,
so equal inputs may share one node. Three caches, all bounded (cleared when full):

* :func:`subtree_memo`: a whole gate or criterion by the lead values it reads, which
  skips evaluating its conditions at all on a hit;
* :class:`ValueMemo`: a condition's node by the value seen (and ``now`` for date
  conditions); values of different types never collide ("1" vs 1 vs True);
* :func:`child_memo`: a combinator or criterion node by the *identity* of its children.
  Each entry keeps its children alive, so an ``id`` in a key cannot be reused by another
  object while the entry exists: equal keys mean the very same children.

Caches that depend on the clock (date conditions, and any node above one) are only useful
for one ``now``: the agent evaluates each page with a new ``now``, so entries for older
clocks could never hit again, yet they would pile up to the bound (and, in a combinator's
memo, keep old explanation nodes alive). They are registered with the ruleset's
:class:`ClockWatch`, which empties them whenever ``now`` moves: their memory stays at one
page's worth however long the backfill, and a fixed ``now`` (a bench, ``rules test``)
keeps them warm.

Each cache watches its hit rate and switches itself off for good when fewer than one
lookup in five hits (a field such as ``email`` is different for every lead), so that
high-cardinality fields cost no more than plain evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, NamedTuple

from sync_agent.model import Check
from sync_agent.rules.shapes import NumberRange

LIMIT = 16384
#: A single condition's values: a categorical or date field repeats a few thousand values at
#: most, so a leaf that needs more is one where most values are seen once (phone numbers).
VALUE_LIMIT = 8192
WINDOW = 2048
#: Values never used as keys: their items may be equal across types ((1,) == (True,)).
_CONTAINERS = (tuple, list, set, frozenset, dict)
#: Plain values a whole rule may be remembered by: each equals only its own kind (text
#: never equals a number or a boolean; a range only an identical range).
_KEYABLE = frozenset({str, NumberRange})
NodeFn = Callable[[Mapping[str, Any], datetime, dict[Any, Any]], Check]
DerivedGetter = Callable[[Mapping[str, Any], datetime, dict[Any, Any]], Any]


_timed_caches: ContextVar[list[dict[Any, Any]] | None] = ContextVar("timed_caches", default=None)


def new_cache(timed: bool) -> dict[Any, Any]:
    """A cache dict; a ``timed`` one joins the ruleset being compiled (:func:`watching_clock`)."""
    cache: dict[Any, Any] = {}
    caches = _timed_caches.get()
    if timed and caches is not None:
        caches.append(cache)
    return cache


class ClockWatch:
    """Empties a ruleset's clock-dependent caches whenever the evaluation clock moves."""

    __slots__ = ("caches", "now")

    def __init__(self) -> None:
        self.caches: list[dict[Any, Any]] = []
        self.now: datetime | None = None

    def see(self, now: datetime) -> None:
        if now is self.now:
            return
        if now != self.now:
            for cache in self.caches:
                cache.clear()
        self.now = now


@contextmanager
def watching_clock() -> Iterator[ClockWatch]:
    """Collect the timed caches that :func:`new_cache` makes while compiling one ruleset."""
    watch = ClockWatch()
    token = _timed_caches.set(watch.caches)
    try:
        yield watch
    finally:
        _timed_caches.reset(token)


class HitRate:
    """Hits and misses per window of ``WINDOW`` misses; ``on`` turns False for good when
    fewer than one lookup in five hit. Callers add to ``hits`` and call :meth:`missed`."""

    __slots__ = ("hits", "misses", "on")

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0
        self.on = True

    def missed(self) -> None:
        self.misses += 1
        if self.misses >= WINDOW:
            self.on = self.hits * 5 >= self.hits + self.misses
            self.hits = self.misses = 0


class ValueMemo:
    """A leaf's nodes by value seen: ``key(raw, now)``, then ``by_value`` / ``put``."""

    __slots__ = ("by_value", "rate", "timed")

    def __init__(self, timed: bool) -> None:
        self.by_value: dict[Any, Check] = new_cache(timed)
        self.timed = timed
        self.rate = HitRate()

    def key(self, raw: Any, now: datetime) -> Any:
        """The memo key, or None when ``raw`` cannot be one (unhashable) or memo is off.

        Date conditions carry ``now`` in the key: a node is never served for another clock.
        """
        if not self.rate.on:
            return None
        if raw.__class__ is str and not self.timed:
            return raw
        if isinstance(raw, _CONTAINERS):  # (1,) == (1.0,) == (True,): never one key
            return None
        key = (raw.__class__, raw, now) if self.timed else (raw.__class__, raw)
        try:
            hash(key)
        except TypeError:
            return None
        return key

    def put(self, key: Any, node: Check) -> Check:
        self.rate.missed()
        if len(self.by_value) >= VALUE_LIMIT or not self.rate.on:
            self.by_value.clear()
        self.by_value[key] = node
        return node


def child_memo(
    build: Callable[[tuple[Check, ...]], Check], timed: bool
) -> Callable[[tuple[Check, ...]], Check]:
    """Wrap ``build(children) -> node`` so that the same children give the same node.

    ``timed``: some child depends on the clock (its nodes are new for each ``now``)."""
    memo: dict[tuple[int, ...], tuple[tuple[Check, ...], Check]] = new_cache(timed)
    rate = HitRate()

    def cached(children: tuple[Check, ...]) -> Check:
        if not rate.on:
            return build(children)
        key = tuple(map(id, children))
        hit = memo.get(key)
        if hit is not None:
            rate.hits += 1
            return hit[1]
        node = build(children)
        rate.missed()
        if len(memo) >= LIMIT or not rate.on:
            memo.clear()
        memo[key] = (children, node)
        return node

    return cached


class MemoKey(NamedTuple):
    """What a subtree depends on: plain fields (None: not memoisable), derived getters, clock."""

    fields: tuple[str, ...] | None
    derived: tuple[DerivedGetter, ...]
    timed: bool


def subtree_memo(node: NodeFn, key: MemoKey) -> NodeFn:
    """Memoise a whole rule or criterion on the lead values it reads.

    A subtree's node is a pure function of the raw values of its plain fields, of its
    derived values (``email_domain`` ...) and of ``now`` when ``timed`` (then part of the
    key, so that concurrent evaluations with different clocks never mix). Plain values are
    stored only when they are all text or ranges (or absent): text never equals a number
    or a boolean, so a lookup with 1, 1.0 or True never hits an entry made from other types.
    Derived values always have the same type per field, so they are safe as they are.
    """
    fields, derived, timed = key
    if fields is None:
        return node
    if len(fields) + len(derived) == 1 and not timed:
        return _single_memo(node, fields[0] if fields else None, derived[0] if derived else None)
    memo: dict[tuple[Any, ...], Check] = new_cache(timed)
    rate = HitRate()

    def cached(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Check:
        if not rate.on:
            return node(lead, now, cache)
        values = tuple(map(lead.get, fields))
        full = values + tuple([get(lead, now, cache) for get in derived]) if derived else values
        if timed:
            full += (now,)
        try:
            hit = memo.get(full)
        except TypeError:  # an unhashable value
            return node(lead, now, cache)
        if hit is not None:
            rate.hits += 1
            return hit
        check = node(lead, now, cache)
        rate.missed()
        if all(v is None or v.__class__ in _KEYABLE for v in values):
            if len(memo) >= LIMIT or not rate.on:
                memo.clear()
            memo[full] = check
        return check

    return cached


def _single_memo(node: NodeFn, field: str | None, derived: DerivedGetter | None) -> NodeFn:
    """:func:`subtree_memo` for the common rule reading one field: keyed on the value."""
    memo: dict[Any, Check] = {}  # never timed (see subtree_memo)
    rate = HitRate()

    def miss(value: Any, lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Check:
        check = node(lead, now, cache)
        rate.missed()
        if derived is not None or value is None or value.__class__ in _KEYABLE:
            if len(memo) >= LIMIT or not rate.on:
                memo.clear()
            memo[value] = check
        return check

    def lookup(value: Any, lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Check:
        try:
            hit = memo.get(value)
        except TypeError:  # an unhashable value
            return node(lead, now, cache)
        if hit is None:
            return miss(value, lead, now, cache)
        rate.hits += 1
        return hit

    if derived is not None:
        get_derived = derived

        def by_derived(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Check:
            if rate.on:
                return lookup(get_derived(lead, now, cache), lead, now, cache)
            return node(lead, now, cache)

        return by_derived
    name = str(field)

    def by_field(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Check:
        if rate.on:
            return lookup(lead.get(name), lead, now, cache)
        return node(lead, now, cache)

    return by_field
