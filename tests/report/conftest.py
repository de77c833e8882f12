"""An audit log made by the real engine against the sandbox, shared by the report tests.

Nine weekly runs (an injected clock: contacts modified over 63 days are picked up week by
week), a dry run that must never count, a ``backfill --reevaluate`` under a stricter ruleset
(so leads have several decisions and some SALs are later "rejected"), and a last run while
every Salesforce Lead row is locked (dead letters). Built once per session (~10 s).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.sandbox.config import config_for_sandbox
from sync_agent.config import Config
from sync_agent.engine import backfill, run_once

sys.path.insert(0, str(Path(__file__).parent))  # report_expected

sandbox_mod = pytest.importorskip("connectors.sandbox")
hubspot = pytest.importorskip("connectors.hubspot")
setup = pytest.importorskip("connectors.hubspot.setup")

REPO = Path(__file__).resolve().parents[2]
WEEKS = 9


@dataclass
class ReportWorld:
    """The audit database, the config that made it, the sandbox's final state, the weeks."""

    config: Config
    state: dict[str, Any]
    week_starts: list[datetime]  # each weekly run's clock
    reevaluated_at: datetime


def _config(sb: Any, workdir: Path, **info: Any) -> Config:
    # Leads the org never gets keep waiting through the fixture's weeks (no expiry to a
    # dead letter), so the sandbox's records alone tell where each accepted lead stands.
    config = config_for_sandbox({**sb.info(), **info}, workdir, wait_for_record_hours=24 * 365)
    client = hubspot.build_client(config.connectors["hubspot"].settings, config.secrets)
    setup.setup_properties(client, client.settings)
    return config


def _strict_rules(folder: Path) -> Path:
    """A copy of the shipped rules with a higher bar (accept at 80, review from 65)."""
    shutil.copytree(REPO / "rules", folder)
    path = folder / "sal.toml"
    text = path.read_text().replace("accept_at = 70", "accept_at = 80")
    path.write_text(text.replace("review_at = 55", "review_at = 65"))
    return path


@pytest.fixture(scope="session")
def report_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportWorld]:
    workdir = tmp_path_factory.mktemp("report-world")
    with sandbox_mod.Sandbox(
        contacts=700, seed=5, mql_share=0.7, seed_options={"days": 7 * WEEKS}
    ) as sb:
        config = _config(sb, workdir)
        today = datetime.now(UTC)
        anchor = datetime(today.year, today.month, today.day, tzinfo=UTC)
        starts = [anchor - timedelta(days=7 * (WEEKS - 1 - i)) for i in range(WEEKS - 1)]
        for start in starts:
            run_once(config, clock=lambda start=start: start)
        run_once(config, dry_run=True, clock=lambda: anchor)  # dry runs never count
        sb.salesforce_faults.rate_lock = 1.0  # the last week: every Lead row stays locked
        run_once(replace(config, max_attempts=1), clock=lambda: anchor)
        sb.salesforce_faults.rate_lock = 0.0
        # Re-decide everything (written-back contacts were modified just now) under a
        # stricter ruleset: leads get a second decision, some SALs would now be rejected.
        again = datetime.now(UTC) + timedelta(minutes=1)
        strict = _config(sb, workdir, ruleset=str(_strict_rules(workdir / "strict-rules")))
        backfill(strict, since="2000-01-01", reevaluate=True, clock=lambda: again)
        yield ReportWorld(config, sb.state(), [*starts, anchor], again)


@dataclass
class LoopWorld:
    """A copy of the report world whose handoffs sales has worked (``outcomes_builder``)."""

    config_path: Path  # a copy of the world's config, naming the copied audit log
    db: Path
    world: ReportWorld


@pytest.fixture(scope="session")
def loop_world(report_world: ReportWorld, tmp_path_factory: pytest.TempPathFactory) -> LoopWorld:
    import sqlite3

    from outcomes_builder import add_outcomes

    folder = tmp_path_factory.mktemp("loop-world") / "work"
    source = report_world.config.path.parent
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("*.db*"))
    db = folder / report_world.config.audit_db.relative_to(source)
    with sqlite3.connect(report_world.config.audit_db) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    add_outcomes(db)
    return LoopWorld(folder / report_world.config.path.name, db, report_world)
