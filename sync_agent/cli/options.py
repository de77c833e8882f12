"""Options and helpers every command shares: ``--config``, ``--pipeline``, ``--json``, dates.

One place, so that every command names things the same way and turns the same mistakes
into the same exit codes: a missing ``--config`` file or an unknown ``--pipeline`` is a
usage error (exit 2, with the known names); an invalid configuration exits 1 listing
every problem with file, line and fix.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from connectors.base import Instance
from sync_agent.config import DEFAULT_CONFIG_NAME, Config, load_config
from sync_agent.errors import AgentLocked, ConfigError
from sync_agent.lock import agent_lock
from sync_agent.logs import configure_logging
from sync_agent.text import printable

F = TypeVar("F", bound=Callable[..., Any])
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"]


def config_option(func: F) -> F:
    """``--config PATH`` (default ``./sync-agent.toml``); a missing file is a usage error."""
    option = click.option(
        "--config",
        "config_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help=f"Configuration file (default: ./{DEFAULT_CONFIG_NAME}).",
    )
    return option(func)


def pipeline_option(func: F) -> F:
    return click.option("--pipeline", default=None, help="Only this pipeline (by name).")(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")(func)


def since_option(func: F) -> F:
    return click.option(
        "--since",
        type=click.DateTime(DATE_FORMATS),
        default=None,
        help="Only decisions made at or after this date (UTC), e.g. 2026-01-01.",
    )(func)


def until_option(func: F) -> F:
    return click.option(
        "--until",
        type=click.DateTime(DATE_FORMATS),
        default=None,
        help="Only decisions made before this date (UTC, exclusive).",
    )(func)


def utc(value: datetime | None) -> datetime | None:
    """click.DateTime gives naive datetimes: they mean UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def echo_json(data: Any) -> None:
    """``data`` as indented JSON; a lone surrogate from a lead's field prints as U+FFFD."""
    click.echo(printable(json.dumps(data, indent=2, default=str, ensure_ascii=False)))


def load(config_path: Path | None, *, logging: bool = True) -> Config:
    """The validated config, or exit 1 listing every problem (2 when there is no file)."""
    path = config_path or Path.cwd() / DEFAULT_CONFIG_NAME
    if config_path is None and not path.is_file():
        raise click.UsageError(
            f"no configuration file at {path}. Try the local sandbox: run `sync-agent sandbox "
            f"serve --write-config {DEFAULT_CONFIG_NAME}` in one terminal and retry here, or "
            f"run `sync-agent demo`. For real accounts copy config.example.toml."
        )
    try:
        config = load_config(path)
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        for problem in sorted(exc.problems, key=lambda p: p.line or 0):
            click.echo(f"  {problem}", err=True)
        raise SystemExit(1) from None
    if logging:
        configure_logging(
            level=config.log_level, redact_pii=config.redact_pii, json=config.log_json
        )
    return config


@contextmanager
def agent_locked(config: Config) -> Iterator[None]:
    """Hold the agent lock for a command that changes the audit log; exit 3 if another
    agent holds it (never two writers on one database)."""
    try:
        with agent_lock(config.audit_db):
            yield
    except AgentLocked as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(3) from None


def check_pipeline(config: Config, name: str | None) -> None:
    """An unknown ``--pipeline`` is a usage error that lists the known names."""
    if name is not None and name not in {p.name for p in config.pipelines}:
        known = ", ".join(p.name for p in config.pipelines)
        raise click.BadParameter(
            f"no pipeline named {name!r} (known: {known})", param_hint="--pipeline"
        )


def instance_option(func: F) -> F:
    """``--connector NAME``: which configured instance a connector command works on."""
    return click.option(
        "--connector",
        "connector_name",
        default=None,
        help="The [connectors.NAME] table to use (default: the only one of this type).",
    )(func)


def resolve_instance(config: Config, kind: str, name: str | None) -> Instance:
    """The instance ``name`` (or the only one) of connector type ``kind``; else usage error."""
    mine = [n for n, c in config.connectors.items() if c.type == kind]
    if name is None and len(mine) == 1:
        name = mine[0]
    if name is None or name not in mine:
        known = ", ".join(mine) or "none"
        raise click.BadParameter(
            f"choose one of the configured {kind} connectors: {known}"
            if name is None
            else f"no {kind} connector named {name!r} (configured: {known})",
            param_hint="--connector",
        )
    return config.instance(name)
