"""``rules test``: example leads with expected outcomes, like ``opa test`` for policies.

A test file (``rules/tests/*.toml``)::

    ruleset = "../sal.toml"            # relative to the test file
    now = 2026-11-25T12:00:00Z         # the clock for every case (date conditions)

    [types]                            # optional: the declared type of the property
    industry = { type = "enumeration", field_type = "checkbox" }   # behind a field

    [base]                             # optional: fields every case starts from
    email = "dana@northwind.io"

    [[cases]]
    name = "free mail is rejected"
    lead = { email = "dana@gmail.com" } # merged over [base]; "" blanks a field
    unset = ["phone"]                   # optional: fields removed from [base]
    expect = "rejected"                 # accepted | rejected | review
    reason = "gate:business_email"      # optional: must be among the reasons
    score = 42.5                        # optional, to 0.01
    fast_lane = "trial_and_webinar"     # optional ("" = no fast lane)

With ``[types]``, a case's value for such a field is read as the mapping reads it from a
source that declares that type (:func:`~sync_agent.rules.reading.read_value`): ``"A;B"``
of a checkbox property is two options, ``"100-500"`` of an enumeration a range.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sync_agent.errors import Problem
from sync_agent.model import CANONICAL_FIELDS, Decision, Outcome
from sync_agent.rules.coverage import uncovered
from sync_agent.rules.lists import display_path
from sync_agent.rules.reading import PropertyType, read_value
from sync_agent.rules.ruleset import Ruleset, try_load
from sync_agent.rules.scan import scan_document
from sync_agent.rules.source import Locator, path_kind, read_toml

_CASE_KEYS = frozenset(
    {"name", "lead", "unset", "expect", "reason", "reasons", "score", "fast_lane", "now"}
)


@dataclass(frozen=True)
class CaseResult:
    """One case: what was expected, the decision, and a diff when they differ."""

    file: str
    name: str
    passed: bool
    decision: Decision | None
    diff: tuple[str, ...] = ()
    problem: str = ""


@dataclass(frozen=True)
class TestReport:
    """Every case result, problems with the test files, and what the cases leave untested."""

    __test__ = False  # not a pytest class

    results: tuple[CaseResult, ...]
    problems: tuple[Problem, ...]
    uncovered: dict[str, tuple[str, ...]]

    @property
    def failures(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.failures and bool(self.results)

    def summary(self) -> str:
        passed = len(self.results) - len(self.failures)
        text = f"{passed} of {len(self.results)} rule test case(s) passed"
        return text + (f", {len(self.problems)} problem(s) in test files" if self.problems else "")


def run_rule_tests(
    path: str | Path = "rules/tests", *, raw_prefixes: Collection[str] | None = None
) -> TestReport:
    """Run every case in a test file or in the ``*.toml`` files of a folder."""
    root = Path(path)
    kind = path_kind(root)
    files = sorted(root.glob("*.toml")) if kind == "dir" else [root] if kind == "file" else []
    if not files:
        why = "" if kind in ("dir", "missing") else f" ({kind})"
        missing = Problem(
            display_path(root), "", f"no rule test files (*.toml) here{why}", "see docs/rules.md"
        )
        return TestReport((), (missing,), {})
    runner = _Runner(raw_prefixes)
    for file in files:
        runner.run_file(file)
    gaps = {
        rs.name: tuple(uncovered(rs, runner.decisions[key]))
        for key, rs in runner.rulesets.items()
        if rs
    }
    return TestReport(tuple(runner.results), tuple(runner.problems), gaps)


class _Runner:
    def __init__(self, raw_prefixes: Collection[str] | None = None) -> None:
        self.raw_prefixes = raw_prefixes
        self.results: list[CaseResult] = []
        self.problems: list[Problem] = []
        self.rulesets: dict[Path, Ruleset | None] = {}
        self.decisions: dict[Path, list[Decision]] = {}

    def run_file(self, file: Path) -> None:
        display = display_path(file)
        read = read_toml(file, display)
        if isinstance(read, Problem):
            self.problems.append(read)
            return
        text, doc = read
        scanned = scan_document(doc, Locator(text), display)
        if scanned:
            self.problems.extend(scanned)
            return
        ruleset_path = ruleset_of(file, doc)
        if isinstance(ruleset_path, str):
            self.problems.append(
                Problem(display, "ruleset", ruleset_path, 'ruleset = "../sal.toml"')
            )
            return
        ruleset = self._ruleset(ruleset_path)
        types, problems = declared_types(doc.get("types"), display)
        if problems:
            self.problems.extend(problems)
            return
        now = _as_now(doc.get("now"))
        base = doc.get("base", {})
        cases = doc.get("cases")
        if (
            ruleset is None
            or now is None
            or not isinstance(base, dict)
            or not isinstance(cases, list)
        ):
            self.problems.append(_file_problem(display, ruleset, now, base, cases))
            return
        for index, case in enumerate(cases):
            result = _run_case(display, index, case, base, types, ruleset, now)
            self.results.append(result)
            if result.decision is not None:
                self.decisions[ruleset_path].append(result.decision)

    def _ruleset(self, path: Path) -> Ruleset | None:
        if path not in self.rulesets:
            ruleset, problems = try_load(path, raw_prefixes=self.raw_prefixes)
            self.rulesets[path] = ruleset
            self.decisions[path] = []
            self.problems.extend(problems)
        return self.rulesets[path]


def ruleset_of(test_file: Path, doc: dict[str, Any]) -> Path | str:
    """The ruleset a test file tests: its ``ruleset`` key (default ``../sal.toml``),
    relative to the test file; or why that key is not a usable path."""
    name = doc.get("ruleset", "../sal.toml")
    if not isinstance(name, str) or not name.strip():
        return "ruleset must be the path of the ruleset file, in quotes"
    if "\x00" in name:
        return "the ruleset path contains a NUL character"
    try:
        return (test_file.parent / name).resolve()
    except (OSError, ValueError) as exc:
        return f"the ruleset path cannot be used: {getattr(exc, 'strerror', None) or exc}"


def count_cases(ruleset: Path, tests: Path) -> int:
    """How many cases in the ``*.toml`` files of ``tests`` test ``ruleset``
    (what ``rules check`` warns about when it is 0)."""
    if path_kind(tests) != "dir":
        return 0
    target, count = ruleset.resolve(), 0
    for file in sorted(tests.glob("*.toml")):
        read = read_toml(file, display_path(file))
        if isinstance(read, Problem) or ruleset_of(file, read[1]) != target:
            continue
        cases = read[1].get("cases")
        count += len(cases) if isinstance(cases, list) else 0
    return count


_TYPE_KEYS = frozenset({"type", "field_type", "options", "multi"})
_TYPE_HINT = 'e.g. industry = { type = "enumeration", field_type = "checkbox" }'


def declared_types(table: Any, display: str) -> tuple[dict[str, PropertyType], list[Problem]]:
    """``[types]``: canonical field -> the declared type of the property behind it, and
    every problem with the table (a field that is not canonical, a key of the wrong type)."""
    if table is None:
        return {}, []
    if not isinstance(table, dict):
        return {}, [Problem(display, "types", "[types] must be a table of field = { type = ... }",
                            _TYPE_HINT)]  # fmt: skip
    found: dict[str, PropertyType] = {}
    problems: list[Problem] = []
    for field, spec in table.items():
        error = _type_error(field, spec)
        if error:
            problems.append(Problem(display, f"types.{field}", error, _TYPE_HINT))
            continue
        pairs = spec.get("options", ())
        options = tuple((o, o) if isinstance(o, str) else (o[0], o[1]) for o in pairs)
        found[field] = PropertyType(
            field, spec["type"], spec.get("field_type", ""), options, spec.get("multi", False)
        )
    return found, problems


def _type_error(field: str, spec: Any) -> str:
    """Why ``field = spec`` is not a declared type, or ""."""
    if field not in CANONICAL_FIELDS:
        return f"unknown canonical field {field!r}: [types] describes the fields the mapping reads"
    if not isinstance(spec, dict):
        return "must be a table: { type = ..., field_type = ..., options = [...], multi = ... }"
    unknown = sorted(set(spec) - _TYPE_KEYS)
    if unknown:
        return f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_TYPE_KEYS))}"
    if not isinstance(spec.get("type"), str) or not spec["type"].strip():
        return "type must be the property's declared type, e.g. \"enumeration\" or \"number\""
    if not isinstance(spec.get("field_type", ""), str):
        return "field_type must be a text, e.g. \"checkbox\""
    if not isinstance(spec.get("multi", False), bool):
        return "multi must be true or false"
    options = spec.get("options", [])
    if not isinstance(options, list) or not all(map(_is_option, options)):
        return 'options must be an array of values or [value, label] pairs: [["opt_1", "1-50"]]'
    return ""


def _is_option(option: Any) -> bool:
    """An option is its value, or a ``[value, label]`` pair."""
    return isinstance(option, str) or (_texts(option) and len(option) == 2)


def _as_now(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def _file_problem(display: str, ruleset: Any, now: Any, base: Any, cases: Any) -> Problem:
    if ruleset is None:
        return Problem(
            display,
            "ruleset",
            "the ruleset of these cases does not load",
            'ruleset = "../sal.toml"',
        )
    if now is None:
        return Problem(
            display, "now", "missing now (a date-time)", "now = 2026-11-25T12:00:00Z"
        )
    if not isinstance(base, dict):
        return Problem(display, "base", "[base] must be a table of lead fields")
    return Problem(display, "cases", "missing [[cases]]", "add [[cases]] with lead and expect")


def _run_case(
    display: str,
    index: int,
    case: Any,
    base: dict[str, Any],
    types: dict[str, PropertyType],
    ruleset: Ruleset,
    now: datetime,
) -> CaseResult:
    name = case.get("name") if isinstance(case, dict) else None
    name = name if isinstance(name, str) else f"case {index + 1}"
    error = _case_error(case)
    if error:
        return CaseResult(display, name, False, None, problem=error)
    unset = set(case.get("unset", []))
    lead = {k: v for k, v in base.items() if k not in unset}
    lead.update(case.get("lead", {}))
    for field, declared in types.items():
        if field in lead:
            lead[field] = read_value(lead[field], CANONICAL_FIELDS[field], declared)
    decision = ruleset.evaluator(lead, _as_now(case.get("now")) or now)
    expected, actual = _expected_lines(case), _actual_lines(case, decision)
    if expected == actual:
        return CaseResult(display, name, True, decision)
    diff = difflib.unified_diff(
        expected, actual, "expected", "actual", lineterm="", n=len(expected)
    )
    return CaseResult(display, name, False, decision, tuple(diff))


def _case_error(case: Any) -> str:
    """Why a case cannot run (each key of the wrong type), or ""."""
    if not isinstance(case, dict):
        return "a case must be a table"
    unknown = sorted(set(case) - _CASE_KEYS)
    if unknown:
        return f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_CASE_KEYS))}"
    checks = (
        ("expect", lambda v: isinstance(v, str) and v in _OUTCOMES,
         "expect must be accepted, rejected or review"),
        ("name", _is_text, "name must be a text"),
        ("lead", lambda v: isinstance(v, dict), "lead must be a table of lead fields"),
        ("unset", _texts, "unset must be an array of field names"),
        ("reason", _is_text, "reason must be a text: one of the decision's reasons"),
        ("reasons", _texts, "reasons must be an array of texts: exactly the decision's reasons"),
        ("score", _is_number, "score must be a number"),
        ("fast_lane", _is_text, 'fast_lane must be a text (the fast lane\'s name, "" for none)'),
        ("now", lambda v: isinstance(v, datetime), "now must be a date-time: 2026-11-25T12:00:00Z"),
    )  # fmt: skip
    for key, valid, message in checks:
        if (key in case or key == "expect") and not valid(case.get(key)):
            return message
    return ""


_OUTCOMES = frozenset(o.value for o in Outcome)


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _expected_lines(case: dict[str, Any]) -> list[str]:
    lines = [f"outcome: {case['expect']}"]
    if "score" in case:
        lines.append(f"score: {float(case['score']):g}")
    if "reason" in case:
        lines.append(f"reason: {case['reason']}")
    if "reasons" in case:
        lines.append(f"reasons: {', '.join(case['reasons'])}")
    if "fast_lane" in case:
        lines.append(f"fast_lane: {case['fast_lane'] or '(none)'}")
    return lines


def _actual_lines(case: dict[str, Any], decision: Decision) -> list[str]:
    lines = [f"outcome: {decision.outcome.value}"]
    if "score" in case:
        close = abs(decision.score - float(case["score"])) < 0.01
        lines.append(f"score: {float(case['score']) if close else decision.score:g}")
    if "reason" in case:
        has = case["reason"] in decision.reasons
        lines.append(f"reason: {case['reason'] if has else ' | '.join(decision.reasons)}")
    if "reasons" in case:
        lines.append(f"reasons: {', '.join(decision.reasons)}")
    if "fast_lane" in case:
        lines.append(f"fast_lane: {decision.fast_lane or '(none)'}")
    return lines
