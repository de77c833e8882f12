"""``sync-agent rules check|test|explain|simulate``: a thin layer over :mod:`sync_agent.rules`
(and :mod:`sync_agent.simulate`, which re-decides the audit log under a candidate)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from sync_agent.cli.options import (
    config_option,
    echo_json,
    json_option,
    load,
    pipeline_option,
    since_option,
    until_option,
    utc,
)
from sync_agent.config import Config
from sync_agent.errors import RulesError
from sync_agent.model import FIELD_ORIGINS
from sync_agent.registry import installed
from sync_agent.rules import Ruleset, check_rulesets, evaluate, load_ruleset, run_rule_tests
from sync_agent.rules.limits import MAX_LEAD_BYTES, MAX_QUOTED_CHARS
from sync_agent.rules.render import decision_json, decision_table
from sync_agent.rules.shown import clip, printable
from sync_agent.rules.source import read_bounded
from sync_agent.shipped import rules_dir


class _AnyPath(click.Path):
    """``click.Path`` (shell completion of file names) that passes every name through, even
    one ``os.stat`` refuses (a NUL character): the rules library reports it as a problem."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except ValueError:
            return Path(value)


PATH = _AnyPath(path_type=Path)


def _console() -> Console:
    """A console on the current stdout (click's test runner replaces it)."""
    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else 120)


@click.group()
def rules() -> None:
    """Check, test and explain acceptance rulesets (rules/*.toml)."""


def _prefixes() -> list[str]:
    """Raw-property prefixes of the installed connectors (``<prefix>.<property>``)."""
    return installed().raw_prefixes()


def _default(path: Path | None, relative: str) -> Path:
    """``relative`` under ./rules when this folder has one, else the shipped rules."""
    if path is not None:
        return path
    local = Path("rules")
    return local / relative if local.is_dir() else rules_dir() / relative


@rules.command("check")
@click.argument("path", required=False, type=PATH)
def check_cmd(path: Path | None) -> None:
    """Validate a ruleset file, or every *.toml ruleset directly in a folder.

    Lists every problem with file, line, location and a hint. Errors (lines starting
    "error:") make the ruleset unusable: exit 1. Warnings ("warning:", e.g. an empty
    list or no test cases) are worth a look but do not change the exit code: with only
    warnings, the check passes (exit 0) after a one-line summary.

    \b
    Example:
      sync-agent rules check                 # every ruleset in rules/
      sync-agent rules check rules/sal.toml
    """
    report = check_rulesets(_default(path, "."), raw_prefixes=_prefixes())
    for problem in report.problems:
        click.echo(f"error: {problem}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    click.echo(report.summary())
    if not report.ok:
        raise SystemExit(1)


@rules.command("test")
@click.argument("path", required=False, type=PATH)
@click.option("-v", "--verbose", is_flag=True, help="List passing cases too.")
def test_cmd(path: Path | None, verbose: bool) -> None:
    """Run rule test cases: example leads with their expected outcome.

    Each failing case prints a diff (expected vs actual) and the decision's
    explanation. Exits 1 on any failure. See docs/rules.md for the case format.

    \b
    Example:
      sync-agent rules test                  # every file in rules/tests/
      sync-agent rules test rules/tests/sal_gates_and_disqualifiers.toml -v
    """
    report = run_rule_tests(_default(path, "tests"), raw_prefixes=_prefixes())
    console = _console()
    for problem in report.problems:
        click.echo(f"ERROR {problem}")
    for result in report.results:
        if result.passed:
            if verbose:
                click.echo(f"PASS  {result.file}: {result.name}")
            continue
        click.echo(f"FAIL  {result.file}: {result.name}")
        if result.problem:
            click.echo(f"      {result.problem}")
        for line in result.diff:
            click.echo(f"      {line}")
        if result.decision is not None:
            console.print(decision_table(result.decision))
    for ruleset, parts in report.uncovered.items():
        if parts:
            click.echo(f"note: no case exercises {', '.join(parts)} (ruleset {ruleset})")
    click.echo(report.summary())
    if not report.ok:
        raise SystemExit(1)


@rules.command("explain")
@click.option("--lead", "lead_path", required=True, help="Lead JSON file, or - for stdin.")
@click.option("--ruleset", "ruleset_path", default=None, type=PATH,
              help="Ruleset file (default: rules/sal.toml, else the shipped one).")  # fmt: skip
@click.option("--now", "now_text", default=None, help="Clock for date rules (ISO); default: now.")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
def explain_cmd(
    lead_path: str, ruleset_path: Path | None, now_text: str | None, as_json: bool
) -> None:
    """Decide one lead and show why: every gate, disqualifier, criterion and condition
    with the value seen.

    The lead is a JSON object of fields (canonical names such as email, lead_score,
    or raw <source prefix>.<property> names); {"fields": {...}} is accepted too.

    \b
    Example:
      sync-agent rules explain --lead rules/examples/01_strong_fit.json
      echo '{"email": "dana@gmail.com"}' | sync-agent rules explain --lead - --json
    """
    lead = _read_lead(lead_path)
    try:
        ruleset = load_ruleset(_default(ruleset_path, "sal.toml"), raw_prefixes=_prefixes())
    except RulesError as exc:
        details = "\n".join(str(p) for p in exc.problems)
        raise click.ClickException(f"{exc}\n{details}") from None
    decision = evaluate(lead, ruleset, _parse_now(now_text))
    if as_json:
        click.echo(decision_json(decision))
    else:
        _console().print(decision_table(decision, lead.get(FIELD_ORIGINS)))


def _candidate(path: Path) -> Ruleset:
    """The candidate, or exit 1 listing every problem with file and line (no traceback)."""
    try:
        return load_ruleset(path, raw_prefixes=_prefixes())
    except RulesError as exc:
        details = "\n".join(str(p) for p in exc.problems)
        raise click.ClickException(f"{exc}\n{details}") from None


@rules.command("simulate")
@click.option("--ruleset", "ruleset_path", required=True, type=PATH,
              help="The candidate ruleset file.")  # fmt: skip
@since_option
@until_option
@click.option("--now", "now_text", default=None,
              help="One clock for every lead (ISO); default: its own decision time.")  # fmt: skip
@pipeline_option
@click.option("--limit", type=click.IntRange(min=0), default=10, show_default=True,
              help="Examples shown per kind of flip.")  # fmt: skip
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes to re-decide in (default: one per CPU core for logs of "
                   "20,000 decisions or more, else this one).")  # fmt: skip
@json_option
@config_option
def simulate_cmd(
    ruleset_path: Path,
    since: datetime | None,
    until: datetime | None,
    now_text: str | None,
    pipeline: str | None,
    limit: int,
    workers: int | None,
    as_json: bool,
    config_path: Path | None,
) -> None:
    """Re-decide the leads in the audit log under a candidate ruleset, with no API call.

    Each lead counts once (per pipeline), by its latest decision in the window, dry runs
    left out; its stored snapshot is decided again by the candidate at the lead's own
    decision time (or at --now). Shows the decisions that flip (counts and examples), the
    MQL→SAL rate before and after against the benchmark bands, and, where sales outcomes
    are recorded, the sales-rejected SALs the candidate would have stopped and the SQLs
    and opportunities it would have lost. "Before" is what was recorded: leads decided
    under an older version of the rules flip for that edit too (the hashes are shown).

    Exit codes: 0 done (also when there is nothing to simulate), 1 a broken candidate or
    an unreadable log, 2 a usage error (unknown --pipeline, bad option).

    \b
    Example:
      sync-agent rules simulate --ruleset rules/examples/sal_stricter.toml
      sync-agent rules simulate --ruleset rules/sal.toml --now 2026-12-01 --json
    """
    from sync_agent.simulate import SimulationError, render_text, simulate  # ~30 ms: lazily

    config = load(config_path, logging=False)
    _check_pipeline(config, pipeline)
    candidate = _candidate(ruleset_path)
    now = _parse_now(now_text) if now_text is not None else None
    try:
        result = simulate(config.audit_db, candidate, since=utc(since), until=utc(until),
                          now=now, pipeline=pipeline, limit=limit, workers=workers,
                          live_rulesets=_live_rulesets(config))  # fmt: skip
    except SimulationError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        echo_json(result.to_dict())
    else:
        click.echo(render_text(result), nl=False)


def _check_pipeline(config: Config, name: str | None) -> None:
    """A --pipeline that is neither configured nor in the log is a usage error (exit 2)."""
    from sync_agent.simulate import SimulationError, pipelines_in_log

    if name is None or name in {p.name for p in config.pipelines}:
        return
    try:
        logged = pipelines_in_log(config.audit_db)
    except SimulationError:
        logged = ()
    if name not in logged:
        known = ", ".join(sorted({p.name for p in config.pipelines} | set(logged)))
        raise click.BadParameter(
            f"no pipeline named {name!r} (known: {known})", param_hint="--pipeline"
        )


def _live_rulesets(config: Config) -> dict[str, str]:
    """pipeline -> content hash of the ruleset its configuration names now ("" when that
    file does not load), so that the output can tell which recorded hash is live."""
    live: dict[str, str] = {}
    for pipeline in config.pipelines:
        try:
            live[pipeline.name] = load_ruleset(pipeline.ruleset).hash
        except RulesError:
            live[pipeline.name] = ""
    return live


def _read_lead(source: str) -> dict[str, Any]:
    """The lead's fields; a file that cannot be opened is a usage error (exit 2), content
    that is not a lead is an error (exit 1). Reading is bounded (MAX_LEAD_BYTES)."""
    shown = clip(printable(source), MAX_QUOTED_CHARS)
    if source == "-":
        text = sys.stdin.read(MAX_LEAD_BYTES + 1)
        if len(text) > MAX_LEAD_BYTES:
            raise click.ClickException(f"the lead on stdin is larger than {MAX_LEAD_BYTES:,} bytes")
    else:
        data = read_bounded(Path(source), MAX_LEAD_BYTES)
        if isinstance(data, str):
            raise click.BadParameter(f"cannot read the lead {shown}: {data}", param_hint="--lead")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise click.ClickException(f"{shown}: the lead is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise click.ClickException(f"{shown}: not valid JSON: {exc}") from None
    except ValueError:  # Python's int-conversion limit, past the JSON reader
        raise click.ClickException(
            f"{shown}: a number has more than 4,300 digits; write it as a string if you need it"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("fields"), dict):
        data = data["fields"]
    if not isinstance(data, dict):
        raise click.ClickException(f"{shown}: a lead must be a JSON object of fields")
    return data


def _parse_now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        now = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"not an ISO date-time: {text}", param_hint="--now") from None
    return now if now.tzinfo else now.replace(tzinfo=UTC)
