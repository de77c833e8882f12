"""``sync-agent hubspot setup-properties`` against the sandbox."""

from __future__ import annotations

from click.testing import CliRunner

from connectors.sandbox import Sandbox
from connectors.sandbox.config import write_sandbox_config
from sync_agent.cli import main


def test_setup_properties_dry_run_then_create_then_nothing_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    with Sandbox(contacts=10, seed=1) as sb:
        config, _ = write_sandbox_config(sb.info(), tmp_path / "sync-agent.toml")
        runner = CliRunner()
        dry = runner.invoke(
            main, ["hubspot", "setup-properties", "--config", str(config), "--dry-run"]
        )
        assert dry.exit_code == 0, dry.output
        assert "would create: contacts.sal_status (enumeration)" in dry.output
        assert "exists: notes.sal_handoff_key" in dry.output
        assert "sal_status" not in sb.store.contact_property_defs
        real = runner.invoke(main, ["hubspot", "setup-properties", "--config", str(config)])
        assert real.exit_code == 0, real.output
        assert real.output.count("created: contacts.") == 6
        assert {
            "sal_status",
            "sal_score",
            "sal_reason",
            "sal_decided_at",
            "sal_handoff_key",
            "sal_sla_status",  # the SLA watch's mark action
        } <= set(sb.store.contact_property_defs)
        again = runner.invoke(main, ["hubspot", "setup-properties", "--config", str(config)])
        assert "nothing to do" in again.output


def test_a_missing_config_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(
        main, ["hubspot", "setup-properties", "--config", str(tmp_path / "nope.toml")]
    )
    assert result.exit_code == 2, "a missing --config file is a usage error"
    assert "does not exist" in result.output
    assert "Traceback" not in result.output
