"""Fixtures for ``sync-agent serve``: a sandbox that sends webhooks, and agents serving it.

The sandbox and the agent run in this test process; they talk over real HTTP (the SDKs
to the sandbox, the sandbox's signed webhooks to the agent's cheroot server). Nothing
waits on wall time: tests wait for an outcome with a generous timeout.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from serve_kit import APP_SECRET, first_run_done, wait_for

from connectors.sandbox import Sandbox, WebhookConfig
from sync_agent.config import Config
from sync_agent.serve import Agent


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    hooks = WebhookConfig(client_secret=APP_SECRET, time_scale=1e-3, seed=3)
    with Sandbox(contacts=150, seed=21, mql_share=0.4, webhooks=hooks) as sb:
        yield sb


@pytest.fixture
def make_agent() -> Iterator[Callable[..., Agent]]:
    """Start agents (port 0); every one is stopped after the test."""
    started: list[Agent] = []

    def make(config: Config, sb: Sandbox | None = None, *, first_run: bool = True) -> Agent:
        agent = Agent(config, port=0).start()
        started.append(agent)
        if sb is not None:
            sb.webhooks.configure(target_url=agent.url + "/webhooks/hubspot")
        if first_run:  # the first scheduled pass runs at start: let it finish
            wait_for(lambda: first_run_done(agent), what="the first scheduled run")
        return agent

    yield make
    for agent in started:
        agent.stop()
