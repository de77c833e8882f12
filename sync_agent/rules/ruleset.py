"""Loading a ruleset file into a compiled, hashed :class:`Ruleset`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sync_agent.errors import Problem, RulesError
from sync_agent.model import Decision
from sync_agent.rules.evaluate import Evaluator, compile_ruleset
from sync_agent.rules.lists import display_path
from sync_agent.rules.loader import build_spec
from sync_agent.rules.scan import scan_document
from sync_agent.rules.source import Locator, path_kind, read_toml
from sync_agent.rules.spec import RulesetSpec


@dataclass(frozen=True, eq=False)
class Ruleset:
    """A validated, compiled ruleset. ``hash`` identifies its content (lists included).

    ``warnings`` are what ``rules check`` shows without failing (an empty list, ...)."""

    name: str
    hash: str
    spec: RulesetSpec
    path: Path | None
    evaluator: Evaluator = field(repr=False)
    warnings: tuple[Problem, ...] = ()

    def evaluate(self, fields: Mapping[str, Any], now: datetime) -> Decision:
        """Decide one lead at ``now`` (pure)."""
        return self.evaluator(fields, now)


def evaluate(lead_fields: Mapping[str, Any], ruleset: Ruleset, now: datetime) -> Decision:
    """Decide one lead. ``now`` is the clock value (naive values are taken as UTC)."""
    return ruleset.evaluator(lead_fields, now)


def content_hash(doc: dict[str, Any], lists: dict[str, tuple[str, ...]]) -> str:
    """sha256 of the canonical content: the parsed rules (not comments or layout) and every
    list they use, so that editing a list file changes the hash but reformatting does not."""
    canonical = json.dumps(
        {"rules": doc, "lists": lists}, sort_keys=True, default=str, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_ruleset(path: str | Path, *, raw_prefixes: Collection[str] | None = None) -> Ruleset:
    """Read, validate and compile one ruleset file.

    ``raw_prefixes`` are the ``<prefix>.`` names raw source properties may use (the
    source connectors'); None accepts any. Raises :class:`~sync_agent.errors.RulesError`
    listing every problem found.
    """
    ruleset, problems = try_load(Path(path), raw_prefixes=raw_prefixes)
    if ruleset is None:
        shown = display_path(Path(path))
        raise RulesError(f"{shown}: {len(problems)} problem(s) in the ruleset", problems)
    return ruleset


def try_load(
    path: Path, *, raw_prefixes: Collection[str] | None = None
) -> tuple[Ruleset | None, list[Problem]]:
    """The ruleset or the list of problems (never raises for a bad file)."""
    ruleset, problems, _ = inspect(path, raw_prefixes=raw_prefixes)
    return ruleset, problems


def inspect(
    path: Path, *, raw_prefixes: Collection[str] | None = None
) -> tuple[Ruleset | None, list[Problem], list[Problem]]:
    """The ruleset (or None), its errors and its warnings; never raises for a bad file."""
    display = display_path(path)
    if path_kind(path) == "dir":
        problem = Problem(
            display, "", "this is a directory, not a ruleset file", "give a .toml file"
        )
        return None, [problem], []
    read = read_toml(path, display)
    if isinstance(read, Problem):
        return None, [read], []
    text, doc = read
    scanned = scan_document(doc, Locator(text), display)
    if scanned:
        return None, _in_file_order(scanned), []
    try:
        spec, problems, warnings, finder = build_spec(doc, text, path, display, raw_prefixes)
    except RecursionError:
        problem = Problem(
            display, "", "the ruleset is nested too deeply", "flatten the all/any/not nesting"
        )
        return None, [problem], []
    warnings = _in_file_order(warnings)
    if spec is None:
        return None, _in_file_order(problems), warnings
    ruleset_hash = content_hash(doc, finder.loaded)
    evaluator = compile_ruleset(spec, ruleset_hash)
    return Ruleset(spec.name, ruleset_hash, spec, path, evaluator, tuple(warnings)), [], warnings


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """By line; problems without a line (whole-file ones) last."""
    return sorted(problems, key=lambda p: p.line or 1_000_000_000)
