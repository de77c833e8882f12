"""The HubSpot daily budget spans processes: cron starts each run --once afresh, and the
day's usage must still add up (and config check shows the same figure)."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from connectors.hubspot import limits
from connectors.sandbox import Sandbox
from sync_agent.cli import main
from sync_agent.config import load_config
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import run_once


def new_process() -> None:
    """What a fresh `sync-agent run --once` starts with: no limiter in memory."""
    limits._REGISTRY.clear()


def test_the_days_usage_carries_over_between_runs_and_stops_the_budget(tmp_path: Path) -> None:
    # The sandbox's limits are off, so its headers never say how much was used: only the
    # agent's own count can stop it.
    with Sandbox(contacts=400, seed=12, mql_share=1.0) as sb:
        config, _ = prepare_sandbox(sb, tmp_path, hubspot_options={"daily_max_share": 1.0})
        new_process()
        [first] = run_once(config)
        used = first.api_calls["hubspot"]
        new_process()
        checked = CliRunner().invoke(main, ["config", "check", "--connect",
                                            "--config", str(config.path)])  # fmt: skip
        shown = int(re.search(r"(\d+) used of", checked.output).group(1))
        assert shown > used, checked.output  # the check's own calls come on top
        # a budget the first run (and the check) already spent: the next run stops at once
        text = config.path.read_text()
        config.path.write_text(text.replace("daily_max_share = 1.0",
                                            f"daily_max_share = 1.0\ndaily = {shown}"))
        config = load_config(config.path, environ={})
        assert config.connectors["hubspot"].settings.daily == shown
        new_process()
        sb.store.set_modified(sb.store.mqls()[:5], sb.now())
        [second] = run_once(config)
    assert second.outcome == "budget" and second.exit_code == 4
    assert second.api_calls.get("hubspot", 0) == 0
