"""Small things that must hold: a stop request is honoured while a backlog is written, an
export is private, a config that is not UTF-8 is a clear error."""

from __future__ import annotations

import stat
import threading

from click.testing import CliRunner
from sync_fakes import World

from sync_agent.cli import main
from sync_agent.engine import run_once
from sync_agent.model import WriteResult, WriteState


def test_a_stop_request_is_honoured_between_backlog_batches(
    make_config, worlds: tuple[World, World], clock
) -> None:
    """SIGTERM must not wait for a large backlog to drain (systemd stops after a timeout)."""
    src, crm = worlds
    for i in range(1, 13):
        src.add(str(i), 80, minute=i)
        crm.per_key[str(i)] = WriteResult("", WriteState.RETRYABLE, "UNABLE_TO_LOCK_ROW")
    config = make_config(page_size=12, batch=2)
    run_once(config, clock=clock)  # 12 leads wait for a retry
    crm.per_key.clear()
    clock.advance(hours=2)
    stop = threading.Event()
    calls = crm.calls["write"]
    stop.set()  # SIGTERM arrived as the run started
    [stopped] = run_once(config, clock=clock, stop=stop)
    assert stopped.outcome == "interrupted" and stopped.exit_code == 5
    assert crm.calls["write"] - calls <= 1, "the backlog kept being written after the stop"
    [later] = run_once(config, clock=clock)
    assert later.outcome == "ok" and set(crm.sal) == {str(i) for i in range(1, 13)}


def test_audit_export_writes_a_file_only_its_owner_can_read(make_config, worlds, clock, tmp_path):
    src, _ = worlds
    src.add("1", 80, minute=1)
    config = make_config()
    run_once(config, clock=clock)
    out = tmp_path / "decisions.csv"
    result = CliRunner().invoke(
        main, ["audit", "export", "--output", str(out), "--config", str(config.path)]
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_a_config_that_is_not_utf8_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "sync-agent.toml"
    path.write_bytes(b'[agent]\naudit_db = "a.db"\nlog_level = "INFO"  # caf\xe9\n')
    result = CliRunner().invoke(main, ["config", "check", "--config", str(path)])
    assert result.exit_code == 1
    assert "not UTF-8" in result.output and ":3" in result.output
    assert "Traceback" not in result.output
