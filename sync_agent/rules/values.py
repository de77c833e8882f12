"""Typing a rule's value for its field: numbers, text, dates, yes/no.

Used by :mod:`sync_agent.rules.conditions`; a value of the wrong type is a problem with a
hint on how to write it, never a guess.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from sync_agent.rules.context import Context, Where, type_name

VALUE_HINTS = {
    "number": "write numbers without quotes, e.g. 50",
    "bool": "write true or false without quotes",
    "string": 'put text in double quotes, e.g. "Germany"',
    "date": "write dates without quotes, e.g. 2025-01-31 or 2025-01-31T09:00:00Z",
}


#: C0 and C1 control characters (Unicode category Cc): never meant in a rule's text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: How TOML double quotes spell them: what the admin typed, to write in single quotes.
_TYPED_AS = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_NAMES = {"\b": "a backspace", "\t": "a tab", "\n": "a line break", "\f": "a form feed",
          "\r": "a carriage return", "\x1b": "an escape"}  # fmt: skip


def control_character(
    value: Any, regex: bool, where: Where, ctx: Context, needle: str = "value"
) -> bool:
    r"""Record an error if a text value (or an array's text item) holds a control character.

    In TOML double quotes ``"\b"`` is a backspace, not a regex word boundary, so such a
    pattern silently never matches; single quotes keep backslashes as written.
    """
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items):
        found = _CONTROL.search(item) if isinstance(item, str) else None
        if found is None:
            continue
        char = found.group()
        name = _NAMES.get(char, "a control character")
        spelled = _TYPED_AS.get(char, f"\\u{ord(char):04x}")
        typed = _CONTROL.sub(lambda m: _TYPED_AS.get(m.group(), f"\\x{ord(m.group()):02x}"), item)
        fix = f"value = '{typed}'" if "'" not in typed else "value = '...'"
        meant = "a regex escape" if regex else "a backslash sequence"
        ctx.add(
            where.at(index) if isinstance(value, list) else where,
            f"the text holds a control character ({name}, \\x{ord(char):02x}): "
            f"in double quotes TOML reads {spelled} as {name}",
            f"if you meant {meant}, use single quotes, which keep backslashes as written: "
            f"{fix}; otherwise remove the character",
            needle=needle,
        )
        return True
    return False


def from_text(ftype: str | None, item: str) -> Any:
    """List files hold text; for number fields read each line as a number."""
    if ftype == "number":
        try:
            return int(item) if item.lstrip("-").isdigit() else float(item)
        except ValueError:
            return item
    return item


def typed_value(
    ftype: str | None,
    value: Any,
    folded: bool,
    where: Where,
    ctx: Context,
    *,
    ordered: bool = False,
) -> tuple[str, Any] | None:
    """(coercion kind, typed rule value) when ``value`` suits the field type; else a problem."""
    vtype = _value_type(value)
    wanted = ftype or vtype
    if ordered and wanted not in (None, "number", "date"):
        ctx.add(
            where,
            f"this comparison needs a number or a date, got {type_name(value)}",
            VALUE_HINTS["number"],
            needle="value",
        )
        return None
    if vtype is None or wanted != vtype:
        expected = f"'{wanted}'" if ftype else "a text, number, true/false or date"
        ctx.add(
            where,
            f"wrong value type: expected {expected} value, got {type_name(value)}",
            VALUE_HINTS.get(wanted or "", "") + _relative_hint(ftype, vtype),
            needle="value",
        )
        return None
    if vtype == "string":
        return ("istring", value.casefold()) if folded else ("string", value)
    if vtype == "number":
        return "number", float(value)
    if vtype == "date":
        if isinstance(value, datetime):
            return "date", value if value.tzinfo else value.replace(tzinfo=UTC)
        return "day", value
    return vtype, value


def _relative_hint(ftype: str | None, vtype: str | None) -> str:
    if ftype == "date" and vtype == "number":
        return "; for 'N days ago' use within_days / older_than_days or a days_since_<field> field"
    return ""


def _value_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number" if value == value and abs(value) != float("inf") else None
    if isinstance(value, str):
        return "string"
    if isinstance(value, date):  # datetime is a date too
        return "date"
    return None


def show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
