"""A loaded ruleset checked against the schema its source declares (``rules check --against``).

``rules check`` alone knows the language, not the portal: ``company.industy`` is a valid
name, ``gt 50`` on a free-text property a valid comparison, ``"Customer"`` a valid value.
On a live system each of these silently never holds. :func:`check_against` compares every
condition with the properties a source connector described (:class:`SourceSchema`):

* every field exists: a canonical field is read from a property the system has (and
  from its fallback), a raw ``<prefix>.<property>`` names one; did-you-mean over the
  system's property names *and* labels (people type the label they see);
* each comparison fits the property's declared type (:mod:`.fitting`);
* values compared with an enumeration are among its options (:mod:`.fitting`);
* a canonical field is not read from a property the system has retired.

Pure: no I/O. Each problem carries the file and line of the condition (its
:class:`~sync_agent.rules.spec.Origin`), or of the configuration option at fault, which
the caller locates (:data:`ConfigSite`). All problems are returned at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sync_agent.errors import Problem
from sync_agent.model import CANONICAL_FIELDS
from sync_agent.rules.derived import DERIVED_FIELDS, days_since_source, is_raw
from sync_agent.rules.fitting import Read, closest_properties, fit_problems, kind_words, shown
from sync_agent.rules.spec import Condition, Leaf, RulesetSpec

if TYPE_CHECKING:  # the schema's shape only; connectors.base imports the rules package
    from connectors.base import SourceSchema

#: ``option path`` (inside the source's instance table) -> ``(file, line, shown option)``,
#: e.g. ``("field_map", "lead_score")`` -> ``("agent.toml", 12, "[connectors.x] field_map.
#: lead_score")``. Given by the caller, who has read the configuration.
ConfigSite = Callable[[tuple[str, ...]], tuple[str, int | None, str]]


@dataclass(frozen=True)
class AgainstReport:
    """Errors (a condition that cannot work on this system) and warnings (one that works
    only in part, or only when people type the right thing)."""

    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def __add__(self, other: AgainstReport) -> AgainstReport:
        return AgainstReport(self.errors + other.errors, self.warnings + other.warnings)

    def to_dicts(self) -> list[dict[str, Any]]:
        """Every problem as a plain dict with its ``severity`` (for ``--json``)."""
        return [
            {
                "severity": severity,
                "file": p.file,
                "line": p.line,
                "location": p.location,
                "message": p.message,
                "hint": p.hint,
            }
            for severity, found in (("error", self.errors), ("warning", self.warnings))
            for p in found
        ]


def leaves(spec: RulesetSpec) -> Iterator[Leaf]:
    """Every comparison of the ruleset, in file order of its sections."""
    for rule in (*spec.gates, *spec.disqualifiers, *spec.fast_lanes):
        yield from _leaves(rule.condition)
    for criterion in spec.criteria:
        for scored in criterion.checks:
            yield from _leaves(scored.condition)


def _leaves(condition: Condition) -> Iterator[Leaf]:
    if isinstance(condition, Leaf):
        yield condition
    else:
        for item in condition.items:
            yield from _leaves(item)


def check_against(
    spec: RulesetSpec, schema: SourceSchema, *, config: ConfigSite | None = None
) -> AgainstReport:
    """Every problem of ``spec``'s conditions on the system ``schema`` describes."""
    check = _Check(spec, schema, config or _no_config)
    for leaf in leaves(spec):
        check.leaf(leaf)
    check.mappings()
    return AgainstReport(tuple(check.errors), tuple(check.warnings))


def _no_config(option: tuple[str, ...]) -> tuple[str, int | None, str]:
    return "", None, ".".join(option)


class _Check:
    """One pass over the conditions, collecting problems; mapping problems once per field."""

    def __init__(self, spec: RulesetSpec, schema: SourceSchema, config: ConfigSite) -> None:
        self.spec, self.schema, self.config = spec, schema, config
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.used: dict[str, list[Leaf]] = {}  # canonical field -> conditions reading it

    def add(self, severity: str, problem: Problem) -> None:
        (self.errors if severity == "error" else self.warnings).append(problem)

    def at(self, leaf: Leaf, message: str, hint: str = "", severity: str = "error") -> None:
        origin = leaf.origin
        file, line, where = (origin.file, origin.line, origin.where) if origin else ("", None, "")
        self.add(severity, Problem(file, where, message, hint, line))

    def leaf(self, leaf: Leaf) -> None:
        name = leaf.field
        source = days_since_source(name)
        if name in DERIVED_FIELDS:
            name = "email"  # email_domain and is_free_email are read from the e-mail
        elif source is not None and name not in CANONICAL_FIELDS and not is_raw(name):
            name = source
        if name in CANONICAL_FIELDS:
            self.canonical(leaf, name, derived=name != leaf.field)
        elif is_raw(name):
            self.raw(leaf, name, derived=name != leaf.field)

    def canonical(self, leaf: Leaf, name: str, *, derived: bool) -> None:
        self.used.setdefault(name, []).append(leaf)
        reads = [r for r in (self.schema.canonical.get(name), self.schema.fallback.get(name)) if r]
        if not reads:
            return  # said once per field, at its first use (see mappings)
        # a missing property is the mapping's problem (see mappings): the others are read
        found = [
            Read(name, prefix, prop, declared)
            for prefix, prop in reads
            if (declared := self.schema.types_for(prefix).get(prop)) is not None
        ]
        if not found or derived:
            return  # a derived value (the e-mail's domain, days since a date) is compared
        for severity, message, hint in fit_problems(leaf, found, self.spec.lists):
            self.at(leaf, message, hint, severity)

    def raw(self, leaf: Leaf, name: str, *, derived: bool) -> None:
        prefix, _, prop = name.partition(".")
        if prefix not in self.schema.namespaces:
            return  # a namespace this source did not describe: nothing to compare with
        props = self.schema.types_for(prefix)
        declared = props.get(prop)
        if declared is None:
            self.at(
                leaf,
                f"'{name}': the source's schema has no {prefix} property '{prop}'",
                _suggest(prefix, prop, props),
            )
            return
        read = Read(name, prefix, prop, declared)
        if declared.retired:
            self.at(leaf, f"'{name}' is retired: {declared.retired}", _instead(prefix, declared))
        if not derived:
            for severity, message, hint in fit_problems(leaf, [read], self.spec.lists):
                self.at(leaf, message, hint, severity)
        elif declared.reads_as not in ("date", "datetime"):
            self.at(
                leaf,
                f"'{leaf.field}' counts the days since {read.shown()}, which is "
                f"{kind_words(declared)}",
                "days_since_<field> needs a date property",
                "warning" if declared.reads_as == "text" else "error",
            )

    def mappings(self) -> None:
        """Each canonical field the ruleset uses is read from properties that exist; no
        canonical field (used or not) is read from a retired one."""
        for name, uses in self.used.items():
            if name not in self.schema.canonical and name not in self.schema.fallback:
                self._unmapped(name, uses)
        for name in sorted({*self.schema.canonical, *self.schema.fallback}):
            uses = self.used.get(name, [])
            for role, pair in (
                ("", self.schema.canonical.get(name)),
                (" when that is empty", self.schema.fallback.get(name)),
            ):
                if pair is not None:
                    self._mapped(name, pair, role, uses)

    def _unmapped(self, name: str, uses: list[Leaf]) -> None:
        _, _, option = self.config(self._option(name))
        offered = self.schema.suggested.get(name, ())
        choice = " or ".join(f'"{p}"' for p in offered) if offered else '"<property>"'
        more = f" ({len(uses)} conditions use it)" if len(uses) > 1 else ""
        self.at(
            uses[0],
            f"'{name}' is not mapped from any property of this source: the field is always "
            f"missing{more}",
            f"map it: {option} = {choice}",
            "warning",
        )

    def _mapped(self, name: str, pair: tuple[str, str], role: str, uses: list[Leaf]) -> None:
        prefix, prop = pair
        props = self.schema.types_for(prefix)
        if not props:
            return  # this namespace was not described
        declared = props.get(prop)
        file, line, option = self.config(self._option(name, fallback=bool(role)))
        used = f" (used by {_first_use(uses)})" if uses else ""
        if declared is None and uses:
            self.add(
                "error",
                Problem(
                    file,
                    option,
                    f"'{name}' is read{role} from {prefix}.{prop}, which the source's "
                    f"schema does not have{used}",
                    _suggest(prefix, prop, props),
                    line,
                ),
            )
        elif declared is not None and declared.retired:
            self.add(
                "error" if uses else "warning",
                Problem(
                    file,
                    option,
                    f"'{name}' is read from {prefix}.{prop}, which is retired: "
                    f"{declared.retired}{used}",
                    _instead(prefix, declared),
                    line,
                ),
            )

    def _option(self, name: str, *, fallback: bool = False) -> tuple[str, ...]:
        """The instance option mapping ``name`` (its fallback: the plain field map)."""
        if not fallback and name in self.schema.mapped_by:
            return tuple(self.schema.mapped_by[name])
        return ("field_map", name)


def _first_use(uses: list[Leaf]) -> str:
    first = uses[0].origin
    where = f"{first.where} at {first.file}:{first.line}" if first else uses[0].field
    more = f" and {len(uses) - 1} more condition(s)" if len(uses) > 1 else ""
    return where + more


def _suggest(prefix: str, prop: str, props: Mapping[str, Any]) -> str:
    close = closest_properties(prop, props)
    if close:
        return "did you mean " + " or ".join(f"{prefix}.{shown(n, props)}" for n in close) + "?"
    return f"list the properties with the source's tools; {prefix}.<name> uses the internal name"


def _instead(prefix: str, declared: Any) -> str:
    if declared.instead:
        listed = ", ".join(f"'{name}'" for name in declared.instead)
        return f"use one of the current properties instead: {listed}"
    return f"no current replacement is known: choose another {prefix} property"
