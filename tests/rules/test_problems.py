"""Broken rulesets: every problem is found at once, located, and explained with a hint,
through the library (load_ruleset / check_rulesets) and through `sync-agent rules check`."""

# ruff: noqa: E501 - tables of rule snippets and leads read best one case per line

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sync_agent.cli import main
from sync_agent.errors import Problem, RulesError
from sync_agent.rules import check_rulesets, load_ruleset

GOOD_TAIL = """
[threshold]
accept_at = 70

[[criteria]]
name = "score"
weight = 100
checks = [ { field = "lead_score", op = "gte", value = 70 } ]
"""

# (id, ruleset text, expected substrings of one problem's text, expected line or None)
BROKEN: list[tuple[str, str, list[str], int | None]] = [
    ("broken_toml", 'name = "x"\n[threshold\naccept_at = 70\n', ["broken TOML", "hint"], 2),
    ("unknown_field",
     GOOD_TAIL + '\n[[gates]]\nname = "g"\nfield = "emplyees"\nop = "gt"\nvalue = 5\n',
     ["gates.g.field", "unknown field 'emplyees'", "did you mean 'employees'"], 12),
    ("unknown_operator",
     GOOD_TAIL + '\n[[gates]]\nname = "g"\nfield = "employees"\nop = "betwen"\nvalue = [1, 2]\n',
     ["gates.g.op", "unknown operator 'betwen'", "did you mean 'between'"], 13),
    ("bad_regex",
     GOOD_TAIL + "\n[[disqualifiers]]\nname = \"d\"\nfield = \"title\"\nop = \"matches\"\nvalue = '(vp|head'\n",
     ["disqualifiers.d.value", "bad regular expression", "missing )"], 14),
    ("wrong_value_type",
     GOOD_TAIL + '\n[[gates]]\nname = "g"\nfield = "employees"\nop = "gte"\nvalue = "fifty"\n',
     ["gates.g.value", "wrong value type", "expected 'number'", "without quotes"], 14),
    ("weights_not_100",
     GOOD_TAIL.replace("weight = 100", "weight = 90"),
     ["criteria", "weights add up to 90, not 100"], 5),
    ("missing_list_file",
     GOOD_TAIL + '\n[[gates]]\nname = "g"\nfield = "country"\nop = "in"\nlist = "nowhere"\n',
     ["gates.g.list", "list 'nowhere' not found", "lists/nowhere.txt", "create"], 14),
    ("duplicate_names",
     GOOD_TAIL + '\n[[gates]]\nname = "g"\nfield = "email"\nop = "present"\n'
     '\n[[gates]]\nname = "g"\nfield = "phone"\nop = "present"\n',
     ["gates[1].name", "duplicate name 'g'"], 16),
    ("unknown_top_level_key", GOOD_TAIL + '\n[gatez]\nx = 1\n', ["unknown top-level key 'gatez'", "did you mean 'gates'"], 10),
    ("missing_threshold", GOOD_TAIL.replace("[threshold]\naccept_at = 70\n", ""), ["missing [threshold]", "accept_at"], None),
    ("type_mismatch_operator",
     GOOD_TAIL + '\n[[gates]]\nname = "g"\nfield = "country"\nop = "gt"\nvalue = 3\n',
     ["operator 'gt' needs a date or number field", "'country' is a string"], 13),
    ("empty", "", ["the file is empty"], None),
    ("only_comments", "# nothing here\n\n   # still nothing\n", ["the file is empty"], None),
]  # fmt: skip


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(text, "utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected", "line"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_library_reports_the_problem_with_location_and_hint(
    tmp_path: Path, text: str, expected: list[str], line: int | None
) -> None:
    with pytest.raises(RulesError) as caught:
        load_ruleset(_write(tmp_path, text))
    match = _find(caught.value.problems, expected)
    assert match.file.endswith("broken.toml")
    assert match.hint
    if line is not None:
        assert match.line == line


@pytest.mark.parametrize(
    ("text", "expected", "line"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_cli_check_exits_1_with_a_clear_message(
    tmp_path: Path, text: str, expected: list[str], line: int | None
) -> None:
    result = CliRunner().invoke(main, ["rules", "check", str(_write(tmp_path, text))])
    assert result.exit_code == 1
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(
        result.exception, SystemExit
    )
    assert all(part in result.output for part in expected), result.output
    assert "broken.toml" in result.output
    if line is not None:
        assert f"broken.toml:{line}:" in result.output


def _find(problems: list[Problem], expected: list[str]) -> Problem:
    for problem in problems:
        if all(part in str(problem) for part in expected):
            return problem
    raise AssertionError(f"no problem with {expected} in {[str(p) for p in problems]}")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x01\x02binary\xff", "binary file"),
        ("name = 'caf\xe9'\n".encode("latin-1"), "not valid UTF-8"),
    ],
    ids=["binary", "latin1"],
)
def test_unreadable_bytes_are_reported_not_raised(
    tmp_path: Path, data: bytes, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(data)
    report = check_rulesets(path)
    assert not report.ok and message in str(report.problems[0])
    result = CliRunner().invoke(main, ["rules", "check", str(path)])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    "text", ["x = " + "[" * 5000 + "]" * 5000, "x = " + "{a = " * 3000 + "1" + "}" * 3000]
)
def test_absurdly_nested_files_are_a_problem_not_a_crash(tmp_path: Path, text: str) -> None:
    report = check_rulesets(_write(tmp_path, text + "\n"))
    assert not report.ok and "nested too deeply" in str(report.problems[0])


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD_TAIL.replace("weight = 100", "weight = 50") + (
        '\n[[gates]]\nname = "a"\nfield = "contry"\nop = "in"\nvalue = ["DE"]\n'
        '\n[[gates]]\nname = "b"\nfield = "title"\nop = "matches"\nvalue = "["\n'
        '\n[[disqualifiers]]\nname = "c"\nfield = "email"\nop = "isin"\nvalue = ["x"]\n'
    )
    with pytest.raises(RulesError) as caught:
        load_ruleset(_write(tmp_path, text))
    texts = " | ".join(str(p) for p in caught.value.problems)
    for part in (
        "weights add up to 50",
        "unknown field 'contry'",
        "bad regular expression",
        "unknown operator 'isin'",
    ):
        assert part in texts
    assert len(caught.value.problems) == 4


def test_directory_checks_each_ruleset_and_skips_subfolders(tmp_path: Path) -> None:
    (tmp_path / "good.toml").write_text(GOOD_TAIL, "utf-8")
    (tmp_path / "bad.toml").write_text(GOOD_TAIL.replace('"gte"', '"gtee"'), "utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "cases.toml").write_text("not = [a ruleset", "utf-8")
    (tmp_path / "lists").mkdir()
    report = check_rulesets(tmp_path)
    assert len(report.files) == 2
    assert [r.name for r in report.rulesets] == ["good"]
    assert {Path(p.file).name for p in report.problems} == {"bad.toml"}
    result = CliRunner().invoke(main, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 1 and "1 error(s) in 1 of 2 file(s)" in result.output


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    assert "no such file" in str(check_rulesets(tmp_path / "nope").problems[0])
    assert "no ruleset" in str(check_rulesets(tmp_path).problems[0])
    assert CliRunner().invoke(main, ["rules", "check", str(tmp_path)]).exit_code == 1


def test_a_valid_ruleset_passes_with_a_one_line_summary(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "cases.toml").write_text(
        'ruleset = "../broken.toml"\nnow = 2026-01-01T00:00:00Z\n'
        '[[cases]]\nlead = { lead_score = 80 }\nexpect = "accepted"\n',
        "utf-8",
    )
    result = CliRunner().invoke(main, ["rules", "check", str(_write(tmp_path, GOOD_TAIL))])
    assert result.exit_code == 0
    assert result.output.startswith("1 ruleset OK: broken (") and result.output.count("\n") == 1


@pytest.mark.parametrize(
    "snippet",
    [
        '[[gates]]\nname = "g"\nfield = "email"\nop = "present"\nvalue = 3\n',
        '[[gates]]\nname = "g"\nwhen = { all = [] }\n',
        '[[gates]]\nname = "g"\nwhen = { any = [{ field = "email", op = "present" }], field = "x" }\n',
        '[[gates]]\nname = "g"\nfield = "employees"\nop = "between"\nvalue = [10, 1]\n',
        '[[gates]]\nname = "g"\nfield = "mql_date"\nop = "within_days"\nvalue = -1\n',
        '[[gates]]\nname = "g"\nfield = "country"\nop = "in"\nvalue = ["DE"]\nlist = "x"\n',
        '[[gates]]\nfield = "email"\nop = "present"\n',
        '[[gates]]\nname = "g"\n',
        '[[gates]]\nname = "g"\nfield = "email"\nop = "present"\ncolour = "red"\n',
        '[[criteria]]\nname = "x"\nweight = 0\nchecks = [{ field = "email", op = "present" }]\n',
        '[[criteria]]\nname = "y"\nweight = 10\nscoring = "tiers"\ntiers = [{ when = { field = "email", op = "present" }, points = 20 }]\n',
        '[[criteria]]\nname = "z"\nweight = 10\nscoring = "sharing"\nchecks = []\n',
        '[ruleset]\nname = 3\n',
        'gates = "nope"\n',
        '[lists]\nx = 3\n',
    ],
)  # fmt: skip
def test_more_invalid_shapes_are_problems_not_crashes(tmp_path: Path, snippet: str) -> None:
    with pytest.raises(RulesError) as caught:
        load_ruleset(_write(tmp_path, GOOD_TAIL + "\n" + snippet))
    assert caught.value.problems and all(p.message for p in caught.value.problems)


def test_lines_are_found_in_inline_style_rulesets_too(tmp_path: Path) -> None:
    text = (
        "threshold = { accept_at = 70 }\n"
        "gates = [\n"
        '  { name = "a", field = "email", op = "present" },\n'
        '  { name = "b", field = "countri", op = "present" },\n'
        "]\n"
        'criteria = [ { name = "c", weight = 100, checks = [ { field = "email", op = "presnt" } ] } ]\n'
    )
    with pytest.raises(RulesError) as caught:
        load_ruleset(_write(tmp_path, text))
    assert [(p.location, p.line) for p in caught.value.problems] == [
        ("gates.b.field", 4),
        ("criteria.c.checks[0].op", 6),
    ]
