"""``sync-agent run|backfill|replay|config check``: the sync engine's commands.

Thin: parse options, call one function of :mod:`sync_agent.engine` (or the scheduler),
render the summaries, exit with the code the summaries earn (0 ok, 1 failures,
2 usage, 3 locked, 4 budget stop, 5 stopped by a signal).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from sync_agent.cli.options import (
    DATE_FORMATS,
    check_pipeline,
    config_option,
    json_option,
    load,
    pipeline_option,
    utc,
)
from sync_agent.engine import exit_code
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
        f"writes: {c['written']} written, {c['write_skipped']} skipped, {c['waiting']} waiting for "
        f"the CRM record, {c['retryable']} to retry, "
        f"{c['dead']} dead letters"
    )
    if s.resumed:
        text += f"; {s.resumed} resumed"
    for sink, reasons in s.not_written().items():
        why = ", ".join(f"{reason} {n}" for reason, n in reasons.items())
        text += f"\n  not written to {sink}: {sum(reasons.values())} ({why})"
    if getattr(s, "outcomes", None):
        read = ", ".join(f"{kind} {n}" for kind, n in sorted(s.outcomes.items()))
        text += f"\n  outcomes read back: {read}"
    if s.api_calls:
        calls = ", ".join(f"{name} {n}" for name, n in sorted(s.api_calls.items()))
        text += f"\n  API calls: {calls}"
    return text + (f"\n  error: {s.error}" if s.error else "")


def _locked(exc: AgentLocked) -> None:
    click.echo(f"Error: {exc}", err=True)
    raise SystemExit(3)


@click.command("run")
@click.option("--once", is_flag=True, help="One pass of every pipeline, then exit (for cron/CI).")
@pipeline_option
@click.option(
    "--dry-run", is_flag=True, help="Decide and record, write nothing to a CRM (implies --once)."
)
@json_option
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
      sync-agent run --once --pipeline inbound-mqls --json
    """
    config = load(config_path)
    check_pipeline(config, pipeline)
    try:
        if once or dry_run:
            from sync_agent.engine import run_once

            bar = _quiet_for_bar(config)
            with stop_on_signals() as stop, _progress("run", shown=bar) as progress:
                summaries = run_once(config, pipeline=pipeline, dry_run=dry_run, stop=stop,
                                     progress=progress)  # fmt: skip
            _finish(summaries, as_json)
        from sync_agent.scheduler import serve

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
@pipeline_option
@click.option(
    "--dry-run", is_flag=True, help="Decide and record, write nothing, keep no checkpoint."
)
@click.option(
    "--reevaluate", is_flag=True, help="Re-decide leads already decided (a new rules version)."
)
@click.option(
    "--writer",
    type=click.Choice(["auto", "thread", "process"]),
    default="auto",
    show_default=True,
    help="Where writes run: a process of their own beside the reads (auto: when the source "
    "counts 2,000 leads or more), or a thread.",
)
@json_option
@config_option
def backfill(
    since: datetime,
    until: datetime | None,
    pipeline: str | None,
    dry_run: bool,
    reevaluate: bool,
    writer: str,
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

    if until is not None and utc(until) <= utc(since):  # type: ignore[operator]
        raise click.BadParameter(
            f"--until {until:%Y-%m-%d %H:%M} is not after --since {since:%Y-%m-%d %H:%M}",
            param_hint="--until",
        )
    config = load(config_path)
    check_pipeline(config, pipeline)
    bar = _quiet_for_bar(config)
    try:
        with stop_on_signals() as stop, _progress("backfill", shown=bar) as progress:
            summaries = run_backfill(
                config,
                since=utc(since) or since,
                until=utc(until),
                pipeline=pipeline,
                dry_run=dry_run,
                reevaluate=reevaluate,
                progress=progress,
                stop=stop,
                writer=writer,
            )
    except AgentLocked as exc:
        _locked(exc)
    _finish(summaries, as_json)


def on_terminal() -> bool:
    """Whether a person is watching stderr (progress bars are for them, not for cron)."""
    return sys.stderr.isatty()


def _quiet_for_bar(config: Any) -> bool:
    """True when a progress bar will be shown; then per-page INFO log lines, which would
    tear it, are held back to warnings while it runs."""
    if not on_terminal():
        return False
    if config.log_level == "INFO":
        configure_logging(level="WARNING", redact_pii=config.redact_pii, json=config.log_json)
    return True


@contextmanager
def _progress(label: str, *, shown: bool) -> Iterator[Callable[[int, int | None], None] | None]:
    """A rich progress bar on stderr: leads done, rate, and ETA when a total is known (the
    source's own count where it has one, e.g. a CRM search's total). Nothing when no one
    is watching."""
    if not shown:
        yield None
        return
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
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed:,.0f} leads"),
        Rate(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task(label, total=None)

    def update(done: int, total: int | None) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield update
        done = bar.tasks[0].completed
        bar.update(task, completed=done, total=done)  # a finished window shows a full bar


@click.command("replay")
@pipeline_option
@click.option(
    "--id",
    "ids",
    type=int,
    multiple=True,
    help="Only these dead letters (see `audit dead-letters`).",
)
@json_option
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
    from sync_agent.audit import AuditLog
    from sync_agent.engine import replay as run_replay

    config = load(config_path)
    check_pipeline(config, pipeline)
    if ids:
        with AuditLog.open(config.audit_db) as log:
            known = {int(r["id"]) for r in log.dead_letters(pipeline)}
        unknown = sorted(set(ids) - known)
        if unknown:
            raise click.BadParameter(
                f"no dead letter with id {', '.join(map(str, unknown))}"
                + (f" in pipeline {pipeline!r}" if pipeline else "")
                + " (list them: sync-agent audit dead-letters)",
                param_hint="--id",
            )
    try:
        summaries = run_replay(config, pipeline=pipeline, dead_letter_ids=list(ids) or None)
    except AgentLocked as exc:
        _locked(exc)
    _finish(summaries, as_json)


def _build_problems(config: Any) -> list[str]:
    """What stops a connector being built, offline (a secret not set, a bad combination of
    them), with where its secrets were looked for."""
    from sync_agent.errors import SyncAgentError

    used = {(p.source, "source") for p in config.pipelines}
    used |= {(s, "sink") for p in config.pipelines for s in p.sinks}
    out = []
    for name, role in sorted(used):
        conn = config.connectors.get(name)
        builder = getattr(conn.spec, f"build_{role}", None) if conn else None
        if builder is None:
            continue
        try:
            built = builder(config.instance(name))
        except SyncAgentError as exc:
            out.append(f"{name}: {exc}; {config.secrets_hint(name)}")
            continue
        close = getattr(built, "close", None)
        if callable(close):
            close()
    return out


def _orphaned_history(config: Any) -> list[str]:
    """Pipelines the audit log knows that the config no longer has (a rename, usually)."""
    from sync_agent.audit import AuditLog

    if not config.audit_db.exists():
        return []
    with AuditLog.open(config.audit_db) as log:
        known = log.pipeline_names()
    names = [p.name for p in config.pipelines]
    gone = [n for n in known if n not in names]
    fresh = [n for n in names if n not in known]
    target = fresh[0] if len(fresh) == 1 else "NEW-NAME"
    return [
        f"the audit log has history under pipeline {name!r}, which this config no longer has; "
        f"if you renamed it, keep its cursor and history: "
        f"sync-agent audit rename-pipeline {name} {target}"
        for name in gone
    ]


def _against_systems(config: Any, states: Any, loaded: dict[str, Any]) -> bool:
    """Each pipeline's ruleset and sinks against the live systems (``rules check --against``,
    asking each system afresh); True when an error was found."""
    from sync_agent.engine.against import Checker
    from sync_agent.logs import configure_logging
    from sync_agent.rules import Ruleset

    # the connectors' warnings (a system that is down) are in the report itself
    configure_logging(level="ERROR", redact_pii=config.redact_pii, json=config.log_json)
    checker = Checker(config, states, refresh=True)
    failed = False
    for spec in config.pipelines:
        ruleset = loaded.get(spec.name)
        result = checker.pipeline(spec, ruleset if isinstance(ruleset, Ruleset) else None)
        found = result.report
        for problem in found.errors:
            click.echo(f"✗ pipeline {spec.name}: {problem}")
        for problem in found.warnings:
            click.echo(f"⚠ pipeline {spec.name}: {problem}")
        counts = f"{len(found.errors)} error(s), {len(found.warnings)} warning(s)"
        done = "; ".join(result.checked) or "nothing checked"
        mark = "✗" if found.errors else "✓"
        click.echo(f"{mark} pipeline {spec.name} against the systems: {counts} ({done})")
        failed = failed or bool(found.errors)
    return failed


@click.group("config")
def config_group() -> None:
    """Validate the configuration file."""


@config_group.command("check")
@click.option("--connect", is_flag=True, help="Also try each connection, and check each "
              "pipeline's rules and write-back settings against the live systems (as rules "
              "check --against does, asking each system afresh).")
@config_option
def check(connect: bool, config_path: Path | None) -> None:
    """Validate the config (every problem at once) and each pipeline's ruleset.

    With --connect, also try each connection and check every pipeline against the systems:
    the fields its rules use exist in the source's schema with fitting types and values,
    and what its sinks write exists (see sync-agent rules check --against). Exit 1 on any
    error; warnings are shown with ⚠ and do not change the exit code.

    \b
    Examples:
      sync-agent config check
      sync-agent config check --config /etc/sync-agent/sync-agent.toml --connect
    """
    from sync_agent.engine import pipeline as pipelines
    from sync_agent.errors import RulesError

    config = load(config_path, logging=False)
    failed = False
    loaded = {}
    for spec in config.pipelines:
        try:
            ruleset = loaded[spec.name] = pipelines.load_pipeline_ruleset(config, spec)
            click.echo(
                f"✓ pipeline {spec.name}: ruleset {ruleset.name} {ruleset.hash[:12]}, "
                f"sinks {', '.join(spec.sinks)}"
            )
        except RulesError as exc:
            failed = True
            click.echo(f"✗ pipeline {spec.name}: {exc}")
            for problem in exc.problems:
                click.echo(f"    {problem}")
    for trouble in _build_problems(config):
        failed = True
        click.echo(f"✗ {trouble}")
    for line in _orphaned_history(config):
        click.echo(f"⚠ {line}")
    if connect:
        from sync_agent.audit import AuditLog

        with AuditLog.open(config.audit_db) as log:  # connectors' state: today's API usage
            states = log.connector_states(config)
            for name, conn in config.connectors.items():
                if conn.spec.check_connection is None:
                    continue
                instance = config.instance(name, states[name])
                for what, ok, detail in conn.spec.check_connection(instance):
                    failed = failed or not ok
                    click.echo(f"{'✓' if ok else '✗'} {name}: {what}: {detail}")
            failed = _against_systems(config, states, loaded) or failed
    click.echo(f"{config.path}: {'problems found' if failed else 'OK'}")
    raise SystemExit(1 if failed else 0)
