"""The Salesforce sink against the sandbox over https, through the real simple-salesforce."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sf_kit import (
    DECIDED,
    OWNER,
    add_lead,
    client_secrets,
    handoff,
    no_sleep,
    options,
    session_secrets,
    sf_calls,
)

from connectors.salesforce import build_sink
from connectors.sandbox.faults import Faults
from connectors.sandbox.limits import SalesforceLimits
from sync_agent.errors import AuthError, BudgetExhausted, RetriableError
from sync_agent.model import Outcome, WriteState


def sink_for(sb, **opts):
    return build_sink(options(sb, **opts), client_secrets(sb), sleep=no_sleep)


def test_accepted_handoff_writes_status_fields_and_one_owner_task(sb):
    lid = add_lead(sb.store, "ada@example.com")
    [result] = sink_for(sb).write([handoff("1", lead_id=lid)])
    assert result.status is WriteState.WRITTEN and result.target_id == lid
    lead = sb.store.leads[lid]
    assert lead["Status"] == "SAL - Accepted"
    assert lead["SAL_Score__c"] == 82.0
    assert lead["SAL_Date__c"].startswith("2026-01-15T10:30:00")
    assert lead["SAL_Reason__c"].startswith("accepted: score 82 >= 70")
    [task] = sb.store.tasks.values()
    assert task["WhoId"] == lid and task["OwnerId"] == OWNER
    assert task["SAL_Handoff_Key__c"] == "pipe:1"
    assert task["Description"] == "Accepted: demo requested, ICP fit."
    assert task["ActivityDate"] == (DECIDED + timedelta(hours=24)).date().isoformat()
    assert "Ada Lovelace" in task["Subject"]


def test_rejected_and_review_write_fields_but_no_task(sb):
    rejected = add_lead(sb.store, "r@example.com")
    review = add_lead(sb.store, "v@example.com")
    results = sink_for(sb).write([
        handoff("r", lead_id=rejected, outcome=Outcome.REJECTED, score=20),
        handoff("v", lead_id=review, outcome=Outcome.REVIEW, score=60),
    ])
    assert [r.status for r in results] == [WriteState.WRITTEN, WriteState.WRITTEN]
    assert sb.store.leads[rejected]["Status"] == "SAL - Rejected"
    assert sb.store.leads[review]["Status"] == "MQL"  # review leaves Status as it is
    assert sb.store.leads[review]["SAL_Score__c"] == 60.0
    assert sb.store.tasks == {}


def test_task_is_idempotent_per_handoff_key(sb):
    lid = add_lead(sb.store, "ada@example.com")
    sink = sink_for(sb)
    first = sink.write([handoff("1", lead_id=lid)])
    again = sink.write([handoff("1", lead_id=lid)], recovering=True)
    assert first[0].status is again[0].status is WriteState.WRITTEN
    assert [t["SAL_Handoff_Key__c"] for t in sb.store.tasks.values()] == ["pipe:1"]


def test_converted_deleted_missing_and_ambiguous_leads_are_skipped_with_reasons(sb):
    converted = add_lead(sb.store, "conv@example.com", converted=True)
    deleted = add_lead(sb.store, "del@example.com", deleted=True)
    add_lead(sb.store, "twin@example.com")
    add_lead(sb.store, "TWIN@example.com")
    by_email = add_lead(sb.store, "Mixed.Case@Example.com")
    results = sink_for(sb).write([
        handoff("c", lead_id=converted),
        handoff("d", lead_id=deleted),
        handoff("m", email="nobody@example.com"),
        handoff("a", email="twin@example.com"),
        handoff("e", email="mixed.case@example.com"),
        handoff("n"),
    ])
    got = {r.key: (r.status, r.reason) for r in results}
    assert got["pipe:c"] == (WriteState.SKIPPED, "lead converted")
    assert got["pipe:d"] == (WriteState.SKIPPED, "lead deleted")
    assert got["pipe:m"][0] is WriteState.WAITING, "often not yet: a CRM sync creates it later"
    assert got["pipe:a"] == (WriteState.SKIPPED, "ambiguous: 2 leads share this email")
    assert got["pipe:e"][0] is WriteState.WRITTEN
    assert got["pipe:n"][0] is WriteState.SKIPPED and "no matching lead" in got["pipe:n"][1]
    assert sb.store.leads[by_email]["Status"] == "SAL - Accepted"
    assert sb.store.leads[converted]["Status"] == "Closed - Converted"
    assert len(sb.store.tasks) == 1


def test_unknown_lead_id_falls_back_to_email(sb):
    lid = add_lead(sb.store, "moved@example.com")
    stale = handoff("x", lead_id="00Q5g00000ZZZZZZZZ", email="moved@example.com")
    [result] = sink_for(sb).write([stale])
    assert (result.status, result.target_id) == (WriteState.WRITTEN, lid)


@pytest.mark.parametrize("m", [1, 200, 201, 450])
def test_batching_costs_ceil_m_over_200_calls_per_record_kind(sb, m):
    ids = [add_lead(sb.store, f"lead{i}@example.com") for i in range(m)]
    handoffs = [handoff(str(i), lead_id=lid) for i, lid in enumerate(ids)]
    results = sink_for(sb, use_composite=False).write(handoffs)
    assert all(r.status is WriteState.WRITTEN for r in results)
    calls = math.ceil(m / 200)
    assert sf_calls(sb.store, "PATCH composite/sobjects") == calls
    assert sf_calls(sb.store, "PATCH composite/sobjects/upsert") == calls
    assert sf_calls(sb.store, "GET queryAll") == calls
    assert len(sb.store.tasks) == m
    assert all(lead["Status"] == "SAL - Accepted" for lead in sb.store.leads.values())


@pytest.mark.parametrize("m", [1, 201, 1001, 2400])
def test_composite_folds_up_to_five_collections_or_queries_per_call(sb, m):
    ids = [add_lead(sb.store, f"lead{i}@example.com") for i in range(m)]
    handoffs = [handoff(str(i), lead_id=lid) for i, lid in enumerate(ids)]
    results = sink_for(sb, use_composite=True).write(handoffs)
    assert all(r.status is WriteState.WRITTEN for r in results)
    per_kind = math.ceil(m / 200)
    folded = 1 if per_kind == 1 else math.ceil(per_kind / 5)
    data_calls = sf_calls(sb.store) - sf_calls(sb.store, "POST oauth2/token")
    owner_lookup = 1  # who owns the leads (active user? queue?), once per sink
    assert data_calls - owner_lookup == 3 * folded <= 3 * per_kind
    assert len(sb.store.tasks) == m
    assert all(lead["Status"] == "SAL - Accepted" for lead in sb.store.leads.values())


@pytest.mark.parametrize(("composite", "endpoint", "calls"), [
    (False, "GET query", 3),
    (True, "POST composite", 2),  # the 3 queries in one, the 2 update collections in another
])
def test_email_matching_is_chunked_to_keep_urls_short(sb, composite, endpoint, calls):
    for i in range(250):
        add_lead(sb.store, f"e{i}@example.com")
    handoffs = [handoff(str(i), email=f"e{i}@example.com") for i in range(250)]
    sink = sink_for(sb, email_chunk=100, use_composite=composite, create_task=False)
    results = sink.write(handoffs)
    assert all(r.status is WriteState.WRITTEN for r in results)
    assert sf_calls(sb.store, endpoint) == calls
    if composite:
        assert sf_calls(sb.store, "GET query") == 0


def test_lock_errors_are_retried_in_call_and_then_succeed(sb):
    lid = add_lead(sb.store, "ada@example.com")
    sb.store.salesforce_emulator.inject("lock")
    sleeps: list[float] = []
    sink = build_sink(options(sb), client_secrets(sb), sleep=sleeps.append)
    [result] = sink.write([handoff("1", lead_id=lid)])
    assert result.status is WriteState.WRITTEN
    assert sb.store.leads[lid]["Status"] == "SAL - Accepted"
    assert sf_calls(sb.store, "PATCH composite/sobjects") == 2
    assert len(sleeps) == 1  # one backoff before the re-send, through the injected sleep


def test_persistent_lock_errors_become_retryable_results(make_sandbox):
    sb = make_sandbox(faults=Faults(rate_lock=1.0))
    ok_lid = add_lead(sb.store, "ada@example.com")
    [result] = sink_for(sb, lock_retries=2).write([handoff("1", lead_id=ok_lid)])
    assert result.status is WriteState.RETRYABLE
    assert "UNABLE_TO_LOCK_ROW" in result.reason
    assert sf_calls(sb.store, "PATCH composite/sobjects") == 3  # first try + 2 lock retries
    assert sb.store.tasks == {}


def test_validation_errors_are_permanent_and_do_not_stop_the_batch(sb):
    good = add_lead(sb.store, "good@example.com")
    bad = add_lead(sb.store, "bad@example.com")
    sink = sink_for(sb, status_rejected="Not A Real Status")
    results = sink.write([
        handoff("g", lead_id=good),
        handoff("b", lead_id=bad, outcome=Outcome.REJECTED),
    ])
    assert results[0].status is WriteState.WRITTEN
    assert results[1].status is WriteState.DEAD
    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" in results[1].reason
    assert sf_calls(sb.store, "PATCH composite/sobjects") == 1  # no retry of a validation error


def test_results_come_back_one_per_handoff_in_input_order_even_with_duplicate_leads(sb):
    lid = add_lead(sb.store, "ada@example.com")
    results = sink_for(sb).write([handoff("1", lead_id=lid), handoff("2", lead_id=lid)])
    assert [r.key for r in results] == ["pipe:1", "pipe:2"]
    assert all(r.status is WriteState.WRITTEN for r in results)
    assert len(sb.store.tasks) == 2


def test_session_expiry_triggers_bounded_relogin_and_the_write_lands(make_sandbox):
    sb = make_sandbox(faults=Faults(session_expiry_every=3))
    ids = [add_lead(sb.store, f"s{i}@example.com") for i in range(3)]
    results = sink_for(sb).write([handoff(str(i), lead_id=lid) for i, lid in enumerate(ids)])
    assert all(r.status is WriteState.WRITTEN for r in results)
    assert sf_calls(sb.store, "POST oauth2/token") >= 2
    assert sb.store.request_count("salesforce", status=401) >= 1


def test_session_that_keeps_expiring_gives_up_after_max_relogins(make_sandbox):
    sb = make_sandbox(faults=Faults(session_expiry_every=1))
    lid = add_lead(sb.store, "ada@example.com")
    with pytest.raises(AuthError, match="re-logins"):
        sink_for(sb, max_relogins=2).write([handoff("1", lead_id=lid)])
    assert sf_calls(sb.store, "POST oauth2/token") == 3  # first login + 2 re-logins


def test_bare_session_id_cannot_relogin(sb):
    lid = add_lead(sb.store, "ada@example.com")
    sb.store.salesforce_emulator.inject("expire")
    sink = build_sink(options(sb), session_secrets(sb), sleep=no_sleep)
    with pytest.raises(AuthError, match="cannot be renewed"):
        sink.write([handoff("1", lead_id=lid)])


def test_budget_stops_before_the_configured_share_is_used(make_sandbox):
    sb = make_sandbox(salesforce_limits=SalesforceLimits(daily_api_max=100))
    sb.store.api_usage["sf_api_used"] = 48
    ids = [add_lead(sb.store, f"b{i}@example.com") for i in range(2)]
    sink = sink_for(sb, daily_max_share=0.5)
    with pytest.raises(BudgetExhausted, match="50%"):
        sink.write([handoff(str(i), lead_id=lid) for i, lid in enumerate(ids)])
    assert sb.store.api_usage["sf_api_used"] <= 50


def test_org_limit_exceeded_is_budget_exhausted(make_sandbox):
    sb = make_sandbox(salesforce_limits=SalesforceLimits(daily_api_max=10, enforce_daily=True))
    sb.store.api_usage["sf_api_used"] = 10
    lid = add_lead(sb.store, "ada@example.com")
    with pytest.raises(BudgetExhausted, match="REQUEST_LIMIT_EXCEEDED"):
        sink_for(sb, daily_max_share=1.0).write([handoff("1", lead_id=lid)])


@pytest.mark.parametrize("kind", ["truncated", "html", "shape"])
def test_malformed_answers_become_retriable_errors_never_crashes(sb, kind):
    lid = add_lead(sb.store, "ada@example.com")
    sb.store.salesforce_emulator.inject(kind)
    with pytest.raises(RetriableError):
        sink_for(sb, max_attempts=1).write([handoff("1", lead_id=lid)])


def test_malformed_answer_is_retried_and_the_retry_does_not_duplicate_the_task(sb):
    lid = add_lead(sb.store, "ada@example.com")
    sb.store.salesforce_emulator.inject("truncated")  # the matching query
    [result] = sink_for(sb, max_attempts=3).write([handoff("1", lead_id=lid)])
    assert result.status is WriteState.WRITTEN
    assert len(sb.store.tasks) == 1


def test_5xx_is_retried_with_backoff_through_the_injected_sleep(sb):
    lid = add_lead(sb.store, "ada@example.com")
    sb.faults.fail_next(2, 503, "salesforce")
    sleeps: list[float] = []
    sink = build_sink(options(sb, backoff_base=2.0), client_secrets(sb), sleep=sleeps.append)
    [result] = sink.write([handoff("1", lead_id=lid)])
    assert result.status is WriteState.WRITTEN
    assert len(sleeps) == 2 and 2.0 <= sleeps[0] < 2.5 and 4.0 <= sleeps[1] < 5.0


def test_status_moves_only_from_the_configured_values_but_sal_fields_always_land(sb):
    fresh = add_lead(sb.store, "fresh@example.com", status="MQL")
    worked = add_lead(sb.store, "worked@example.com", status="Working - Contacted")
    sink = sink_for(sb, update_status_from=["MQL", "Open - Not Contacted"])
    results = sink.write([handoff("f", lead_id=fresh, outcome=Outcome.REJECTED),
                          handoff("w", lead_id=worked, outcome=Outcome.REJECTED)])
    assert [r.status for r in results] == [WriteState.WRITTEN, WriteState.WRITTEN]
    assert sb.store.leads[fresh]["Status"] == "SAL - Rejected"
    assert sb.store.leads[worked]["Status"] == "Working - Contacted"
    assert sb.store.leads[worked]["SAL_Reason__c"].startswith("rejected:")


def test_emails_with_quotes_are_escaped_by_format_soql(sb):
    lid = add_lead(sb.store, "o'brien+test@example.com")
    [result] = sink_for(sb).write([handoff("q", email="O'Brien+test@example.com")])
    assert (result.status, result.target_id) == (WriteState.WRITTEN, lid)


@pytest.mark.parametrize("lock_retries", [0, 2])
def test_an_older_handoff_that_hit_a_lock_never_overwrites_a_newer_one(sb, lock_retries):
    """Two decisions for one lead go out in separate rounds; the older one's call hits a
    lock, the newer lands: the older is skipped as superseded (not re-sent now, and not
    left retryable for the outbox to re-send later), and the lead keeps the newer status."""
    lid = add_lead(sb.store, "ada@example.com")
    older = handoff("1", lead_id=lid, outcome=Outcome.REJECTED, score=20.0)
    newer = handoff("2", lead_id=lid)
    sb.store.salesforce_emulator.inject("lock")  # the first call: the older handoff's round
    sink = sink_for(sb, use_composite=False, create_task=False, lock_retries=lock_retries)
    first, second = sink.write([older, newer])
    assert second.status is WriteState.WRITTEN
    assert first.status is WriteState.SKIPPED and "superseded" in first.reason
    assert sb.store.leads[lid]["Status"] == "SAL - Accepted"
    assert sf_calls(sb.store, "PATCH composite/sobjects") == 2  # nothing sent again
