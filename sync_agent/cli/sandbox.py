"""``sync-agent sandbox ...`` (placeholder: owned by the sandbox work)."""

from __future__ import annotations

import click


@click.group()
def sandbox() -> None:
    """Run the local HubSpot + Salesforce emulator."""
