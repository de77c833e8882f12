"""A wrong URL in the config: the admin reads where the agent tried to go, why it failed,
and which setting to check; log lines go to stderr (with redaction), never into stdout
where scripts read results."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner

from sync_agent.cli import main

RULESET = Path(__file__).resolve().parents[2] / "rules" / "sal.toml"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(tmp_path: Path, hubspot_url: str, salesforce_url: str) -> Path:
    secrets = tmp_path / "s.toml"
    secrets.write_text(
        'HUBSPOT_ACCESS_TOKEN = "pat-secret-123"\nSALESFORCE_SESSION_ID = "00Dx!y"\n')
    secrets.chmod(0o600)
    path = tmp_path / "sync-agent.toml"
    path.write_text(f"""
[agent]
audit_db = "a.db"
secrets_file = "s.toml"
[connectors.hubspot]
base_url = "{hubspot_url}"
max_attempts = 1
[connectors.salesforce]
instance_url = "{salesforce_url}"
login_url = "{salesforce_url}"
max_attempts = 1
[[pipelines]]
name = "p"
source = "hubspot"
ruleset = "{RULESET}"
sinks = ["salesforce", "hubspot"]
""")
    return path


def test_unreachable_hosts_name_the_address_the_reason_and_the_setting(tmp_path: Path) -> None:
    port = closed_port()
    path = write_config(tmp_path, f"http://127.0.0.1:{port}", "https://no-such-host.invalid")
    result = CliRunner().invoke(main, ["config", "check", "--connect", "--config", str(path)])
    assert result.exit_code == 1
    out = result.stdout
    assert f"cannot reach HubSpot at 127.0.0.1:{port} (connection refused): check base_url" in out
    assert ("cannot reach Salesforce at no-such-host.invalid:443 (no such host): check "
            "login_url and instance_url") in out
    assert "NewConnectionError" not in out and "Max retries" not in out
    assert "hubspot_call_failed" not in out, "log lines belong on stderr"
    assert "pat-secret-123" not in result.output and "00Dx!y" not in result.output
