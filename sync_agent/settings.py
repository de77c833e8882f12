"""One settings schema for the agent, its pipelines and every connector: pydantic models.

Why pydantic (v2): the configuration is typed data with nested tables, and pydantic
validates a whole document in one pass and reports *every* error with its location, so
the agent, each pipeline and each connector's options are plain declarative models
(``extra="forbid"``: an unknown key is an error, never silently ignored). What pydantic
does not do, this module adds: its errors become :class:`~sync_agent.errors.Problem` s
with the file, the line (found by :class:`TomlLines`), the dotted place, a did-you-mean
for unknown keys and the hint a field declares (``Field(json_schema_extra={"hint": ...})``).
Strict mode: a TOML ``"5"`` is not the number 5 (an admin should see that), though an
integer is accepted where a float is expected.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from sync_agent.errors import ConfigError, Problem

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str | int, ...]


class SettingsModel(BaseModel):
    """Base of every settings table: frozen, strict, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def whole_problems(self) -> list[tuple[Loc, str, str]]:
        """Problems only the whole table shows, as ``(place, message, hint)``: override."""
        return []


class TupleSettingsModel(SettingsModel):
    """A settings table with ``tuple[...]`` fields: TOML arrays arrive as lists, which the
    strict base refuses for a tuple, so each list value becomes a tuple before validation."""

    @model_validator(mode="before")
    @classmethod
    def _lists_as_tuples(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            data = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return data


def hint(text: str) -> dict[str, Any]:
    """``Field(json_schema_extra=hint("..."))``: the fix shown with a problem on that field."""
    return {"hint": text}


def dotted(loc: Loc) -> str:
    """``("pipelines", 0, "name")`` → ``pipelines[0].name``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class TomlLines:
    """Line numbers of the keys and tables of a TOML text, by key path (one linear scan).

    ``tomllib`` keeps no positions, so this scanner tracks table headers (``[a.b]``,
    ``[[a]]`` with their array index) and ``key =`` lines. Inline tables and arrays map
    to the line of their key; :meth:`line` falls back to the nearest enclosing path.
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(
        r"^\s*((?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+))*)\s*="
    )

    def __init__(self, text: str) -> None:
        self.lines: dict[Loc, int] = {}
        counts: dict[Loc, int] = {}
        table: Loc = ()
        for number, raw in enumerate(text.splitlines(), 1):
            header = self._HEADER.match(raw)
            if header:
                path: Loc = tuple(_key_parts(header.group(2)))
                if header.group(1) == "[[":
                    index = counts.get(path, 0)
                    counts[path] = index + 1
                    table = (*path, index)
                else:
                    table = path
                self.lines.setdefault(table, number)
                continue
            key = self._KEY.match(raw)
            if key:
                self.lines.setdefault((*table, *_key_parts(key.group(1))), number)

    def line(self, loc: Sequence[str | int]) -> int | None:
        """The line of ``loc`` or of its nearest enclosing key or table."""
        path = tuple(loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


def _key_parts(text: str) -> list[str]:
    parts = re.findall(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+)", text)
    return [a or b or c for a, b, c in parts]


def validate(
    model: type[M],
    data: Any,
    *,
    file: str,
    prefix: Loc = (),
    lines: TomlLines | None = None,
    context: Mapping[str, Any] | None = None,
) -> tuple[M | None, list[Problem]]:
    """Validate ``data`` against ``model``: the instance, or None and EVERY problem found.

    ``context`` reaches validators as ``info.context``; the config loader passes
    ``{"config_dir": Path}`` so that relative paths in options mean "next to the config".
    """
    try:
        result = model.model_validate(data, context=dict(context or {}))
    except ValidationError as exc:
        return None, [problem_of(model, err, file, prefix, lines) for err in exc.errors()]
    found = result.whole_problems() if isinstance(result, SettingsModel) else []
    problems = [
        Problem(
            file,
            dotted((*prefix, *loc)),
            message,
            hint_text,
            lines.line((*prefix, *loc)) if lines else None,
        )
        for loc, message, hint_text in found
    ]
    return (None, problems) if problems else (result, [])


def validate_or_raise(model: type[M], data: Any, *, file: str = "config", title: str = "") -> M:
    """:func:`validate`, raising :class:`ConfigError` with every problem."""
    result, problems = validate(model, data, file=file)
    if result is None:
        raise ConfigError(f"invalid {title or model.__name__}", problems)
    return result


def problem_of(
    model: type[BaseModel],
    err: Mapping[str, Any],
    file: str,
    prefix: Loc = (),
    lines: TomlLines | None = None,
) -> Problem:
    """One pydantic error as a Problem: place, readable message, did-you-mean or hint."""
    loc: Loc = tuple(p for p in err["loc"] if not _is_union_tag(p))
    full = (*prefix, *loc)
    line = lines.line(full) if lines else None
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = _field_names(model, loc[:-1])
        close = difflib.get_close_matches(key, sorted(known), n=1)
        text = f"did you mean {close[0]!r}?" if close else ""
        if not text and known:
            text = "known keys: " + ", ".join(sorted(known))
        return Problem(file, dotted(full), f"unknown key {key!r}", text, line)
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        word = str(err.get("input"))
        close = difflib.get_close_matches(word, allowed, n=1)
        text = f"did you mean {close[0]!r}?" if close else "one of: " + ", ".join(allowed)
        what = "key" if err["loc"] and err["loc"][-1] == "[key]" else "value"
        return Problem(file, dotted(full), f"unknown {what} {_short(err.get('input'))}", text, line)
    message = str(err["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    elif kind == "missing":
        message = "required"
    else:
        words = _WORDS.get(kind)
        message = words.format(**err.get("ctx", {})) if words else _lower_first(message)
        if "input" in err:
            message += f" (got {_short(err['input'])})"
    return Problem(file, dotted(full), message, _field_hint(model, loc), line)


#: pydantic's error types in the words an admin reads (the rest keep pydantic's message).
_WORDS = {
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "string_type": "must be a string (in double quotes)",
    "list_type": "must be an array [...]",
    "tuple_type": "must be an array [...]",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "string_too_short": "must not be empty",
    "too_short": "needs at least {min_length} item(s)",
    "string_pattern_mismatch": "has characters that are not allowed",
}


def _is_union_tag(part: str | int) -> bool:
    """pydantic puts the matched union member's type name in a location (``'float'``)."""
    return isinstance(part, str) and (part in {"float", "int", "str", "bool"} or "[" in part)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _walk(model: type[BaseModel], loc: Loc) -> Any:
    """The annotation reached by following ``loc`` through nested models/lists/dicts."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return None
            current = info.annotation
        else:
            args = [a for a in typing.get_args(current) if a is not type(None)]
            current = args[-1] if args else None
    return _unwrap(current)


def _unwrap(annotation: Any) -> Any:
    """``X | None`` → X; other unions stay as they are."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _field_names(model: type[BaseModel], loc: Loc) -> set[str]:
    target = _walk(model, loc)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return set(target.model_fields)
    return set()


def _field_hint(model: type[BaseModel], loc: Loc) -> str:
    parent = _walk(model, loc[:-1]) if loc else None
    if not (isinstance(parent, type) and issubclass(parent, BaseModel)) or not loc:
        return ""
    info = parent.model_fields.get(str(loc[-1]))
    extra = info.json_schema_extra if info is not None else None
    return str(extra.get("hint", "")) if isinstance(extra, dict) else ""
