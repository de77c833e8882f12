"""Benchmark: the rules engine on rules/sal.toml vs a hand-written Python function.

    .venv/bin/python bench/rules_bench.py [--leads 100000] [--seed 7]

Both evaluate the same deterministic synthetic leads (string values as HubSpot sends
them: "72", "true", "2026-11-02", epoch milliseconds); the engine builds full
explanations. The bench checks that both agree on every outcome and prints, as its last
line, one JSON object: {"engine_leads_per_s", "handwritten_leads_per_s", "ratio", ...}.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _smoke import smoke  # noqa: E402

from sync_agent.rules import evaluate, load_ruleset  # noqa: E402
from sync_agent.rules.lists import parse_list_text  # noqa: E402

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CHUNK = 5_000
DOMAINS = [
    "northwind.io",
    "contoso.com",
    "globex.net",
    "initech.com",
    "umbrella.co",
    "gmail.com",
    "yahoo.com",
    "rivalcrm.com",
    "hooli.com",
    "acme.org",
]
COUNTRIES = ["US", "Germany", "DE", "United Kingdom", "FR", "Brazil", "India", "CA", "", "nl"]
TITLES = [
    "VP Sales",
    "Head of Marketing",
    "Software Engineer",
    "Student",
    "CTO",
    "Director of IT",
    "Marketing Intern",
    "Account Manager",
    "",
    "Founder & CEO",
    "Analyst",
]
INDUSTRIES = ["COMPUTER_SOFTWARE", "INTERNET", "RETAIL", "Financial Services", "", "EDUCATION"]
STAGES = ["marketingqualifiedlead", "lead", "customer", "salesqualifiedlead", ""]
TIMELINES = ["this quarter", "next year", "", "immediate", "6-12 months"]


def _date(rng: random.Random, exact: bool) -> str:
    when = NOW - timedelta(days=rng.randint(0, 90), hours=rng.randint(0, 23))
    if exact:  # millisecond timestamps: practically every value is unique
        when -= timedelta(milliseconds=rng.randint(0, 3_600_000))
    roll = rng.random()
    if roll < 0.15:
        return ""
    if roll < 0.5:
        return str(int(when.timestamp() * 1000))  # HubSpot datetime properties: epoch ms
    if roll < 0.8:
        return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return when.strftime("%Y-%m-%d")


def synthetic_leads(count: int, seed: int, exact_times: bool = False) -> list[dict[str, str]]:
    """Deterministic leads with every value a string, blanks and junk included."""
    rng = random.Random(seed)
    leads = []
    for i in range(count):
        pick = rng.choice
        leads.append(
            {
                "email": f"p{i}@{pick(DOMAINS)}" if rng.random() > 0.03 else "",
                "first_name": pick(["Dana", "Lee", ""]),
                "last_name": pick(["Ng", "Okafor", ""]),
                "company": pick(["Northwind", "Globex", ""]),
                "title": pick(TITLES),
                "phone": pick(["+1 415 555 0100", "030 1234567", "", "n/a"]),
                "industry": pick(INDUSTRIES),
                "country": pick(COUNTRIES),
                "employees": pick(["12", "120", "1,200", "8000", "", "many"]),
                "lead_score": str(rng.randint(0, 100)) if rng.random() > 0.05 else "unknown",
                "lifecycle_stage": pick(STAGES),
                "is_customer": pick(["false", "", "true", "false"]),
                "demo_requested": pick(["true", "false", ""]),
                "trial_started": pick(["true", "false", ""]),
                "webinar_attended_date": _date(rng, exact_times),
                "last_activity_date": _date(rng, exact_times),
                "pricing_page_views": str(rng.randint(0, 5)),
                "timeline": pick(TIMELINES),
            }
        )
    return leads


def make_handwritten(rules_dir: Path) -> Callable[[Mapping[str, Any], datetime], tuple[str, float]]:
    """The same decision as rules/sal.toml, written by hand (outcome and score only)."""

    def load(name: str) -> frozenset[str]:
        text = (rules_dir / "lists" / f"{name}.txt").read_text("utf-8")
        return frozenset(x.casefold() for x in parse_list_text(text))

    names = ("free_email_domains", "countries_served", "competitor_domains", "target_industries")
    free, served, rivals, industries = (load(n) for n in names)
    student = re.compile(r"\b(student|intern|trainee|apprentice)\b", re.I)
    senior = re.compile(
        r"\b(chief|c[etiomr]o|vp|vice president|head|director|manager|founder|owner|partner)\b",
        re.I,
    )
    phone_ok = re.compile(r"^\+?[0-9][0-9 ()./-]{6,}$", re.I)
    timelines = {"now", "immediate", "this quarter", "0-3 months"}

    def num(v: Any) -> float | None:
        try:
            return float(str(v).replace(",", "")) if v not in (None, "") else None
        except ValueError:
            return None

    def day(v: Any) -> datetime | None:
        if not v:
            return None
        try:
            if v.isdigit():
                return datetime.fromtimestamp(int(v) / 1000, tz=UTC)
            d = datetime.fromisoformat(v)
            return d if d.tzinfo else d.replace(tzinfo=UTC)
        except ValueError:
            return None

    def yes(v: Any) -> bool:
        return str(v).strip().lower() in ("true", "yes", "1")

    def decide(lead: Mapping[str, Any], now: datetime) -> tuple[str, float]:
        email = (lead.get("email") or "").strip()
        domain = email.rsplit("@", 1)[1].lower() if "@" in email else ""
        title = lead.get("title") or ""
        webinar, activity = (
            day(lead.get("webinar_attended_date")),
            day(lead.get("last_activity_date")),
        )
        gates_ok = (
            bool(email)
            and domain not in free
            and bool(domain)
            and (lead.get("country") or "").strip().casefold() in served
        )
        disq = (
            domain in rivals
            or bool(student.search(title))
            or yes(lead.get("is_customer"))
            or (lead.get("lifecycle_stage") or "").casefold() in ("customer", "evangelist")
        )
        lane = (
            yes(lead.get("trial_started"))
            and webinar is not None
            and webinar >= now - timedelta(days=30)
        )
        complete = sum(
            bool((lead.get(f) or "").strip())
            for f in ("first_name", "last_name", "company", "title")
        )
        complete += bool(phone_ok.search((lead.get("phone") or "").strip()))
        score = round(20 * complete / 5, 2)
        employees = num(lead.get("employees"))
        score += 10 if employees is not None and 50 <= employees <= 5000 else 0
        score += 10 if (lead.get("industry") or "").strip().casefold() in industries else 0
        score += 10 if senior.search(title) else 0
        ls = num(lead.get("lead_score"))
        score += 0 if ls is None else 25 if ls >= 70 else 12.5 if ls >= 50 else 5 if ls >= 30 else 0
        ready = 10 * yes(lead.get("demo_requested")) + 5 * yes(lead.get("trial_started"))
        views = num(lead.get("pricing_page_views"))
        ready += 5 if views is not None and views >= 2 else 0
        ready += 5 if activity is not None and activity >= now - timedelta(days=14) else 0
        ready += 5 if (lead.get("timeline") or "").strip().casefold() in timelines else 0
        score = round(score + min(ready, 25), 2)
        if not gates_ok or disq:
            return "rejected", score
        if lane or score >= 70:
            return "accepted", score
        return ("review" if score >= 55 else "rejected"), score

    return decide


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds) if seconds > 0 else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--exact-times", action="store_true", help="unique millisecond dates (worst case for reuse)"
    )
    parser.add_argument("--ruleset", type=Path, default=ROOT / "rules" / "sal.toml")
    smoke(parser, leads=2000)  # SYNC_AGENT_BENCH_SMOKE=1: a few seconds (README test)
    args = parser.parse_args()
    leads = synthetic_leads(args.leads, args.seed, args.exact_times)
    ruleset = load_ruleset(args.ruleset)
    handwritten = make_handwritten(args.ruleset.parent)

    # Both run on the same chunks, alternately, and are timed in CPU seconds of this
    # process, so that load from other processes on the machine affects both alike.
    # Decisions are reduced to (outcome, score) as they come, like a sync writing them out;
    # each one is still built completely, explanation included.
    decisions: list[tuple[str, float]] = []
    manual: list[tuple[str, float]] = []
    engine_s = hand_s = 0.0
    for chunk in (leads[i : i + CHUNK] for i in range(0, len(leads), CHUNK)):
        start = time.process_time()
        decisions += [_brief(evaluate(lead, ruleset, NOW)) for lead in chunk]
        engine_s += time.process_time() - start
        start = time.process_time()
        manual += [handwritten(lead, NOW) for lead in chunk]
        hand_s += time.process_time() - start

    pairs = zip(decisions, manual, strict=True)
    mismatches = sum(d[0] != m[0] or abs(d[1] - m[1]) > 0.01 for d, m in pairs)
    outcomes: dict[str, int] = {}
    for outcome, _score in decisions:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    nodes = sum(_count(c) for c in evaluate(leads[0], ruleset, NOW).explanation)
    result = {
        "engine_leads_per_s": _rate(len(leads), engine_s),
        "handwritten_leads_per_s": _rate(len(leads), hand_s),
        "ratio": round(hand_s and engine_s and (hand_s / engine_s), 3),
        "leads": len(leads),
        "mismatches": mismatches,
    }
    print(f"ruleset {ruleset.name} ({ruleset.hash[:12]}), {len(leads)} leads, seed {args.seed}")
    print(f"explanation nodes per decision: {nodes}")
    print(f"outcomes: {json.dumps(outcomes, sort_keys=True)}")
    print(f"engine (full explanations): {engine_s:.2f} CPU s = {result['engine_leads_per_s']:,}/s")
    print(
        f"hand-written function:      {hand_s:.2f} CPU s = {result['handwritten_leads_per_s']:,}/s"
    )
    print(f"ratio engine/hand-written: {result['ratio']} (target >= 0.333)")
    print(f"outcome or score mismatches: {mismatches}")
    print(json.dumps(result))
    return 1 if mismatches else 0


def _brief(decision: Any) -> tuple[str, float]:
    return decision.outcome.value, decision.score


def _count(check: Any) -> int:
    return 1 + sum(_count(c) for c in check.children)


if __name__ == "__main__":
    raise SystemExit(main())
