"""A first pass over a parsed TOML document, before any validation looks at it.

Two things would otherwise surface as exceptions deep inside the validator, the compiler
or a problem message, far from their cause:

* nesting deeper than MAX_NESTING (``when.not.not.not...`` as dotted keys parses fine,
  then every recursive step after it raises RecursionError);
* numbers no float can hold: ``0x`` followed by thousands of digits parses (any length is
  fine in a power-of-two base) but raises ValueError when a message prints it in decimal,
  ``1`` and 400 zeros raises OverflowError when read as a float, and ``nan`` / ``inf``
  make every comparison false. No rule needs any of them.

The walk is iterative, so it cannot itself run out of stack.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from sync_agent.errors import Problem
from sync_agent.rules.limits import MAX_NESTING
from sync_agent.rules.source import Locator

Path = tuple[str | int, ...]


def scan_document(doc: dict[str, Any], locator: Locator, file: str) -> list[Problem]:
    """Problems with the document's shape and numbers; empty when it is safe to validate."""
    problems: list[Problem] = []
    for path, value in _walk(doc):
        if len(path) > MAX_NESTING:
            shallow = path[: _anchor_length(path) + 1]  # e.g. gates[0].when
            problems.append(_problem(
                file, locator, shallow,
                f"nested more than {MAX_NESTING} levels deep",
                "flatten the all/any/not nesting (a real ruleset needs fewer than 10 levels)",
            ))  # fmt: skip
            return problems  # everything below it is just as deep: one problem is enough
        message = _number_problem(value)
        if message:
            problems.append(_problem(
                file, locator, path, message,
                "numbers in rules must be finite and fit a float (up to about 1.8e308); "
                "write long identifiers as text in quotes",
            ))  # fmt: skip
    return problems


def _walk(doc: dict[str, Any]) -> Iterator[tuple[Path, Any]]:
    """Every value with its path, depth first, without recursion."""
    stack: list[tuple[Path, Any]] = [((key,), value) for key, value in reversed(doc.items())]
    while stack:
        path, value = stack.pop()
        yield path, value
        if len(path) > MAX_NESTING:
            continue
        if isinstance(value, dict):
            stack.extend(((*path, k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(value))))


def _number_problem(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            digits = int(value.bit_length() * math.log10(2)) + 1
            return f"the number is too big (about {digits:,} digits) for a float (up to 1.8e308)"
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number"
    return ""


def _anchor_length(path: Path) -> int:
    """How many parts of ``path`` name the table a Locator can find: ``gates``, ``0``."""
    return 2 if len(path) > 1 and isinstance(path[1], int) else 1


def _problem(file: str, locator: Locator, path: Path, message: str, hint: str) -> Problem:
    head = str(path[0])
    anchor = (head, path[1]) if len(path) > 1 and isinstance(path[1], int) else (head, 0)
    keys = [p for p in path[_anchor_length(path) :] if isinstance(p, str)]
    key = keys[-1] if keys else head
    table = anchor if len(path) > 1 else None
    line = locator.line(table, key, None)  # `key = ...`
    if table is not None and line == locator.line(table, None, None):  # just the header:
        line = locator.line(table, None, f"{key}.") or line  # dotted `key.not.x = ...`
    return Problem(file, _location(path), message, hint, line)


def _location(path: Path) -> str:
    """``gates[0].when.not`` for people (cut when very deep)."""
    text = ""
    for part in path[:12]:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text + (".…" if len(path) > 12 else "")
