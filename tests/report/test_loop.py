"""What sales did after the handoffs, in ``sync-agent report``: SAL→SQL / opportunity, the
SAL velocity, SLA attainment by owner, lead source and campaign, and the feedback per rule
with its flag, each against figures computed independently from the raw rows
(``loop_expected.py``) over an audit log the real engine made (``conftest.py``) plus outcome
events as the read-back stores them (``outcomes_builder.py``)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from click.testing import CliRunner
from loop_expected import expected_loop
from outcomes_builder import CAMPAIGN_FIELD

from sync_agent.cli import main
from sync_agent.report.loop_text import NOT_ENABLED


def _report(config_path: Any, *extra: str) -> dict[str, Any]:
    out = CliRunner().invoke(main, ["report", "--config", str(config_path), "--json", *extra])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_the_funnel_and_sla_are_counted_per_sal_over_every_system(loop_world) -> None:
    data = _report(loop_world.config_path, "--campaign-field", CAMPAIGN_FIELD)
    want = expected_loop(loop_world.db, campaign_field=CAMPAIGN_FIELD)
    assert data["outcome_events"] > 0
    assert data["funnel"]["sals"] == data["overall"]["sals"], "the report's own SALs"
    assert data["funnel"] == want["funnel"]
    assert 0 < data["funnel"]["sla"]["breached"] < data["funnel"]["sals"]
    assert set(data["funnel"]["sla_by_campaign"]) == {"spring-webinar", "pricing-ads", "(none)"}


def test_a_window_counts_its_own_sals_only(loop_world) -> None:
    weeks = loop_world.world.week_starts
    since, until = weeks[2], weeks[6] + timedelta(hours=12)
    data = _report(loop_world.config_path, "--since", since.strftime("%Y-%m-%d"),
                   "--until", until.strftime("%Y-%m-%dT%H:%M"))  # fmt: skip
    want = expected_loop(loop_world.db, since, until)
    assert 0 < data["funnel"]["sals"] < expected_loop(loop_world.db)["funnel"]["sals"]
    campaigns = data["funnel"]["sla_by_campaign"]
    assert data["funnel"] == {**want["funnel"], "sla_by_campaign": campaigns}
    assert set(campaigns) == {"(none)"}, "no --campaign-field given"


def test_feedback_per_rule_and_the_flag(loop_world) -> None:
    data = _report(loop_world.config_path)
    want = expected_loop(loop_world.db)["feedback"]
    got = {r["rule"]: r for r in data["feedback"]}
    assert set(got) == set(want)
    for rule, figures in want.items():
        assert {k: got[rule][k] for k in figures} == figures, rule
    flagged = {rule for rule, r in got.items() if r["flagged"]}
    assert "criterion:readiness:low" in flagged, "sales rejects those SALs 5x as often"
    assert not any(r.startswith("gate:") for r in flagged), "a gate has no others to beat"
    text = CliRunner().invoke(main, ["report", "--config", str(loop_world.config_path)]).stdout
    assert "Feedback per rule" in text and "! criterion readiness < half" in text
    assert "SAL→SQL:" in text and "SLA by owner:" in text and NOT_ENABLED not in text


def test_without_read_back_one_line_says_how_to_enable_it(report_world) -> None:
    path = str(report_world.config.path)
    text = CliRunner().invoke(main, ["report", "--config", path]).stdout
    assert NOT_ENABLED in text and "Feedback per rule" not in text
    data = _report(report_world.config.path)
    assert data["outcome_events"] == 0 and data["funnel"]["with_outcomes"] == 0
