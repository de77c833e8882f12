"""Reading a rules file safely, and finding the line a problem refers to.

``tomllib`` reports lines only for syntax errors, so :class:`Locator` finds the line of a
table or key by scanning the text: the n-th ``[[gates]]`` header, then the key (or the
offending text) inside that table. A best effort: when nothing matches, no line is given.
"""

from __future__ import annotations

import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from sync_agent.errors import Problem
from sync_agent.rules.limits import MAX_FILE_BYTES, MAX_QUOTED_CHARS
from sync_agent.rules.shown import clip

_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")
_HEADER = re.compile(r"^\s*\[")
_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([^\[\]]+?)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]")
_ASSIGNMENT = re.compile(r"^\s*([^\s=\[#\"']+)\s*=")
_LONG_NUMBER = re.compile(r"\d[\d_]{4300,}")
_WORK_PER_LINE = 50


NOT_FOUND = "No such file or directory"


def path_kind(path: Path) -> str:
    """``dir``, ``file`` (anything else that exists), ``missing``, or why the path cannot
    even be looked at (a NUL character, a name too long): never raises."""
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the path
        return str(getattr(exc, "strerror", None) or exc)
    return "dir" if stat.S_ISDIR(info.st_mode) else "file"


def read_bounded(path: Path, limit: int = MAX_FILE_BYTES) -> bytes | str:
    """The bytes of a regular file of at most ``limit`` bytes, or why it cannot be read.

    Devices, FIFOs and folders are refused before opening (``/dev/zero`` never ends, a FIFO
    blocks), and at most ``limit + 1`` bytes are ever read.
    """
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return "not a regular file"
        if info.st_size > limit:
            return _too_large(limit)
        with path.open("rb") as stream:
            data = stream.read(limit + 1)
    except FileNotFoundError:
        return NOT_FOUND
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the path
        return str(getattr(exc, "strerror", None) or exc)
    return data if len(data) <= limit else _too_large(limit)


def _too_large(limit: int) -> str:
    return f"too large (more than {limit / 1024 / 1024:g} MiB)"


def read_toml(path: Path, display: str) -> tuple[str, dict[str, Any]] | Problem:
    """The text and parsed document of a TOML file, or the one problem that stops reading it."""
    data = read_bounded(path)
    if isinstance(data, str):
        return Problem(display, "", f"cannot read the file: {data}", "check the path")
    if b"\x00" in data:
        return Problem(
            display, "", "this is a binary file, not a TOML ruleset", "rulesets are text"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return Problem(display, "", "the file is not valid UTF-8 text", "save it as UTF-8", line)
    if not text.strip() or all(not _content(ln) for ln in text.splitlines()):
        return Problem(display, "", "the file is empty", "start from rules/sal.toml")
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return _syntax_problem(display, str(exc))
    except ValueError:  # Python's int-conversion limit, raised past tomllib's own errors
        found = _LONG_NUMBER.search(text)
        return Problem(
            display,
            "",
            "a number has more than 4,300 digits, more than Python reads",
            "numbers in rules must fit a float (up to about 1.8e308); "
            "write long identifiers as text in quotes",
            text.count("\n", 0, found.start()) + 1 if found else None,
        )
    except RecursionError:
        return Problem(
            display, "", "the file is nested too deeply to read", "flatten the arrays and tables"
        )


def _content(line: str) -> str:
    return line.split("#", 1)[0].strip()


def _syntax_problem(display: str, message: str) -> Problem:
    found = _TOML_POS.search(message)
    line = int(found.group(1)) if found else None
    where = f"column {found.group(2)}" if found else ""
    clean = clip(_TOML_POS.sub("", message).strip(), 2 * MAX_QUOTED_CHARS)  # may quote keys
    return Problem(
        display,
        where,
        f"broken TOML: {clean}",
        "check quotes, brackets and commas on this line; strings need double quotes",
        line,
    )


class Locator:
    """Best-effort line numbers for locations in a parsed TOML text.

    The headers are indexed in one pass, so each lookup only scans the lines of its own
    table: checking a ruleset with 8,000 broken gates stays linear. ``work`` counts the
    lines examined; past a budget proportional to the file's length (possible only when
    thousands of problems sit in one giant inline array), later problems get no line
    rather than making ``rules check`` quadratic.
    """

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.work = 0
        self._budget = _WORK_PER_LINE * len(self.lines) + 10_000
        self._arrays: dict[str, list[int]] = {}
        self._tables: dict[str, list[int]] = {}
        self._assigned: dict[str, int] = {}
        self._next_header = [len(self.lines)] * (len(self.lines) + 1)
        following = len(self.lines)
        for i in range(len(self.lines) - 1, -1, -1):
            self._next_header[i] = following
            if _HEADER.match(self.lines[i]):
                following = i
        for i, line in enumerate(self.lines):
            if found := _ARRAY_HEADER.match(line):
                self._arrays.setdefault(found.group(1), []).append(i)
            elif found := _TABLE_HEADER.match(line):
                self._tables.setdefault(found.group(1), []).append(i)
            elif found := _ASSIGNMENT.match(line):
                self._assigned.setdefault(found.group(1), i)

    def line(
        self, anchor: tuple[str, int] | None, key: str | None, needle: str | None
    ) -> int | None:
        """1-based line of ``needle`` (else ``key =``) inside the anchored table."""
        start, end = self._span(anchor)
        if start is None:
            return None
        for probe in (needle, key):
            if probe:
                hit = self._find(probe, start, end, is_key=probe is key)
                if hit is not None:
                    return hit
        return start + 1 if anchor else None

    def _span(self, anchor: tuple[str, int] | None) -> tuple[int | None, int]:
        if anchor is None:
            return 0, len(self.lines)
        section, index = anchor
        hits = self._arrays.get(section) or self._tables.get(section) or []
        if index >= len(hits):
            found = self._assigned.get(section)
            return (found, len(self.lines)) if found is not None else (None, 0)
        start = hits[index]
        return start, self._next_header[start]

    def _find(self, probe: str, start: int, end: int, *, is_key: bool) -> int | None:
        if self.work > self._budget:
            return None
        pattern = re.compile(rf"(^|[\s{{,])\"?{re.escape(probe)}\"?\s*=") if is_key else None
        for i in range(start, end):
            self.work += 1
            text = self.lines[i]
            if pattern.search(text) if pattern else probe in text:
                return i + 1
        return None
