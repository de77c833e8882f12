"""Fixtures: the fake connector type installed through an entry point (two instances,
``fake`` and ``fake2``), a stand-in ruleset, a config."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from plugin_kit import installed_entry_points
from sync_fakes import WORLDS, FakeClock, FakeRules, World

from sync_agent.config import Config, load_config
from sync_agent.engine import pipeline as pipeline_mod

CONFIG = """
[agent]
audit_db = "audit.db"
[writeback]
max_attempts = {max_attempts}
backoff_base_seconds = 60
backoff_max_seconds = 600
[connectors.fake]
world = "{src}"
page_size = {page_size}
[connectors.fake2]
type = "fake"
world = "{crm}"
[[pipelines]]
name = "mqls"
source = "fake"
ruleset = "sal.toml"
sinks = ["fake", "fake2"]
schedule = {{ every_minutes = 15 }}
batch_size = {batch}
"""


@pytest.fixture(scope="session", autouse=True)
def _fake_connector_installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The ``fake`` connector type, installed the way any plugin is: an entry point."""
    with installed_entry_points(tmp_path_factory.mktemp("plugins"), {"fake": "sync_fakes:FAKE"}):
        yield


@pytest.fixture
def worlds(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[World, World]]:
    src, crm = World(), World()
    WORLDS.clear()
    WORLDS.update({"src": src, "crm": crm})
    monkeypatch.setattr(pipeline_mod, "load_pipeline_ruleset", FakeRules().load_for)
    yield src, crm


@pytest.fixture
def make_config(tmp_path: Path, worlds: tuple[World, World]) -> Callable[..., Config]:
    def make(
        threshold: float = 50,
        max_attempts: int = 3,
        page_size: int = 3,
        batch: int = 200,
        extra: str = "",
    ) -> Config:
        (tmp_path / "sal.toml").write_text(f"threshold = {threshold}\n")
        path = tmp_path / "sync-agent.toml"
        path.write_text(
            CONFIG.format(
                max_attempts=max_attempts, src="src", crm="crm", page_size=page_size, batch=batch
            )
            + extra
        )
        return load_config(path, environ={})

    return make


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """CLI commands configure structlog for their (captured) stderr; undo it after each test."""
    import structlog

    yield
    structlog.reset_defaults()
