"""Secrets: environment variables merged over an optional secrets file, never logged.

Secrets never live in the configuration file. They come from the process environment
or from a small TOML file the configuration names (``[agent] secrets_file``), written
with mode 0600 and never committed. Environment variables win, so a service manager can
override a file on disk. Every value read is registered with the log redactor.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from sync_agent.errors import ConfigError, Problem
from sync_agent.logs import register_secret

#: Environment variables that belong to sync-agent (everything else in the env is ignored).
SECRET_PREFIXES = ("HUBSPOT_", "SALESFORCE_", "SYNC_AGENT_")


def load_secrets(
    secrets_file: Path | None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return ``{NAME: value}`` from the secrets file overlaid by matching env vars."""
    env = os.environ if environ is None else environ
    merged: dict[str, str] = {}
    if secrets_file is not None and secrets_file.exists():
        merged.update(_read_file(secrets_file))
    for name, value in env.items():
        if name.startswith(SECRET_PREFIXES) and value:
            merged[name] = value
    for value in merged.values():
        register_secret(value)
    return merged


def _read_file(path: Path) -> dict[str, str]:
    """Read a flat TOML table of ``NAME = "value"``; nested tables are a config error."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        problem = Problem(str(path), "", f"cannot read secrets file: {exc}")
        raise ConfigError(f"cannot read secrets file {path}", [problem]) from exc
    out: dict[str, str] = {}
    problems: list[Problem] = []
    for key, value in data.items():
        if isinstance(value, (str, int)):
            out[str(key).upper()] = str(value)
        else:
            problems.append(Problem(str(path), key, "secret values must be strings"))
    if problems:
        raise ConfigError(f"invalid secrets file {path}", problems)
    return out


def write_secrets_file(path: Path, secrets: Mapping[str, str]) -> Path:
    """Write ``secrets`` as TOML readable by its owner only (mode 0600 from creation)."""
    lines = ["# sync-agent secrets: never commit this file.\n"]
    for key, value in secrets.items():
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'{key} = "{escaped}"\n')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.writelines(lines)
    os.chmod(path, 0o600)
    return path
