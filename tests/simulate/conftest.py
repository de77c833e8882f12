"""Fixtures of the simulation tests: the audit log built once per session, a copy per test.

How the log is made and what it holds: see ``simulate_world``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # simulate_world

from simulate_world import WEEKS, World, build_config, copy_rules

from sync_agent.config import DEFAULT_CONFIG_NAME, load_config
from sync_agent.engine import backfill, run_once

sandbox_mod = pytest.importorskip("connectors.sandbox")


@pytest.fixture(scope="session")
def built_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    workdir = tmp_path_factory.mktemp("simulate-world")
    rules = tmp_path_factory.mktemp("simulate-rules")
    lenient = copy_rules(rules / "lenient", 30, 20)
    edited = copy_rules(rules / "edited", 80, 65)
    with sandbox_mod.Sandbox(
        contacts=300, seed=8, mql_share=0.7, seed_options={"days": 7 * WEEKS}
    ) as sb:
        today = datetime.now(UTC)
        anchor = datetime(today.year, today.month, today.day, tzinfo=UTC)
        weeks = [anchor - timedelta(days=7 * (WEEKS - 1 - i)) for i in range(WEEKS)]
        config = build_config(sb, workdir)
        for week in weeks:
            run_once(config, clock=lambda week=week: week)
        # Our write-backs modified the contacts just now: a dry run under another ruleset
        # re-decides them (recorded, dry_run = 1), and must never count.
        dry = build_config(sb, workdir, ruleset=str(lenient))
        run_once(dry, dry_run=True, clock=lambda: datetime.now(UTC) + timedelta(seconds=30))
        again = datetime.now(UTC) + timedelta(minutes=1)
        backfill(build_config(sb, workdir, ruleset=str(edited)), since="2000-01-01",
                 reevaluate=True, clock=lambda: again)  # fmt: skip
        build_config(sb, workdir)  # the config on disk names the live ruleset again
    return World(workdir, load_config(workdir / DEFAULT_CONFIG_NAME, environ={}), weeks, again,
                 edited)  # fmt: skip


@pytest.fixture
def world(built_world: World, tmp_path: Path) -> Iterator[World]:
    """This test's own copy of the world (it may add outcomes or damage rows)."""
    folder = tmp_path / "world"
    shutil.copytree(built_world.folder, folder)
    config = load_config(folder / DEFAULT_CONFIG_NAME, environ={})
    yield World(folder, config, built_world.weeks, built_world.reevaluated_at, built_world.edited)
