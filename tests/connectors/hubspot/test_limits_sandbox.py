"""Rate limits and the daily budget, with the sandbox enforcing them on the same fake clock."""

from __future__ import annotations

import pytest

from connectors.base import Cursor
from connectors.hubspot.errors import DailyLimitReached
from connectors.hubspot.setup import setup_properties
from connectors.sandbox import HubSpotLimits, Sandbox
from sync_agent.errors import BudgetExhausted
from sync_agent.model import Outcome

from .conftest import calls, connect, handoff


def test_pacing_avoids_429s_instead_of_provoking_them(clock):
    limits = HubSpotLimits(burst_per_10s=10, search_per_s=2, daily=10_000)
    with Sandbox(contacts=1500, seed=12, clock=clock.dt, hubspot_limits=limits) as sb:
        source, sink = connect(sb, clock, burst_per_10s=10, search_per_s=2, page_size=100)
        start = clock.now
        setup_properties(source.client, source.settings)
        ids = [m.source_id for page in source.read(Cursor()) for m in page.mqls]
        outcomes = [Outcome.ACCEPTED, Outcome.REJECTED]
        sink.write([handoff(cid, outcomes[i % 2]) for i, cid in enumerate(ids[:300])])
        assert sb.store.request_count("hubspot", None, 429) == 0
        searches = calls(sb, "contacts.search")
        writes = sb.store.request_count("hubspot") - searches
        assert searches >= 9 and writes >= 7 + 3 + 2
        # The limits were binding: at least the virtual time the server's windows demand
        # (2 searches per second; 10 other calls per 10 s).
        assert clock.now - start >= max((searches - 2) / 2, writes - 10)


def test_daily_share_stops_the_read_cleanly_after_the_allowance(clock):
    with Sandbox(contacts=1500, seed=12, clock=clock.dt) as sb:
        source, _ = connect(sb, clock, daily=30, daily_max_share=0.5, page_size=20,
                            company_context=False)
        pages = []
        with pytest.raises(BudgetExhausted):
            for page in source.read(Cursor()):
                pages.append(page)
        # 15 calls allowed: 2 read the portal's schema when connecting, then 13 searches
        assert sb.store.request_count("hubspot") == 13
        assert calls(sb, "contacts.search") == 13
        assert len(pages) == 13 and pages[-1].cursor.position  # state to save is there


def test_a_daily_429_stops_at_once_without_retrying(clock):
    """Other apps on the portal used the day's calls before our limiter could know."""
    with Sandbox(contacts=1500, seed=12, clock=clock.dt) as sb:
        source, _ = connect(sb, clock, page_size=20)
        sb.hubspot_limits.daily = sb.store.api_usage["hubspot_daily_used"]
        with pytest.raises(DailyLimitReached):
            for _ in source.read(Cursor()):
                pass
        assert calls(sb, "contacts.search", 429) == 1


def test_a_search_answered_429_widens_the_search_margin_up_to_its_cap(clock):
    """The per-second search window is short: when the server still counted one search too
    many (its clock and ours disagree by more than the margin), pace searches wider."""
    from connectors.hubspot.limits import SEARCH_MARGIN_MAX_S, SEARCH_MARGIN_STEP_S
    from connectors.sandbox.faults import Faults
    from sync_agent.errors import RetriableError

    with Sandbox(contacts=50, seed=12, clock=clock.dt, faults=Faults(rate_429=1.0)) as sb:
        source, sink = connect(sb, clock, page_size=20, max_attempts=4)
        limiter = source.client.limiter
        assert sink.client.limiter is limiter  # the sink's searches pace with the source's
        start = limiter.search_margin
        with pytest.raises(RetriableError):
            for _ in source.read(Cursor()):
                pass
        assert calls(sb, "contacts.search", 429) == 4
        assert limiter.search_margin == pytest.approx(start + 3 * SEARCH_MARGIN_STEP_S)
        for _ in range(20):
            limiter.widen_search_margin()
        assert limiter.search_margin == SEARCH_MARGIN_MAX_S
        assert limiter.margin == start  # the 10-second burst window keeps its margin


def test_a_search_over_the_per_second_window_waits_for_that_window_only(clock):
    """A ``SECONDLY`` 429 says only the per-second search window was full (the server's
    clock saw one search too many): the search is sent again once that window moves on
    (a fifth of a second at 5/s), not after a whole backoff, and the portal's other calls
    (the writer's updates) are not held back for it."""
    limits = HubSpotLimits(burst_per_10s=1000, search_per_s=4, daily=100_000)
    with Sandbox(contacts=600, seed=12, clock=clock.dt, hubspot_limits=limits) as sb:
        source, _ = connect(sb, clock, search_per_s=5, page_size=20, company_context=False,
                            burst_per_10s=1000)  # fmt: skip
        limiter = source.client.limiter
        start = clock.now
        pages = list(source.read(Cursor()))
        refused = calls(sb, "contacts.search", 429)
        searches = calls(sb, "contacts.search") - refused
        assert pages and refused >= 1
        assert limiter._blocked_until <= start  # nobody else was held back
        # every refusal cost at most a fifth of a second over the server's own pace
        assert clock.now - start <= searches / 4 + 1.0 + refused * 0.25
