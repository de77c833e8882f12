"""Does a comparison fit the property it reads? Types, enumeration options, did-you-mean.

A rule compares values as one of four types (number, date, yes/no, text: its leaf's
``kind``, which the operator registry in :mod:`sync_agent.rules.operators` decides: each
operator declares the field types it takes in ``OpInfo.types``). A property declares
what it holds (:class:`~sync_agent.rules.reading.PropertyType`). :func:`supplies` says
which rule types a declared type surely gives (a number property: numbers; an
enumeration of ranges such as ``"25-50"``, ``"1000+"``: numbers too), and which only
when people happen to type them (free text may hold ``"250"``: a warning, not an error).
A new operator needs nothing here: its declared types decide.

Suggestions use :mod:`difflib` (as every other did-you-mean of the agent does): the
standard library, ranked by similarity to both a property's internal name and the label
people see in the system, which is what an admin usually types. A few hundred properties
take well under a millisecond per lookup; no extra dependency is worth that. Pure.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sync_agent.rules.operators import OPS
from sync_agent.rules.reading import PropertyType, read_bool, read_number
from sync_agent.rules.spec import Leaf

#: The rule type a leaf's coercion kind compares (``any``: present/missing, fits all).
RULE_TYPE = {
    "number": "number",
    "date": "date",
    "day": "date",
    "bool": "bool",
    "string": "string",
    "istring": "string",
}
_TYPE_WORDS = {"number": "numbers", "date": "dates", "bool": "yes/no values", "string": "text"}
_ONE = {"number": "a number", "date": "a date", "bool": "yes or no", "string": "text"}
_VALUE_OPS = frozenset({"equals", "not_equals", "in", "not_in"})
_NEGATIVE = frozenset({"not_equals", "not_in"})
_SHOWN_OPTIONS = 6
_CUTOFF = 0.6
_NEAR = 0.1  # suggestions this much less close than the best are left out

Finding = tuple[str, str, str]  # (severity, message, hint)


@dataclass(frozen=True)
class Read:
    """A rule field as read from one property: ``name`` as the rule writes it, the
    property (``prefix``, ``prop``) and its declared type (None: the schema lacks it)."""

    name: str
    prefix: str
    prop: str
    declared: PropertyType | None

    def shown(self) -> str:
        title = self.declared.title if self.declared else ""
        label = f", {title}" if title and title != self.prop else ""
        if self.name == f"{self.prefix}.{self.prop}":
            return f"{self.name}{f' ({title})' if label else ''}"
        return f"'{self.name}' (read from {self.prefix}.{self.prop}{label})"


def supplies(declared: PropertyType) -> tuple[frozenset[str], frozenset[str]]:
    """``(sure, weak)``: the rule types values of this property always read as, and those
    they read as only when a person typed them so. Anything else never reads."""
    kind = declared.reads_as
    if kind == "number":
        return frozenset({"number", "string"}), frozenset()
    if kind in ("date", "datetime"):
        return frozenset({"date", "string"}), frozenset()
    if kind == "bool":
        return frozenset({"bool", "string"}), frozenset()
    if kind == "enumeration":
        sure, weak = {"string"}, set()
        for rule_type, reads in (("number", _reads_number), ("bool", _reads_bool)):
            readable = [o for o in declared.options if reads(o)]
            if declared.options and len(readable) == len(declared.options):
                sure.add(rule_type)
            elif readable or not declared.options:
                weak.add(rule_type)
        return frozenset(sure), frozenset(weak)
    return frozenset({"string"}), frozenset({"number", "date", "bool"})


def _reads_number(option: tuple[str, str]) -> bool:
    return any(read_number(text, thousands=True) is not None for text in option)


def _reads_bool(option: tuple[str, str]) -> bool:
    return any(read_bool(text) is not None for text in option)


def fit_problems(
    leaf: Leaf, reads: Sequence[Read], lists: Mapping[str, Sequence[str]]
) -> list[Finding]:
    """What is wrong with comparing ``leaf`` on these properties (the first is the one
    read; later ones only when it is empty, so their problems are warnings)."""
    wanted = RULE_TYPE.get(leaf.kind)
    if wanted is None:
        return []
    found: list[Finding] = []
    for index, read in enumerate(reads):
        if read.declared is None:
            continue
        problem = _type_problem(leaf, wanted, read, read.declared)
        if problem is not None:
            severity, message, hint = problem
            found.append(("warning" if index else severity, message, hint))
    if wanted == "string" and leaf.op in _VALUE_OPS:
        declared = [r.declared for r in reads if r.declared is not None]
        if declared and all(d.options for d in declared):  # free text may hold anything
            found += _value_problems(leaf, reads[0], declared, lists)
    return found


def _type_problem(leaf: Leaf, wanted: str, read: Read, declared: PropertyType) -> Finding | None:
    sure, weak = supplies(declared)
    if wanted in sure:
        return None
    kind = kind_words(declared)
    compares = f"'{leaf.op}' compares {_TYPE_WORDS[wanted]}, but {read.shown()} is {kind}"
    hint = f"for {kind.split(' (')[0]} use {', '.join(operators_for(sure))}"
    if wanted in weak:
        return (
            "warning",
            f"{compares}: it holds only where someone typed {_ONE[wanted]} there",
            hint,
        )
    return "error", f"{compares}: the condition never holds", hint


def operators_for(sure: Iterable[str]) -> list[str]:
    """The operators (by the registry's declared types) that compare values of this kind;
    text operators only when text is all it holds."""
    types = set(sure)
    if types - {"string"}:
        types.discard("string")
    return [op for op, info in OPS.items() if info.types & types and info.arg != "none"]


def kind_words(declared: PropertyType) -> str:
    """``free text``, ``a number``, ``an enumeration of 7 options (1-5, 5-25, ...)``."""
    kind = declared.reads_as
    if kind != "enumeration":
        words = {
            "number": "a number",
            "date": "a date",
            "datetime": "a date and time",
            "bool": "a yes/no property",
        }
        return words.get(kind, "free text")
    noun = "a multi-select" if declared.is_multi else "an enumeration"
    if not declared.options:
        return noun
    values = [value for value, _ in declared.options]
    listed = ", ".join(values[:_SHOWN_OPTIONS]) + (", …" if len(values) > _SHOWN_OPTIONS else "")
    return f"{noun} of {len(values)} options ({listed})"


def _value_problems(
    leaf: Leaf, read: Read, declared: list[PropertyType], lists: Mapping[str, Sequence[str]]
) -> list[Finding]:
    origin = leaf.origin
    if origin is None:
        return []
    fold = leaf.kind == "istring"
    options = [pair for d in declared for pair in d.options]
    values = {_norm(value, fold) for value, _ in options}
    if origin.list_name:
        written: list[Any] = list(lists.get(origin.list_name, ()))
    else:
        written = origin.written if isinstance(origin.written, list) else [origin.written]
    texts = [w for w in written if isinstance(w, str)]
    missed = [t for t in texts if _norm(t, fold) not in values]
    if origin.list_name:
        missed = _without_labels_of_listed(missed, texts, options, fold)
    if not missed:
        return []
    dead = len(missed) == len(texts)
    severity = "error" if dead else "warning"
    outcome = (
        ("holds for every value" if leaf.op in _NEGATIVE else "never holds")
        if dead
        else "never matches"
    )
    if origin.list_name:
        shown_missed = ", ".join(f"'{m}'" for m in missed[:_SHOWN_OPTIONS])
        more = f" and {len(missed) - _SHOWN_OPTIONS} more" if len(missed) > _SHOWN_OPTIONS else ""
        message = (
            f"{len(missed)} of {len(texts)} entries of list '{origin.list_name}' are not "
            f"options of {read.shown()} ({shown_missed}{more}): "
            f"{'the condition ' + outcome if dead else 'they never match'}"
        )
        return [(severity, message, _option_hint(missed, options, fold))]
    subject = "the condition" if dead else "it"
    return [
        (
            severity,
            f"'{m}' is not an option of {read.shown()}: {subject} {outcome}",
            _option_hint([m], options, fold),
        )
        for m in missed
    ]


def _without_labels_of_listed(
    missed: list[str], texts: list[str], options: list[tuple[str, str]], fold: bool
) -> list[str]:
    """List files serve several sources ("list both" the value and the label): an entry that
    is the label of an option whose value is listed too is meant for another source."""
    listed = {_norm(t, True) for t in texts}
    by_label = {_norm(label, True): value for value, label in options}
    return [m for m in missed if _norm(by_label.get(_norm(m, True), "\0"), True) not in listed]


def _option_hint(missed: list[str], options: list[tuple[str, str]], fold: bool) -> str:
    by_label = {_norm(label, True): value for value, label in options}
    parts = []
    for text in missed[:_SHOWN_OPTIONS]:
        value = by_label.get(_norm(text, True))
        if value is not None and value != text:
            parts.append(f"'{value}' (the value of the option labelled '{text}')")
            continue
        close = closest_options(text, options, fold)
        parts += [f"'{c}'" for c in close if f"'{c}'" not in parts]
    if parts:
        return "did you mean " + " or ".join(parts) + "? The system sends option values"
    values = [v for v, _ in options]
    more = ", …" if len(values) > 3 * _SHOWN_OPTIONS else ""
    return "options: " + ", ".join(values[: 3 * _SHOWN_OPTIONS]) + more


def closest_options(
    text: str, options: Sequence[tuple[str, str]], fold: bool = True, cutoff: float = _CUTOFF
) -> list[str]:
    """Option values whose value or label is close to ``text`` (best first, at most 3)."""
    scored: dict[str, float] = {}
    query = _norm(text, True)
    for value, label in options:
        score = max(_ratio(query, _norm(value, True)), _ratio(query, _norm(label, True)))
        if score >= cutoff:
            scored[value] = max(score, scored.get(value, 0.0))
    return _best(scored)


def closest_properties(name: str, props: Mapping[str, Any], cutoff: float = _CUTOFF) -> list[str]:
    """Property names close to ``name`` by name or by label (best first, at most 3)."""
    query = name.casefold()
    spaced = query.replace("_", " ")
    scored: dict[str, float] = {}
    for prop, declared in props.items():
        title = getattr(declared, "title", "").casefold()
        score = max(_ratio(query, prop.casefold()), _ratio(spaced, title) if title else 0.0)
        if score >= cutoff:
            scored[prop] = score
    return _best(scored)


def _best(scored: Mapping[str, float]) -> list[str]:
    """At most 3, and only those nearly as close as the closest: 'SAL - Accepted' for
    'SAL Accepted', not 'SAL - Rejected' too."""
    ranked = sorted(scored, key=lambda k: (-scored[k], k))[:3]
    return [k for k in ranked if scored[k] >= scored[ranked[0]] - _NEAR]


def shown(prop: str, props: Mapping[str, Any]) -> str:
    """``numemployees (Number of Employees)``: the name to write, and the label people see."""
    title = getattr(props.get(prop), "title", "")
    return f"{prop} ({title})" if title and title.casefold() != prop.casefold() else prop


def _ratio(a: str, b: str) -> float:
    if a == b:
        return 1.0
    matcher = difflib.SequenceMatcher(None, a, b)
    return matcher.ratio() if matcher.quick_ratio() >= _CUTOFF else 0.0


def _norm(text: str, fold: bool) -> str:
    return text.casefold() if fold else text
