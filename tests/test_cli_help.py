"""Every command explains itself: `--help` works and says something, at every level."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from sync_agent.cli import main


def walk(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from walk(command, (*path, name))


COMMANDS = list(walk(main))


def test_the_cli_has_the_commands_the_readme_lists() -> None:
    names = {" ".join(c) for c in COMMANDS}
    for expected in ("demo", "run", "backfill", "replay", "report", "prune", "config check",
                     "rules check", "rules test", "rules explain", "audit list", "audit show",
                     "audit export", "sandbox serve", "hubspot setup-properties"):  # fmt: skip
        assert expected in names


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_text(command: tuple[str, ...]) -> None:
    out = CliRunner().invoke(main, [*command, "--help"])
    assert out.exit_code == 0, out.output
    usage, _, rest = out.output.partition("\n\n")
    assert usage.startswith("Usage:") and len(rest.split("Options:")[0].strip()) > 20


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_shows_no_raw_markup(command: tuple[str, ...]) -> None:
    """Docstring markup (rST backticks, click's \\b and \\f escapes, rich-style tags) must be
    rendered or left out, never printed (``salesforce statuses --help`` once showed it)."""
    out = CliRunner().invoke(main, [*command, "--help"]).output
    for raw in ("``", "\b", "\f", "[bold]", "[/", ":param", ".. code"):
        assert raw not in out, f"{' '.join(command)} --help prints {raw!r}"
