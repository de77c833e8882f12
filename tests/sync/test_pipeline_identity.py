"""A lead is handed off to a sink once, whatever the pipeline that decided it is called:
renaming a pipeline, or two pipelines over the same leads and sink, write nothing twice;
and a re-decision that changes nothing writes nothing."""

from __future__ import annotations

from click.testing import CliRunner
from sync_fakes import FakeClock, World

from sync_agent.audit import AuditLog
from sync_agent.cli import main
from sync_agent.config import load_config
from sync_agent.engine import backfill, run_once


def seed(src: World, n: int) -> None:
    for i in range(1, n + 1):
        src.add(str(i), 80 if i % 2 else 10, minute=i)


def renamed(config, old: str, new: str):
    path = config.path
    path.write_text(path.read_text().replace(f'name = "{old}"', f'name = "{new}"'))
    return load_config(path, environ={})


def test_renaming_a_pipeline_hands_nothing_off_again(make_config, worlds, clock) -> None:
    src, crm = worlds
    seed(src, 6)
    config = make_config()
    [first] = run_once(config, clock=clock)
    notes, writes = dict(crm.notes), crm.calls["write"]
    clock.advance(minutes=5)
    [again] = run_once(renamed(config, "mqls", "inbound-mqls"), clock=clock)
    assert again.pipeline == "inbound-mqls"
    assert again.writes.written == 0 and crm.notes == notes, "notes handed off again"
    assert crm.calls["write"] == writes, "identical results written again"
    assert first.accepted == 3


def test_two_pipelines_over_the_same_leads_and_sink_hand_off_once(
    make_config, worlds, clock: FakeClock
) -> None:
    src, crm = worlds
    seed(src, 4)
    extra = (
        '\n[[pipelines]]\nname = "copy"\nsource = "fake"\nruleset = "sal.toml"\n'
        'sinks = ["fake2"]\n'
    )
    config = make_config(extra=extra)
    summaries = run_once(config, clock=clock)
    assert [s.pipeline for s in summaries] == ["mqls", "copy"]
    assert set(crm.notes.values()) == {1} and len(crm.notes) == 2


def test_a_reevaluation_that_changes_nothing_writes_nothing(make_config, worlds, clock) -> None:
    src, crm = worlds
    seed(src, 6)
    config = make_config()
    run_once(config, clock=clock)
    writes = crm.calls["write"] + src.calls["write"]
    [again] = backfill(config, since="2026-01-01", clock=clock, reevaluate=True)
    assert again.decided == 6
    assert again.writes.written == 0 and crm.calls["write"] + src.calls["write"] == writes


def test_rename_keeps_the_cursor_and_config_check_points_at_it(
    make_config, worlds, clock, tmp_path
) -> None:
    src, _ = worlds
    seed(src, 4)
    config = make_config()
    run_once(config, clock=clock)
    config = renamed(config, "mqls", "inbound")
    runner = CliRunner()
    checked = runner.invoke(main, ["config", "check", "--config", str(config.path)])
    assert "history under pipeline 'mqls'" in checked.output
    assert "sync-agent audit rename-pipeline mqls inbound" in checked.output
    moved = runner.invoke(
        main, ["audit", "rename-pipeline", "mqls", "inbound", "--config", str(config.path)]
    )
    assert moved.exit_code == 0, moved.output
    [after] = run_once(config, clock=clock)
    assert after.read == 0, "the renamed pipeline kept its cursor"
    with AuditLog.open(config.audit_db) as log:
        names = {r["pipeline"] for r in log.rows("SELECT DISTINCT pipeline FROM decisions")}
    assert names == {"inbound"}
    clean = runner.invoke(main, ["config", "check", "--config", str(config.path)])
    assert "history under pipeline" not in clean.output
