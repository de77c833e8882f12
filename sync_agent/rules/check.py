"""``rules check``: validate one ruleset file or every ruleset in a directory.

In a directory, every ``*.toml`` file directly inside it is a ruleset; sub-directories
(``tests/``, ``lists/``, ``examples/``) are not searched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sync_agent.errors import Problem
from sync_agent.rules.lists import display_path
from sync_agent.rules.ruleset import Ruleset, try_load


@dataclass(frozen=True)
class CheckReport:
    """What ``rules check`` found: the rulesets that loaded and every problem."""

    files: tuple[str, ...]
    rulesets: tuple[Ruleset, ...] = ()
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rulesets)

    def summary(self) -> str:
        """One line for people: ``2 rulesets OK: sal (3f2a9c01b2d4), ...`` or the problem count."""
        if self.ok:
            names = ", ".join(f"{r.name} ({r.hash[:12]})" for r in self.rulesets)
            noun = "ruleset" if len(self.rulesets) == 1 else "rulesets"
            return f"{len(self.rulesets)} {noun} OK: {names}"
        bad = len({p.file for p in self.problems})
        return f"{len(self.problems)} problem(s) in {bad} of {len(self.files) or 1} file(s)"


def ruleset_files(path: Path) -> list[Path]:
    """The ruleset files a path names: itself, or the ``*.toml`` files directly in it."""
    if path.is_dir():
        return sorted(p for p in path.glob("*.toml") if p.is_file())
    return [path]


def check_rulesets(path: str | Path = "rules") -> CheckReport:
    """Validate every ruleset under ``path``; never raises for bad files."""
    root = Path(path)
    if not root.exists():
        problem = Problem(
            display_path(root), "", "no such file or directory", "give a .toml file or a folder"
        )
        return CheckReport((), (), (problem,))
    files = ruleset_files(root)
    if not files:
        problem = Problem(
            display_path(root), "", "no ruleset (*.toml) in this folder", "add e.g. sal.toml"
        )
        return CheckReport((), (), (problem,))
    loaded: list[Ruleset] = []
    problems: list[Problem] = []
    for file in files:
        ruleset, found = try_load(file)
        problems.extend(found)
        if ruleset is not None:
            loaded.append(ruleset)
    return CheckReport(tuple(display_path(f) for f in files), tuple(loaded), tuple(problems))
