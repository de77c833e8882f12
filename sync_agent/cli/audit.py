"""``sync-agent audit list|show|export|dead-letters``, ``report`` and ``prune``: the audit log."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from sync_agent.cli.options import (
    agent_locked,
    config_option,
    echo_json,
    json_option,
    load,
    pipeline_option,
    since_option,
    until_option,
    utc,
)


@click.group("audit")
def audit() -> None:
    """Read the audit log: decisions, explanations, write results.

    \b
    Examples:
      sync-agent audit list --outcome accepted --since 2026-01-01
      sync-agent audit show lead@example.com
      sync-agent audit export --format csv --output decisions.csv
    """


@audit.command("list")
@click.option(
    "--outcome",
    type=click.Choice(["accepted", "rejected", "review"]),
    multiple=True,
    help="Only these outcomes (repeatable).",
)
@since_option
@pipeline_option
@click.option(
    "--limit", type=int, default=50, show_default=True, help="At most this many rows (0: all)."
)
@json_option
@config_option
def list_cmd(
    outcome: tuple[str, ...],
    since: datetime | None,
    pipeline: str | None,
    limit: int,
    as_json: bool,
    config_path: Path | None,
) -> None:
    """List decisions, newest first: when, the lead, name, company, outcome, score, status
    and the reasons, one line each (values cut with … to fit; --json keeps them whole).

    \b
    Examples:
      sync-agent audit list --outcome rejected --since 2026-01-01
      sync-agent audit list --limit 0 --json > decisions.json
    """
    from sync_agent.audit import AuditLog

    config = load(config_path, logging=False)
    with AuditLog.open(config.audit_db) as log:
        rows = log.list_decisions(
            outcome=outcome or None, since=utc(since), pipeline=pipeline, limit=limit or None
        )
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("No decisions match.")
        return
    columns = [
        Column("when"),
        Column("lead", shrinks=True, most=24),
        Column("name", shrinks=True),
        Column("company", shrinks=True),
        Column("outcome"),
        Column("score", right=True),
        Column("status"),
        Column("reasons", shrinks=True),
    ]
    cells = [
        [
            _when(r["decided_at"]),
            r["lead_key"],
            r["name"],
            r["company"],
            r["outcome"],
            _score(r["score"]),
            r["status"],
            "; ".join(_short_reason(reason) for reason in r["reasons"]),
        ]
        for r in rows
    ]
    click.echo(_table(columns, cells), nl=False)
    click.echo(f"{len(rows)} decision(s)", err=True)


#: control characters (newlines, terminal escapes) and bidirectional overrides: shown as a
#: space, so a lead's value can neither break a line nor restyle or reorder the terminal
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+")
_CELL_CHARS = 400  # more than any terminal line: longer values are cut before layout


def _clean(value: Any, limit: int = _CELL_CHARS) -> str:
    """A value as one line of plain text: control characters as a space, lone surrogates as
    U+FFFD, at most ``limit`` characters (cut with …)."""
    from sync_agent.text import printable

    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = printable(_CONTROL.sub(" ", text[: limit + 1]))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(value: Any) -> str:
    """``2026-01-05 09:00`` (UTC, as stored) from an ISO timestamp; the text as is otherwise."""
    text = _clean(value)
    try:
        return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return text


def _score(value: Any) -> str:
    try:
        return f"{float(value):.1f}"
    except (TypeError, ValueError):
        return _clean(value)


def _width() -> int:
    """The terminal's width on a terminal; 100 columns otherwise (pipes, files, tests)."""
    if sys.stdout.isatty():
        return max(60, shutil.get_terminal_size((100, 24)).columns)
    return 100


_SCORE_REASON = re.compile(r"^score \S+ (>=|<|in review band) (\S+)$")
_CHECK_REASON = re.compile(r"^(gate|disqualifier|fast_lane):(.+)$")


def _short_reason(reason: str) -> str:
    """A reason as the list shows it, the telling part first, since a narrow column cuts
    the end: the score has a column of its own, so "score 41 < 70" is "score < 70" and
    "score 65 in review band 55-70" is "review 55-70"; a check's name comes before its
    kind ("gate:country_served" is "country_served (gate)"). `audit show` and --json have
    the reasons as recorded."""
    if found := _SCORE_REASON.match(reason):
        how, bound = found.groups()
        return f"review {bound}" if how == "in review band" else f"score {how} {bound}"
    if found := _CHECK_REASON.match(reason):
        kind, name = found.groups()
        return f"{name} ({kind.replace('_', ' ')})"
    return reason


@dataclass(frozen=True)
class Column:
    """A column of :func:`_table`: those that ``shrink`` give up width (down to ``least``
    cells) when a line would be too long; none is ever wider than ``most``. A value too
    long for its column is cut with …, or wrapped when the column ``wraps``."""

    name: str
    shrinks: bool = False
    right: bool = False
    wraps: bool = False  # onto more lines (at most WRAP_LINES) instead of being cut
    least: int = 10
    most: int = 60


GAP = "  "
WRAP_LINES = 4


def _table(columns: list[Column], rows: list[list[Any]]) -> str:
    """A header row, then each row on one line (more where a column wraps), in
    :func:`_width` columns (see :func:`_layout`)."""
    header, blocks = _layout(columns, rows)
    return "\n".join([header, *(line for block in blocks for line in block)]) + "\n"


def _layout(columns: list[Column], rows: list[list[Any]]) -> tuple[str, list[list[str]]]:
    """The header line and each row's lines, in :func:`_width` columns: the columns that
    shrink share what is left after the others, the narrow ones keeping their width (water
    filling). Widths are terminal cells (a CJK character takes two). Plain text; the header
    is bold on a terminal only.

    rich's Table was tried first: when a table is too wide it drops whole columns, which
    here would hide the status or the outcome.
    """
    from rich.cells import cell_len

    texts = [[_clean(cell) for cell in row] for row in rows]
    natural = [
        min(c.most, max([len(c.name)] + [cell_len(r[i]) for r in texts]))
        for i, c in enumerate(columns)
    ]
    room = _width() - len(GAP) * (len(columns) - 1)
    room -= sum(w for w, c in zip(natural, columns, strict=True) if not c.shrinks)
    widths = list(natural)
    _fill(widths, [i for i, c in enumerate(columns) if c.shrinks], room, columns)
    header = _line([c.name for c in columns], widths, columns)
    if sys.stdout.isatty():
        header = click.style(header, bold=True)
    blocks = []
    for row in texts:
        parts = [
            _wrap(text, w) if c.wraps else [text]
            for text, w, c in zip(row, widths, columns, strict=True)
        ]
        height = max(len(p) for p in parts)
        padded = [[*p, *[""] * (height - len(p))] for p in parts]
        blocks.append([_line(list(cells), widths, columns) for cells in zip(*padded, strict=True)])
    return header, blocks


def _wrap(text: str, width: int) -> list[str]:
    """``text`` on lines of at most ``width`` cells, broken at spaces (inside a word that
    is too long), at most WRAP_LINES of them (the last cut with … when there is more)."""
    from rich.cells import cell_len, chop_cells

    lines: list[str] = []
    for word in text.split():
        pieces = chop_cells(word, width) if cell_len(word) > width else [word]
        for piece in pieces:
            if lines and cell_len(lines[-1]) + 1 + cell_len(piece) <= width:
                lines[-1] += " " + piece
            else:
                lines.append(piece)
    if len(lines) > WRAP_LINES:
        last = lines[WRAP_LINES - 1] + " …"
        lines = [*lines[: WRAP_LINES - 1], _fit(last, width).rstrip()]
    return lines or [""]


def _fill(widths: list[int], group: list[int], room: int, columns: list[Column]) -> None:
    """Narrow the columns of ``group`` until they fit ``room``: the largest common cap that
    fits (columns narrower than it keep their width, none goes below its ``least``), then
    the cells left over to the columns it cut."""
    if not group or sum(widths[i] for i in group) <= room:
        return
    floor = {i: min(widths[i], max(columns[i].least, len(columns[i].name))) for i in group}
    cap = max(widths[i] for i in group)
    while cap > 1 and sum(max(floor[i], min(widths[i], cap)) for i in group) > room:
        cap -= 1
    natural = {i: widths[i] for i in group}
    for i in group:
        widths[i] = max(floor[i], min(natural[i], cap))
    spare = room - sum(widths[i] for i in group)
    for i in group:  # what the cap left over goes to the columns it cut, a cell each
        if spare > 0 and widths[i] < natural[i]:
            widths[i] += 1
            spare -= 1


def _line(cells: list[str], widths: list[int], columns: list[Column]) -> str:
    return GAP.join(
        _fit(text, w, c.right) for text, w, c in zip(cells, widths, columns, strict=True)
    ).rstrip()


def _fit(text: str, width: int, right: bool = False) -> str:
    """``text`` in exactly ``width`` terminal cells: cut with … or padded."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) > width:
        text = set_cell_size(text, width - 1).rstrip() + "…"
    pad = " " * (width - cell_len(text))
    return pad + text if right else text + pad


def _echo_json(data: Any) -> None:
    """JSON on standard output that is always valid UTF-8 (lone surrogates as U+FFFD)."""
    from sync_agent.text import printable

    click.echo(printable(json.dumps(data, indent=2, default=str, ensure_ascii=False)))


@audit.command("show")
@click.argument("lead")
@json_option
@config_option
def show(lead: str, as_json: bool, config_path: Path | None) -> None:
    """Every decision for LEAD: why, which rules, and where each write stands.

    LEAD is a lead key (<source>:<id>), a source id, a CRM id or an e-mail address (any
    case); when several leads match (two share an address), all are shown.

    \b
    Examples:
      sync-agent audit show web:101
      sync-agent audit show Lead@Example.com --json
    """
    from sync_agent.audit import AuditLog

    config = load(config_path, logging=False)
    with AuditLog.open(config.audit_db) as log:
        decisions = log.show_lead(lead)
    if not decisions:
        what = "a lead key, a source or CRM id" + (", an e-mail" if "@" in lead else "")
        raise click.ClickException(
            f"no decision recorded for {_clean(lead, 200)!r} (looked for {what})"
        )
    if as_json:
        _echo_json(decisions)
        return
    leads = list(dict.fromkeys(d["lead_key"] for d in decisions))
    if len(leads) > 1:
        shared = " (they share this e-mail)" if "@" in lead else ""
        click.echo(
            f"{len(leads)} leads match {_clean(lead, 200)!r}{shared}: "
            + ", ".join(_clean(k, 80) for k in leads)
            + "\n"
        )
    for d in decisions:
        who = ", ".join(_clean(v, 120) for v in (d["name"] or "(no name)", d["company"]) if v)
        click.echo(
            f"Decision #{d['id']}: {who} ({_clean(d['pipeline'])}, run "
            f"{d['run_id']}{', dry run' if d['dry_run'] else ''})"
        )
        ids = d["crm_ids"]
        crm = (
            ", ".join(f"{_clean(k, 80)}={_clean(v, 80)}" for k, v in ids.items())
            if isinstance(ids, dict)
            else _clean(ids)
        )
        click.echo(f"  lead {_clean(d['lead_key'])}  crm ids {crm or '(none)'}")
        click.echo(
            f"  {_clean(d['outcome']).upper()} score {_score(d['score']).removesuffix('.0')} "
            f"at {_when(d['decided_at'])} UTC  status {_clean(d['status'])}"
        )
        click.echo(f"  rules {_clean(d['rules_name'])} {_clean(d['rules_hash'])}")
        for reason in d["reasons"]:
            click.echo(f"  - {_clean(reason)}")
        if d["explanation"]:
            click.echo("  explanation:")
            for check in d["explanation"] if isinstance(d["explanation"], list) else ():
                _echo_check(check, 2)
        for w in d["writes"]:
            click.echo(f"  write to {_clean(w['sink'])}: {_clean(w['meaning'], 2000)}")
        click.echo("")


def _echo_check(check: Any, depth: int) -> None:
    """One node of an explanation tree and its children; nodes that are not what the engine
    writes (a hand edit) are shown as text, and the tree stops 30 levels deep."""
    indent = "  " * depth
    if not isinstance(check, dict):
        click.echo(f"{indent}? {_clean(check)}")
        return
    mark = "✓" if check.get("passed") else "✗"
    kind, name = _clean(check.get("kind")), _clean(check.get("name"))
    points = ""
    if isinstance(check.get("points"), int | float) and isinstance(
        check.get("max_points"), int | float
    ):
        points = f" [{check['points']:g}/{check['max_points']:g}]"
    detail = f": {_clean(check['detail'])}" if check.get("detail") else ""
    click.echo(f"{indent}{mark} {kind} {name}{points}{detail}")
    children = check.get("children") or ()
    if depth > 30 and children:
        click.echo(f"{indent}  …")
        return
    for child in children if isinstance(children, list) else ():
        _echo_check(child, depth + 1)


@audit.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
@since_option
@config_option
def export(fmt: str, output: Path | None, since: datetime | None, config_path: Path | None) -> None:
    """Export every decision (streamed) as CSV or JSON, with the lead's name, company and
    e-mail domain (not the address: an export travels) and one points:<criterion> column
    per scored criterion. A file given with --output is created mode 0600.

    \b
    Examples:
      sync-agent audit export --format csv --output decisions.csv
      sync-agent audit export --format json --since 2026-01-01 > decisions.json
    """
    from sync_agent.audit import AuditLog

    config = load(config_path, logging=False)
    with AuditLog.open(config.audit_db) as log:
        if output is None:
            count = log.export(fmt, sys.stdout, since=utc(since))
        else:
            # Decisions hold personal data: the file is the owner's only, like the audit log.
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.chmod(output, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                count = log.export(fmt, fh, since=utc(since))
    click.echo(f"exported {count} decision(s)", err=True)


@click.command("report")
@since_option
@until_option
@json_option
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write a self-contained HTML report with charts to this file (mode 0600).",
)
@click.option(
    "--campaign-field",
    "campaign_fields",
    multiple=True,
    metavar="FIELD",
    help="Lead snapshot field that names the campaign, tried in order (repeatable; "
    "default: campaign, utm_campaign). A raw property: <source prefix>.<property>.",
)
@click.option(
    "--owner-field",
    "owner_fields",
    multiple=True,
    metavar="FIELD",
    help="Lead snapshot field that names the owner when no read-back event does "
    "(repeatable; default: owner, owner_id).",
)
@config_option
def report(
    since: datetime | None,
    until: datetime | None,
    as_json: bool,
    html_path: Path | None,
    campaign_fields: tuple[str, ...],
    owner_fields: tuple[str, ...],
    config_path: Path | None,
) -> None:
    """MQL→SAL conversion against the benchmark bands, rejections by reason and check,
    time from MQL date to SAL, and accepted leads not written to each CRM, with why; once
    outcomes are read back: SAL→SQL / opportunity, SLA attainment, feedback per rule.

    Each lead counts once, by its latest decision in the window (docs/report.md).

    \b
    Examples:
      sync-agent report
      sync-agent report --since 2026-01-01 --until 2026-02-01 --json
      sync-agent report --since 2026-01-01 --html sal-report.html
    """
    from sync_agent.audit import AuditLog
    from sync_agent.report import build_report, render_text
    from sync_agent.report.loop import CAMPAIGN_FIELDS, OWNER_FIELDS

    config = load(config_path, logging=False)
    with AuditLog.open(config.audit_db) as log:
        result = build_report(
            log,
            since=utc(since),
            until=utc(until),
            campaign_fields=campaign_fields or CAMPAIGN_FIELDS,
            owner_fields=owner_fields or OWNER_FIELDS,
        )
    if html_path is not None:
        from sync_agent.report.html import write_html

        write_html(result, html_path)
        click.echo(f"wrote {html_path}", err=True)
    if as_json:
        echo_json(result.to_dict())
    else:
        click.echo(render_text(result), nl=False)


@click.command("prune")
@click.option(
    "--days",
    type=int,
    default=None,
    help="Keep this many days (default: [retention] decisions_days).",
)
@config_option
def prune(days: int | None, config_path: Path | None) -> None:
    """Delete finished decisions older than the retention period; daily counts are kept.

    Takes the agent lock (exit 3 while `sync-agent run` works on this database: the
    running agent prunes by itself every day at 03:15 UTC). For cron set-ups:

    \b
    Example (a daily cron line):
      15 3 * * *  sync-agent prune --config /etc/sync-agent/sync-agent.toml
    """
    from sync_agent.audit import AuditLog

    config = load(config_path)
    keep = days if days is not None else config.decisions_days
    if keep < 1:
        raise click.BadParameter("must be at least 1", param_hint="--days")
    with agent_locked(config), AuditLog.open(config.audit_db) as log:
        removed = log.prune(datetime.now(UTC) - timedelta(days=keep))
    click.echo(f"pruned {removed} decision(s) older than {keep} day(s); daily aggregates kept")


@audit.command("rename-pipeline")
@click.argument("old")
@click.argument("new")
@config_option
def rename_pipeline(old: str, new: str, config_path: Path | None) -> None:
    """Move a pipeline's history (cursor, decisions, outbox) to its new name after you
    renamed it in the config, so it goes on where it stopped instead of reading from the
    start. Runs under the agent lock.

    \b
    Example:
      sync-agent audit rename-pipeline web-mqls inbound-mqls
    """
    from sync_agent.audit import AuditLog

    config = load(config_path, logging=False)
    with agent_locked(config), AuditLog.open(config.audit_db) as log:
        if old not in log.pipeline_names():
            raise click.BadParameter(f"the audit log has no pipeline {old!r}", param_hint="OLD")
        try:
            moved = log.rename_pipeline(old, new)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"renamed {old} to {new}: {moved} decision(s), the cursor and the outbox moved")
    if new not in {p.name for p in config.pipelines}:
        click.echo(f"note: {config.path} has no pipeline named {new!r} yet", err=True)


@audit.command("dead-letters")
@pipeline_option
@json_option
@config_option
def dead_letters(pipeline: str | None, as_json: bool, config_path: Path | None) -> None:
    """Writes parked after their last attempt, identical errors grouped (the same sink, the
    same error once record ids and counts are taken out), each group with the command that
    replays it. Fix the cause first; `audit show LEAD` has one lead's whole story. --json
    lists every dead letter, each with its error_group.

    \b
    Examples:
      sync-agent audit dead-letters
      sync-agent audit dead-letters --json | jq '[.[] | .id]'
      sync-agent replay --id 17 --id 18
    """
    from sync_agent.audit import AuditLog
    from sync_agent.report.build import reason_label

    config = load(config_path, logging=False)
    with AuditLog.open(config.audit_db) as log:
        if as_json:  # one object per dead letter, as before; error_group says which group
            rows = log.dead_letters(pipeline)
            for row in rows:
                row["error_group"] = reason_label(row["last_error"])
            _echo_json(rows)
            return
        groups = log.dead_letter_groups(pipeline, label=reason_label)
    if not groups:
        click.echo("No dead letters" + (f" in pipeline {pipeline}." if pipeline else "."))
        return
    columns = [
        Column("count", right=True),
        Column("sink", shrinks=True, most=20),
        Column("last failed"),
        Column("error", shrinks=True, wraps=True, least=30, most=400),
    ]
    header, blocks = _layout(
        columns,
        [[g["count"], g["sink"], _when(g["last_failed_at"]), g["error"]] for g in groups],
    )
    click.echo(header)
    indent = " " * (len("count") + len(GAP))
    for block, group in zip(blocks, groups, strict=True):
        click.echo("\n".join(block))
        ids = group["ids"]
        shown = " ".join(f"--id {i}" for i in ids[:REPLAY_IDS])
        click.echo(f"{indent}sync-agent replay {shown}")
        if len(ids) > REPLAY_IDS:
            click.echo(f"{indent}(and {len(ids) - REPLAY_IDS} more: --json lists every id)")
    total = sum(g["count"] for g in groups)
    click.echo(
        f"{total} dead letter(s) in {len(groups)} group(s); once every cause is fixed, "
        "`sync-agent replay` retries them all",
        err=True,
    )


#: ids a replay command shows; more would make a line nobody copies whole
REPLAY_IDS = 12
