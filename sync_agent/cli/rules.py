"""``sync-agent rules ...`` (placeholder: owned by the rules work)."""

from __future__ import annotations

import click


@click.group()
def rules() -> None:
    """Check, test and explain acceptance rulesets."""
