"""The agent's configuration file (TOML): load it, validate ALL of it, report every problem.

``load_config(path)`` returns a frozen :class:`Config` or raises
:class:`~sync_agent.errors.ConfigError` whose ``problems`` list every mistake at once:
unknown keys (with a did-you-mean), bad types, a missing ruleset file, an unknown
connector, a bad schedule, and each connector's own ``Settings.from_options`` problems.
Relative paths are resolved against the config file's folder. Secrets never live here:
see :mod:`sync_agent.secrets`.

``sandbox_config_text``/``write_sandbox_config``/``config_for_sandbox`` produce a config
for a running local sandbox (the embedded default used by the demo, benches and tests).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync_agent.errors import ConfigError, Problem
from sync_agent.secrets import load_secrets, write_secrets_file

DEFAULT_CONFIG_NAME = "sync-agent.toml"
REPO_RULES = Path(__file__).resolve().parents[1] / "rules" / "sal.toml"

_SECTIONS: dict[str, set[str]] = {
    "agent": {"audit_db", "secrets_file", "log_level", "redact_pii", "log_json"},
    "retention": {"decisions_days"},
    "writeback": {
        "max_attempts",
        "follow_up_sla_hours",
        "backoff_base_seconds",
        "backoff_max_seconds",
        "reconcile_after_seconds",
    },
    "scheduler": {"misfire_grace_seconds"},
}
_PIPELINE_KEYS = {"name", "source", "ruleset", "sinks", "schedule", "batch_size", "enabled"}
_LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR"}


@dataclass(frozen=True)
class Schedule:
    """Either every ``every_minutes`` minutes or a five-field ``cron`` expression."""

    every_minutes: float | None = None
    cron: str | None = None


@dataclass(frozen=True)
class PipelineConfig:
    """One pipeline: a source, a ruleset, one or more sinks, a schedule."""

    name: str
    source: str
    ruleset: Path
    sinks: tuple[str, ...]
    schedule: Schedule = field(default_factory=lambda: Schedule(every_minutes=15))
    batch_size: int = 2000
    enabled: bool = True


@dataclass(frozen=True)
class Config:
    """The whole validated configuration plus the merged secrets it points at."""

    path: Path
    audit_db: Path
    pipelines: tuple[PipelineConfig, ...]
    connectors: Mapping[str, Mapping[str, Any]]
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    secrets_file: Path | None = None
    log_level: str = "INFO"
    log_json: bool | None = None
    redact_pii: bool = True
    decisions_days: int = 365
    max_attempts: int = 5
    follow_up_sla_hours: float = 24.0
    backoff_base_seconds: float = 60.0
    backoff_max_seconds: float = 3600.0
    reconcile_after_seconds: float = 600.0
    misfire_grace_seconds: int = 300

    def pipeline(self, name: str) -> PipelineConfig:
        """The pipeline called ``name`` (ConfigError listing the known names otherwise)."""
        for p in self.pipelines:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.pipelines)
        raise ConfigError(
            f"no pipeline named {name!r} (known: {known})",
            [
                Problem(
                    str(self.path),
                    "pipelines",
                    f"no pipeline named {name!r}",
                    _hint(name, [p.name for p in self.pipelines]),
                )
            ],
        )

    def selected(self, name: str | None) -> list[PipelineConfig]:
        """The pipeline named ``name``, or every enabled pipeline when ``name`` is None."""
        return [self.pipeline(name)] if name else [p for p in self.pipelines if p.enabled]


class _Collector:
    """Accumulates problems with line numbers found by a cheap scan of the text."""

    def __init__(self, path: Path, text: str) -> None:
        self.file = str(path)
        self.lines = text.splitlines()
        self.problems: list[Problem] = []

    def add(self, location: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.file, location, message, hint, self._line(location)))

    def _line(self, location: str) -> int | None:
        key = re.split(r"[.\[]", location)[-1] if location else ""
        pattern = re.compile(rf"^\s*(\[+\s*)?[\w.]*\b{re.escape(key)}\b\s*[=\]]") if key else None
        for number, line in enumerate(self.lines, 1):
            if pattern and pattern.search(line):
                return number
        return None


def _hint(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f"did you mean {close[0]!r}?" if close else ""


def load_config(path: str | Path, *, environ: Mapping[str, str] | None = None) -> Config:
    """Parse and validate ``path``; raise ConfigError listing EVERY problem found."""
    path = Path(path).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path}: {exc.strerror}",
            [Problem(str(path), "", f"cannot read: {exc.strerror}")],
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: invalid TOML: {exc}", [Problem(str(path), "", f"invalid TOML: {exc}")]
        ) from exc
    col = _Collector(path, text)
    base = path.parent
    values = _check_sections(data, col)
    connectors = _check_connectors(data.get("connectors", {}), col)
    pipelines = _check_pipelines(data.get("pipelines", []), base, connectors, col)
    if col.problems:
        raise ConfigError(f"{path}: {len(col.problems)} problem(s)", col.problems)
    secrets_file = base / values["secrets_file"] if values.get("secrets_file") else None
    _share_follow_up_sla(connectors, values)
    return Config(
        path=path,
        audit_db=base / values.get("audit_db", "sync-agent.db"),
        pipelines=tuple(pipelines),
        connectors=connectors,
        secrets=load_secrets(secrets_file, environ),
        secrets_file=secrets_file,
        **{k: values[k] for k in _SCALARS if k in values},
    )


def _share_follow_up_sla(connectors: dict[str, dict[str, Any]], values: Mapping[str, Any]) -> None:
    """One SLA for the note and the task: ``[writeback] follow_up_sla_hours`` sets the
    Salesforce Task's due date too, unless ``[connectors.salesforce] sla_hours`` overrides it."""
    if "salesforce" in connectors and "follow_up_sla_hours" in values:
        connectors["salesforce"].setdefault("sla_hours", values["follow_up_sla_hours"])


_SCALARS = (
    "log_level",
    "log_json",
    "redact_pii",
    "decisions_days",
    "max_attempts",
    "follow_up_sla_hours",
    "backoff_base_seconds",
    "backoff_max_seconds",
    "reconcile_after_seconds",
    "misfire_grace_seconds",
)
_TYPES: dict[str, tuple[type, ...]] = {
    "audit_db": (str,),
    "secrets_file": (str,),
    "log_level": (str,),
    "log_json": (bool,),
    "redact_pii": (bool,),
    "decisions_days": (int,),
    "max_attempts": (int,),
    "follow_up_sla_hours": (int, float),
    "backoff_base_seconds": (int, float),
    "backoff_max_seconds": (int, float),
    "reconcile_after_seconds": (int, float),
    "misfire_grace_seconds": (int,),
}


def _check_sections(data: Mapping[str, Any], col: _Collector) -> dict[str, Any]:
    """Validate the scalar sections; return their values flattened by key."""
    out: dict[str, Any] = {}
    for section in data:
        if section not in _SECTIONS and section not in ("connectors", "pipelines"):
            col.add(
                section,
                f"unknown section [{section}]",
                _hint(section, [*_SECTIONS, "connectors", "pipelines"]),
            )
    for section, keys in _SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            col.add(section, f"[{section}] must be a table")
            continue
        for key, value in table.items():
            where = f"{section}.{key}"
            if key not in keys:
                col.add(where, f"unknown key {key!r}", _hint(key, keys))
            elif not isinstance(value, _TYPES[key]) or (
                isinstance(value, bool) and bool not in _TYPES[key]
            ):
                col.add(
                    where,
                    f"expected {' or '.join(t.__name__ for t in _TYPES[key])}, got "
                    f"{type(value).__name__}",
                )
            else:
                out[key] = value
    _check_ranges(out, col)
    return out


def _check_ranges(values: dict[str, Any], col: _Collector) -> None:
    if "log_level" in values:
        values["log_level"] = values["log_level"].upper()
        if values["log_level"] not in _LOG_LEVELS:
            col.add(
                "agent.log_level",
                f"unknown level {values['log_level']!r}",
                f"one of {sorted(_LOG_LEVELS)}",
            )
    for key, where in (
        ("max_attempts", "writeback"),
        ("decisions_days", "retention"),
        ("misfire_grace_seconds", "scheduler"),
    ):
        if key in values and values[key] < 1:
            col.add(f"{where}.{key}", "must be at least 1")


def _check_connectors(table: Any, col: _Collector) -> dict[str, dict[str, Any]]:
    """Each ``[connectors.NAME]`` must be a known connector whose settings validate."""
    from sync_agent.engine.pipeline import connector_names, get_connector

    if not isinstance(table, dict):
        col.add("connectors", "[connectors] must be a table of connector tables")
        return {}
    out: dict[str, dict[str, Any]] = {}
    for name, options in table.items():
        if name not in connector_names():
            col.add(
                f"connectors.{name}", f"unknown connector {name!r}", _hint(name, connector_names())
            )
            continue
        if not isinstance(options, dict):
            col.add(f"connectors.{name}", "must be a table of options")
            continue
        out[name] = options
        try:
            get_connector(name).validate(options)
        except ConfigError as exc:
            for p in exc.problems or [Problem(col.file, "", str(exc))]:
                col.add(f"connectors.{name}.{p.location}".rstrip("."), p.message, p.hint)
        except ImportError as exc:
            col.add(f"connectors.{name}", f"connector not installed: {exc}")
    return out


def _check_pipelines(
    items: Any, base: Path, connectors: Mapping[str, Any], col: _Collector
) -> list[PipelineConfig]:
    from sync_agent.engine.pipeline import connector_names

    if not isinstance(items, list) or not items:
        col.add("pipelines", "at least one [[pipelines]] table is required")
        return []
    out: list[PipelineConfig] = []
    names: set[str] = set()
    for i, item in enumerate(items):
        where = f"pipelines[{i}]"
        if not isinstance(item, dict):
            col.add(where, "must be a table")
            continue
        for key in item:
            if key not in _PIPELINE_KEYS:
                col.add(f"{where}.{key}", f"unknown key {key!r}", _hint(key, _PIPELINE_KEYS))
        name = item.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name or ""):
            col.add(f"{where}.name", "a name of letters, digits, '-', '_' or '.' is required")
            name = f"#{i}"
        elif name in names:
            col.add(f"{where}.name", f"duplicate pipeline name {name!r}")
        names.add(name)
        known = connector_names()
        source = item.get("source")
        if source not in known:
            col.add(f"{where}.source", f"unknown connector {source!r}", _hint(str(source), known))
        sinks = item.get("sinks")
        if not isinstance(sinks, list) or not sinks or not all(isinstance(s, str) for s in sinks):
            col.add(f"{where}.sinks", "a non-empty list of connector names is required")
            sinks = []
        for s in sinks:
            if s not in known:
                col.add(f"{where}.sinks", f"unknown connector {s!r}", _hint(s, known))
        for used in [source, *sinks]:
            if used in known and used not in connectors:
                col.add(
                    f"{where}", f"connector {used!r} is used but has no [connectors.{used}] table"
                )
        ruleset = item.get("ruleset")
        rules_path = base / ruleset if isinstance(ruleset, str) else Path()
        if not isinstance(ruleset, str):
            col.add(f"{where}.ruleset", "a ruleset file path is required")
        elif not rules_path.is_file():
            col.add(f"{where}.ruleset", f"ruleset file not found: {rules_path}")
        batch = item.get("batch_size", 2000)
        if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= 2000:
            col.add(f"{where}.batch_size", "must be an integer from 1 to 2000")
            batch = 2000
        enabled = item.get("enabled", True)
        if not isinstance(enabled, bool):
            col.add(f"{where}.enabled", "must be true or false")
        schedule = _check_schedule(
            item.get("schedule", {"every_minutes": 15}), f"{where}.schedule", col
        )
        out.append(
            PipelineConfig(
                name, str(source), rules_path, tuple(sinks), schedule, batch, bool(enabled)
            )
        )
    return out


def _check_schedule(value: Any, where: str, col: _Collector) -> Schedule:
    from sync_agent.scheduler import cron_problem

    if (
        not isinstance(value, dict)
        or len(value) != 1
        or not set(value) <= {"every_minutes", "cron"}
    ):
        col.add(where, 'use { every_minutes = N } or { cron = "*/15 * * * *" }')
        return Schedule(every_minutes=15)
    if "cron" in value:
        expr = value["cron"]
        problem = cron_problem(expr) if isinstance(expr, str) else "must be a string"
        if problem:
            col.add(
                where,
                f"bad cron expression {expr!r}: {problem}",
                "five fields: minute hour day month weekday",
            )
        return Schedule(cron=str(expr))
    every = value["every_minutes"]
    if not isinstance(every, (int, float)) or isinstance(every, bool) or every <= 0:
        col.add(where, "every_minutes must be a positive number")
        return Schedule(every_minutes=15)
    return Schedule(every_minutes=float(every))


def find_config(path: str | Path | None) -> Path:
    """``path``, else ``./sync-agent.toml``; else a ConfigError pointing at the sandbox."""
    candidate = Path(path) if path else Path.cwd() / DEFAULT_CONFIG_NAME
    if candidate.is_file():
        return candidate
    message = (
        f"no configuration file at {candidate}. Try the local sandbox: run "
        f"`sync-agent sandbox serve --write-config {DEFAULT_CONFIG_NAME}` in one terminal and "
        f"retry here, or run `sync-agent demo`. For real accounts copy config.example.toml."
    )
    raise ConfigError(message)  # one clear message; no per-problem list to repeat it


# --------------------------------------------------------------------------- sandbox


def _q(value: Any) -> str:
    """A TOML basic string."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def sandbox_config_text(info: Mapping[str, Any]) -> str:
    """A config TOML for a running sandbox; its secrets never go into the text.

    Without ``info["secrets_file"]`` the sandbox's credentials are written (mode 0600) to a
    per-user runtime folder and the config names that file by absolute path, so
    ``sandbox serve --write-config`` works with the text alone.

    ``info`` keys (all optional but the URLs): ``hubspot_base_url``, ``salesforce_instance_url``,
    ``salesforce_login_url`` (defaults to the instance URL), ``ca_bundle`` (path of the
    sandbox CA), ``audit_db`` (default ``sync-agent.db``), ``secrets_file`` (default
    ``sync-agent.secrets.toml``), ``ruleset`` (default the repository's ``rules/sal.toml``),
    ``every_minutes`` (default 1), ``batch_size`` (default 2000), and extra option tables
    ``hubspot_options`` / ``salesforce_options`` merged into the connector tables.
    """
    secrets_file = info.get("secrets_file")
    if secrets_file is None and sandbox_secrets(info):
        secrets_file = str(_runtime_secrets(info))
    hub = info.get("hubspot_base_url") or info.get("hubspot_url") or info.get("base_url")
    sf = (
        info.get("salesforce_instance_url")
        or info.get("salesforce_url")
        or info.get("instance_url")
    )
    login = info.get("salesforce_login_url") or sf
    ca = info.get("ca_bundle")
    lines = [
        "# sync-agent configuration for the local sandbox (generated).",
        "[agent]",
        f"audit_db = {_q(info.get('audit_db', 'sync-agent.db'))}",
        f"secrets_file = {_q(secrets_file or 'sync-agent.secrets.toml')}",
        'log_level = "INFO"',
        "",
        "[connectors.hubspot]",
        f"base_url = {_q(hub)}",
    ]
    lines += [f"ca_bundle = {_q(ca)}"] if ca else []
    lines += _extra(info.get("hubspot_options"))
    lines += ["", "[connectors.salesforce]", f"instance_url = {_q(sf)}", f"login_url = {_q(login)}"]
    lines += [f"ca_bundle = {_q(ca)}"] if ca else []
    lines += _extra(info.get("salesforce_options"))
    lines += [
        "",
        "[[pipelines]]",
        'name = "hubspot-mqls"',
        'source = "hubspot"',
        f"ruleset = {_q(info.get('ruleset', REPO_RULES))}",
        'sinks = ["salesforce", "hubspot"]',
        f"schedule = {{ every_minutes = {info.get('every_minutes', 1)} }}",
        f"batch_size = {int(info.get('batch_size', 2000))}",
        "",
    ]
    return "\n".join(lines)


def _extra(options: Any) -> list[str]:
    if not isinstance(options, Mapping):
        return []
    out = []
    for key, value in options.items():
        if isinstance(value, bool):
            out.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, (int, float)):
            out.append(f"{key} = {value}")
        else:
            out.append(f"{key} = {_q(value)}")
    return out


def _runtime_secrets(info: Mapping[str, Any]) -> Path:
    """Write the sandbox's secrets to ``$TMPDIR/sync-agent-<uid>/sandbox-<hash>.secrets.toml``."""
    import hashlib
    import os
    import tempfile

    folder = Path(tempfile.gettempdir()) / f"sync-agent-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    tag = hashlib.sha256(repr(sorted(sandbox_secrets(info).items())).encode()).hexdigest()[:12]
    return write_secrets_file(folder / f"sandbox-{tag}.secrets.toml", sandbox_secrets(info))


def sandbox_secrets(info: Mapping[str, Any]) -> dict[str, str]:
    """The secrets a sandbox hands out (token, session id), as env-var names."""
    names = {
        "salesforce_client_id": "SALESFORCE_CLIENT_ID",
        "salesforce_client_secret": "SALESFORCE_CLIENT_SECRET",
        "hubspot_token": "HUBSPOT_ACCESS_TOKEN",
        "hubspot_access_token": "HUBSPOT_ACCESS_TOKEN",
        "salesforce_session_id": "SALESFORCE_SESSION_ID",
        "salesforce_token": "SALESFORCE_SESSION_ID",
    }
    out = {env: str(info[key]) for key, env in names.items() if info.get(key)}
    out.update({str(k): str(v) for k, v in (info.get("secrets") or {}).items()})
    return out


def write_sandbox_config(info: Mapping[str, Any], path: str | Path) -> tuple[Path, Path]:
    """Write the sandbox config at ``path`` and its secrets file (0600) next to it."""
    path = Path(path).resolve()
    secrets_name = str(info.get("secrets_file", path.stem + ".secrets.toml"))
    path.write_text(sandbox_config_text({**info, "secrets_file": secrets_name}), encoding="utf-8")
    secrets_path = write_secrets_file(path.parent / secrets_name, sandbox_secrets(info))
    return path, secrets_path


def config_for_sandbox(info: Mapping[str, Any], workdir: str | Path, **overrides: Any) -> Config:
    """Write a sandbox config into ``workdir`` and load it (demo, benches, tests).

    ``overrides`` replace Config fields after loading (e.g. ``max_attempts=2``).
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    path, _ = write_sandbox_config(info, workdir / DEFAULT_CONFIG_NAME)
    config = load_config(path, environ={})
    if overrides:
        from dataclasses import replace

        config = replace(config, **overrides)
    return config
