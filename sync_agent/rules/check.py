"""``rules check``: validate one ruleset file or every ruleset in a directory.

In a directory, every ``*.toml`` file directly inside it is a ruleset; sub-directories
(``tests/``, ``lists/``, ``examples/``) are not searched.

The report keeps errors and warnings apart: an error (``problems``) means the ruleset
does not load and the check fails (exit 1); a warning (an empty list, a ruleset without
test cases) is shown but the check still passes (exit 0).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from sync_agent.errors import Problem
from sync_agent.rules.lists import display_path
from sync_agent.rules.ruleset import Ruleset, inspect
from sync_agent.rules.source import path_kind
from sync_agent.rules.testing import count_cases


@dataclass(frozen=True)
class CheckReport:
    """What ``rules check`` found: the rulesets that loaded, every error and every warning."""

    files: tuple[str, ...]
    rulesets: tuple[Ruleset, ...] = ()
    problems: tuple[Problem, ...] = field(default_factory=tuple)
    warnings: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """No error and at least one ruleset; warnings do not count."""
        return not self.problems and bool(self.rulesets)

    def summary(self) -> str:
        """One line for people: ``2 rulesets OK: sal (3f2a9c01b2d4), ...`` or the error count,
        then the number of warnings if any."""
        warned = f"; {len(self.warnings)} warning(s)" if self.warnings else ""
        if self.ok:
            names = ", ".join(f"{r.name} ({r.hash[:12]})" for r in self.rulesets)
            noun = "ruleset" if len(self.rulesets) == 1 else "rulesets"
            return f"{len(self.rulesets)} {noun} OK: {names}{warned}"
        bad = len({p.file for p in self.problems})
        errors = f"{len(self.problems)} error(s) in {bad} of {len(self.files) or 1} file(s)"
        return errors + warned


def _untested(file: Path, tests: Path) -> Problem:
    example = display_path(tests / f"{file.stem}.toml")
    return Problem(
        display_path(file),
        "",
        "no rule test cases for this ruleset",
        f'add {example} with ruleset = "{_relative(file, tests)}" and [[cases]] '
        "(see docs/rules.md), then run sync-agent rules test",
    )


def _relative(file: Path, tests: Path) -> str:
    """The ``ruleset = ...`` a test file in ``tests`` would write for ``file``."""
    try:
        return os.path.relpath(file.absolute(), tests.absolute())
    except ValueError:  # another drive (Windows)
        return str(file.absolute())


def ruleset_files(path: Path) -> list[Path]:
    """The ruleset files a path names: itself, or the ``*.toml`` files directly in it."""
    if path_kind(path) == "dir":
        return sorted(p for p in path.glob("*.toml") if p.is_file())
    return [path]


def check_rulesets(
    path: str | Path = "rules",
    *,
    tests: str | Path | None = None,
    raw_prefixes: Collection[str] | None = None,
) -> CheckReport:
    """Validate every ruleset under ``path``; never raises for bad files.

    Rule test cases are looked for where ``rules test`` finds them by default: in
    ``tests/`` next to each ruleset, or in ``tests`` when given. ``raw_prefixes``: the
    raw-property prefixes that exist (the installed sources'); None accepts any."""
    root = Path(path)
    kind = path_kind(root)
    if kind not in ("dir", "file"):
        why = "no such file or directory" if kind == "missing" else f"cannot use this path: {kind}"
        problem = Problem(display_path(root), "", why, "give a .toml file or a folder")
        return CheckReport((), (), (problem,))
    files = ruleset_files(root)
    if not files:
        problem = Problem(
            display_path(root), "", "no ruleset (*.toml) in this folder", "add e.g. sal.toml"
        )
        return CheckReport((), (), (problem,))
    loaded: list[Ruleset] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for file in files:
        ruleset, found, warned = inspect(file, raw_prefixes=raw_prefixes)
        problems.extend(found)
        warnings.extend(warned)
        if ruleset is not None:
            loaded.append(ruleset)
            folder = Path(tests) if tests is not None else file.parent / "tests"
            if not count_cases(file, folder):
                warnings.append(_untested(file, folder))
    files_shown = tuple(display_path(f) for f in files)
    return CheckReport(files_shown, tuple(loaded), tuple(problems), tuple(warnings))
