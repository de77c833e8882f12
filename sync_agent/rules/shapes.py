"""Values that are not one number or one text: number ranges and multi-selects.

Real CRMs send both. A company size is often an enumeration of ranges (``"25-50"``,
``"100-500"``, ``"1000+"``), never a number; forms and enrichment tools say
``"51-200 employees"`` or ``"10,001+"``. Multi-select properties arrive as one text joined
by ``;`` and, read by their declared type (:mod:`sync_agent.rules.reading`), become
:class:`Options`.

Rules are written for single values, so each shape gives every operator one meaning
(docs/rules.md has the table):

* a condition on a **range** holds when it holds for *every* whole number in the range:
  a lead gets no credit for a size it may not have. ``between [50, 5000]`` holds for
  "100-500"; ``gte 100`` when the lower bound does; an open range ("1000+") meets no
  upper bound; ``equals`` only a range of one number. The negative operators follow the
  same rule: ``not_equals 250`` fails on "100-500" (it may well be 250).
* a condition on **options** holds when it holds for *at least one* option; the negative
  operators (``not_equals``, ``not_in``, ``not_contains``) when they hold for *every*
  option, i.e. when no option has what the positive one looks for.

Both are hashable (the memo keys nodes by value) and JSON-able: a range's ``str`` is its
text as sent, which reads back as the same range; options are a tuple, a JSON list, which
reads back as the same options. So a stored lead snapshot decides again the same way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from sync_agent.rules.limits import MAX_NUMBER_DIGITS
from sync_agent.rules.spec import Leaf

#: A whole number, with or without thousands separators: "1000", "1,000".
_WHOLE = r"(\d{1,3}(?:,\d{3})+|\d+)"
#: "100-500", "5–25", "1,001 to 5,000", "1000+", each optionally followed by words
#: ("51-200 employees"). Digits on both sides: "-5" is a number, not a range.
_RANGE = re.compile(
    rf"\s*{_WHOLE}\s*(?:(?:-|–|—|to\b)\s*{_WHOLE}|(\+))(?:\s+[^\W\d_]+)*\s*", re.IGNORECASE
)
#: Longer text is never a range (a cheap guard before the regular expression).
_MAX_RANGE_CHARS = 2 * MAX_NUMBER_DIGITS + 40

#: Operators whose meaning is "none of the options" on a multi-select.
NEGATIVE_OPS: Final = frozenset({"not_equals", "not_in", "not_contains"})


@dataclass(frozen=True, slots=True, repr=False)
class NumberRange:
    """Whole numbers from ``low`` to ``high`` (both included; ``high`` None: no upper bound).

    ``text`` is the value as sent: ``str()`` gives it back, so JSON stores it and reading
    it again gives the same range; text operators on a raw property see it too.
    """

    low: int
    high: int | None
    text: str

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:  # what explanations show in "value seen"
        if self.high is None:
            return f"range {self.low:,}+"
        return f"range {self.low:,}–{self.high:,}"


def parse_range(text: str) -> NumberRange | None:
    """The range ``text`` spells, or None (for a plain number too)."""
    if len(text) > _MAX_RANGE_CHARS:
        return None
    found = _RANGE.fullmatch(text)
    if found is None:
        return None
    low_text, high_text, plus = found.groups()
    low = _whole(low_text)
    high = None if plus else _whole(high_text)
    if low is None or (high is None and not plus) or (high is not None and high < low):
        return None
    return NumberRange(low, high, text)


def _whole(text: str) -> int | None:
    digits = text.replace(",", "")
    return int(digits) if len(digits) <= MAX_NUMBER_DIGITS else None


class Options(tuple[Any, ...]):
    """A multi-select's options in the order sent: a tuple, so hashable and a JSON list."""

    __slots__ = ()

    def __repr__(self) -> str:  # bounded: a value may hold many options
        shown = ", ".join(f'"{o}"' if isinstance(o, str) else repr(o) for o in self[:8])
        more = f", … ({len(self):,} options)" if len(self) > 8 else ""
        return f"options {shown}{more}"

    def __str__(self) -> str:  # as a note or a person would write them
        return "; ".join(map(str, self))


RangeTest = Callable[[NumberRange], bool]


def range_tests(leaf: Leaf) -> tuple[RangeTest, RangeTest] | None:
    """What ``leaf`` means on a range: ``(all, some)``, whether every number in the range
    meets it (the verdict) and whether at least one does (for the explanation only).
    None: not an operator on numbers."""
    op, x, members = leaf.op, leaf.value, leaf.values
    low, high = leaf.bounds or (math.inf, -math.inf)  # only "between" has bounds
    pairs: dict[str, tuple[RangeTest, RangeTest]] = {
        "gt": (lambda r: r.low > x, lambda r: r.high is None or r.high > x),
        "gte": (lambda r: r.low >= x, lambda r: r.high is None or r.high >= x),
        "lt": (lambda r: r.high is not None and r.high < x, lambda r: r.low < x),
        "lte": (lambda r: r.high is not None and r.high <= x, lambda r: r.low <= x),
        "equals": (lambda r: r.low == r.high == x, lambda r: _inside(r, x)),
        "not_equals": (lambda r: not _inside(r, x), lambda r: not r.low == r.high == x),
        "between": (
            lambda r: low <= r.low and r.high is not None and r.high <= high,
            lambda r: r.low <= high and (r.high is None or r.high >= low),
        ),
        "in": (
            lambda r: _all_listed(r, members),
            lambda r: any(_inside(r, m) for m in members),
        ),
        "not_in": (
            lambda r: not any(_inside(r, m) for m in members),
            lambda r: not _all_listed(r, members),
        ),
    }
    return pairs.get(op)


def _all_listed(r: NumberRange, members: frozenset[Any]) -> bool:
    """Every whole number of the range is a member (at most ``len(members)`` lookups)."""
    if r.high is None or r.high - r.low >= len(members):
        return False
    return all(n in members for n in range(r.low, r.high + 1))


def _inside(r: NumberRange, number: Any) -> bool:
    if not isinstance(number, int | float):
        return False
    return r.low <= number and (r.high is None or number <= r.high)


def range_detail(passed: bool, some: bool) -> str:
    """Why a condition on a range did (not) hold, for the explanation."""
    if passed:
        return "the whole range meets it"
    return "only part of the range meets it" if some else "no number in the range meets it"


def any_or_every(op: str) -> Callable[[Iterable[bool]], bool]:
    """How a condition combines its options' results: ``any``, or ``all`` for negative ops."""
    return all if op in NEGATIVE_OPS else any
