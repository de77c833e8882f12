"""Shared set-up for the benchmarks that sync against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def request_totals(state: Mapping[str, Any]) -> dict[str, int]:
    """API calls per system, and 429 answers, from ``/_sandbox/state`` request counts."""
    totals = {"hubspot": 0, "salesforce": 0, "hubspot_search": 0, "http_429": 0}
    for row in state["requests"]:
        totals[row["system"]] = totals.get(row["system"], 0) + row["count"]
        if row["system"] == "hubspot" and "search" in row["endpoint"]:
            totals["hubspot_search"] += row["count"]
        if row["status"] == 429:
            totals["http_429"] += row["count"]
    return totals


def delta(after: Mapping[str, int], before: Mapping[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in after}


def emit(figures: Mapping[str, Any]) -> None:
    """The benchmark contract: the last line printed is one JSON object."""
    print(json.dumps(dict(figures)))
