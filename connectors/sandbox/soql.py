"""A small SOQL subset for the Salesforce emulator: parse once, evaluate on plain dicts.

Supported: ``SELECT f1, f2 FROM Obj [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...]
[LIMIT n] [OFFSET n]`` where ``cond`` combines ``= != <> < > <= >= LIKE IN NOT IN`` with
``AND``/``OR``/``NOT`` and parentheses; literals are quoted strings (SOQL escapes),
numbers, ``NULL``, ``TRUE``/``FALSE``, dates and datetimes. That is enough for every query the
connector sends, and anything else is refused the way Salesforce refuses it
(``MALFORMED_QUERY``), so the emulator cannot quietly accept queries the real API rejects.
String comparison is case-insensitive, as in Salesforce.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any


class SoqlError(Exception):
    """A query Salesforce would refuse; ``code`` is the Salesforce errorCode."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_TOKEN = re.compile(
    r"""\s*(?:
    (?P<str>'(?:\\.|[^'\\])*')
  | (?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\dT]))
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
  | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<bad>\S)
    )""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
KEYWORDS = {
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC",
    "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "NULL", "TRUE", "FALSE",
}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    value: Any = None


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def parse_datetime(text: str) -> datetime:
    """Parse Salesforce datetime text (``2026-01-15T10:30:00.000+0000`` or ISO) as aware UTC."""
    t = text.strip().replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", t):
        t = t[:-2] + ":" + t[-2:]
    value = datetime.fromisoformat(t)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        kind = m.lastgroup or "bad"
        raw = m.group(kind)
        if kind == "bad":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{raw}'")
        if kind == "str":
            tokens.append(Token("lit", raw, _unescape(raw[1:-1])))
        elif kind == "dt":
            tokens.append(Token("lit", raw, parse_datetime(raw)))
        elif kind == "date":
            tokens.append(Token("lit", raw, date.fromisoformat(raw)))
        elif kind == "num":
            tokens.append(Token("lit", raw, float(raw) if "." in raw else int(raw)))
        elif kind == "word" and raw.upper() in KEYWORDS:
            up = raw.upper()
            lit = {"NULL": None, "TRUE": True, "FALSE": False}
            tokens.append(Token("lit", raw, lit[up]) if up in lit else Token("kw", up))
        else:
            tokens.append(Token(kind, raw))
    return tokens


# --- AST ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cmp:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class InList:
    field: str
    values: tuple[Any, ...]
    negated: bool

    @property
    def folded(self) -> frozenset[str] | None:
        """Case-folded values when all are strings (set lookup instead of a scan)."""
        cached: frozenset[str] | None = self.__dict__.get("_folded")
        if cached is None and all(isinstance(v, str) for v in self.values):
            cached = frozenset(v.casefold() for v in self.values)
            object.__setattr__(self, "_folded", cached)
        return cached


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND / OR
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Not:
    part: Any


@dataclass(frozen=True)
class Query:
    fields: tuple[str, ...]
    sobject: str
    where: Any
    order_by: tuple[tuple[str, bool, bool], ...]  # (field, descending, nulls_last)
    limit: int | None
    offset: int


class _Parser:
    def __init__(self, tokens: list[Token], resolve: Callable[[str], str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.resolve = resolve

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise SoqlError("MALFORMED_QUERY", "unexpected end of query")
        self.pos += 1
        return tok

    def kw(self, *words: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "kw" and tok.text in words:
            self.pos += 1
            return True
        return False

    def expect_kw(self, word: str) -> None:
        if not self.kw(word):
            tok = self.peek()
            got = tok.text if tok else "end of query"
            raise SoqlError("MALFORMED_QUERY", f"expecting '{word}', found '{got}'")

    def field(self) -> str:
        tok = self.take()
        if tok.kind != "word":
            raise SoqlError("MALFORMED_QUERY", f"expecting a field name, found '{tok.text}'")
        return self.resolve(tok.text)

    def literal(self) -> Any:
        tok = self.take()
        if tok.kind != "lit":
            raise SoqlError("MALFORMED_QUERY", f"expecting a value, found '{tok.text}'")
        return tok.value

    def condition(self) -> Any:
        parts = [self.conjunction()]
        while self.kw("OR"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else BoolOp("OR", tuple(parts))

    def conjunction(self) -> Any:
        parts = [self.unary()]
        while self.kw("AND"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else BoolOp("AND", tuple(parts))

    def unary(self) -> Any:
        if self.kw("NOT"):
            return Not(self.unary())
        tok = self.peek()
        if tok is not None and tok.kind == "punct" and tok.text == "(":
            self.pos += 1
            inner = self.condition()
            self.punct(")")
            return inner
        return self.comparison()

    def punct(self, char: str) -> None:
        tok = self.take()
        if tok.kind != "punct" or tok.text != char:
            raise SoqlError("MALFORMED_QUERY", f"expecting '{char}', found '{tok.text}'")

    def comparison(self) -> Any:
        name = self.field()
        if self.kw("NOT"):
            self.expect_kw("IN")
            return InList(name, self.value_list(), True)
        if self.kw("IN"):
            return InList(name, self.value_list(), False)
        if self.kw("LIKE"):
            return Cmp(name, "LIKE", self.literal())
        tok = self.take()
        if tok.kind != "op":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'")
        return Cmp(name, "!=" if tok.text == "<>" else tok.text, self.literal())

    def value_list(self) -> tuple[Any, ...]:
        self.punct("(")
        values = [self.literal()]
        while (tok := self.peek()) is not None and tok.kind == "punct" and tok.text == ",":
            self.pos += 1
            values.append(self.literal())
        self.punct(")")
        return tuple(values)


def parse(text: str, schemas: Mapping[str, Sequence[str]]) -> Query:
    """Parse ``text`` against ``schemas`` ({sobject: field names}); raise :class:`SoqlError`."""
    tokens = tokenize(text)
    p = _Parser(tokens, lambda name: name)
    p.expect_kw("SELECT")
    raw_fields = [p.take()]
    while (tok := p.peek()) is not None and tok.kind == "punct" and tok.text == ",":
        p.pos += 1
        raw_fields.append(p.take())
    p.expect_kw("FROM")
    obj_tok = p.take()
    sobject = next((s for s in schemas if s.lower() == obj_tok.text.lower()), None)
    if obj_tok.kind != "word" or sobject is None:
        raise SoqlError(
            "INVALID_TYPE", f"sObject type '{obj_tok.text}' is not supported."
        )
    p.resolve = _resolver(sobject, schemas[sobject])
    fields = tuple(p.resolve(_field_text(t)) for t in raw_fields)
    where = p.condition() if p.kw("WHERE") else None
    order: list[tuple[str, bool, bool]] = []
    if p.kw("ORDER"):
        p.expect_kw("BY")
        order.append(_order_item(p))
        while (tok := p.peek()) is not None and tok.kind == "punct" and tok.text == ",":
            p.pos += 1
            order.append(_order_item(p))
    limit = _int_clause(p, "LIMIT")
    offset = _int_clause(p, "OFFSET") or 0
    if p.peek() is not None:
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{p.take().text}'")
    return Query(fields, sobject, where, tuple(order), limit, offset)


def _field_text(tok: Token) -> str:
    if tok.kind != "word":
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'")
    return tok.text


def _resolver(sobject: str, names: Sequence[str]) -> Callable[[str], str]:
    by_lower = {n.lower(): n for n in names}

    def resolve(name: str) -> str:
        found = by_lower.get(name.lower())
        if found is None:
            raise SoqlError(
                "INVALID_FIELD",
                f"No such column '{name}' on entity '{sobject}'. If you are attempting to use a "
                "custom field, be sure to append the '__c' after the custom field name.",
            )
        return found

    return resolve


def _order_item(p: _Parser) -> tuple[str, bool, bool]:
    name = p.field()
    desc = p.kw("DESC")
    if not desc:
        p.kw("ASC")
    nulls_last = desc
    if p.kw("NULLS"):
        nulls_last = p.kw("LAST")
        if not nulls_last:
            p.expect_kw("FIRST")
    return name, desc, nulls_last


def _int_clause(p: _Parser, word: str) -> int | None:
    if not p.kw(word):
        return None
    value = p.literal()
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SoqlError("MALFORMED_QUERY", f"{word} must be a non-negative integer")
    return value


# --- evaluation ----------------------------------------------------------------------------
def _coerce(actual: Any, literal: Any) -> tuple[Any, Any]:
    """Bring a stored value and a literal to comparable Python values."""
    if isinstance(literal, datetime) and isinstance(actual, str):
        return parse_datetime(actual), literal
    if isinstance(literal, date) and not isinstance(literal, datetime) and isinstance(actual, str):
        return date.fromisoformat(actual[:10]), literal
    if isinstance(literal, str) and isinstance(actual, str):
        return actual.casefold(), literal.casefold()
    return actual, literal


def _like(actual: Any, pattern: str) -> bool:
    if not isinstance(actual, str):
        return False
    rx = ""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            rx += re.escape(pattern[i + 1])
            i += 2
            continue
        rx += ".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
        i += 1
    return re.fullmatch(rx, actual, re.IGNORECASE | re.DOTALL) is not None


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _compare(actual: Any, op: str, literal: Any) -> bool:
    if op == "LIKE":
        return _like(actual, str(literal))
    if literal is None or actual is None:
        same = actual is None and literal is None
        return same if op == "=" else (not same if op == "!=" else False)
    a, b = _coerce(actual, literal)
    if op == "=":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    try:
        return _OPS[op](a, b)
    except TypeError:
        return False


def matches(node: Any, record: Mapping[str, Any]) -> bool:
    """Whether ``record`` satisfies the parsed WHERE ``node`` (``None`` matches everything)."""
    if node is None:
        return True
    if isinstance(node, BoolOp):
        check = all if node.op == "AND" else any
        return check(matches(part, record) for part in node.parts)
    if isinstance(node, Not):
        return not matches(node.part, record)
    if isinstance(node, InList):
        actual = record.get(node.field)
        folded = node.folded
        if folded is not None:
            found = isinstance(actual, str) and actual.casefold() in folded
        else:
            found = any(_compare(actual, "=", v) for v in node.values)
        return found != node.negated
    return _compare(record.get(node.field), node.op, node.value)


def _sort_key(value: Any, case_sensitive: bool = False) -> Any:
    if isinstance(value, str) and case_sensitive:
        return (2, 0.0, value)  # ids are case-sensitive keys
    if isinstance(value, str):
        try:
            return (1, parse_datetime(value).timestamp(), "")
        except ValueError:
            return (2, 0.0, value.casefold())
    if isinstance(value, bool):
        return (0, float(value), "")
    if isinstance(value, (int, float)):
        return (0, float(value), "")
    return (3, 0.0, str(value))


Predicate = Callable[[Mapping[str, Any]], bool]


def compile_where(node: Any) -> Predicate:
    """:func:`matches` bound to ``node``, with its tree walk done once per query.

    Why: the agent looks leads up with ``WHERE Email IN (...)`` (or ``Id IN``) over every
    lead of the org, and walking the tree per row (type checks, the ``folded`` property)
    was most of the sandbox's Salesforce CPU. Text ``IN`` lists and AND/OR/NOT become
    closures with the same logic; every other node still goes through :func:`matches`.
    """
    if node is None:
        return lambda _record: True
    if isinstance(node, BoolOp):
        parts = [compile_where(part) for part in node.parts]
        if node.op == "AND":
            return lambda record: all(part(record) for part in parts)
        return lambda record: any(part(record) for part in parts)
    if isinstance(node, Not):
        inner = compile_where(node.part)
        return lambda record: not inner(record)
    if isinstance(node, InList) and node.folded is not None:
        name, folded, negated = node.field, node.folded, node.negated

        def within(record: Mapping[str, Any]) -> bool:
            actual = record.get(name)
            return (isinstance(actual, str) and actual.casefold() in folded) != negated

        return within
    return lambda record: matches(node, record)


def run(query: Query, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Filter, order and slice ``records`` as Salesforce would."""
    where = compile_where(query.where)
    rows = [r for r in records if where(r)]
    for name, desc, nulls_last in reversed(query.order_by):
        present = [r for r in rows if r.get(name) is not None]
        absent = [r for r in rows if r.get(name) is None]
        exact = name == "Id" or name.endswith("Id")
        present.sort(key=lambda r: _sort_key(r.get(name), exact), reverse=desc)
        rows = present + absent if nulls_last else absent + present
    rows = rows[query.offset :]
    return rows if query.limit is None else rows[: query.limit]
