"""``sync-agent demo``: a full sync against the embedded sandbox, shown step by step."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.panel import Panel

from sync_agent.demo import DemoResult, run_demo
from sync_agent.logs import configure_logging
from sync_agent.report import render_text


@click.command("demo")
@click.option(
    "--contacts", default=3000, show_default=True, help="Contacts to seed in the sandbox."
)
@click.option("--seed", default=42, show_default=True, help="Seed of the synthetic data.")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the demo's config and audit database here (default: a temporary folder).",
)
def demo(contacts: int, seed: int, workdir: Path | None) -> None:
    """Run the default pipeline against the local sandbox, twice.

    Starts the HubSpot + Salesforce emulator in-process with seeded contacts, syncs
    HubSpot MQLs through rules/sal.toml to Salesforce and HubSpot, then shows the report,
    one accepted lead's explanation and the note and task written to the CRMs, and a
    second pass that hands off nothing (exactly-once write-back).

    \b
    Example:
      sync-agent demo --contacts 5000 --workdir /tmp/sal-demo
      sqlite3 /tmp/sal-demo/sync-agent.db 'select outcome, count(*) from decisions group by 1'
    """
    configure_logging(level="WARNING")  # the demo narrates itself; warnings still show
    console = Console()
    console.rule(f"sync-agent demo: sandbox with {contacts:,} contacts (seed {seed})")
    with ExitStack() as stack:
        result = run_demo(
            contacts=contacts,
            seed=seed,
            workdir=workdir,
            progress=lambda label: stack.enter_context(_bar(console, label)),
        )
    _show(console, result)
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
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _show(console: Console, result: DemoResult) -> None:
    console.rule("Set-up: sync-agent hubspot setup-properties")
    console.print("created " + ", ".join(result.properties_created or ["nothing (all exist)"]))
    for title, runs in (("First pass", result.first), ("Second pass", result.second)):
        console.rule(title)
        for s in runs:
            console.print(_summary(s.to_dict()))
    console.rule("Report")
    console.print(render_text(result.report), highlight=False)
    if result.example:
        _show_example(console, result)
    console.rule("Exactly once")
    console.print(
        f"HubSpot notes: {result.crm_before_second['notes']:,} after the first pass, "
        f"{result.crm_after_second['notes']:,} after the second; Salesforce tasks: "
        f"{result.crm_before_second['tasks']:,} → {result.crm_after_second['tasks']:,}."
    )
    console.print(f"Audit log and config: {result.workdir}")


def _summary(s: dict[str, Any]) -> str:
    calls = ", ".join(f"{name} {n:,}" for name, n in sorted(s["api_calls_by_system"].items()))
    text = (
        f"{s['pipeline']}: {s['outcome']}, read {s['read']:,} MQLs, decided {s['decided']:,} "
        f"(accepted {s['accepted']:,}, review {s['review']:,}, rejected {s['rejected']:,}), "
        f"already handed off {s['skipped_accepted']:,}, malformed {s['malformed']:,}; "
        f"writes: {s['written']:,} written, {s['write_skipped']:,} skipped, "
        f"{s['waiting']:,} waiting for the CRM record, {s['retryable']:,} to retry, "
        f"{s['dead']:,} dead letters; HTTP calls: {calls or 'none'}"
    )
    for sink, reasons in s["not_written"].items():
        why = ", ".join(f"{reason} {n:,}" for reason, n in reasons.items())
        text += f"\n  not written to {sink}: {sum(reasons.values()):,} ({why})"
    return text


def _show_example(console: Console, result: DemoResult) -> None:
    from sync_agent.rules.render import decision_table

    example = result.example or {}
    console.rule(f"Why lead {example['lead_key']} was accepted")
    if result.decision:
        console.print(decision_table(result.decision, result.origins))
    if result.note:
        body = result.note["properties"].get("hs_note_body", "")
        console.print(Panel(body, title="HubSpot note on the contact", expand=False))
    if result.task:
        console.print(
            Panel(
                f"{result.task.get('Subject')}\nDue {result.task.get('ActivityDate')}, "
                f"owner {result.task.get('OwnerId')}",
                title="Salesforce Task for the lead owner",
                expand=False,
            )
        )
