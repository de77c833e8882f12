"""Shared helpers for the HubSpot connector tests: a fake clock, sandboxes, handoffs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.hubspot import HubSpotSink, HubSpotSource, build_sink, build_source
from connectors.hubspot.schema import load_schema
from connectors.hubspot.setup import setup_properties
from connectors.sandbox import Sandbox
from sync_agent.model import MQL, Decision, Handoff, Outcome


class FakeClock:
    """Epoch seconds that move only when someone sleeps; shared with the sandbox."""

    def __init__(self, start: float | None = None) -> None:
        self.now = start if start is not None else float(int(time.time()))
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += max(0.0, seconds)

    def dt(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


def connect(sb: Sandbox, clock: FakeClock, **options: Any) -> tuple[HubSpotSource, HubSpotSink]:
    """A source and a sink on the sandbox (sharing one limiter), paced on ``clock``.

    The portal's schema is read once here (as an earlier run would have cached it) and the
    sandbox's request counts start from zero after it, so tests count what reads and writes
    cost."""
    info = sb.info()
    opts = {"base_url": info["hubspot_url"], **options}
    secrets = {"HUBSPOT_ACCESS_TOKEN": info["hubspot_token"]}
    source = build_source(opts, secrets, clock=clock, sleep=clock.sleep)
    sink = build_sink(opts, secrets, clock=clock, sleep=clock.sleep)
    with calm(sb):
        load_schema(source.client, source.settings, source.state)
    with sb.store.lock:
        sb.store.counts.clear()
    return source, sink


@contextmanager
def calm(sb: Sandbox) -> Iterator[None]:
    """No injected faults and no rate limits inside the block (the test's own are restored
    after): a warm-up must not spend what the test counts on."""
    saved = [(obj, dict(vars(obj))) for obj in (sb.hubspot_faults, sb.hubspot_limits)]
    for obj, fields in saved:
        for name in fields:
            if name != "seed":
                setattr(obj, name, type(obj)().__getattribute__(name))
    try:
        yield
    finally:
        for obj, fields in saved:
            vars(obj).update(fields)


def calls(sb: Sandbox, endpoint: str, status: int | None = None) -> int:
    return sb.store.request_count("hubspot", endpoint, status)


def handoff(cid: str, outcome: Outcome = Outcome.ACCEPTED, *, key: str | None = None,
            score: float = 82.0, note: str = "SAL accepted: score 82") -> Handoff:
    mql = MQL(source="hubspot", source_id=cid, fields={}, crm_ids={"hubspot": cid})
    decision = Decision(outcome=outcome, score=score, reasons=("score 82 >= 70",),
                        explanation=(), ruleset_name="sal", ruleset_hash="abc",
                        decided_at=datetime(2026, 1, 15, 10, 30, tzinfo=UTC))
    return Handoff(key=key or f"hubspot:{cid}:R1-AbC", mql=mql, decision=decision, note=note)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def small_sandbox(clock: FakeClock) -> Iterator[Sandbox]:
    """~600 MQLs on the fake clock, SAL properties created."""
    with Sandbox(contacts=1000, seed=5, mql_share=0.6, clock=clock.dt) as sb:
        source, _ = connect(sb, clock)
        setup_properties(source.client, source.settings)
        yield sb
