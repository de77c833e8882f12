"""A connector plugin that is installed but broken is named, with its import failure, and
breaks nothing else: the config that uses it gets a clear problem (exit 1), no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from plugin_kit import installed_entry_points

from sync_agent import registry
from sync_agent.cli import main
from sync_agent.errors import ConfigError

CONFIG = """
[agent]
audit_db = "audit.db"
[connectors.acme]
api_key_env = "ACME_KEY"
[connectors.sheet]
type = "file"
path = "leads.csv"
[[pipelines]]
name = "trade-show"
source = "acme"
ruleset = "{rules}"
sinks = ["sheet"]
"""


@pytest.fixture
def broken_plugins(tmp_path: Path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "acme_connector.py").write_text("import acme_sdk_that_is_not_installed\n")
    (folder / "not_a_spec.py").write_text("SPEC = 'just a string'\n")
    points = {"acme": "acme_connector:SPEC", "oddball": "not_a_spec:SPEC"}
    with installed_entry_points(folder, points):
        yield


def test_an_entry_point_that_fails_to_import_names_itself_and_the_failure(broken_plugins):
    with pytest.raises(ConfigError) as caught:
        registry.installed().get("acme")
    message = str(caught.value)
    assert "entry point acme = acme_connector:SPEC" in message
    assert "ModuleNotFoundError" in message and "acme_sdk_that_is_not_installed" in message
    assert caught.value.problems[0].hint  # what to do about it


def test_an_entry_point_that_is_not_a_spec_is_refused(broken_plugins):
    with pytest.raises(ConfigError, match="is not the ConnectorSpec of connector 'oddball'"):
        registry.installed().get("oddball")


def test_a_broken_plugin_leaves_the_others_working(broken_plugins):
    names = {spec.name for spec in registry.installed().specs()}
    assert {"hubspot", "salesforce", "file"} <= names
    assert "acme" not in names and "oddball" not in names


def test_config_check_on_a_config_using_it_is_a_clear_problem(broken_plugins, tmp_path):
    rules = Path(__file__).resolve().parents[2] / "rules" / "sal.toml"
    path = tmp_path / "sync-agent.toml"
    path.write_text(CONFIG.format(rules=rules))
    result = CliRunner().invoke(main, ["config", "check", "--config", str(path)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "acme_sdk_that_is_not_installed" in result.output
    assert "entry point acme" in result.output
