"""The audit views people read: `audit list|show|dead-letters|export`, through click's
CliRunner and through the library calls they are thin layers over.

The data is made by the engine (fake connectors, a stand-in ruleset whose criteria carry
points); values the engine cannot store today (lone surrogates) are put in by hand, as an
older version, another tool or a hand edit of the SQLite file could.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import tracemalloc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from rich.cells import cell_len
from sync_fakes import World

from sync_agent.audit import AuditLog, NewDecision
from sync_agent.audit.queries import describe_write
from sync_agent.cli import main
from sync_agent.engine import pipeline as pipeline_mod
from sync_agent.model import MQL, Check, Decision, Outcome, WriteResult, WriteState
from sync_agent.report.build import reason_label


@dataclass(frozen=True)
class PointsRuleset:
    """Two scored criteria (a third, ``bonus``, only for leads with ``bonus`` set); a lead
    with ``fast`` set is accepted by a fast lane, with no criteria in its explanation."""

    name: str = "points"
    hash: str = "points1"

    def evaluate(self, fields: Mapping[str, Any], now: datetime) -> Decision:
        if fields.get("fast"):
            lane = Check("fast_lane", "trial_and_webinar", True)
            return Decision(Outcome.ACCEPTED, 100, ("fast lane: trial_and_webinar",), (lane,),
                            self.name, self.hash, now, "trial_and_webinar")  # fmt: skip
        score = float(fields.get("lead_score") or 0)
        checks = [
            Check("gate", "email_present", True),
            Check("criterion", "fit", score >= 30, "", None, min(score, 30.0), 30.0),
            Check("criterion", "intent", False, "", None, 0.0, 25.0),
        ]
        if fields.get("bonus"):
            checks.append(Check("criterion", "bonus", True, "", None, 5.0, 5.0))
            score += 5
        ok = score >= 50
        checks.append(Check("threshold", "accept at 50", ok, "", None, score, 100.0))
        reasons = (f"score {score:g} {'>=' if ok else '<'} 50",)
        if not ok and fields.get("gate_fail"):
            reasons = ("gate:country_served", "gate:business_email", *reasons)
        return Decision(Outcome.ACCEPTED if ok else Outcome.REJECTED, score, reasons,
                        tuple(checks), self.name, self.hash, now)  # fmt: skip


@pytest.fixture
def points_rules(monkeypatch: pytest.MonkeyPatch, worlds: tuple[World, World]) -> None:
    monkeypatch.setattr(pipeline_mod, "load_pipeline_ruleset", lambda c, p: PointsRuleset())


@pytest.fixture
def cli(make_config, points_rules) -> Callable[..., Result]:
    config = make_config()
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(main, [*args, "--config", str(config.path)], catch_exceptions=False)

    invoke.config = config  # type: ignore[attr-defined]
    return invoke


def people(src: World) -> None:
    """Four leads as a RevOps admin would see them, and one with no name or company."""
    src.add("1", 80, 1, first_name="Ada", last_name="Lovelace", company="Analytical Engines",
            email="Ada@Engines.example")  # fmt: skip
    src.add("2", 20, 2, first_name="Grace", last_name="Hopper", company="Navy Labs",
            gate_fail=True, email="grace@navy.example")  # fmt: skip
    src.add("3", 45, 3, first_name="Alan", last_name="Turing", company="Bletchley", bonus=True,
            email="alan@bletchley.example")  # fmt: skip
    src.add("4", 10, 4, first_name="Katherine", last_name="Johnson", company="NASA", fast=True,
            email="kj@nasa.example")  # fmt: skip
    src.add("5", 5, 5)  # no name, no company: the fake source's default e-mail only


def odd(src: World) -> None:
    """Values that must never break a view: a megabyte of text, terminal escapes, markup, a
    spreadsheet formula, wide characters, an object where a name should be, a number as a
    company."""
    src.add("6", 60, 6, first_name="山田", last_name="太郎" * 40, company="x" * 1_000_000)
    src.add("7", 60, 7, first_name="Eve\x1b[31m\nEvil", last_name="[bold red]Mallory[/]",
            company='=HYPERLINK("http://evil.example","Acme")')  # fmt: skip
    src.add("8", 60, 8, first_name={"nested": [1, 2, {"deep": True}]}, company=1e308)


def surrogates(db_path: Any) -> None:
    """Lone surrogates in stored JSON (``"\\ud800"`` is valid JSON); the engine cannot store
    them today, a hand edit or another tool can. Also a snapshot that is not JSON at all."""
    with sqlite3.connect(db_path) as conn:
        odd_person = {"first_name": "Zo\ud800e", "last_name": "B\udfffx",
                      "company": "S\udc80urrogate Ltd", "email": "zoe@s.example"}  # fmt: skip
        snapshot = json.dumps(odd_person)
        conn.execute(
            "UPDATE decisions SET snapshot = ?, reasons = ? WHERE lead_key = 'fake:1'",
            (snapshot, json.dumps(["gate:caf\udce9"])),
        )
        conn.execute("UPDATE decisions SET snapshot = 'not json {' WHERE lead_key = 'fake:2'")


def widths(text: str) -> list[int]:
    return [cell_len(line) for line in text.splitlines()]


# ---------------------------------------------------------------------------- audit list


def test_list_shows_name_company_reasons_and_when_in_100_columns(cli, worlds) -> None:
    src, _ = worlds
    people(src)
    assert cli("run", "--once").exit_code == 0
    out = cli("audit", "list").stdout
    header, *rows = out.splitlines()
    for column in ("when", "lead", "name", "company", "outcome", "score", "reasons", "status"):
        assert column in header.lower()
    assert max(widths(out)) <= 100
    ada = next(r for r in rows if "Ada Lovelace" in r)
    assert "Analytical" in ada and "accepted" in ada and "score >= 50" in ada
    assert "fake:1" in ada and "written" in ada
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", ada)  # when, to the minute
    grace = next(r for r in rows if "Grace Hopper" in r)
    assert "country_serv" in grace  # the reasons, in short: the failed gate's name first
    nameless = next(r for r in rows if "fake:5" in r)
    assert "None" not in nameless and "null" not in nameless
    assert "\x1b" not in out  # plain text when not on a terminal


def test_list_never_breaks_on_odd_values_and_json_keeps_them_whole(cli, worlds) -> None:
    src, _ = worlds
    people(src)
    odd(src)
    assert cli("run", "--once").exit_code == 0
    surrogates(cli.config.audit_db)
    result = cli("audit", "list", "--limit", "0")
    assert result.exit_code == 0
    out = result.stdout
    assert max(widths(out)) <= 100 and len(out.splitlines()) == 1 + 8
    assert "…" in out  # the megabyte company, cut
    assert "\x1b" not in out and "Evil" in out  # the escape and the newline made harmless
    assert "Zo\ufffde" in out  # a lone surrogate shown as U+FFFD
    data = json.loads(cli("audit", "list", "--json", "--limit", "0").stdout)
    by_key = {r["lead_key"]: r for r in data}
    assert len(by_key["fake:6"]["company"]) == 1_000_000
    assert by_key["fake:3"]["name"] == "Alan Turing" and by_key["fake:5"]["name"] is None
    assert by_key["fake:2"]["reasons"][0] == "gate:country_served"
    assert by_key["fake:2"]["company"] is None  # the snapshot that is not JSON: no company


def test_list_decisions_carries_name_company_and_reasons(make_config, points_rules, worlds):
    src, _ = worlds
    people(src)
    config = make_config()
    CliRunner().invoke(main, ["run", "--once", "--config", str(config.path)])
    with AuditLog.open(config.audit_db) as log:
        rows = {r["lead_key"]: r for r in log.list_decisions(limit=None)}
    assert rows["fake:1"]["name"] == "Ada Lovelace"
    assert rows["fake:1"]["company"] == "Analytical Engines"
    assert rows["fake:2"]["reasons"] == [
        "gate:country_served", "gate:business_email", "score 20 < 50"]  # fmt: skip
    assert rows["fake:5"]["name"] is None and rows["fake:5"]["company"] is None


# ---------------------------------------------------------------------------- audit show


def test_show_finds_a_lead_by_email_case_insensitively_with_name_and_company(cli, worlds):
    src, _ = worlds
    people(src)
    cli("run", "--once")
    shown = cli("audit", "show", "ada@ENGINES.example")
    assert shown.exit_code == 0, shown.output
    assert "fake:1" in shown.stdout and "Ada Lovelace" in shown.stdout
    assert "Analytical Engines" in shown.stdout
    assert "write to fake2: written after 1 attempt(s)" in shown.stdout
    as_json = json.loads(cli("audit", "show", "ADA@engines.example", "--json").stdout)
    assert [d["lead_key"] for d in as_json] == ["fake:1"]
    assert as_json[0]["name"] == "Ada Lovelace" and as_json[0]["company"] == "Analytical Engines"


def test_show_says_when_several_leads_share_an_email(cli, worlds) -> None:
    src, _ = worlds
    src.add("1", 80, 1, first_name="Pat", email="team@shared.example")
    src.add("2", 20, 2, first_name="Sam", email="Team@Shared.example")
    cli("run", "--once")
    shown = cli("audit", "show", "team@shared.example")
    assert shown.exit_code == 0
    assert "2 leads match" in shown.stdout
    assert "fake:1" in shown.stdout and "fake:2" in shown.stdout
    assert "Pat" in shown.stdout and "Sam" in shown.stdout


def test_show_tells_each_write_state_in_words(cli, worlds) -> None:
    src, crm = worlds
    people(src)
    crm.per_key["1"] = WriteResult("", WriteState.WAITING, "no Lead for this contact yet")
    crm.per_key["3"] = WriteResult("", WriteState.DEAD, "INVALID_FIELD: Status")
    cli("run", "--once")
    waiting = cli("audit", "show", "fake:1").stdout
    assert "waiting for the CRM record" in waiting and "no Lead for this contact yet" in waiting
    dead = cli("audit", "show", "fake:3").stdout
    [row] = json.loads(cli("audit", "dead-letters", "--json").stdout)
    assert f"dead letter: replay with `sync-agent replay --id {row['id']}`" in dead
    assert "INVALID_FIELD: Status" in dead


def test_describe_write_has_words_for_every_state() -> None:
    base = {"id": 7, "sink": "crm", "attempts": 1, "last_error": None, "target_id": None,
            "next_attempt_at": None, "updated_at": "2026-01-01T00:00:00+00:00"}  # fmt: skip
    said = {s.value: describe_write({**base, "state": s.value}) for s in WriteState}
    assert said["written"].startswith("written")
    assert said["waiting"].startswith("waiting for the CRM record")
    assert said["dead"].startswith("dead letter: replay with `sync-agent replay --id 7`")
    assert said["retryable"].startswith("failed, being retried")
    assert said["pending"].startswith("waiting to be sent")
    assert "in flight" in said["in_flight"]
    assert said["skipped"].startswith("skipped")
    assert describe_write({**base, "state": "from the future"})  # never raises


def test_show_unknown_or_wildcard_lead_exits_1_without_traceback(cli, worlds) -> None:
    src, _ = worlds
    people(src)
    cli("run", "--once")
    for lead in ("nobody", "nobody@nowhere.example", "%", "_", '%"%'):
        result = cli("audit", "show", lead)
        assert result.exit_code == 1, lead
        assert "no decision recorded" in result.output and "Traceback" not in result.output


def test_show_never_breaks_on_odd_values(cli, worlds) -> None:
    src, _ = worlds
    people(src)
    odd(src)
    cli("run", "--once")
    surrogates(cli.config.audit_db)
    for lead in ("fake:1", "fake:2", "fake:6", "fake:7", "fake:8", "zoe@s.example"):
        result = cli("audit", "show", lead)
        assert result.exit_code == 0, (lead, result.output)
        assert "\x1b" not in result.stdout
        assert json.loads(cli("audit", "show", lead, "--json").stdout)
    assert "Zo\ufffde" in cli("audit", "show", "zoe@s.example").stdout


# ---------------------------------------------------------------------------- dead letters


def _dead(crm: World) -> None:
    """Three leads refused with the same error but their own record ids, one otherwise."""
    for i, sf_id in (("1", "00Q5g00000001AAA"), ("2", "00Q5g00000002AAA"),
                     ("3", "00Q5g00000003AAA")):  # fmt: skip
        crm.per_key[i] = WriteResult(
            "", WriteState.DEAD, f"INVALID_FIELD: Lead {sf_id}: bad value for Status"
        )
    crm.per_key["4"] = WriteResult("", WriteState.DEAD, "ENTITY_IS_DELETED")


def test_dead_letters_have_a_header_and_group_identical_errors(cli, worlds) -> None:
    src, crm = worlds
    people(src)
    _dead(crm)
    cli("run", "--once")
    result = cli("audit", "dead-letters")
    assert result.exit_code == 0
    header, *lines = result.stdout.splitlines()
    assert all(word in header.lower() for word in ("count", "sink", "error"))
    with AuditLog.open(cli.config.audit_db) as log:
        ids = sorted(r["id"] for r in log.dead_letters() if "INVALID" in r["last_error"])
    assert len(ids) == 3
    group = next(i for i, line in enumerate(lines) if "INVALID_FIELD" in line)
    assert lines[group].split()[0] == "3" and "fake2" in lines[group]
    assert "00Q5g" not in lines[group]  # the record ids taken out
    replay = "sync-agent replay " + " ".join(f"--id {i}" for i in ids)
    assert replay in result.stdout
    assert "ENTITY_IS_DELETED" in result.stdout
    rows = json.loads(cli("audit", "dead-letters", "--json").stdout)  # one per dead letter
    label = reason_label("INVALID_FIELD: Lead 00Q5g00000001AAA: bad value for Status")
    assert sorted(r["id"] for r in rows if r["error_group"] == label) == ids
    assert {r["lead_key"] for r in rows if r["error_group"] == label} == {
        "fake:1", "fake:2", "fake:3"}  # fmt: skip
    with AuditLog.open(cli.config.audit_db) as log:
        [group, _] = log.dead_letter_groups(label=reason_label)
    assert (group["sink"], group["count"], group["ids"], group["error"]) == ("fake2", 3, ids, label)


def test_dead_letter_groups_split_by_sink(make_config, points_rules, worlds) -> None:
    src, crm = worlds
    people(src)
    _dead(crm)
    # the same error from the other sink: a group of its own
    src.per_key["1"] = WriteResult(
        "", WriteState.DEAD, "INVALID_FIELD: Lead 00Q5g00000009AAA: bad value for Status"
    )
    config = make_config()
    CliRunner().invoke(main, ["run", "--once", "--config", str(config.path)])
    with AuditLog.open(config.audit_db) as log:
        groups = log.dead_letter_groups(label=reason_label)
    assert [(g["sink"], g["count"]) for g in groups] == [("fake2", 3), ("fake", 1), ("fake2", 1)]
    assert sum(len(g["ids"]) for g in groups) == len(log_ids(config))


def log_ids(config: Any) -> list[int]:
    with AuditLog.open(config.audit_db) as log:
        return [r["id"] for r in log.dead_letters()]


def test_a_long_error_wraps_on_at_most_four_lines_within_100_columns(cli, worlds) -> None:
    src, crm = worlds
    people(src)
    crm.per_key["1"] = WriteResult("", WriteState.DEAD, "REFUSED " + "because " * 300 + "end")
    cli("run", "--once")
    header, *lines = cli("audit", "dead-letters").stdout.splitlines()
    table = [line for line in lines if "sync-agent replay" not in line]
    assert len(table) == 4 and table[-1].endswith("…") and "end" not in table[-1]
    assert max(widths("\n".join([header, *table]))) <= 100


def test_no_dead_letters_says_so(cli, worlds) -> None:
    src, _ = worlds
    people(src)
    cli("run", "--once")
    result = cli("audit", "dead-letters")
    assert result.exit_code == 0 and "no dead letters" in result.stdout.lower()
    assert json.loads(cli("audit", "dead-letters", "--json").stdout) == []


# ---------------------------------------------------------------------------- export


def test_export_csv_has_name_company_domain_and_a_points_column_per_criterion(cli, worlds):
    src, _ = worlds
    people(src)
    cli("run", "--once")
    text = cli("audit", "export", "--format", "csv").stdout
    rows = {r["lead_key"]: r for r in csv.DictReader(io.StringIO(text))}
    header = text.splitlines()[0].split(",")
    wanted = {"name", "company", "email_domain", "points:fit", "points:intent", "points:bonus"}
    assert wanted <= set(header)
    assert "email" not in header and "@" not in text  # the domain travels, not the address
    ada = rows["fake:1"]
    assert (ada["name"], ada["company"], ada["email_domain"]) == (
        "Ada Lovelace", "Analytical Engines", "engines.example")  # fmt: skip
    assert (ada["points:fit"], ada["points:intent"], ada["points:bonus"]) == ("30.0", "0.0", "")
    assert rows["fake:3"]["points:bonus"] == "5.0"
    fast = rows["fake:4"]  # decided by a fast lane: no criteria, the same columns, empty
    assert fast["points:fit"] == fast["points:intent"] == "" and fast["fast_lane"]
    assert rows["fake:5"]["name"] == "" and rows["fake:5"]["email_domain"] == "example.com"


def test_export_json_has_the_same_fields_and_points_for_every_criterion(cli, worlds) -> None:
    src, _ = worlds
    people(src)
    cli("run", "--once")
    data = {r["lead_key"]: r for r in json.loads(cli("audit", "export", "--format", "json").stdout)}
    assert data["fake:1"]["points"] == {"bonus": None, "fit": 30.0, "intent": 0.0}
    assert data["fake:4"]["points"] == {"bonus": None, "fit": None, "intent": None}
    assert data["fake:1"]["name"] == "Ada Lovelace"
    assert data["fake:1"]["email_domain"] == "engines.example"
    assert all("email" not in r for r in data.values())


def test_export_never_breaks_on_odd_values(cli, worlds, tmp_path) -> None:
    src, _ = worlds
    people(src)
    odd(src)
    cli("run", "--once")
    surrogates(cli.config.audit_db)
    for fmt in ("csv", "json"):
        out = tmp_path / f"export.{fmt}"
        result = cli("audit", "export", "--format", fmt, "--output", str(out))
        assert result.exit_code == 0 and "exported 8 decision(s)" in result.output
        text = out.read_text(encoding="utf-8")  # valid UTF-8: lone surrogates replaced
        assert "Zo\ufffde" in text and "caf\ufffd" in text
        assert "x" * 1_000_000 in text  # the export keeps full values
    limit = csv.field_size_limit(2_000_000)  # the megabyte company is one field
    try:
        rows = {r["lead_key"]: r for r in csv.DictReader(io.StringIO(
            (tmp_path / "export.csv").read_text(encoding="utf-8")))}  # fmt: skip
    finally:
        csv.field_size_limit(limit)
    assert rows["fake:7"]["company"] == "'=HYPERLINK(\"http://evil.example\",\"Acme\")"
    exported = json.loads((tmp_path / "export.json").read_text(encoding="utf-8"))
    [seven] = [r for r in exported if r["lead_key"] == "fake:7"]
    assert seven["company"].startswith("=HYPERLINK")  # JSON is no spreadsheet: as it is


def test_export_streams_memory_stays_flat(tmp_path) -> None:
    """Peak Python memory while exporting 15,000 decisions stays near that of 3,000."""

    def peak(n: int) -> int:
        path = tmp_path / f"big{n}.db"
        _fill(path, n)
        with AuditLog.open(path) as log:
            sink = _Counting()
            tracemalloc.start()
            try:
                assert log.export("csv", sink) == n
                _, top = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        assert sink.chars > n * 100
        return top

    small, big = peak(3_000), peak(15_000)
    assert big < small * 1.5 + 1_000_000, (small, big)


class _Counting(io.StringIO):
    """A file that keeps nothing."""

    chars = 0

    def write(self, s: str) -> int:
        self.chars += len(s)
        return len(s)


def _fill(path: Any, n: int) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ruleset = PointsRuleset()
    with AuditLog.open(path) as log:
        run = log.start_run("big", "run", now)
        for start in range(0, n, 1000):
            batch = []
            for i in range(start, min(n, start + 1000)):
                fields = {"first_name": f"First{i}", "last_name": "Last", "company": f"Co {i}",
                          "email": f"p{i}@co{i % 50}.example", "lead_score": i % 100,
                          "padding": "p" * 2000, "bonus": i % 7 == 0}  # fmt: skip
                mql = MQL("big", str(i), fields, now + timedelta(seconds=i))
                batch.append(NewDecision(mql, ruleset.evaluate(fields, now), f"h{i}", ""))
            log.record_page(run_id=run, pipeline="big", decisions=batch, malformed=[],
                            source="big", now=now, cursor=None)  # fmt: skip
