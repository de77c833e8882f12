"""Credentials are checked before the first lead is read: a wrong secret stops the run at
once with the fix, instead of after every lead was read and decided."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from connectors.sandbox import Sandbox
from sync_agent.audit import AuditLog
from sync_agent.cli import main
from sync_agent.config import load_config
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import run_once


def test_a_wrong_salesforce_secret_stops_the_run_before_any_lead_is_read(tmp_path: Path) -> None:
    with Sandbox(contacts=200, seed=14, mql_share=1.0) as sb:
        config, _ = prepare_sandbox(sb, tmp_path)
        secrets = config.secrets_file
        assert secrets is not None
        info = sb.info()
        text = secrets.read_text().replace(info["salesforce_client_secret"], "wrong-secret")
        secrets.write_text(text.replace(info["salesforce_session_id"], "00Dexpired!session"))
        config = load_config(config.path, environ={})
        before = sb.store.request_count("hubspot", "search")
        [run] = run_once(config)
        searched = sb.store.request_count("hubspot", "search") - before
    assert run.outcome == "auth" and run.exit_code == 1
    assert run.read == 0 and searched == 0, "leads were read before the login failed"
    assert "salesforce" in run.error.lower()
    with AuditLog.open(config.audit_db) as log:
        assert log.rows("SELECT COUNT(*) AS n FROM decisions")[0]["n"] == 0


def test_config_check_names_a_missing_secret_and_where_it_was_looked_for(tmp_path: Path) -> None:
    with Sandbox(contacts=20, seed=14) as sb:
        config, _ = prepare_sandbox(sb, tmp_path)
        secrets = config.secrets_file
        assert secrets is not None
        secrets.write_text("\n".join(line for line in secrets.read_text().splitlines()
                                     if not line.startswith("HUBSPOT_ACCESS_TOKEN")))  # fmt: skip
        result = CliRunner().invoke(main, ["config", "check", "--config", str(config.path)],
                                    env={"HUBSPOT_ACCESS_TOKEN": ""})  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "HUBSPOT_ACCESS_TOKEN is not set" in result.output
    assert str(secrets) in result.output


def test_a_wrong_hubspot_token_stops_the_run_before_any_write_or_read(tmp_path: Path) -> None:
    """The source's credentials are checked as the sinks' are: one clear stop, nothing read."""
    with Sandbox(contacts=50, seed=14, mql_share=1.0) as sb:
        config, _ = prepare_sandbox(sb, tmp_path)
        secrets = config.secrets_file
        assert secrets is not None
        token = sb.info()["hubspot_token"]
        secrets.write_text(secrets.read_text().replace(token, "pat-na1-wrong"))
        config = load_config(config.path, environ={})
        before = sb.store.request_count("salesforce")
        [run] = run_once(config)
        sf_calls = sb.store.request_count("salesforce") - before
        searched = sb.store.request_count("hubspot", "contacts.search")
    assert run.outcome == "auth" and run.exit_code == 1, run.error
    assert run.read == 0 and searched == 0
    assert "hubspot" in run.error.lower()
    assert sf_calls <= 2, "Salesforce was written to with a broken source"
