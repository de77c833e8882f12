"""Outcome read-back through the engine, against the sandbox's sales team.

One scenario, played once: the pipeline hands MQLs off to Salesforce and HubSpot (real SDKs,
real HTTP), the sandbox clock moves ten days (``POST /_sandbox/clock``) while its reps
complete Tasks, move statuses, convert, reject and recycle, and the next run reads what they
did back into the ``outcomes`` table. Expected events come from the team's own record of
what it did (``/_sandbox/state`` → ``team.handoffs[].actions``), never from the reader.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from connectors.base import OutcomeRequest
from connectors.salesforce import SalesforceSettings
from connectors.salesforce.outcomes import FALLBACK, LeadFacts, events_for
from connectors.sandbox import Sandbox, TeamConfig
from connectors.sandbox.hubspot_catalog import REJECTION_REASONS
from sync_agent.audit import AuditLog
from sync_agent.audit.outcomes import (
    NewOutcome,
    last_read,
    open_handoffs,
    outcomes_of,
    record_outcomes,
)
from sync_agent.cli import main
from sync_agent.config import Config
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import RunSummary, run_once
from sync_agent.engine.outcomes_now import read_outcomes_now
from sync_agent.errors import ConfigError

DAY = 86_400
PIPELINE = "hubspot-mqls"
FIRST_TOUCH = {"salesforce": ("task completed", "call logged", "lead working"),
               "hubspot": ("first touch",)}


def when(stamp: str) -> datetime:
    """HubSpot (``Z``), Salesforce (``+0000``) and our own ISO stamps, aware."""
    text = stamp.replace("Z", "+00:00")
    if text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    return datetime.fromisoformat(text)


def close(recorded_at: str, acted_at: str) -> bool:
    """Same moment: the sandbox's Salesforce writes are stamped when its agenda runs the
    rep's action, a few milliseconds after the planned time the team notes."""
    return abs((when(recorded_at) - when(acted_at)).total_seconds()) < 1


@dataclass
class World:
    sb: Sandbox
    config: Config
    first: RunSummary
    second: RunSummary
    team: list[dict[str, Any]]  # the team's handoffs, as /_sandbox/state shows them
    rows: list[dict[str, Any]]  # the outcomes table after the second run
    targets: dict[tuple[str, str], str]  # (sink, handoff key) -> record written

    def plan_for(self, system: str, record_id: str) -> dict[str, Any] | None:
        field = "lead_id" if system == "salesforce" else "contact_id"
        return next((h for h in self.team if h[field] == record_id), None)


def clock(sb: Sandbox, seconds: float) -> None:
    answer = requests.post(sb.info()["state_url"].replace("state", "clock"),
                           json={"advance_seconds": seconds}, timeout=10)
    assert answer.status_code == 200


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("outcomes")
    with Sandbox(contacts=900, seed=23, mql_share=0.6, team=TeamConfig(seed=23)) as sb:
        config, _ = prepare_sandbox(
            sb, folder, hubspot_options={"backoff_base": 0, "backoff_max": 0,
                                         "company_context": False},
            wait_for_record_hours=24.0 * 60)  # fmt: skip
        [first] = run_once(config, clock=sb.now)
        assert first.outcome == "ok" and first.accepted > 20, first.error
        assert first.outcomes == {}, "nothing to read right after the handoff"
        clock(sb, 10 * DAY)
        [second] = run_once(config, clock=sb.now)
        team = sb.state()["team"]["handoffs"]
        with AuditLog.open(config.audit_db) as log:
            rows = outcomes_of(log)
            written = log.rows("SELECT sink, handoff_key, target_id FROM writes "
                               "WHERE state = 'written'")
        targets = {(w["sink"], w["handoff_key"]): w["target_id"] for w in written}
        yield World(sb, config, first, second, team, rows, targets)


def expected(world: World, system: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(handoff key, kind) -> the team's action that makes it, for ``system``'s records."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    with AuditLog.open(world.config.audit_db) as log:
        accepted = log.rows(
            "SELECT DISTINCT d.handoff_key FROM decisions d JOIN writes w ON w.decision_id = d.id "
            "WHERE d.outcome = 'accepted' AND w.sink = ? AND w.state = 'written'", (system,))
    for row in accepted:
        key = row["handoff_key"]
        plan = world.plan_for(system, world.targets[(system, key)])
        if plan is None:
            continue
        acts = [a for a in plan["actions"] if a["system"] == system]
        touch = next((a for a in acts if a["what"] in FIRST_TOUCH[system]), None)
        if touch is not None:
            out[(key, "first_touch")] = touch
        for act in acts:
            if act["what"] == "converted":
                out[(key, "opportunity")] = act
                out[(key, "sql")] = act
            elif act["what"] in ("rejected", "recycled"):
                out.setdefault((key, act["what"]), act)
        if system == "hubspot" and touch is not None and \
                touch["values"].get("lifecyclestage") == "salesqualifiedlead":
            out[(key, "sql")] = touch
    return out


def recorded(world: World, system: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["handoff_key"], r["kind"]): r for r in world.rows if r["system"] == system}


def test_the_handoff_run_reads_nothing_yet_and_the_next_reads_what_sales_did(
        world: World) -> None:
    assert world.second.outcome == "ok", world.second.error
    kinds = world.second.outcomes
    assert kinds["first_touch"] > 10 and kinds["rejected"] and kinds["opportunity"]
    assert sum(kinds.values()) == len(world.rows)
    assert world.second.to_dict()["outcomes_read"] == kinds


def test_a_run_soon_after_leaves_the_read_back_for_later(world: World) -> None:
    """[outcomes] every_minutes (60): a run within the hour asks no CRM about outcomes."""
    with AuditLog.open(world.config.audit_db) as log:
        before = {s: last_read(log, PIPELINE, s) for s in ("salesforce", "hubspot")}
    assert all(before.values())
    [soon] = run_once(world.config, clock=world.sb.now)
    assert soon.outcome == "ok" and soon.outcomes == {}
    with AuditLog.open(world.config.audit_db) as log:
        assert {s: last_read(log, PIPELINE, s) for s in before} == before


def test_salesforce_outcomes_are_what_the_team_did(world: World) -> None:
    want, got = expected(world, "salesforce"), recorded(world, "salesforce")
    assert set(got) == set(want)
    kinds = {kind for _key, kind in want}
    assert {"first_touch", "opportunity", "rejected", "recycled"} <= kinds
    reason_field = "Rejection_Reason__c"
    for (key, kind), act in want.items():
        row = got[(key, kind)]
        assert close(row["at"], act["at"]), (key, kind)
        assert row["detail"]["owner"].startswith("005") and row["detail"]["lead_id"]
        if kind == "rejected":
            assert row["reason"] == act["values"][reason_field]
        if kind == "opportunity":
            assert row["detail"]["opportunity_id"] == act["values"]["ConvertedOpportunityId"]
        if kind == "first_touch":
            plan = world.plan_for("salesforce", row["detail"]["lead_id"])
            assert plan is not None and row["detail"]["owner"] == plan["owner_id"]


def test_hubspot_outcomes_are_what_the_team_did(world: World) -> None:
    want, got = expected(world, "hubspot"), recorded(world, "hubspot")
    assert set(got) == set(want)
    assert {"first_touch", "sql", "opportunity", "rejected", "recycled"} <= {
        kind for _key, kind in want}
    reasons = {value for value, _label in REJECTION_REASONS}
    contacts = {c["id"]: c["properties"] for c in world.sb.state()["contacts"]}
    for (key, kind), act in want.items():
        row = got[(key, kind)]
        assert close(row["at"], act["at"]), (key, kind)
        props = contacts[row["detail"]["contact_id"]]
        assert row["detail"]["owner"] == props["hubspot_owner_id"]
        if kind == "rejected":
            assert row["reason"] == act["values"]["sales_rejection_reason"] in reasons


def test_first_touch_times_match_the_teams_plans(world: World) -> None:
    """The SLA clock reads these: each first touch is the time the team planned and did."""
    plans = {h["lead_id"]: h for h in world.team if h["lead_id"]}
    touches = [r for r in world.rows if r["system"] == "salesforce" and r["kind"] == "first_touch"]
    assert touches
    for row in touches:
        plan = plans[row["detail"]["lead_id"]]
        assert close(row["at"], plan["first_touch_at"])
    untouched = {h["lead_id"] for h in world.team if h["outcome"] == "untouched"}
    assert not untouched & {r["detail"]["lead_id"] for r in touches}


def test_reading_again_adds_nothing(world: World) -> None:
    before = len(world.rows)
    results = read_outcomes_now(world.config, clock=world.sb.now)
    assert [r.error for r in results] == ["", ""]
    assert all(r.events == {} for r in results)
    with AuditLog.open(world.config.audit_db) as log:
        assert len(outcomes_of(log)) == before


def private_copy(world: World, tmp_path: Path) -> Config:
    """The world's config on a copy of its audit log, for a test that changes the log."""
    copy = tmp_path / "audit.db"
    with AuditLog.open(world.config.audit_db) as log:
        log.conn.execute("PRAGMA wal_checkpoint(FULL)")
    shutil.copy(world.config.audit_db, copy)
    return replace(world.config, audit_db=copy)


def test_a_finished_story_is_not_read_again(world: World, tmp_path: Path) -> None:
    """Handoffs converted, rejected or recycled are left out; with every story over, the
    read-back makes no API call at all."""
    finished = {(r["system"], r["handoff_key"]) for r in world.rows
                if r["kind"] in ("opportunity", "rejected", "recycled")}
    config = private_copy(world, tmp_path)
    copy = config.audit_db
    with AuditLog.open(copy) as log:
        for sink in ("salesforce", "hubspot"):
            since = world.sb.now().replace(year=2000)
            open_ = open_handoffs(log, PIPELINE, sink, since)
            assert open_ and not {(sink, h.handoff_key) for h in open_} & finished
            assert all(("first_touch" in h.known) == any(
                r["handoff_key"] == h.handoff_key and r["system"] == sink
                and r["kind"] == "first_touch" for r in world.rows) for h in open_)
            record_outcomes(log, sink, [NewOutcome(h.handoff_key, h.lead_key, "recycled",
                                                   world.sb.now()) for h in open_],
                            world.sb.now())
    results = read_outcomes_now(config, clock=world.sb.now)
    assert [(r.sink, r.handoffs, r.api_calls) for r in results] == [
        ("salesforce", 0, 0), ("hubspot", 0, 0)]


def test_archived_tasks_still_count_as_first_touches(world: World, tmp_path: Path) -> None:
    """Closed Tasks past the org's archive age are skipped by ``query``; the read-back uses
    ``queryAll``, so a first touch read late is still found, from its Task."""
    config = private_copy(world, tmp_path)
    copy = config.audit_db
    with AuditLog.open(copy) as log:
        log.conn.execute("DELETE FROM outcomes WHERE system = 'salesforce'")
    org = world.sb.store.org
    org.task_archive_days, saved = 1, org.task_archive_days
    try:
        visible = {t["Id"] for t in world.sb.store.tasks.values()
                   if t.get("CompletedDateTime")}
        info = world.sb.info()
        session = requests.Session()
        session.verify, session.trust_env = info["ca_bundle"], False
        plain = session.get(f"{info['salesforce_url']}/services/data/v62.0/query", params={
            "q": "SELECT Id FROM Task WHERE IsClosed = true"}, headers={
            "Authorization": f"Bearer {info['salesforce_session_id']}"}, timeout=10).json()
        assert not visible & {r["Id"] for r in plain["records"]}, "all archived for query"
        [sf, _hs] = read_outcomes_now(config, clock=world.sb.now)
    finally:
        org.task_archive_days = saved
    assert sf.error == ""
    with AuditLog.open(copy) as log:
        again = {r["handoff_key"]: r for r in outcomes_of(log, system="salesforce",
                                                          kind="first_touch")}
    before = {r["handoff_key"]: r for r in world.rows
              if r["system"] == "salesforce" and r["kind"] == "first_touch"}
    assert set(again) == set(before)
    assert all(r["detail"]["via"] == "task" and r["at"] == before[k]["at"]
               for k, r in again.items())


def test_the_outcomes_command_summarises_by_kind(world: World) -> None:
    out = CliRunner().invoke(main, ["outcomes", "--config", str(world.config.path), "--json"])
    assert out.exit_code == 0, out.output
    answer = json.loads(out.stdout)
    assert [(r["sink"], r["events"], r["error"]) for r in answer] == [
        ("salesforce", {}, ""), ("hubspot", {}, "")]
    # The documented cost: one Composite call per 200 leads; one batch read per 100
    # contacts, plus one history read per 50 whose status says rejected/recycled unrecorded.
    sf, hs = answer
    assert 0 < sf["handoffs"] <= 200 and sf["api_calls"] == 1
    with AuditLog.open(world.config.audit_db) as log:
        open_ = open_handoffs(log, PIPELINE, "hubspot", world.sb.now().replace(year=2000))
    contacts = {c["id"]: c["properties"] for c in world.sb.state()["contacts"]}
    unrecorded = [h for h in open_ if contacts[world.targets[("hubspot", h.handoff_key)]].get(
        "hs_lead_status") in ("UNQUALIFIED", "BAD_TIMING")]
    assert 0 < hs["handoffs"] == len(open_) <= 100
    assert hs["api_calls"] == 1 + (1 if unrecorded else 0)
    text = CliRunner().invoke(main, ["outcomes", "--config", str(world.config.path)])
    assert text.exit_code == 0 and "new events: first_touch 0" in text.output


def test_a_failing_read_back_leaves_the_run_ok_and_loses_nothing(world: World) -> None:
    """Salesforce refuses the query (the reason field hidden from the integration user),
    HubSpot's batch reads answer 503: the run is ok, and the next one reads it all."""
    sb = world.sb
    clock(sb, 5 * DAY)  # more outcomes fall due
    sb.store.org.security.hidden["Lead"] = {"Rejection_Reason__c"}
    sb.faults.fail_next(40, 503, "hubspot:batch_read")
    try:
        [failed] = run_once(world.config, clock=sb.now)
    finally:
        sb.store.org.security.hidden.pop("Lead")
    leftover = sb.faults.take_queued("hubspot", "batch_read")
    while sb.faults.take_queued("hubspot", "batch_read") is not None:
        pass
    assert failed.outcome == "ok" and failed.exit_code == 0, failed.error
    assert failed.outcomes == {} and leftover is not None
    [again] = run_once(world.config, clock=sb.now)
    assert again.outcome == "ok" and sum(again.outcomes.values()) > 0
    with AuditLog.open(world.config.audit_db) as log:
        rows = outcomes_of(log)
    assert {(r["handoff_key"], r["system"], r["kind"]) for r in world.rows} <= {
        (r["handoff_key"], r["system"], r["kind"]) for r in rows}


# -- pure pieces -------------------------------------------------------------------------


def test_without_status_history_the_current_status_stands_in_and_says_so() -> None:
    settings = SalesforceSettings.from_options({"outcomes": {
        "status_history": False, "rejection_reason_field": "Why__c"}})
    since = when("2026-03-02T09:00:00Z")
    request = OutcomeRequest("k1", "hubspot:1", "00Q000000000001AAA", since)
    lead = {"Id": "00Q000000000001AAA", "Status": "Closed - Not Converted", "Why__c": "No budget",
            "OwnerId": "005000000000001AAA", "IsConverted": False,
            "SystemModstamp": "2026-03-04T10:00:00.000+0000"}
    events = {e.kind: e for e in events_for(request, LeadFacts(lead, tracked=False), settings)}
    assert set(events) == {"first_touch", "rejected"}
    assert events["rejected"].reason == "No budget"
    assert events["rejected"].detail["time_from"] == FALLBACK
    assert events["first_touch"].at == when("2026-03-04T10:00:00Z")
    already = replace(request, known=frozenset({"first_touch"}))
    assert [e.kind for e in events_for(already, LeadFacts(lead, tracked=False), settings)] == [
        "rejected"]


def test_a_status_meaning_two_outcomes_is_refused_with_its_place() -> None:
    with pytest.raises(ConfigError) as caught:
        SalesforceSettings.from_options({"outcomes": {"rejected_statuses": ["Recycled"]}})
    text = str(caught.value) + " ".join(str(p) for p in caught.value.problems)
    assert "outcomes" in text and "Recycled" in text
