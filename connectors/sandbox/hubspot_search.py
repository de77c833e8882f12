"""HubSpot CRM search semantics, as pure functions over property dicts.

Validation mirrors the documented limits (one sort, limit ≤ 200, ≤ 5 groups, ≤ 18 filters,
body ≤ 3,000 characters, the 10,000-result cap). Comparisons are numeric when both sides
are numbers; date(time) properties compare as epoch milliseconds, and accept filter values
given as epoch-ms strings (what HubSpot expects) or ISO dates. Sort ties break by id.
"""

from __future__ import annotations

import fnmatch
import re
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

MAX_LIMIT = 200
DEFAULT_LIMIT = 10
MAX_RESULTS = 10_000
MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
MAX_BODY = 3_000
OPERATORS = {
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
}
DATE_TYPES = {"date", "datetime"}
_TOKEN_SPLIT = re.compile(r"[\s,;:()\[\]]+")

Props = Mapping[str, Any]
Predicate = Callable[[Props], bool]


class SearchError(ValueError):
    """A request HubSpot would refuse with 400 ``VALIDATION_ERROR``."""


@lru_cache(maxsize=300_000)
def to_millis(value: str) -> float | None:
    """Epoch milliseconds of an epoch-ms string, an ISO datetime or a date; else None."""
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() * 1000


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@lru_cache(maxsize=500_000, typed=True)
def comparable(value: Any, prop_type: str) -> tuple[int, Any]:
    """A sort/compare key: numbers and dates numerically, everything else as lower text.

    Cached: searches re-key the same few hundred thousand values over and over.
    """
    if value is None or value == "":
        return (2, "")
    text = str(value)
    if prop_type in DATE_TYPES:
        millis = to_millis(text)
        if millis is not None:
            return (0, millis)
    number = _number(text)
    if number is not None:
        return (0, number)
    return (1, text.lower())


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _tokens(text: str) -> list[str]:
    lowered = text.lower()
    return [lowered, *(t for t in _TOKEN_SPLIT.split(lowered) if t)]


def _contains_token(value: Any, wanted: str) -> bool:
    if not _present(value):
        return False
    pattern = wanted.lower()
    if "*" in pattern:
        return any(fnmatch.fnmatchcase(tok, pattern) for tok in _tokens(str(value)))
    return pattern in _tokens(str(value))


def compile_filter(spec: Mapping[str, Any], types: Mapping[str, str]) -> Predicate:
    """Turn one ``{"propertyName", "operator", "value"...}`` filter into a predicate."""
    name = spec.get("propertyName")
    operator = spec.get("operator")
    if not isinstance(name, str) or not name:
        raise SearchError("Filter is missing propertyName")
    if operator not in OPERATORS:
        raise SearchError(f"Invalid operator {operator!r} for property {name}")
    if name not in types:
        raise SearchError(f"Property {name!r} does not exist")
    ptype = types[name]
    if operator == "HAS_PROPERTY":
        return lambda p: _present(p.get(name))
    if operator == "NOT_HAS_PROPERTY":
        return lambda p: not _present(p.get(name))
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        wanted = str(_required(spec, "value", name))
        if operator == "CONTAINS_TOKEN":
            return lambda p: _contains_token(p.get(name), wanted)
        return lambda p: not _contains_token(p.get(name), wanted)
    if operator in ("IN", "NOT_IN"):
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            raise SearchError(f"Operator {operator} on {name} requires a non-empty 'values' list")
        keys = {comparable(_scalar(v, name), ptype) for v in values}
        if operator == "IN":
            return lambda p: _present(p.get(name)) and comparable(p.get(name), ptype) in keys
        return lambda p: comparable(p.get(name), ptype) not in keys
    low = comparable(_required(spec, "value", name), ptype)
    if operator == "BETWEEN":
        high = comparable(_required(spec, "highValue", name), ptype)
        return lambda p: _present(p.get(name)) and low <= comparable(p.get(name), ptype) <= high
    return _comparison(operator, name, ptype, low)


def _comparison(operator: str, name: str, ptype: str, key: tuple[int, Any]) -> Predicate:
    def get(p: Props) -> tuple[int, Any] | None:
        value = p.get(name)
        return comparable(value, ptype) if _present(value) else None

    if operator == "EQ":
        return lambda p: get(p) == key
    if operator == "NEQ":
        return lambda p: get(p) != key

    def ordered(test: Callable[[tuple[int, Any]], bool]) -> Predicate:
        def check(p: Props) -> bool:
            mine = get(p)
            return mine is not None and mine[0] == key[0] and test(mine)

        return check

    tests: dict[str, Callable[[tuple[int, Any]], bool]] = {
        "LT": lambda m: m < key,
        "LTE": lambda m: m <= key,
        "GT": lambda m: m > key,
        "GTE": lambda m: m >= key,
    }
    return ordered(tests[operator])


def _required(spec: Mapping[str, Any], key: str, name: str) -> Any:
    if spec.get(key) is None:
        raise SearchError(f"Operator {spec.get('operator')} on {name} requires '{key}'")
    return _scalar(spec[key], name)


def _scalar(value: Any, name: str) -> Any:
    if not isinstance(value, (str, int, float, bool)):
        raise SearchError(f"Filter value for {name} must be a string or number")
    return value


def compile_groups(groups: Any, types: Mapping[str, str]) -> Predicate:
    """OR of ANDs, validated against the documented group and filter counts."""
    if groups in (None, []):
        return lambda _p: True
    if not isinstance(groups, list):
        raise SearchError("filterGroups must be a list")
    if len(groups) > MAX_GROUPS:
        raise SearchError(f"Too many filter groups: {len(groups)} (max {MAX_GROUPS})")
    compiled: list[list[Predicate]] = []
    total = 0
    for group in groups:
        filters = group.get("filters", []) if isinstance(group, dict) else None
        if not isinstance(filters, list):
            raise SearchError("Each filter group needs a 'filters' list")
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise SearchError(f"Too many filters in a group: {len(filters)} (max 6)")
        total += len(filters)
        compiled.append([compile_filter(f, types) for f in filters])
    if total > MAX_FILTERS:
        raise SearchError(f"Too many filters: {total} (max {MAX_FILTERS})")
    if len(compiled) == 1:
        only = compiled[0]

        def single(p: Props) -> bool:
            for check in only:  # noqa: SIM110 -- a plain loop is ~30 % faster than all(genexpr) here
                if not check(p):
                    return False
            return True

        return single
    return lambda p: any(all(f(p) for f in group) for group in compiled)


def parse_request(body: Mapping[str, Any], raw_length: int) -> tuple[int, int, tuple[str, bool]]:
    """Validate paging and sorting: returns (limit, after, (sort property, descending))."""
    if raw_length > MAX_BODY:
        raise SearchError(f"Request body is {raw_length} characters (max {MAX_BODY})")
    limit = body.get("limit", DEFAULT_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise SearchError("limit must be a non-negative integer")
    if limit > MAX_LIMIT:
        raise SearchError(f"limit {limit} is above the maximum of {MAX_LIMIT}")
    after_raw = body.get("after") or "0"
    try:
        after = int(str(after_raw))
    except ValueError as exc:
        raise SearchError(f"Invalid 'after' value {after_raw!r}") from exc
    if after < 0:
        raise SearchError("'after' must not be negative")
    if after + limit > MAX_RESULTS:
        raise SearchError(
            f"Paging past {MAX_RESULTS} results is not supported (after={after}, limit={limit})"
        )
    sorts = body.get("sorts") or []
    if not isinstance(sorts, list):
        raise SearchError("sorts must be a list")
    if len(sorts) > 1:
        raise SearchError("Only one sort is allowed")
    return limit, after, _sort_rule(sorts)


def _sort_rule(sorts: list[Any]) -> tuple[str, bool]:
    if not sorts:
        return ("hs_object_id", False)
    rule = sorts[0]
    if isinstance(rule, str):  # HubSpot also accepts a bare property name
        return (rule.lstrip("-"), rule.startswith("-"))
    if not isinstance(rule, dict) or not rule.get("propertyName"):
        raise SearchError("A sort needs a propertyName")
    direction = str(rule.get("direction", "ASCENDING")).upper()
    if direction not in ("ASCENDING", "DESCENDING"):
        raise SearchError(f"Invalid sort direction {direction!r}")
    return (str(rule["propertyName"]), direction == "DESCENDING")


Entry = tuple[Any, ...]


def sort_entry(rid: str, props: Props, sort: tuple[str, bool], types: Mapping[str, str]) -> Entry:
    """A record's position in a sort: the sort key, then the id (numeric) as tie-break."""
    name, descending = sort
    key = comparable(props.get(name), types.get(name, "string"))
    number = int(rid) if rid.isdigit() else 0
    if descending:  # id stays ascending inside a tie, empty values stay last
        return (key[0] == 2, _neg(key), number, rid)
    return (key, number, rid)


def sorted_entries(
    records: Mapping[str, Mapping[str, Any]],
    predicate: Predicate,
    sort: tuple[str, bool],
    types: Mapping[str, str],
) -> list[Entry]:
    """Sort entries of every matching record, in order."""
    entries = [
        sort_entry(rid, record["properties"], sort, types)
        for rid, record in records.items()
        if predicate(record["properties"])
    ]
    entries.sort()
    return entries


def refresh_entries(
    entries: list[Entry],
    changed: set[str],
    records: Mapping[str, Mapping[str, Any]],
    predicate: Predicate,
    sort: tuple[str, bool],
    types: Mapping[str, str],
) -> list[Entry]:
    """Entries after ``changed`` records moved, appeared or vanished (no full re-sort)."""
    kept = [entry for entry in entries if entry[-1] not in changed]
    for rid in changed:
        record = records.get(rid)
        if record is not None and predicate(record["properties"]):
            insort(kept, sort_entry(rid, record["properties"], sort, types))
    return kept


def sorted_ids(
    records: Mapping[str, Mapping[str, Any]],
    predicate: Predicate,
    sort: tuple[str, bool],
    types: Mapping[str, str],
) -> list[str]:
    """Ids of matching records in sort order; ties (and empty values) broken by id."""
    return [entry[-1] for entry in sorted_entries(records, predicate, sort, types)]


def _neg(key: tuple[int, Any]) -> tuple[int, Any]:
    rank, value = key
    if isinstance(value, float):
        return (rank, -value)
    return (rank, _Reverse(value))


class _Reverse:
    """Inverts string ordering for descending sorts with ascending id ties."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Reverse) -> bool:
        return bool(self.value > other.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reverse) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)


#: Operators on the sort property that select one contiguous run of an ascending sort.
RANGE_OPERATORS = frozenset({"EQ", "GT", "GTE", "LT", "LTE"})
Bound = tuple[str, tuple[int, Any]]


def split_sort_range(
    groups: Any, sort: tuple[str, bool], types: Mapping[str, str]
) -> tuple[Any, list[Bound]]:
    """Split one AND group into (the other filters, range bounds on the sort property).

    Why: the agent's keyset pages ask "MQL filter AND lastmodifieddate GTE x AND LTE y,
    sorted by lastmodifieddate", with a new ``x`` on every page. Keyed on the whole body,
    the result cache missed on every page and each page filtered and sorted every contact.
    With the bounds taken out, every page shares one cached, sorted list (the MQL filter's)
    and the bounds become two bisections (:func:`range_slice`).

    Only an ascending sort, a single filter group, and EQ/GT/GTE/LT/LTE with a value that
    keys as a number, date or text (not empty, not NaN) are split: for those the matching
    records are exactly one contiguous run of the sort order, because the filter accepts a
    record only when its key has the bound's rank and compares to it the same way the sort
    does (see :func:`_comparison`). Anything else stays in the first element, unchanged.
    ``groups`` must already have passed :func:`compile_groups` (validation stays there).
    """
    name, descending = sort
    if descending or not isinstance(groups, list) or len(groups) != 1:
        return groups, []
    filters = groups[0]["filters"]
    rest, bounds = [], []
    for spec in filters:
        key = None
        if spec.get("propertyName") == name and spec.get("operator") in RANGE_OPERATORS:
            key = comparable(spec["value"], types[name])
        if key is None or key[0] == 2 or key[1] != key[1]:  # empty or NaN: keep as a filter
            rest.append(spec)
        else:
            bounds.append((str(spec["operator"]), key))
    if not bounds:
        return groups, []
    return [{**groups[0], "filters": rest}], bounds


_KEY = itemgetter(0)


def range_slice(entries: list[Entry], bounds: list[Bound]) -> tuple[int, int]:
    """``entries[start:stop]`` are the ascending entries whose sort key meets every bound.

    ``entries`` must be sorted with ascending keys (``sort_entry`` of a non-descending sort)
    and hold no NaN key (NaN breaks the order bisection relies on; callers check).
    """
    start, stop = 0, len(entries)
    for operator, key in bounds:
        rank = key[0]
        if operator == "EQ":
            low = bisect_left(entries, key, key=_KEY)
            high = bisect_right(entries, key, key=_KEY)
        elif operator in ("GT", "GTE"):
            find = bisect_right if operator == "GT" else bisect_left
            low = find(entries, key, key=_KEY)
            high = bisect_left(entries, (rank + 1,), key=_KEY)
        else:
            find = bisect_left if operator == "LT" else bisect_right
            low = bisect_left(entries, (rank,), key=_KEY)
            high = find(entries, key, key=_KEY)
        start, stop = max(start, low), min(stop, high)
    return start, max(start, stop)


def has_nan(entries: list[Entry]) -> bool:
    """Whether any ascending entry's key is NaN (a number property holding "nan")."""
    return any(entry[0][1] != entry[0][1] for entry in entries)
