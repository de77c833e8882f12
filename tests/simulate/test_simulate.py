"""``simulate()`` against a real audit log (the engine against the sandbox, see conftest).

Every expectation is computed again here without the library's SQL: the latest decision
of each lead from every row in plain Python, re-decided one by one with
``sync_agent.rules.evaluate`` (what ``rules explain`` does).
"""

from __future__ import annotations

import pickle
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from simulate_world import SAL, STRICTER, World, fields, latest_rows

from sync_agent.audit import AuditLog
from sync_agent.model import Outcome
from sync_agent.rules import evaluate, load_ruleset
from sync_agent.simulate import Simulation, SimulationError, render_text, simulate
from sync_agent.simulate import run as run_module
from sync_agent.simulate.tally import Disagreement


def _until(world: World) -> datetime:
    """The end of the weekly runs: the window holds only decisions made under sal.toml."""
    return world.weeks[-1] + timedelta(seconds=1)


def _redecided(world: World, path: Any, until: datetime | None, now: datetime | None = None
               ) -> list[tuple[dict[str, Any], Any]]:  # fmt: skip
    """(recorded row, candidate's decision) for each lead, one evaluate() call each."""
    ruleset = load_ruleset(path)
    out = []
    for row in latest_rows(world, until):
        moment = now or datetime.fromisoformat(row["decided_at"])
        out.append((row, evaluate(fields(row), ruleset, moment)))
    return out


def _flip_counts(pairs: list[tuple[dict[str, Any], Any]]) -> Counter[tuple[str, str]]:
    return Counter((row["outcome"], d.outcome.value) for row, d in pairs
                   if row["outcome"] != d.outcome.value)  # fmt: skip


def _by_kind(sim: Simulation) -> Counter[tuple[str, str]]:
    return Counter({(f.before, f.after): f.leads for f in sim.by_kind})


def test_the_world_has_what_the_tests_rely_on(world: World) -> None:
    """Dry runs (under another ruleset), leads decided twice, decisions over four weeks."""
    assert world.rows("SELECT COUNT(*) AS n FROM decisions WHERE dry_run = 1")[0]["n"] > 20
    hashes = world.rows("SELECT COUNT(DISTINCT rules_hash) AS n FROM decisions")[0]["n"]
    assert hashes == 3
    times = world.rows(
        "SELECT COUNT(DISTINCT decided_at) AS n FROM decisions WHERE decided_at < ?",
        (_until(world).isoformat(),),
    )[0]["n"]
    assert times >= 3


def test_an_identical_candidate_flips_nothing(world: World) -> None:
    sim = simulate(world.db, load_ruleset(SAL), until=_until(world))
    expected = latest_rows(world, _until(world))
    assert sim.snapshots == len(expected) > 100
    assert sim.flips == 0 and sim.by_kind == [] and sim.examples == []
    assert sim.score_changed == 0
    assert sim.before == sim.after
    assert sim.before.sals == sum(r["outcome"] == "accepted" for r in expected)
    assert [(r.hash, r.leads, r.is_candidate) for r in sim.recorded] == [
        (load_ruleset(SAL).hash, len(expected), True)
    ]
    assert "very ruleset" in " ".join(sim.notes)


def test_the_latest_decisions_are_the_edited_rulesets_and_it_flips_nothing(world: World) -> None:
    """Without a window every lead's latest decision is the backfill's (dry runs aside)."""
    sim = simulate(world.db, load_ruleset(world.edited))
    assert sim.snapshots == len(latest_rows(world)) and sim.flips == 0
    assert [r.is_candidate for r in sim.recorded] == [True]


def test_the_stricter_example_flips_what_one_by_one_evaluation_flips(world: World) -> None:
    pairs = _redecided(world, STRICTER, _until(world))
    expected = _flip_counts(pairs)
    sim = simulate(world.db, load_ruleset(STRICTER), until=_until(world), limit=10_000)
    assert _by_kind(sim) == expected
    assert sim.flips == sum(expected.values()) > 10
    assert {("accepted", "review"), ("review", "rejected")} <= set(expected)
    # every flipped lead is an example (limit 10,000), with the one-by-one decision
    by_id = {row["id"]: (row, d) for row, d in pairs}
    assert len(sim.examples) == sim.flips
    for e in sim.examples:
        row, d = by_id[e.decision_id]
        assert (e.lead_key, e.before, e.before_score) == (row["lead_key"], row["outcome"],
                                                          row["score"])  # fmt: skip
        assert (e.after, e.after_score, e.after_reasons) == (d.outcome.value, d.score, d.reasons)
    # the rates are the recorded and re-decided SAL shares of the same leads
    assert sim.before.sals == sum(r["outcome"] == "accepted" for r, _ in pairs)
    assert sim.after.sals == sum(d.outcome.value == "accepted" for _, d in pairs)
    assert sim.after.rate_pct == round(100 * sim.after.sals / len(pairs), 1)


def test_examples_say_which_checks_changed(world: World) -> None:
    sim = simulate(world.db, load_ruleset(STRICTER), until=_until(world), limit=10_000)
    threshold = "threshold: accept at 70, review from 55 → accept at 75, review from 60"
    gated = [e for e in sim.examples if "gate:phone_present" in e.after_reasons]
    scored = [e for e in sim.examples if e not in gated]
    assert gated and all(e.changed == ("gate phone_present: new, fails",) for e in gated)
    assert scored and all(e.changed == (threshold,) for e in scored)


def test_limit_keeps_the_first_examples_of_each_kind(world: World) -> None:
    everything = simulate(world.db, load_ruleset(STRICTER), until=_until(world), limit=10_000)
    two = simulate(world.db, load_ruleset(STRICTER), until=_until(world), limit=2)
    for kind in everything.by_kind:
        pair = (kind.before, kind.after)
        first = [e for e in everything.examples if (e.before, e.after) == pair][:2]
        assert [e for e in two.examples if (e.before, e.after) == pair] == first
    assert simulate(world.db, load_ruleset(STRICTER), until=_until(world), limit=0).examples == []


def test_an_edited_ruleset_shows_as_flips_and_the_note_says_so(world: World) -> None:
    """The latest decisions came from the edited ruleset: sal.toml as candidate flips them
    back, and the output says that "before" was recorded under another hash."""
    sim = simulate(world.db, load_ruleset(SAL), live_rulesets={"hubspot-mqls": load_ruleset(
        SAL).hash})  # fmt: skip
    edited = load_ruleset(world.edited).hash
    assert [(r.hash, r.is_candidate) for r in sim.recorded] == [(edited, False)]
    assert _by_kind(sim) == _flip_counts(_redecided(world, SAL, None))
    assert sim.flips > 0
    assert any("not live now (edited since)" in n for n in sim.notes)
    assert "(the candidate; live in hubspot-mqls)" not in render_text(sim)


def test_each_lead_is_redecided_at_its_own_time_unless_now_is_given(world: World) -> None:
    """Date conditions (last activity within 14 days, the webinar fast lane) make the same
    ruleset decide differently a year later; at their own time nothing changes."""
    later = world.weeks[-1] + timedelta(days=365)
    own = simulate(world.db, load_ruleset(SAL), until=_until(world))
    fixed = simulate(world.db, load_ruleset(SAL), until=_until(world), now=later, limit=10_000)
    assert own.flips == 0
    assert fixed.flips > 0 or fixed.score_changed > 0
    assert fixed.flips + fixed.score_changed > 0
    assert _by_kind(fixed) == _flip_counts(_redecided(world, SAL, _until(world), later))
    assert fixed.now == later.isoformat() and any("--now" not in n and "not at its own" in n
                                                  for n in fixed.notes)  # fmt: skip
    changed = {c.split(":")[0] for e in fixed.examples for c in e.changed}
    assert changed <= {"criterion readiness", "fast_lane trial_and_webinar"}


def test_outcomes_count_stopped_and_lost_as_inserted(world: World) -> None:
    """Sales outcomes for SALs the candidate rejects, sends to review, or keeps."""
    pairs = _redecided(world, STRICTER, _until(world))
    sals = [(row, d.outcome.value) for row, d in pairs if row["outcome"] == "accepted"]
    rejected = [row for row, after in sals if after == "rejected"]
    review = [row for row, after in sals if after == "review"]
    kept = [row for row, after in sals if after == "accepted"]
    assert len(rejected) >= 3 and review and kept, (len(rejected), len(review), len(kept))
    events = [
        (rejected[0], "rejected", "no budget"), (rejected[0], "first_touch", None),
        (rejected[1], "rejected", None),
        (rejected[2], "sql", None), (rejected[2], "opportunity", None),
        (review[0], "sql", None),
        (kept[0], "rejected", "wrong contact"),
    ]  # fmt: skip
    with AuditLog.open(world.db) as audit, audit.transaction() as c:
        for row, kind, reason in events:
            c.execute(
                "INSERT INTO outcomes (lead_key, handoff_key, system, kind, at, reason, "
                "recorded_at) VALUES (?,?,?,?,?,?,?)",
                (row["lead_key"], row["handoff_key"], "salesforce", kind, row["decided_at"],
                 reason, row["decided_at"]),
            )  # fmt: skip
        # an event of a handoff this pipeline never made is not this lead's
        c.execute(
            "INSERT INTO outcomes (lead_key, handoff_key, system, kind, at, recorded_at) "
            "VALUES (?, 'sal-elsewhere', 'salesforce', 'sql', ?, ?)",
            (kept[1 % len(kept)]["lead_key"], "2026-01-01", "2026-01-01"),
        )
    sim = simulate(world.db, load_ruleset(STRICTER), until=_until(world), limit=10_000)
    o = sim.outcomes
    assert o is not None and sim.outcomes_note == ""
    assert (o.stopped, o.lost_sql, o.lost_opportunity) == (2, 1, 1)
    assert o.stopped_reasons == {"no budget": 1, "(no reason recorded)": 1}
    assert o.to_review == {"sql": 1}
    assert o.still_accepted == {"rejected": 1}
    assert o.by_kind == {"first_touch": 1, "opportunity": 1, "rejected": 3, "sql": 2}
    assert (o.leads, o.sals_with_outcomes, o.recorded_sals) == (5, 5, len(sals))
    example = next(e for e in sim.examples if e.lead_key == rejected[2]["lead_key"])
    assert example.outcomes == ("opportunity", "sql")
    text = render_text(sim)
    assert "Stopped (good): the candidate rejects 2 lead(s)" in text
    assert "1 lead(s) that became SQLs and 1 that became opportunities" in text


def test_without_outcomes_it_says_so_instead_of_zeros(world: World) -> None:
    sim = simulate(world.db, load_ruleset(STRICTER), until=_until(world))
    assert sim.outcomes is None
    assert sim.outcomes_note.startswith("no sales outcomes recorded yet")
    assert "Sales outcomes: no sales outcomes recorded yet" in render_text(sim)
    assert sim.to_dict()["outcomes"] is None


def test_outcomes_of_other_leads_only_are_not_zeros_either(world: World) -> None:
    world.execute(
        "INSERT INTO outcomes (lead_key, handoff_key, system, kind, at, recorded_at) "
        "VALUES ('nobody:1', 'sal-x', 'crm', 'sql', '2026-01-01', '2026-01-01')"
    )
    sim = simulate(world.db, load_ruleset(STRICTER), until=_until(world))
    assert sim.outcomes is None and "no sales outcome recorded for these leads" in sim.outcomes_note


def test_window_and_pipeline_select_the_latest_decision_in_the_window(world: World) -> None:
    since = world.weeks[2]
    sim = simulate(world.db, load_ruleset(SAL), since=since, until=_until(world),
                   pipeline="hubspot-mqls")  # fmt: skip
    expected = [r for r in latest_rows(world, _until(world))
                if datetime.fromisoformat(r["decided_at"]) >= since]  # fmt: skip
    assert sim.snapshots == len(expected) and sim.flips == 0
    assert sim.first_decided_at is not None and sim.first_decided_at >= since.isoformat()
    other = simulate(world.db, load_ruleset(SAL), pipeline="another")
    assert other.snapshots == 0 and "no decision in the window" in other.message


def test_one_process_or_several_give_the_same_result(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    candidate = load_ruleset(STRICTER)
    one = simulate(world.db, candidate, until=_until(world), limit=3, workers=1).to_dict()
    forked = simulate(world.db, candidate, until=_until(world), limit=3, workers=2).to_dict()
    monkeypatch.setattr(run_module, "_start_method", lambda: "spawn")
    spawned = simulate(world.db, candidate, until=_until(world), limit=3, workers=3).to_dict()
    assert (one.pop("workers"), forked.pop("workers"), spawned.pop("workers")) == (1, 2, 3)
    assert one == forked == spawned


def test_pruned_and_unreadable_snapshots_are_counted_apart(world: World) -> None:
    rows = latest_rows(world, _until(world))
    accepted = next(r for r in rows if r["outcome"] == "accepted")
    rejected = next(r for r in rows if r["outcome"] == "rejected")
    world.execute("UPDATE decisions SET snapshot = '{}', explanation = '[]' WHERE id = ?",
                  (accepted["id"],))  # fmt: skip
    world.execute("UPDATE decisions SET snapshot = 'not json' WHERE id = ?", (rejected["id"],))
    sim = simulate(world.db, load_ruleset(SAL), until=_until(world))
    assert (sim.pruned, sim.unreadable, sim.flips) == (1, 1, 0)
    assert sim.snapshots == len(rows) - 2
    assert f"decision {rejected['id']}" in sim.errors[0]
    assert any("prune" in n for n in sim.notes) and any("could not be re-decided" in n
                                                        for n in sim.notes)  # fmt: skip


def test_an_empty_log_and_a_missing_one(tmp_path: Any) -> None:
    AuditLog.open(tmp_path / "empty.db").close()
    sim = simulate(tmp_path / "empty.db", load_ruleset(SAL))
    assert sim.snapshots == 0 and "has no decisions yet" in sim.message
    assert "Flips" not in render_text(sim) and "no decisions yet" in render_text(sim)
    with pytest.raises(SimulationError, match="no audit log at"):
        simulate(tmp_path / "missing.db", load_ruleset(SAL))
    (tmp_path / "junk.db").write_text("not a database")
    with pytest.raises(SimulationError, match="cannot read"):
        simulate(tmp_path / "junk.db", load_ruleset(SAL))


def test_the_log_is_never_written(world: World) -> None:
    before = world.db.read_bytes()
    simulate(world.db, load_ruleset(STRICTER), workers=2)
    assert world.db.read_bytes() == before


def test_naive_datetimes_are_utc(world: World) -> None:
    aware = simulate(world.db, load_ruleset(SAL), until=_until(world))
    naive = simulate(world.db, load_ruleset(SAL), until=_until(world).replace(tzinfo=None))
    assert aware.to_dict() == naive.to_dict()
    assert aware.until == _until(world).astimezone(UTC).isoformat()


def test_the_fast_verdict_is_the_engines_on_every_lead(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counts come from the fast verdict; checked here against the engine on every lead
    (CHECK_EVERY = 1): no disagreement, and the very figures of an exact run."""
    monkeypatch.setattr(run_module, "CHECK_EVERY", 1)
    for path, until in ((STRICTER, _until(world)), (SAL, None)):
        fast = simulate(world.db, load_ruleset(path), until=until, limit=5)
        exact = simulate(world.db, load_ruleset(path), until=until, limit=5, exact=True)
        assert not any("disagreed" in n for n in fast.notes)
        assert fast.to_dict() == exact.to_dict()


def test_a_disagreement_falls_back_to_the_engine_and_says_so(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(In this process: a spawned worker would not see the broken verdict. Through a
    pool the Disagreement travels pickled, as any exception of a worker.)"""
    monkeypatch.setattr(run_module, "_VERDICTS", {})
    monkeypatch.setattr(run_module, "compile_verdict",
                        lambda spec: lambda lead, now: (Outcome.REVIEW, 50.0))  # fmt: skip
    sim = simulate(world.db, load_ruleset(STRICTER), until=_until(world), workers=1)
    exact = simulate(world.db, load_ruleset(STRICTER), until=_until(world), exact=True)
    assert any("disagreed with the rules engine" in n for n in sim.notes)
    assert _by_kind(sim) == _by_kind(exact) and sim.examples == exact.examples
    again = pickle.loads(pickle.dumps(Disagreement("decision 7: ...")))
    assert isinstance(again, Disagreement) and str(again) == "decision 7: ..."
