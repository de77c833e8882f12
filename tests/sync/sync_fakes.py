"""In-memory stand-ins for a connector (source + sink) and the rules engine.

A :class:`World` is a tiny CRM: contacts with a modification time, SAL fields written back,
and notes counted per handoff key (so a double write is visible). The source pages like
the real ones (closed lower bound on the modification time plus ids already seen there).
A first-attempt write does NOT look for earlier notes (the contract says first attempts
pay no reconciliation calls), so an engine that re-sends a handoff without
``recovering=True`` creates a duplicate note that the tests catch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict

from connectors.base import ConnectorSpec, Cursor, Instance, Page
from sync_agent.errors import Problem, RetriableError, RulesError
from sync_agent.model import MQL, Check, Decision, Handoff, Outcome, WriteResult, WriteState

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)


@dataclass
class World:
    """One fake system: contacts to read, SAL fields and notes written back."""

    contacts: list[dict[str, Any]] = field(default_factory=list)
    sal: dict[str, str] = field(default_factory=dict)
    notes: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    fail_calls: list[BaseException] = field(default_factory=list)  # raised by the next write calls
    per_key: dict[str, WriteResult] = field(default_factory=dict)  # forced per-lead results
    crash_after_apply: list[BaseException] = field(default_factory=list)
    read_fails_after: int | None = None  # pages served before the source raises

    def add(self, cid: str, score: int, minute: int, **props: Any) -> None:
        props.setdefault("email", f"lead{cid}@example.com")
        self.contacts.append(
            {
                "id": cid,
                "modified_ms": T0_MS + minute * 60_000,
                "props": {"lead_score": score, **props},
            }
        )

    def touch(self, cid: str, minute: int, **props: Any) -> None:
        for c in self.contacts:
            if c["id"] == cid:
                c["modified_ms"] = T0_MS + minute * 60_000
                c["props"].update(props)


WORLDS: dict[str, World] = {}


class FakeSource:
    def __init__(self, world: World, page_size: int, name: str = "fake") -> None:
        self.world, self.page_size, self.name = world, page_size, name
        self.reads = 0

    def read(self, cursor: Cursor, *, until_ms: int | None = None) -> Iterator[Page]:
        pos = cursor.to_dict()
        low = int(pos.get("modified_ms", 0))
        seen = set(pos.get("seen_ids", []))
        rows = sorted(
            (
                c
                for c in self.world.contacts
                if c["modified_ms"] >= low and (until_ms is None or c["modified_ms"] < until_ms)
            ),
            key=lambda c: (c["modified_ms"], c["id"]),
        )
        rows = [c for c in rows if not (c["modified_ms"] == low and c["id"] in seen)]
        for start in range(0, len(rows), self.page_size):
            if (
                self.world.read_fails_after is not None
                and self.reads >= self.world.read_fails_after
            ):
                self.world.read_fails_after = None
                raise RetriableError("502 Bad Gateway (HTML)", status=502)
            self.reads += 1
            chunk = rows[start : start + self.page_size]
            mqls, bad = [], []
            for c in chunk:
                if not isinstance(c["props"], dict):
                    bad.append((c["id"], "properties are not an object"))
                    continue
                mqls.append(
                    MQL(
                        self.name,
                        c["id"],
                        dict(c["props"]),
                        datetime.fromtimestamp(c["modified_ms"] / 1000, UTC),
                        {self.name: c["id"]},
                    )
                )
            last = chunk[-1]["modified_ms"]
            ids = [c["id"] for c in chunk if c["modified_ms"] == last]
            if last == low:
                ids = sorted(seen | set(ids))
            yield Page(mqls, Cursor({"modified_ms": last, "seen_ids": ids}), bad)


class FakeSink:
    def __init__(self, world: World, name: str) -> None:
        self.world, self.name = world, name

    def write(self, handoffs: Sequence[Handoff], *, recovering: bool = False) -> list[WriteResult]:
        w = self.world
        w.calls["write_recovering" if recovering else "write"] += 1
        structlog.get_logger("fake").info("fake_sink_write", sink=self.name, handoffs=len(handoffs))
        if w.fail_calls:
            raise w.fail_calls.pop(0)
        results = []
        for h in handoffs:
            forced = w.per_key.get(h.mql.source_id)
            if forced is not None:
                results.append(WriteResult(h.key, forced.status, forced.reason))
                continue
            w.sal[h.mql.source_id] = h.decision.outcome.value
            if h.decision.outcome is Outcome.ACCEPTED and not (recovering and w.notes[h.key]):
                w.notes[h.key] += 1
            results.append(
                WriteResult(h.key, WriteState.WRITTEN, target_id=f"{self.name}-{h.mql.source_id}")
            )
        if w.crash_after_apply:
            raise w.crash_after_apply.pop(0)
        return results


class FakeSettings(BaseModel):
    """Options of a fake connector: ``world`` picks the World, ``page_size`` the paging."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    world: str
    page_size: int = 3


def _checks(inst: Instance) -> list[tuple[str, bool, str]]:
    return [
        ("read contacts", True, "ok"),
        ("write notes", inst.settings.world != "broken", "missing scope"),
    ]


#: Registered as the ``fake`` connector type through a test-only entry point (conftest).
FAKE = ConnectorSpec(
    name="fake",
    title="Fake",
    summary="an in-memory CRM for the engine's tests",
    raw_prefix="fake",
    settings=FakeSettings,
    secrets={"FAKE_TOKEN": "unused"},
    build_source=lambda inst: FakeSource(
        WORLDS[inst.settings.world], inst.settings.page_size, inst.name
    ),
    build_sink=lambda inst: FakeSink(WORLDS[inst.settings.world], inst.name),
    check_connection=_checks,
    start_position=lambda since_ms: {"modified_ms": since_ms, "seen_ids": []},
    position_ms=lambda pos: pos.get("modified_ms"),
)


@dataclass(frozen=True)
class FakeRuleset:
    name: str
    hash: str
    threshold: float

    def evaluate(self, fields: Mapping[str, Any], now: datetime) -> Decision:
        return FakeRules().evaluate(fields, self, now)


class FakeRules:
    """Accept when lead_score >= the threshold written in the ruleset file (``threshold = N``)."""

    def load_for(self, config: Any, pipeline: Any) -> FakeRuleset:
        """Stands in for ``sync_agent.engine.pipeline.load_pipeline_ruleset``."""
        return self.load(pipeline.ruleset)

    def load(self, path: Any) -> FakeRuleset:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        if "broken" in text:
            raise RulesError("bad ruleset", [Problem(str(path), "criteria", "broken on purpose")])
        threshold = float(text.split("=")[1])
        return FakeRuleset("fake-sal", f"hash{threshold:g}", threshold)

    def evaluate(self, fields: Mapping[str, Any], ruleset: FakeRuleset, now: datetime) -> Decision:
        if fields.get("explode"):
            raise ValueError("cannot evaluate this lead")
        score = float(fields.get("lead_score") or 0)
        ok = score >= ruleset.threshold
        check = Check("criterion", "lead_score", ok, f"score {score:g} vs {ruleset.threshold:g}")
        return Decision(
            Outcome.ACCEPTED if ok else Outcome.REJECTED,
            score,
            (f"score {score:g} {'>=' if ok else '<'} {ruleset.threshold:g}",),
            (check,),
            ruleset.name,
            ruleset.hash,
            now,
        )


class FakeClock:
    def __init__(self, start: datetime = T0 + timedelta(days=1)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
