"""``sync-agent report`` options, on the sandbox-made audit log (see ``conftest.py``)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from report_expected import expected, load

from sync_agent.cli import main


def test_report_cli_since_until_json(report_world) -> None:
    weeks = report_world.week_starts
    args = [
        "report",
        "--config",
        str(report_world.config.path),
        "--json",
        "--since",
        weeks[4].date().isoformat(),
        "--until",
        weeks[7].date().isoformat(),
    ]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    want = expected(*load(report_world.config.audit_db), since=weeks[4], until=weeks[7])
    assert data["until"].startswith(weeks[7].date().isoformat())
    assert (data["overall"]["mqls"], data["overall"]["sals"]) == (want.mqls, want.sals)
    sf = data["overall"]["writes"]["salesforce"]
    assert sf["sals_not_written_total"] == sum(sf["sals_not_written"].values())
