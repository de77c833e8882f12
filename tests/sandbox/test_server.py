"""The Sandbox object and ``sync-agent sandbox serve``: info, state endpoint, TLS, lifecycle."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from connectors.sandbox import Sandbox
from sync_agent.cli import main
from sync_agent.errors import FatalError

INFO_KEYS = {"hubspot_url", "hubspot_token", "salesforce_url", "salesforce_session_id",
             "ca_bundle"}


def test_info_has_what_clients_need(sandbox: Sandbox) -> None:
    info = sandbox.info()
    assert info.keys() >= INFO_KEYS
    assert info["hubspot_url"].startswith("http://127.0.0.1:")
    assert info["salesforce_url"].startswith("https://127.0.0.1:")
    assert Path(info["ca_bundle"]).read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_state_is_served_by_both_systems_and_salesforce_needs_the_ca(sandbox: Sandbox) -> None:
    info = sandbox.info()
    hubspot = requests.get(info["state_url"], timeout=10).json()
    assert len(hubspot["contacts"]) == 3000
    assert hubspot["totals"]["contacts"] == 3000
    assert {"contacts", "notes", "leads", "tasks", "requests", "totals"} <= hubspot.keys()
    url = info["salesforce_url"] + "/_sandbox/state?records=0"
    salesforce = requests.get(url, verify=info["ca_bundle"], timeout=10).json()
    assert "contacts" not in salesforce
    assert salesforce["totals"]["leads"] == len(sandbox.store.leads)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, timeout=10)  # not trusted without the sandbox CA


def test_state_method_matches_endpoint(sandbox: Sandbox) -> None:
    over_http = requests.get(sandbox.info()["state_url"] + "?records=0", timeout=10).json()
    local = sandbox.state(include_records=False)
    assert over_http["totals"]["contacts"] == local["totals"]["contacts"]


def test_start_stop_without_context_manager() -> None:
    sb = Sandbox(contacts=3)
    with pytest.raises(FatalError):
        sb.info()
    sb.start()
    try:
        url = sb.info()["state_url"]
        assert requests.get(url, timeout=10).status_code == 200
    finally:
        sb.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url, timeout=2)


def test_serve_prints_one_json_line_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "sandbox.toml"
    code = "from sync_agent.cli import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "sandbox", "serve", "--contacts", "40", "--seed", "3",
         "--write-config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info.keys() >= INFO_KEYS
        state = requests.get(info["state_url"] + "?records=0", timeout=10).json()
        assert state["totals"]["contacts"] == 40
        assert config.read_text().strip()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 0


def test_serve_has_help_for_every_option() -> None:
    result = CliRunner().invoke(main, ["sandbox", "serve", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--contacts", "--seed", "--mql-share", "--hubspot-tier",
                   "--rate-429", "--write-config"):
        assert option in result.output
