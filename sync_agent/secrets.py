"""Secrets: environment variables merged over an optional secrets file, never logged.

Secrets never live in the configuration file. They come from the process environment
or from a small TOML file the configuration names (``[agent] secrets_file``), written
with mode 0600 and never committed; like ``ssh`` with a private key, a secrets file that
others may read is refused. Environment variables win, so a service manager can override
a file on disk. Only the names the configured connectors declare are read from the
environment (with each instance's ``secrets_prefix``), and every value is registered with
the log redactor.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

from sync_agent.errors import ConfigError, Problem
from sync_agent.logs import register_secret

#: Environment variables of the agent itself (beyond what connectors declare).
AGENT_PREFIX = "SYNC_AGENT_"


def load_secrets(
    secrets_file: Path | None,
    environ: Mapping[str, str] | None = None,
    names: Iterable[str] = (),
) -> dict[str, str]:
    """``{NAME: value}`` from the secrets file, overlaid by the env vars in ``names``."""
    env = os.environ if environ is None else environ
    wanted = set(names)
    merged: dict[str, str] = {}
    if secrets_file is not None:
        merged.update(read_secrets_file(secrets_file))
    for name, value in env.items():
        if value and (name in wanted or name.startswith(AGENT_PREFIX)):
            merged[name] = value
    for value in merged.values():
        register_secret(value)
    return merged


def file_problems(path: Path) -> list[Problem]:
    """What is wrong with a secrets file before reading it: missing, or readable by others."""
    where = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        return [
            Problem(
                where,
                "",
                "the secrets file named by [agent] secrets_file does not exist",
                'create it (mode 0600) with NAME = "value" lines, or remove secrets_file and '
                "set the variables in the environment",
            )
        ]
    except OSError as exc:
        return [Problem(where, "", f"cannot read the secrets file: {exc.strerror or exc}")]
    if not stat.S_ISREG(info.st_mode):
        return [Problem(where, "", "the secrets file is not a regular file")]
    if info.st_mode & 0o077:
        return [
            Problem(
                where,
                "",
                f"the secrets file is readable by others (mode {stat.S_IMODE(info.st_mode):04o})",
                f"chmod 600 {path}",
            )
        ]
    return []


def read_secrets_file(path: Path) -> dict[str, str]:
    """Read a flat TOML table of ``NAME = "value"``; any problem is a ConfigError."""
    problems = file_problems(path)
    if problems:
        raise ConfigError(problems[0].message + f": {path}", problems)
    try:
        text = path.read_bytes().decode("utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problem = Problem(
            str(path), "", f"cannot read secrets file: {exc}", 'one NAME = "value" per line, UTF-8'
        )
        raise ConfigError(f"cannot read secrets file {path}", [problem]) from exc
    out: dict[str, str] = {}
    problems = []
    for key, value in data.items():
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            out[str(key).upper()] = str(value)
        else:
            problems.append(
                Problem(str(path), key, "secret values must be strings", f'{key} = "..."')
            )
    if problems:
        raise ConfigError(f"invalid secrets file {path}", problems)
    return out


def instance_secrets(
    secrets: Mapping[str, str], names: Iterable[str], prefix: str
) -> dict[str, str]:
    """One instance's secrets under their declared names (``EU_X`` → ``X`` for ``EU_``)."""
    return {name: secrets[prefix + name] for name in names if secrets.get(prefix + name)}


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
