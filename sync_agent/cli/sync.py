"""``sync-agent run|backfill|replay|audit|report|demo|config`` (placeholder: sync engine work)."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    """Attach the sync engine's commands to the main group."""
