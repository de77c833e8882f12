"""Named lists: one value per line in ``<ruleset dir>/lists/<name>.txt``, or under ``[lists]``.

``[lists]`` may define a list inline (``competitors = ["acme.com"]``) or point at another
file relative to the ruleset (``competitors = "shared/competitors.txt"``). In list files,
blank lines and ``#`` comments are ignored. Only lists a ruleset uses are read, and their
contents are part of the ruleset's hash.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from sync_agent.rules.context import Context, Where, type_name
from sync_agent.rules.limits import MAX_PATH_CHARS
from sync_agent.rules.shown import clip
from sync_agent.rules.source import NOT_FOUND, read_bounded
from sync_agent.rules.values import control_character

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_PATH_HINT = (
    'give a path relative to the ruleset, inside its folder, e.g. "lists/competitors.txt"'
)
_NAME_HINT = (
    'a list name such as "competitors" reads lists/competitors.txt next to the ruleset; '
    "for another file, name it under [lists] with a path relative to the ruleset"
)


def display_path(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when possible."""
    absolute = path.absolute()
    try:
        text = str(absolute.relative_to(Path.cwd()))
    except ValueError:
        text = str(absolute)
    return clip(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text), 2 * MAX_PATH_CHARS)


def confined(base: Path, relative: str) -> Path | str:
    """``base / relative`` when that stays inside ``base``, else why not (ends a sentence
    that starts with "the list path").

    The check is on the text, before any file is touched: no absolute path, no ``..``, no
    NUL or other control character, at most MAX_PATH_CHARS characters. Symbolic links
    inside the rules folder are the admin's choice and are followed.
    """
    if "\x00" in relative:
        return "contains a NUL character"
    if _CONTROL.search(relative):
        return "contains a control character"
    if len(relative) > MAX_PATH_CHARS:
        return f"is {len(relative)} characters long (at most {MAX_PATH_CHARS})"
    posix, windows = PurePosixPath(relative), PureWindowsPath(relative)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or windows.root:
        return "is absolute: list files live in the rules folder"
    if ".." in posix.parts or ".." in windows.parts:
        return "leaves the rules folder (..)"
    if not relative.strip():
        return "is empty"
    return base / relative


def parse_list_text(text: str) -> tuple[str, ...]:
    """List file lines without blanks and ``#`` comments (also trailing `` # ...`` comments)."""
    items = []
    for line in text.splitlines():
        value = line.split(" #", 1)[0].strip()
        if value and not value.startswith("#"):
            items.append(value)
    return tuple(items)


class ListFinder:
    """Finds, reads and remembers the named lists a ruleset uses."""

    def __init__(self, base: Path, table: Any, display: str) -> None:
        self.base = base
        self.table = table if isinstance(table, dict) else {}
        self.raw_table = table
        self.display = display
        self.loaded: dict[str, tuple[str, ...]] = {}
        self.failed: set[str] = set()
        self.ctx: Context | None = None

    def check_table(self, ctx: Context) -> None:
        """Validate ``[lists]`` itself: a table of arrays of strings or of file paths."""
        self.ctx = ctx
        if self.raw_table is not None and not isinstance(self.raw_table, dict):
            ctx.add(
                Where("lists", ("lists", 0)),
                f"[lists] must be a table, not {type_name(self.raw_table)}",
            )
        for name, value in self.table.items():
            where = Where(f"lists.{name}", ("lists", 0), name)
            ok_inline = isinstance(value, list) and all(isinstance(v, str) for v in value)
            if not ok_inline and not isinstance(value, str):
                ctx.add(
                    where,
                    "a list is an array of strings or the path of a list file",
                    f'{name} = ["a", "b"]  or  {name} = "lists/{name}.txt"',
                )
            elif ok_inline and control_character(value, False, where, ctx, needle=name):
                self.failed.add(name)
            elif isinstance(value, str) and isinstance(reason := confined(self.base, value), str):
                ctx.add(where, f"the list path {reason}", _PATH_HINT, needle=name)
                self.failed.add(name)

    def find(self, name: str, where: Where) -> tuple[str, ...] | None:
        """The list's items, or None after recording why it cannot be read."""
        if name in self.loaded:
            return self.loaded[name]
        if name in self.failed:
            return None
        items = self._read(name, where)
        if items is None:
            self.failed.add(name)
            return None
        self.loaded[name] = items
        if not items and self.ctx is not None:
            self.ctx.warn(
                where,
                f"list '{name}' is empty: 'in' never holds and 'not_in' holds for every value",
                "add one value per line, or remove the condition if the list is meant to be empty",
                needle=f'"{name}"',
            )
        return items

    def _read(self, name: str, where: Where) -> tuple[str, ...] | None:
        entry = self.table.get(name)
        if isinstance(entry, list):
            return tuple(str(v).strip() for v in entry if isinstance(v, str) and v.strip())
        if isinstance(entry, str):
            path = confined(self.base, entry)
        else:
            path = confined(self.base / "lists", f"{name}.txt")
            if isinstance(path, str):
                self._problem(where, f"bad list name: the list name {path}", _NAME_HINT, name)
                return None
        if isinstance(path, str):  # [lists] entries were checked by check_table
            return None
        data = read_bounded(path)
        if isinstance(data, str):
            shown = display_path(path)
            missing = data == NOT_FOUND
            self._problem(
                where,
                f"list '{name}' not found: no file {shown}"
                if missing
                else f"list file {shown} cannot be read: {data}",
                f"create {shown} (one value per line) or define {name} under [lists]"
                if missing
                else "a list file is a UTF-8 text file, one value per line",
                name,
            )
            return None
        try:
            return parse_list_text(data.decode("utf-8"))
        except UnicodeDecodeError:
            self._problem(
                where, f"list file {display_path(path)} is not UTF-8 text", "save it as UTF-8", name
            )
            return None

    def _problem(self, where: Where, message: str, hint: str, needle: str) -> None:
        if self.ctx is not None:
            self.ctx.add(where, message, hint, needle=f'"{needle}"')
