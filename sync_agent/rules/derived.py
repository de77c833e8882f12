"""Field names a rule may use, their types, and how each is read from a lead.

Three families: canonical fields (:data:`sync_agent.model.CANONICAL_FIELDS`), raw source
properties (``<prefix>.<property>``, the prefix being a source connector's: any name,
type taken from the rule's value), and derived fields computed from the lead without code:

* ``email_domain``: the part of ``email`` after the last ``@``, lower-cased;
* ``is_free_email``: whether ``email_domain`` is in the ruleset's free-mail list;
* ``days_since_<date field>`` or ``days_since(<date field>)``: days between the date and
  ``now`` (fractional; negative for future dates).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any, Final

from sync_agent.model import CANONICAL_FIELDS
from sync_agent.rules.coerce import BAD, is_missing, to_date
from sync_agent.rules.shown import bounded_repr

Resolver = Callable[[Mapping[str, Any], datetime], Any]

DERIVED_FIELDS: Final[dict[str, str]] = {"email_domain": "string", "is_free_email": "bool"}
_DAYS_PREFIX = "days_since_"


class Unreadable:
    """A source value a derived field could not use; shown as such in explanations."""

    __slots__ = ("raw", "reason")

    def __init__(self, raw: Any, reason: str) -> None:
        self.raw = raw
        self.reason = reason

    def __repr__(self) -> str:  # bounded: the raw value may be huge or nested deep
        return f"{bounded_repr(self.raw)} ({self.reason})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Unreadable):
            return False
        if self.raw is other.raw:
            return self.reason == other.reason
        try:
            return (self.raw, self.reason) == (other.raw, other.reason)
        except RecursionError:  # values nested too deep to compare: treated as different
            return False

    def __hash__(self) -> int:
        return hash((bounded_repr(self.raw), self.reason))


def days_since_source(name: str) -> str | None:
    """The date field behind ``days_since_X`` / ``days_since(X)``, or None."""
    if name.startswith("days_since(") and name.endswith(")"):
        return name[len("days_since(") : -1].strip()
    if name.startswith(_DAYS_PREFIX):
        return name[len(_DAYS_PREFIX) :]
    return None


_RAW = re.compile(r"[a-z][a-z0-9_]*\.\S")


def is_raw(name: str) -> bool:
    """Raw source properties: ``<prefix>.<property>`` (a lower-case prefix, a non-empty name).

    Which prefixes exist depends on the installed connectors; the loader checks them when
    it is told (``raw_prefixes``), the evaluation only needs the shape.
    """
    return _RAW.match(name) is not None and not name.startswith(("days_since_", "days_since("))


def raw_prefix(name: str) -> str | None:
    """The ``<prefix>`` of a raw property name, else None."""
    return name.partition(".")[0] if is_raw(name) else None


def field_type(name: str) -> str | None:
    """The type of a field (number, date, bool, string); None for raw fields (any type).

    Raises KeyError for a name that is neither canonical, raw nor derived.
    """
    if name in CANONICAL_FIELDS:
        return CANONICAL_FIELDS[name]
    if name in DERIVED_FIELDS:
        return DERIVED_FIELDS[name]
    if is_raw(name):
        return None
    source = days_since_source(name)
    if source is not None and (is_raw(source) or CANONICAL_FIELDS.get(source) == "date"):
        return "number"
    raise KeyError(name)


def known_names() -> list[str]:
    """Every fixed field name, for "did you mean" hints."""
    dates = [f"{_DAYS_PREFIX}{n}" for n, t in CANONICAL_FIELDS.items() if t == "date"]
    return [*CANONICAL_FIELDS, *DERIVED_FIELDS, *dates]


def read_field(lead: Mapping[str, Any], name: str) -> Any:
    """A field as sent; raw names also resolve inside a nested ``{"<prefix>": {...}}`` mapping."""
    value = lead.get(name)
    if value is None and is_raw(name):
        source, _, prop = name.partition(".")
        nested = lead.get(source)
        if isinstance(nested, Mapping):
            value = nested.get(prop)
    return value


def make_resolver(name: str, free_domains: Collection[str]) -> Resolver:
    """A function ``(lead, now) -> value seen`` for one field name (already validated)."""
    if name == "email_domain":
        return lambda lead, now: _email_domain(lead.get("email"))
    if name == "is_free_email":
        return lambda lead, now: is_free(_email_domain(lead.get("email")), free_domains)
    source = days_since_source(name)
    if source is not None and name not in CANONICAL_FIELDS and not is_raw(name):
        return lambda lead, now: _days_since(read_field(lead, source), now)
    return lambda lead, now: read_field(lead, name)


def _email_domain(email: Any) -> Any:
    if is_missing(email):
        return None
    if not isinstance(email, str) or "@" not in email:
        return Unreadable(email, "not an e-mail address")
    domain = email.rsplit("@", 1)[1].strip().lower()
    return domain or Unreadable(email, "not an e-mail address")


def is_free(domain: Any, free_domains: Collection[str]) -> Any:
    """``is_free_email`` from an ``email_domain`` value (missing and unreadable pass through)."""
    if domain is None or isinstance(domain, Unreadable):
        return domain
    return domain in free_domains


def _days_since(raw: Any, now: datetime) -> Any:
    if is_missing(raw):
        return None
    when = to_date(raw)
    if when is BAD:
        return Unreadable(raw, "not a date")
    if not isinstance(when, datetime):  # several dates (a list): which one would count?
        return Unreadable(raw, "not one date")
    return round((now - when).total_seconds() / 86400, 2)
