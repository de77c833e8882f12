"""An empty list file (only a comment) is legal everywhere an admin meets it, not only in
`rules check`: `config check` and `run --once` against the sandbox work, and `not_in` that
list holds for every lead (the issue: every command ended in `KeyError: 'pop from an empty
set'`)."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from connectors.sandbox import Sandbox
from sync_agent.audit import AuditLog
from sync_agent.cli import main
from sync_agent.demo import prepare_sandbox

RULES = Path(__file__).resolve().parents[2] / "rules"


def test_config_check_and_run_once_work_with_an_empty_list(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    (rules / "lists" / "competitor_domains.txt").write_text("# competitors: none yet\n")
    with Sandbox(contacts=40, seed=5, mql_share=1.0) as sb:
        config, _ = prepare_sandbox(sb, tmp_path / "work")
        text = config.path.read_text()
        shipped = next(line for line in text.splitlines() if line.startswith("ruleset"))
        config.path.write_text(text.replace(shipped, f'ruleset = "{rules / "sal.toml"}"'))
        check = CliRunner().invoke(main, ["config", "check", "--config", str(config.path)])
        run = CliRunner().invoke(main, ["run", "--once", "--config", str(config.path)])
    for result in (check, run):
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output and "KeyError" not in result.output
    with AuditLog.open(config.audit_db) as log:
        rows = log.rows("SELECT reasons FROM decisions")
    assert len(rows) >= 40
    assert not any("competitor" in r["reasons"] for r in rows), "an empty list disqualified"
