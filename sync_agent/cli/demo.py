"""``sync-agent demo``: a full sync against the embedded sandbox, shown step by step.

The library (:mod:`sync_agent.demo`) runs the steps; this prints each step's heading before
the step runs (so its progress bar sits under it), then what the step shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console

from sync_agent.demo import Step, check_workdir, run_demo
from sync_agent.errors import ConfigError
from sync_agent.logs import configure_logging


@click.command("demo")
@click.option(
    "--contacts", default=3000, show_default=True, help="Made-up contacts in the sandbox."
)
@click.option(
    "--seed", default=42, show_default=True,
    help="Which set of made-up contacts (the same number gives the same data).",
)  # fmt: skip
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the demo's config and audit database here (default: a temporary folder, "
    "removed at the end).",
)
def demo(contacts: int, seed: int, workdir: Path | None) -> None:
    """Run the default pipeline against the local sandbox, twice.

    Starts a local HubSpot + Salesforce emulator with made-up contacts, syncs HubSpot
    MQLs through rules/sal.toml to Salesforce and HubSpot, then shows the report, one
    accepted lead's explanation with the note and task written to the CRMs, why some
    accepted leads got no task, a second pass that hands off nothing, and next steps.

    \b
    Example:
      sync-agent demo --contacts 5000 --workdir /tmp/sal-demo
      sqlite3 /tmp/sal-demo/sync-agent.db 'select outcome, count(*) from decisions group by 1'
    """
    if workdir is not None:
        try:
            check_workdir(workdir)
        except ConfigError as exc:
            raise click.BadParameter(str(exc), param_hint="--workdir") from None
    configure_logging(level="WARNING")  # the demo narrates itself; warnings still show
    console = Console()
    console.rule(f"sync-agent demo: a local HubSpot + Salesforce with {contacts:,} contacts")
    number = iter(range(1, 100))

    def heading(step: Step) -> None:
        console.rule(f"{next(number)}. {step.title}")

    result = run_demo(
        contacts=contacts,
        seed=seed,
        workdir=workdir,
        progress=lambda label: _bar(console, label),
        on_step=heading,
        show=lambda block: _print(console, block),
    )
    if any(s.exit_code for s in result.first + result.second):
        raise SystemExit(1)


@contextmanager
def _bar(console: Console, label: str) -> Iterator[Callable[[int, int | None], None]]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn(label), BarColumn(), TextColumn("{task.completed:,.0f} MQLs"),
        TimeElapsedColumn(), console=console, transient=False,
    )  # fmt: skip
    task = bar.add_task(label, total=None)
    bar.start()
    try:
        yield lambda done, total: bar.update(task, completed=done, total=total)
    finally:
        bar.stop()


def _print(console: Console, block: object) -> None:
    """Text as written (no markup; the terminal wraps it, so a command copies whole)."""
    if isinstance(block, str):
        console.print(block, markup=False, highlight=False, soft_wrap=True)
    else:
        console.print(block, highlight=False)
