"""The simulation tests' audit log (built by conftest.py) and plain-Python expectations.

The world: an audit log made by the real engine against the sandbox.

Four weekly runs under rules/sal.toml (an injected clock: contacts modified over 28 days
are picked up week by week, so decisions carry different ``decided_at``), a dry run under
a lenient ruleset (accept at 30) that must never count, then a ``backfill --reevaluate``
under an edited ruleset (accept at 80), which gives every lead a later decision under
another hash. Built once per session; each test works on its own copy (``world``).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.hubspot import build_client
from connectors.hubspot.setup import setup_properties
from connectors.sandbox.config import config_for_sandbox
from sync_agent.config import DEFAULT_CONFIG_NAME, Config

REPO = Path(__file__).resolve().parents[2]
SAL = REPO / "rules" / "sal.toml"
STRICTER = REPO / "rules" / "examples" / "sal_stricter.toml"
WEEKS = 4


@dataclass
class World:
    """A copy of the audit log and its config (the live ruleset: rules/sal.toml)."""

    folder: Path
    config: Config
    weeks: list[datetime]  # each weekly run's clock
    reevaluated_at: datetime  # the backfill under the edited ruleset
    edited: Path  # that edited ruleset (accept at 80)

    @property
    def db(self) -> Path:
        return self.config.audit_db

    @property
    def config_path(self) -> Path:
        return self.folder / DEFAULT_CONFIG_NAME

    def rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        with sqlite3.connect(self.db) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute(sql, params)]

    def execute(self, sql: str, params: Any = ()) -> None:
        conn = sqlite3.connect(self.db)
        with conn:
            conn.execute(sql, params)
        conn.close()


def copy_rules(folder: Path, accept_at: int, review_at: int) -> Path:
    """A copy of the shipped rules with another threshold."""
    shutil.copytree(REPO / "rules", folder)
    path = folder / "sal.toml"
    text = path.read_text().replace("accept_at = 70", f"accept_at = {accept_at}")
    path.write_text(text.replace("review_at = 55", f"review_at = {review_at}"))
    return path


def build_config(sb: Any, workdir: Path, **info: Any) -> Config:
    """A sandbox config in ``workdir`` (its audit log: ``workdir/sync-agent.db``)."""
    config = config_for_sandbox({**sb.info(), **info}, workdir)
    client = build_client(config.connectors["hubspot"].settings, config.secrets)
    setup_properties(client, client.settings)
    return config


def latest_rows(world: World, until: datetime | None = None) -> list[dict[str, Any]]:
    """Each (pipeline, lead)'s latest non-dry-run decision before ``until``, computed
    independently of the library: every row, then plain Python."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in world.rows("SELECT * FROM decisions ORDER BY id"):
        if row["dry_run"]:
            continue
        if until is not None and datetime.fromisoformat(row["decided_at"]) >= until:
            continue
        latest[(row["pipeline"], row["lead_key"])] = row
    return sorted(latest.values(), key=lambda r: r["id"])


def fields(row: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(row["snapshot"])
    return value
