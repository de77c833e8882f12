"""Hostile inputs for the rules engine, as hypothesis strategies, and what each must survive.

Shared by the test suite (tests/rules/test_fuzz.py, a few seconds' budget) and by
``bench/fuzz.py`` (a longer run). Three ways in, as admins and strangers reach them:

* a ruleset file (``load_ruleset`` / ``rules check``): TOML built from a small grammar of
  rules with hostile leaves, or the shipped ``sal.toml`` with one line replaced;
* a rule test file (``run_rule_tests`` / ``rules test``);
* a lead (``evaluate`` plus both renderings / ``rules explain --lead``), as JSON text.

The promise checked: no exception but the documented ``RulesError`` from the library,
exit codes 0, 1 or 2 from the CLI, never a traceback, output that is valid UTF-8.
"""

# ruff: noqa: E501 - tables of hostile snippets read best one per line

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import strategies as st
from rich.console import Console

from sync_agent.cli import main
from sync_agent.errors import RulesError
from sync_agent.model import CANONICAL_FIELDS
from sync_agent.rules import check_rulesets, evaluate, load_ruleset, run_rule_tests
from sync_agent.rules.operators import OPS
from sync_agent.rules.render import decision_json, decision_table

ROOT = Path(__file__).resolve().parent.parent
SAL_TEXT = (ROOT / "rules" / "sal.toml").read_text("utf-8")
LISTS = {p.name: p.read_text("utf-8") for p in (ROOT / "rules" / "lists").glob("*.txt")}
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

# --- TOML pieces ---------------------------------------------------------------------------
HOSTILE_NUMBERS = [
    "1" * 5000, "0x" + "f" * 5000, "1" + "0" * 400, "-1" + "0" * 400, "1e400", "-1e400", "inf",
    "nan", "0o777", "1_000", "-0", "9" * 4300, "0b" + "1" * 3000, "12.5", "70", "0", "-5",
]  # fmt: skip
HOSTILE_TEXT = [
    '"\\b(student|intern)\\b"', "'^(\\w+\\s?)+$'", "'(vp)\\s+\\1'", "'(?=x)'", "'(?<!a)b'",
    "'['", "'a{1001}'", '"\\u0000"', '"\\u001b[31mred"', '"tab\\there"', '""', '" "',
    '"' + "x" * 3000 + '"', "'" + "(a|a)*" * 50 + "'", '"ÉTUDIANT"', "'\\pL+'", '"\\u00ad"',
]  # fmt: skip
HOSTILE_PATHS = [
    '"/dev/zero"', '"../outside.txt"', '"/etc/passwd"', '"a\\u0000b.txt"', '"' + "p" * 300 + '"',
    '"lists"', '"lists/none.txt"', '"."', '""', '"lists/../lists/none.txt"', '"C:\\\\x.txt"',
]  # fmt: skip
FIELDS = [*CANONICAL_FIELDS, "email_domain", "is_free_email", "days_since_mql_date",
          "days_since(hubspot.x)", "hubspot.x", "salesforce.Y", "nope", ""]  # fmt: skip
OP_NAMES = [*OPS, "betwen", ">=", "regex", ""]
LIST_NAMES = ["none", "countries_served", "competitor_domains", "missing", "../x", "a\\u0000"]


def _quoted(values: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(values)


scalar_text = st.one_of(
    _quoted(HOSTILE_NUMBERS),
    _quoted(HOSTILE_TEXT),
    st.integers(-(10**6), 10**6).map(str),
    st.text(max_size=30).map(json.dumps),
    st.sampled_from(["true", "false", "2026-01-31", "2026-01-31T09:00:00Z", "[]", "{}"]),
)
toml_value: st.SearchStrategy[str] = st.recursive(
    scalar_text,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(st.sampled_from(["field", "op", "value", "list", "all", "any", "not",
                                         "points", "when", "x"]), inner, max_size=4).map(
            lambda d: "{" + ", ".join(f"{k} = {v}" for k, v in d.items()) + "}"),
    ),
    max_leaves=12,
)  # fmt: skip


@st.composite
def condition_lines(draw: st.DrawFn) -> list[str]:
    """A rule's condition as lines: inline, or under ``when`` nested by dotted keys."""
    field = json.dumps(draw(st.sampled_from(FIELDS)))
    op = json.dumps(draw(st.sampled_from(OP_NAMES)))
    depth = draw(st.sampled_from([0, 1, 3, 70, 400, 1000]))
    prefix = "when" + ".not" * depth + "." if depth else ""
    lines = [f"{prefix}field = {field}", f"{prefix}op = {op}"]
    choice = draw(st.integers(0, 3))
    if choice == 1:
        lines.append(f"{prefix}value = {draw(toml_value)}")
    elif choice == 2:
        name = draw(st.sampled_from(LIST_NAMES))
        lines.append(f'{prefix}list = "{name}"')
    elif choice == 3:
        lines.append(f"{prefix}case_sensitive = {draw(st.sampled_from(['true', '3']))}")
    return lines


@st.composite
def ruleset_texts(draw: st.DrawFn) -> str:
    """A ruleset: a grammar of sections with hostile leaves, or sal.toml with one line swapped."""
    if draw(st.booleans()):
        lines = SAL_TEXT.splitlines()
        index = draw(st.integers(0, len(lines) - 1))
        key = lines[index].split("=", 1)[0] if "=" in lines[index] else "x"
        replacement = draw(st.one_of(
            toml_value.map(lambda v: f"{key}= {v}"),
            condition_lines().map("\n".join),
            st.sampled_from(["[[gates]]", "[lists]", "]]", "[threshold]", "checks = ["]),
        ))  # fmt: skip
        return "\n".join([*lines[:index], replacement, *lines[index + 1 :]]) + "\n"
    out = ["[ruleset]", "name = " + draw(st.sampled_from(['"r"', "5", '""']))]
    out += ["[threshold]", f"accept_at = {draw(st.one_of(_quoted(HOSTILE_NUMBERS), st.just('70')))}"]
    if draw(st.booleans()):
        out += ["[lists]", f"extra = {draw(st.one_of(_quoted(HOSTILE_PATHS), toml_value))}",
                'inline = ["a", "b"]']  # fmt: skip
    for section in draw(st.lists(st.sampled_from(["gates", "disqualifiers", "fast_lanes"]),
                                 max_size=4)):  # fmt: skip
        out += [f"[[{section}]]", f'name = "{draw(st.sampled_from(["a", "b"]))}"']
        out += draw(condition_lines())
    out += ["[[criteria]]", 'name = "c"', "weight = " + draw(st.sampled_from(["100", *HOSTILE_NUMBERS]))]
    scoring = draw(st.sampled_from(["all", "points", "tiers", "share", "nope"]))
    out.append(f'scoring = "{scoring}"')
    points = draw(st.sampled_from(["10", *HOSTILE_NUMBERS]))
    if scoring == "tiers":
        when = '{ field = "lead_score", op = "gte", value = 1 }'
        out.append(f"tiers = [ {{ when = {when}, points = {points} }} ]")
    else:
        out.append(f'checks = [ {{ field = "email", op = "present", points = {points} }} ]')
    return "\n".join(out) + "\n"


@st.composite
def test_file_texts(draw: st.DrawFn) -> str:
    """A rule test file for the ruleset ``../sal.toml``, with hostile keys and values."""
    ruleset = draw(st.sampled_from(['"../sal.toml"', *HOSTILE_PATHS, "5", "[]"]))
    now = draw(st.sampled_from(["2026-11-25T12:00:00Z", '"yesterday"', "2026-11-25", "5"]))
    out = [f"ruleset = {ruleset}", f"now = {now}", "[base]", 'email = "dana@northwind.io"',
           'country = "US"', f"lead_score = {draw(toml_value)}"]  # fmt: skip
    keys = ["name", "lead", "unset", "expect", "reason", "reasons", "score", "fast_lane", "now", "x"]
    for _ in range(draw(st.integers(0, 3))):
        out.append("[[cases]]")
        for key in draw(st.lists(st.sampled_from(keys), max_size=5, unique=True)):
            value = draw(st.one_of(toml_value, st.sampled_from(['"accepted"', '["a"]', "[[]]"])))
            out.append(f"{key} = {value}")
        if draw(st.booleans()):
            depth = draw(st.sampled_from([1, 100, 600]))
            out.append("lead" + ".a" * depth + " = 1")
    return "\n".join(out) + "\n"


def _nested(depth: int, inner: str) -> str:
    return "[" * depth + inner + "]" * depth


json_value = st.one_of(
    st.text(max_size=40).map(json.dumps),
    st.sampled_from([
        '"\\ud800"', '"a\\udfffb"', '"\\u0000"', "9" * 5000, "-" + "9" * 4000, "1e400", "-0.0",
        "true", "null", '"1,200"', '"2026-11-02"', '"1762079400000"', '"nan"', "[]", "{}",
        '"' + "x" * 100_000 + '"', '"Head of ' + "a" * 60 + '!"',
    ]),
    st.sampled_from([10, 500, 950, 2000]).map(lambda d: _nested(d, "1")),
    st.sampled_from([10, 900]).map(lambda d: '{"a": ' * d + "1" + "}" * d),
)  # fmt: skip


@st.composite
def lead_texts(draw: st.DrawFn) -> str:
    """A lead as JSON text: an object of fields (some nested, some hostile), or not a lead."""
    fields = draw(st.lists(st.sampled_from([*CANONICAL_FIELDS, "hubspot", "hubspot.x", "\\ud800"]),
                           max_size=6, unique=True))  # fmt: skip
    body = ", ".join(f'"{name}": {draw(json_value)}' for name in fields)
    text = "{" + body + "}"
    wrap = draw(st.integers(0, 6))
    if wrap == 1:
        return '{"fields": ' + text + "}"
    if wrap == 2:
        return draw(st.sampled_from(["[1]", '"x"', "{", "", "null", "9" * 5000]))
    return text


# --- What every input must survive ----------------------------------------------------------
def _deep(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


HOSTILE_LEADS: list[dict[str, Any]] = [
    {"title": "a" * 64 + "!", "email": "\udc80@x.io", "country": "\ud800", "phone": "\ud800"},
    {"title": _deep(900), "email": _deep(900), "hubspot": {"x": _deep(900)}, "employees": 10**400},
    {"title": "x" * 200_000, "lead_score": "9" * 5000, "employees": 10**5000, "mql_date": "2026"},
]


def _render(decision: Any) -> None:
    out = io.StringIO()
    Console(file=out, width=120).print(decision_table(decision))
    out.getvalue().encode("utf-8")
    json.loads(decision_json(decision).encode("utf-8"))


def _assert_problems(exc: RulesError) -> None:
    assert exc.problems, "a RulesError lists its problems"
    for problem in exc.problems:
        assert problem.file and problem.message, problem
        assert len(str(problem)) < 5_000, "problems never echo huge values"


def _folder(folder: Path) -> None:
    (folder / "lists").mkdir()
    for name, text in LISTS.items():
        (folder / "lists" / name).write_text(text, "utf-8")
    (folder / "lists" / "none.txt").write_text("# none yet\n", "utf-8")


def check_ruleset_text(text: str) -> None:
    """``load_ruleset`` gives a Ruleset or a RulesError; a Ruleset decides hostile leads."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _folder(folder)
        path = folder / "r.toml"
        path.write_text(text, "utf-8")
        try:
            ruleset = load_ruleset(path)
        except RulesError as exc:
            _assert_problems(exc)
        else:
            for lead in HOSTILE_LEADS:
                _render(evaluate(lead, ruleset, NOW))
        report = check_rulesets(path)
        assert report.ok == (not report.problems and bool(report.rulesets))


def check_test_file_text(text: str) -> None:
    """``run_rule_tests`` always returns a report, whatever the test file holds."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _folder(folder)
        (folder / "sal.toml").write_text(SAL_TEXT, "utf-8")
        (folder / "tests").mkdir()
        path = folder / "tests" / "cases.toml"
        path.write_text(text, "utf-8")
        report = run_rule_tests(path)
        for result in report.results:
            if result.decision is not None:
                _render(result.decision)
        assert report.summary()


def check_lead_text(text: str) -> None:
    """Any JSON text that is a lead gets a decision both renderings can show."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # what `rules explain` reports as bad JSON
        return
    if isinstance(data, dict) and isinstance(data.get("fields"), dict):
        data = data["fields"]
    if isinstance(data, dict):
        _render(evaluate(data, SAL, NOW))


SAL = load_ruleset(ROOT / "rules" / "sal.toml")


def run_cli(args: list[str], stdin: str | None = None) -> int:
    """One CLI run: exit 0, 1 or 2, no traceback, no exception escaping click."""
    result = CliRunner().invoke(main, args, input=stdin)
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output[-2000:])
    assert "Traceback" not in result.output, result.output[-2000:]
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code


def check_cli_ruleset(text: str) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _folder(folder)
        path = folder / "r.toml"
        path.write_text(text, "utf-8")
        run_cli(["rules", "check", str(path)])
        run_cli(["rules", "explain", "--lead", "-", "--ruleset", str(path)], stdin="{}")


def check_cli_test_file(text: str) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _folder(folder)
        (folder / "sal.toml").write_text(SAL_TEXT, "utf-8")
        path = folder / "cases.toml"
        path.write_text(text.replace('"../sal.toml"', '"sal.toml"'), "utf-8")
        run_cli(["rules", "test", str(path)])


def check_cli_lead(text: str) -> None:
    sal = str(ROOT / "rules" / "sal.toml")
    for extra in ([], ["--json"]):
        run_cli(["rules", "explain", "--lead", "-", "--ruleset", sal, *extra], stdin=text)


#: (name, strategy, check): every fuzz target, library first, then through the CLI.
TARGETS: list[tuple[str, st.SearchStrategy[str], Callable[[str], None]]] = [
    ("ruleset", ruleset_texts(), check_ruleset_text),
    ("rule_tests", test_file_texts(), check_test_file_text),
    ("lead", lead_texts(), check_lead_text),
    ("cli_ruleset", ruleset_texts(), check_cli_ruleset),
    ("cli_rule_tests", test_file_texts(), check_cli_test_file),
    ("cli_lead", lead_texts(), check_cli_lead),
]
