"""Configuration: every problem at once, did-you-mean hints, secrets outside the file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from connectors.sandbox.config import (
    config_for_sandbox,
    sandbox_config_text,
    write_sandbox_config,
)
from sync_agent.config import load_config
from sync_agent.errors import ConfigError

BAD = """
[agent]
audit_db = "a.db"
log_levle = "INFO"
[writeback]
max_attempts = 0
[retenton]
decisions_days = 30
[connectors.fake]
page_size = "big"
[connectors.hubsopt]
base_url = "x"
[[pipelines]]
name = "p1"
source = "fake"
ruleset = "missing.toml"
sinks = ["fake", "salesforcee"]
schedule = { cron = "99 * * * *" }
batch_size = 0
colour = "red"
"""


def test_every_problem_is_reported_at_once(tmp_path: Path, worlds) -> None:
    path = tmp_path / "c.toml"
    path.write_text(BAD)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    text = "\n".join(str(p) for p in info.value.problems)
    for expected in (
        "unknown key 'log_levle' (hint: did you mean 'log_level'?)",
        "writeback.max_attempts: must be at least 1",
        "retenton: unknown key 'retenton' (hint: did you mean 'retention'?)",
        "connectors.fake.world: required",
        "connectors.fake.page_size: must be a whole number (got 'big')",
        "unknown connector type 'hubsopt' (hint: did you mean 'hubspot'?)",
        "ruleset file not found",
        "unknown connector 'salesforcee' (hint: did you mean 'salesforce'?)",
        "bad cron expression '99 * * * *'",
        "pipelines[0].batch_size: must be at least 1 (got 0)",
        "unknown key 'colour'",
    ):
        assert expected in text, expected
    by_location = {p.location: p for p in info.value.problems}
    assert by_location["agent.log_levle"].line == 4, "problems carry the line number"


def test_a_valid_config_resolves_paths_and_gives_each_instance_its_secrets(
    make_config, tmp_path, monkeypatch
) -> None:
    """Two instances of one type each read their own secrets: ``fake`` reads FAKE_TOKEN,
    ``fake2`` (no prefix configured) reads FAKE2_FAKE_TOKEN; the environment wins over the
    file, and only names some instance declares are taken from the environment."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('FAKE_TOKEN = "from-file"\nFAKE2_FAKE_TOKEN = "file2"\n')
    secrets.chmod(0o600)
    path = tmp_path / "sync-agent.toml"
    make_config()
    path.write_text(
        path.read_text().replace(
            'audit_db = "audit.db"', 'audit_db = "audit.db"\nsecrets_file = "secrets.toml"'
        )
    )
    environ = {"FAKE_TOKEN": "from-env", "HOME": "/x", "OTHER_TOKEN": "not ours"}
    config = load_config(path, environ=environ)
    assert config.audit_db == tmp_path / "audit.db"
    assert config.secrets == {"FAKE_TOKEN": "from-env", "FAKE2_FAKE_TOKEN": "file2"}
    assert config.instance("fake").secrets == {"FAKE_TOKEN": "from-env"}
    assert config.instance("fake2").secrets == {"FAKE_TOKEN": "file2"}
    assert config.connectors["fake2"].type == "fake"
    assert config.pipelines[0].ruleset == tmp_path / "sal.toml"
    assert config.pipelines[0].schedule.every_minutes == 15
    assert "from-env" not in repr(config)


def test_a_secrets_file_others_can_read_or_that_is_missing_is_refused(
    make_config, tmp_path
) -> None:
    """Like ssh with a private key: a group- or world-readable secrets file is an error
    (with the chmod that fixes it), and so is a secrets_file that does not exist."""
    path = tmp_path / "sync-agent.toml"
    make_config()
    path.write_text(
        path.read_text().replace(
            'audit_db = "audit.db"', 'audit_db = "audit.db"\nsecrets_file = "secrets.toml"'
        )
    )
    with pytest.raises(ConfigError) as missing:
        load_config(path, environ={})
    [problem] = missing.value.problems
    assert "does not exist" in problem.message and problem.location == "agent.secrets_file"
    assert problem.line == 4  # the secrets_file line of the config
    (tmp_path / "secrets.toml").write_text('FAKE_TOKEN = "x"\n')
    (tmp_path / "secrets.toml").chmod(0o644)
    with pytest.raises(ConfigError) as readable:
        load_config(path, environ={})
    [problem] = readable.value.problems
    assert "readable by others" in problem.message and problem.hint.startswith("chmod 600")


def test_sandbox_config_keeps_secrets_out_of_the_config(tmp_path) -> None:
    info = {
        "hubspot_url": "http://127.0.0.1:1234",
        "salesforce_url": "https://127.0.0.1:1235",
        "ca_bundle": "/tmp/ca.pem",
        "hubspot_token": "hs-secret-token",
        "salesforce_session_id": "sf-sess-123",
    }
    config_path, secrets_path = write_sandbox_config(info, tmp_path / "sync-agent.toml")
    text = config_path.read_text()
    assert "hs-secret-token" not in text and "sf-sess-123" not in text
    assert 'base_url = "http://127.0.0.1:1234"' in text and 'ca_bundle = "/tmp/ca.pem"' in text
    assert stat.S_IMODE(secrets_path.stat().st_mode) == 0o600
    assert "hs-secret-token" in secrets_path.read_text()
    bare = sandbox_config_text(info)  # what `sandbox serve --write-config` writes
    assert "hs-secret-token" not in bare and 'secrets_file = "/' in bare


def test_config_for_sandbox_loads_with_the_real_connectors(tmp_path) -> None:
    info = {
        "hubspot_url": "http://127.0.0.1:1234",
        "salesforce_url": "https://127.0.0.1:1235",
        "hubspot_token": "tok-abcdef",
        "salesforce_session_id": "sess-abcdef",
    }
    config = config_for_sandbox(info, tmp_path, max_attempts=2)
    assert config.max_attempts == 2
    assert [p.sinks for p in config.pipelines] == [("salesforce", "hubspot")]
    assert config.secrets["HUBSPOT_ACCESS_TOKEN"] == "tok-abcdef"


def test_the_example_config_is_valid_with_its_optional_lines_enabled(tmp_path) -> None:
    pytest.importorskip("connectors.hubspot")
    pytest.importorskip("connectors.salesforce")
    repo = Path(__file__).resolve().parents[2]
    text = (repo / "config.example.toml").read_text()
    text = text.replace('ruleset = "rules/sal.toml"', f'ruleset = "{repo / "rules" / "sal.toml"}"')
    for line in (
        "# mql_filter = [",
        "#   { property",
        "# ]",
        "# field_map",
        "# log_json",
        "# enabled",
        "# [serve]",
        "# public_url",
        "# threads",
        "# outcomes = {",
    ):
        text = text.replace(line, line[2:])
    path = tmp_path / "example.toml"
    path.write_text(text)
    (tmp_path / "secrets.toml").write_text("")
    (tmp_path / "secrets.toml").chmod(0o600)
    config = load_config(path, environ={})
    assert (
        config.pipelines[0].sinks == ("salesforce", "hubspot")
        and config.pipelines[0].enabled is False
    )
    sf, hs = (config.connectors[n].settings.outcomes for n in ("salesforce", "hubspot"))
    assert (sf.rejection_reason_field, hs.rejection_reason_property) == (
        "Rejection_Reason__c", "sales_rejection_reason")
    assert (config.outcomes_lookback_days, config.outcomes_every_minutes) == (90, 60)
    assert config.connectors["hubspot"].settings.mql_filter[1]["operator"] == "NOT_HAS_PROPERTY"
    assert config.serve_public_url == "https://agent.example.com" and config.serve_threads == 8


def test_the_salesforce_task_follows_the_agent_sla_unless_overridden(tmp_path) -> None:
    """One follow-up SLA for the note and the task; a connector-level value still wins."""
    ruleset = tmp_path / "r.toml"
    ruleset.write_text("")  # existence is what the config checks; the engine loads it later
    base = (
        '[writeback]\nfollow_up_sla_hours = 8\n[connectors.hubspot]\n[connectors.salesforce]\n{sf}'
        '[[pipelines]]\nname = "p"\nsource = "hubspot"\nruleset = "r.toml"\n'
        'sinks = ["salesforce"]\nschedule = {{ every_minutes = 5 }}\n'
    )
    (tmp_path / "a.toml").write_text(base.format(sf=""))
    (tmp_path / "b.toml").write_text(base.format(sf="sla_hours = 48\n"))
    a = load_config(tmp_path / "a.toml", environ={})
    assert a.follow_up_sla_hours == 8 and a.connectors["salesforce"].settings.sla_hours is None
    b = load_config(tmp_path / "b.toml", environ={})
    assert b.connectors["salesforce"].settings.sla_hours == 48
