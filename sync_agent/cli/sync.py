"""``sync-agent run|backfill|replay|config``, plus registration of the audit/report commands.

Thin: parse options, call one function of :mod:`sync_agent.engine` (or the scheduler),
render the summaries, exit with the code the summaries earn (0 ok, 1 failures,
3 locked, 4 budget stop).
"""

from __future__ import annotations

import importlib
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from sync_agent.cli.audit import DATE_FORMATS, audit, config_option, load, prune, report, utc
from sync_agent.errors import AgentLocked
from sync_agent.logs import configure_logging


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """SIGTERM/SIGINT set the event (finish the batch, stop); a second signal aborts."""
    stop = threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        click.echo(
            f"{signal.Signals(signum).name}: finishing the current batch, then stopping", err=True
        )
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _finish(summaries: list[Any], as_json: bool) -> None:
    from sync_agent.engine import exit_code

    if as_json:
        click.echo(json.dumps([s.to_dict() for s in summaries], indent=2))
    else:
        for s in summaries:
            click.echo(_line(s))
        if not summaries:
            click.echo("nothing to do")
    raise SystemExit(exit_code(summaries))


def _line(s: Any) -> str:
    c = s.counts()
    text = (
        f"{s.pipeline}: {s.mode} #{s.run_id} {s.outcome} — read {c['read']}, decided "
        f"{c['decided']} "
        f"(accepted {c['accepted']}, rejected {c['rejected']}, review {c['review']}), "
        f"skipped {c['skipped_accepted'] + c['skipped_unchanged']}, malformed {c['malformed']}; "
        f"writes: {c['written']} written, {c['write_skipped']} skipped, {c['retryable']} to retry, "
        f"{c['dead']} dead letters"
    )
    if s.resumed:
        text += f"; {s.resumed} resumed"
    return text + (f"\n  error: {s.error}" if s.error else "")


def _locked(exc: AgentLocked) -> None:
    click.echo(f"Error: {exc}", err=True)
    raise SystemExit(3)


@click.command("run")
@click.option("--once", is_flag=True, help="One pass of every pipeline, then exit (for cron/CI).")
@click.option("--pipeline", default=None, help="Only this pipeline.")
@click.option(
    "--dry-run", is_flag=True, help="Decide and record, write nothing to a CRM (implies --once)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the run summaries as JSON.")
@config_option
def run(
    once: bool, pipeline: str | None, dry_run: bool, as_json: bool, config_path: Path | None
) -> None:
    """Run the agent: every pipeline on its schedule until SIGTERM/Ctrl-C.

    \b
    Examples:
      sync-agent run                       the background agent (APScheduler)
      sync-agent run --once                one pass, exit 0/1/3/4/5 (cron, CI)
      sync-agent run --once --dry-run      what would be handed off, nothing written
      sync-agent run --once --pipeline hubspot-mqls --json
    """
    config = load(config_path)
    try:
        if once or dry_run:
            from sync_agent.engine import run_once

            with stop_on_signals() as stop:
                summaries = run_once(config, pipeline=pipeline, dry_run=dry_run, stop=stop)
            _finish(summaries, as_json)
        from sync_agent.scheduler import serve

        if pipeline:
            config.pipeline(pipeline)
        click.echo(
            f"sync-agent running {len(config.selected(pipeline))} pipeline(s); Ctrl-C to stop",
            err=True,
        )
        raise SystemExit(serve(config, pipeline=pipeline))
    except AgentLocked as exc:
        _locked(exc)


@click.command("backfill")
@click.option(
    "--since",
    type=click.DateTime(DATE_FORMATS),
    required=True,
    help="Start date (UTC), e.g. 2025-01-01.",
)
@click.option(
    "--until",
    type=click.DateTime(DATE_FORMATS),
    default=None,
    help="End date, exclusive (default: now).",
)
@click.option("--pipeline", default=None, help="Only this pipeline.")
@click.option(
    "--dry-run", is_flag=True, help="Decide and record, write nothing, keep no checkpoint."
)
@click.option(
    "--reevaluate", is_flag=True, help="Re-decide leads already decided (a new rules version)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as JSON.")
@config_option
def backfill(
    since: datetime,
    until: datetime | None,
    pipeline: str | None,
    dry_run: bool,
    reevaluate: bool,
    as_json: bool,
    config_path: Path | None,
) -> None:
    """Decide and hand off every MQL modified in a window of history.

    Keeps its own checkpoint: run the same command again to resume an interrupted or
    budget-stopped backfill where it stopped. Already accepted leads are never handed off
    twice, even with --reevaluate.

    \b
    Examples:
      sync-agent backfill --since 2025-01-01
      sync-agent backfill --since 2025-01-01 --until 2025-07-01 --dry-run
      sync-agent backfill --since 2025-01-01 --reevaluate
    """
    from sync_agent.engine import backfill as run_backfill

    config = load(config_path)
    if sys.stderr.isatty() and config.log_level == "INFO":
        # per-batch log lines would tear the progress bar: warnings only while it is shown
        configure_logging(level="WARNING", redact_pii=config.redact_pii, json=config.log_json)
    try:
        with stop_on_signals() as stop, _progress() as progress:
            summaries = run_backfill(
                config,
                since=utc(since) or since,
                until=utc(until),
                pipeline=pipeline,
                dry_run=dry_run,
                reevaluate=reevaluate,
                progress=progress,
                stop=stop,
            )
    except AgentLocked as exc:
        _locked(exc)
    _finish(summaries, as_json)


@contextmanager
def _progress() -> Iterator[Callable[[int, int | None], None]]:
    """A rich progress bar on stderr: leads done, rate, and ETA when a total is known."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            rate = task.completed / task.elapsed if task.elapsed else 0.0
            return Text(f"{rate:,.0f} leads/s")

    bar = Progress(
        TextColumn("backfill"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} leads"),
        Rate(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task("backfill", total=None)

    def update(done: int, total: int | None) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield update
        done = bar.tasks[0].completed
        bar.update(task, completed=done, total=done)  # a finished window shows a full bar


@click.command("replay")
@click.option("--pipeline", default=None, help="Only this pipeline's dead letters.")
@click.option(
    "--id",
    "ids",
    type=int,
    multiple=True,
    help="Only these dead letters (see `audit dead-letters`).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as JSON.")
@config_option
def replay(
    pipeline: str | None, ids: tuple[int, ...], as_json: bool, config_path: Path | None
) -> None:
    """Retry dead letters now that their cause is fixed (each gets a fresh retry budget).

    \b
    Examples:
      sync-agent audit dead-letters
      sync-agent replay
      sync-agent replay --id 17 --id 18
    """
    from sync_agent.engine import replay as run_replay

    config = load(config_path)
    try:
        summaries = run_replay(config, pipeline=pipeline, dead_letter_ids=list(ids) or None)
    except AgentLocked as exc:
        _locked(exc)
    _finish(summaries, as_json)


@click.group("config")
def config_group() -> None:
    """Validate the configuration file."""


@config_group.command("check")
@click.option("--connect", is_flag=True, help="Also try each connection and report what works.")
@config_option
def check(connect: bool, config_path: Path | None) -> None:
    """Validate the config (every problem at once) and each pipeline's ruleset.

    \b
    Examples:
      sync-agent config check
      sync-agent config check --config /etc/sync-agent/sync-agent.toml --connect
    """
    from sync_agent.engine.pipeline import RULES, get_connector
    from sync_agent.errors import RulesError

    config = load(config_path, logging=False)
    failed = False
    for spec in config.pipelines:
        try:
            ruleset = RULES[0].load(spec.ruleset)
            click.echo(
                f"✓ pipeline {spec.name}: ruleset {getattr(ruleset, 'name', '')} "
                f"{str(getattr(ruleset, 'hash', ''))[:12]}, sinks {', '.join(spec.sinks)}"
            )
        except RulesError as exc:
            failed = True
            click.echo(f"✗ pipeline {spec.name}: {exc}")
            for problem in exc.problems:
                click.echo(f"    {problem}")
    if connect:
        for name, options in config.connectors.items():
            for what, ok, detail in get_connector(name).check_connection(options, config.secrets):
                failed = failed or not ok
                click.echo(f"{'✓' if ok else '✗'} {name}: {what}: {detail}")
    click.echo(f"{config.path}: {'problems found' if failed else 'OK'}")
    raise SystemExit(1 if failed else 0)


def register(main: click.Group) -> None:
    """Attach the sync engine's commands (and the optional demo/connector groups) to ``main``."""
    for command in (run, backfill, replay, report, prune, audit, config_group):
        main.add_command(command)
    for module, name in (("demo", "demo"), ("hubspot", "hubspot"), ("salesforce", "salesforce")):
        with suppress(ImportError):  # written by other work streams; absent until they land
            main.add_command(getattr(importlib.import_module(f"sync_agent.cli.{module}"), name))
