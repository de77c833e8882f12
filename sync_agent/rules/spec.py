"""The validated form of a ruleset: plain frozen dataclasses, built only by the loader.

Nothing here can be invalid: the loader checks every field, operator, value and list
before building these, and the compiler turns them into closures without further checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import field as _field  # Leaf has an attribute named field
from typing import Any, Literal

from sync_agent.rules.regex import Pattern

Scoring = Literal["all", "any", "share", "points", "tiers"]


@dataclass(frozen=True)
class Origin:
    """Where a condition is written and what it says there, for checks made after loading
    (``rules check --against`` compares rules with a live schema): the file and line, the
    location for people (``criteria.icp_fit.checks[1]``), the value as written (before
    typing and case folding) and the named list it uses, if any."""

    file: str
    line: int | None
    where: str
    written: Any = None
    list_name: str = ""


@dataclass(frozen=True)
class Leaf:
    """One comparison: ``field op value``, with the value already typed for ``kind``.

    ``kind`` is the coercion applied to the lead's value (number, date, bool, string,
    istring = case-folded string). ``values`` holds the members for in/not_in,
    ``pattern`` the compiled RE2 pattern for matches, ``bounds`` the pair for between.
    ``label`` is the human text shown in explanations, e.g. ``employees between 50 and 5000``.
    ``origin`` says where it was written; it takes no part in comparisons.
    """

    field: str
    op: str
    kind: str
    label: str
    value: Any = None
    values: frozenset[Any] = frozenset()
    bounds: tuple[Any, Any] | None = None
    pattern: Pattern | None = None
    origin: Origin | None = _field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Combo:
    """``all`` / ``any`` of several conditions, or ``not`` of one (``items`` has one entry)."""

    mode: Literal["all", "any", "not"]
    items: tuple[Condition, ...]


Condition = Leaf | Combo


@dataclass(frozen=True)
class Rule:
    """A gate, disqualifier or fast lane: a named condition."""

    name: str
    condition: Condition
    description: str = ""


@dataclass(frozen=True)
class Scored:
    """A condition inside a criterion, with its points (``points`` and ``tiers`` scoring)."""

    condition: Condition
    points: float | None = None


@dataclass(frozen=True)
class Criterion:
    """A weighted criterion: ``weight`` points at most, earned as ``scoring`` says."""

    name: str
    weight: float
    scoring: Scoring
    checks: tuple[Scored, ...]
    description: str = ""


@dataclass(frozen=True)
class RulesetSpec:
    """A whole validated ruleset; ``lists`` holds every named list it uses."""

    name: str
    accept: float
    review: float | None
    gates: tuple[Rule, ...] = ()
    disqualifiers: tuple[Rule, ...] = ()
    fast_lanes: tuple[Rule, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    description: str = ""
    free_email_list: str = "free_email_domains"
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
