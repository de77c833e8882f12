"""Problem collection while validating one ruleset file.

Validators never stop at the first problem: they record it here with a readable location
(``gates.business_email.when.op``) and carry on, so that ``rules check`` lists every
problem at once. Errors (:meth:`Context.add`) stop the ruleset from loading; warnings
(:meth:`Context.warn`) are shown by ``rules check`` but change neither the ruleset nor
the exit code.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sync_agent.errors import Problem
from sync_agent.rules.limits import MAX_QUOTED_CHARS
from sync_agent.rules.shown import clip
from sync_agent.rules.source import Locator


@dataclass(frozen=True)
class Where:
    """A location: ``loc`` for people, ``anchor`` (table array and index) to find the line."""

    loc: str
    anchor: tuple[str, int] | None = None
    key: str | None = None

    def sub(self, key: str) -> Where:
        return Where(f"{self.loc}.{key}" if self.loc else key, self.anchor, key)

    def at(self, index: int) -> Where:
        return Where(f"{self.loc}[{index}]", self.anchor, self.key)


@dataclass
class Context:
    """Everything validation needs besides the document: where to report, how to find lists."""

    file: str
    locator: Locator
    find_list: Callable[[str, Where], tuple[str, ...] | None]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    uses_free_email: bool = False
    #: The raw-property prefixes rules may use (the source connectors'); None: any.
    raw_prefixes: tuple[str, ...] | None = None

    def field_advice(self) -> str:
        """How raw source properties are written, with the prefixes that exist here."""
        if self.raw_prefixes:
            shown = " or ".join(f"{p}.<property>" for p in self.raw_prefixes)
            return f"raw source properties are written {shown}"
        return "raw source properties are written <source prefix>.<property>"

    def add(self, where: Where, message: str, hint: str = "", needle: str | None = None) -> None:
        """Record an error: the ruleset will not load."""
        self.problems.append(self._problem(where, message, hint, needle))

    def warn(self, where: Where, message: str, hint: str = "", needle: str | None = None) -> None:
        """Record a warning: worth fixing, but the ruleset still loads and runs."""
        self.warnings.append(self._problem(where, message, hint, needle))

    def _problem(self, where: Where, message: str, hint: str, needle: str | None) -> Problem:
        line = self.locator.line(where.anchor, where.key, needle)
        return Problem(self.file, clip(where.loc), _quoted(message), _quoted(hint), line)


def _quoted(text: str) -> str:
    """A message that quotes what the admin wrote, bounded and without control characters
    (a megabyte pattern or an escape sequence in a value never reaches the terminal raw)."""
    return clip(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text), _MESSAGE_CHARS)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MESSAGE_CHARS = 2 * MAX_QUOTED_CHARS + 200  # two quotes and the words around them


def did_you_mean(word: str, choices: Iterable[str], extra: str = "") -> str:
    """A "did you mean" hint from the closest choices (difflib), plus optional advice."""
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    hint = "did you mean " + " or ".join(f"'{c}'" for c in close) + "?" if close else ""
    return f"{hint} {extra}".strip()


def type_name(value: object) -> str:
    """TOML words for Python values in messages: "a string", "an array", "a table"."""
    names = {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)


def rule_name(item: dict[str, Any], where: Where, seen: set[str], ctx: Context) -> str | None:
    """The entry's unique name; records missing, non-string and duplicate names."""
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        ctx.add(
            where.sub("name"),
            "missing 'name' (used in reasons and reports)",
            'name = "business_email"',
        )
        return None
    if name in seen:
        ctx.add(
            where.sub("name"),
            f"duplicate name '{name}'",
            "names must be unique within a section",
            needle=f'"{name}"',
        )
        return None
    seen.add(name)
    return name
