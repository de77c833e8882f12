"""``sync-agent salesforce statuses`` against a sandbox config."""

from __future__ import annotations

from click.testing import CliRunner

from connectors.sandbox.config import write_sandbox_config
from sync_agent.cli import main


def test_statuses_lists_values_and_marks_the_ones_written(sb, tmp_path):
    info = sb.info()
    config, _secrets = write_sandbox_config(
        {**info, "salesforce_instance_url": info["salesforce_url"]}, tmp_path / "sync-agent.toml"
    )
    result = CliRunner().invoke(main, ["salesforce", "statuses", "--config", str(config)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "SAL - Accepted  <- written for accepted" in lines
    assert "Open - Not Contacted (default)" in lines
    assert "Closed - Converted (converted)" in lines


def test_a_missing_config_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(
        main, ["salesforce", "statuses", "--config", str(tmp_path / "no.toml")]
    )
    assert result.exit_code == 2 and "does not exist" in result.output
