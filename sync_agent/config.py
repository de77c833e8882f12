"""The agent's configuration file (TOML): load it, validate ALL of it, report every problem.

``load_config(path)`` returns a frozen :class:`Config` or raises
:class:`~sync_agent.errors.ConfigError` whose ``problems`` list every mistake at once, each
with file, line, place and a fix: unknown keys (with a did-you-mean), bad types, a missing
ruleset file, an unknown connector type, a bad schedule, and each connector's own option
problems (validated by the settings model its spec declares). Relative paths are resolved
against the config file's folder. Secrets never live here: see :mod:`sync_agent.secrets`.

The schema is declarative (:mod:`sync_agent.settings`). Connector types come from the
registry (:mod:`sync_agent.registry`); this module imports nothing above it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from connectors.base import ConnectorSpec, Instance, StateStore
from sync_agent.errors import ConfigError, Problem
from sync_agent.registry import Registry, installed
from sync_agent.secrets import file_problems, instance_secrets, load_secrets
from sync_agent.settings import SettingsModel, TomlLines, hint, validate
from sync_agent.sla.settings import SlaSection
from sync_agent.triggers import Schedule, cron_problem

DEFAULT_CONFIG_NAME = "sync-agent.toml"
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_NAME = r"^[A-Za-z0-9_.-]+$"


class AgentSection(SettingsModel):
    audit_db: str = "sync-agent.db"
    secrets_file: str | None = None
    log_level: str = Field("INFO", json_schema_extra=hint("one of " + ", ".join(_LOG_LEVELS)))
    redact_pii: bool = True
    log_json: bool | None = None

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in _LOG_LEVELS:
            raise ValueError(f"unknown level {value!r}")
        return value.upper()


class RetentionSection(SettingsModel):
    decisions_days: int = Field(365, ge=1)


class WritebackSection(SettingsModel):
    max_attempts: int = Field(5, ge=1)
    follow_up_sla_hours: float = Field(24.0, gt=0)
    backoff_base_seconds: float = Field(60.0, ge=0)
    backoff_max_seconds: float = Field(3600.0, ge=0)
    reconcile_after_seconds: float = Field(600.0, ge=0)
    wait_for_record_hours: float = Field(24.0, ge=0)
    wait_retry_minutes: float = Field(15.0, gt=0)


class OutcomesSection(SettingsModel):
    """``[outcomes]``: the read-back of what sales did after each handoff (docs/loop.md)."""

    #: handoffs decided longer ago than this are not asked about any more
    lookback_days: int = Field(90, ge=1, le=3650)
    #: a run reads outcomes back when the last read of that sink is this old (0: every run)
    every_minutes: float = Field(60.0, ge=0, le=7 * 24 * 60)


class SchedulerSection(SettingsModel):
    misfire_grace_seconds: int = Field(300, ge=1)


class ServeSection(SettingsModel):
    """``sync-agent serve``: how the CRMs reach it."""

    public_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        json_schema_extra=hint("the URL the CRM posts to, up to the agent's root, e.g. "
                               "https://agent.example.com (behind a proxy)"),
    )
    threads: int = Field(8, ge=1, le=64)


class ScheduleSection(SettingsModel):
    every_minutes: float | None = Field(None, gt=0)
    cron: str | None = Field(
        None, json_schema_extra=hint("five fields: minute hour day month weekday")
    )

    @model_validator(mode="after")
    def _one(self) -> ScheduleSection:
        if (self.every_minutes is None) == (self.cron is None):
            raise ValueError('use { every_minutes = N } or { cron = "*/15 * * * *" }')
        problem = cron_problem(self.cron) if self.cron is not None else None
        if problem:
            raise ValueError(
                f"bad cron expression {self.cron!r}: {problem} "
                "(five fields: minute hour day month weekday)"
            )
        return self


class PipelineSection(SettingsModel):
    name: str = Field(pattern=_NAME, json_schema_extra=hint("letters, digits, '-', '_' or '.'"))
    source: str
    ruleset: str
    sinks: list[str] = Field(min_length=1)
    schedule: ScheduleSection = Field(default_factory=lambda: ScheduleSection(every_minutes=15))
    batch_size: int = Field(2000, ge=1, le=2000)
    enabled: bool = True


class ConfigFile(SettingsModel):
    """The top level; ``connectors`` and ``pipelines`` are validated table by table."""

    agent: AgentSection = Field(default_factory=AgentSection)
    retention: RetentionSection = Field(default_factory=RetentionSection)
    writeback: WritebackSection = Field(default_factory=WritebackSection)
    scheduler: SchedulerSection = Field(default_factory=SchedulerSection)
    serve: ServeSection = Field(default_factory=ServeSection)
    outcomes: OutcomesSection = Field(default_factory=OutcomesSection)
    #: the follow-up SLA watch (``docs/sla.md``); absent: no watch
    sla: SlaSection | None = None
    connectors: dict[str, Any] = Field(default_factory=dict)
    pipelines: list[Any] = Field(
        min_length=1, json_schema_extra=hint("add a [[pipelines]] table: see config.example.toml")
    )


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
class ConnectorConfig:
    """One ``[connectors.<name>]`` table: an instance of a connector type, validated."""

    name: str
    spec: ConnectorSpec
    settings: Any
    secrets_prefix: str = ""

    @property
    def type(self) -> str:
        return self.spec.name

    def secret_names(self) -> list[str]:
        """The environment / secrets-file names this instance reads."""
        return [self.secrets_prefix + name for name in self.spec.secrets]


@dataclass(frozen=True)
class Config:
    """The whole validated configuration plus the merged secrets it points at."""

    path: Path
    audit_db: Path
    pipelines: tuple[PipelineConfig, ...]
    connectors: Mapping[str, ConnectorConfig]
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
    wait_for_record_hours: float = 24.0
    wait_retry_minutes: float = 15.0
    misfire_grace_seconds: int = 300
    #: ``[serve]``: the public URL webhooks are signed for (None: as the request shows it)
    serve_public_url: str | None = None
    serve_threads: int = 8
    #: ``[outcomes]``: how far back handoffs are read back (days)
    outcomes_lookback_days: int = 90
    outcomes_every_minutes: float = 60.0
    #: ``[sla]``: the follow-up SLA watch (None: the table is absent, no watch)
    sla: SlaSection | None = None

    def pipeline(self, name: str) -> PipelineConfig:
        """The pipeline called ``name`` (ConfigError listing the known names otherwise)."""
        for p in self.pipelines:
            if p.name == name:
                return p
        names = [p.name for p in self.pipelines]
        problem = Problem(
            str(self.path),
            "pipelines",
            f"no pipeline named {name!r}",
            _did_you_mean(name, names) or "known: " + ", ".join(names),
        )
        raise ConfigError(f"no pipeline named {name!r} (known: {', '.join(names)})", [problem])

    def selected(self, name: str | None) -> list[PipelineConfig]:
        """The pipeline named ``name``, or every enabled pipeline when ``name`` is None."""
        return [self.pipeline(name)] if name else [p for p in self.pipelines if p.enabled]

    def instance(self, name: str, state: StateStore | None = None) -> Instance:
        """Connector instance ``name`` with its own secrets (and state, when given)."""
        conn = self.connectors[name]
        secrets = instance_secrets(self.secrets, conn.spec.secrets, conn.secrets_prefix)
        if state is None:
            return Instance(name, conn.spec, conn.settings, secrets)
        return Instance(name, conn.spec, conn.settings, secrets, state)

    def secrets_hint(self, name: str) -> str:
        """Where instance ``name``'s secrets are read from (for a "not set" message)."""
        conn = self.connectors[name]
        where = (
            f"the environment or {self.secrets_file}"
            if self.secrets_file
            else ("the environment (or a secrets file named by [agent] secrets_file)")
        )
        return f"[connectors.{name}] reads {', '.join(conn.secret_names())} from {where}"


def _did_you_mean(word: str, choices: Any) -> str:
    import difflib

    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f"did you mean {close[0]!r}?" if close else ""


def read_config_text(path: Path) -> str:
    """The config file's text (UTF-8), or a ConfigError that says what is wrong with it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path}: {exc.strerror}",
            [Problem(str(path), "", f"cannot read: {exc.strerror}")],
        ) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = Problem(str(path), "", "the file is not UTF-8 text", "save it as UTF-8", line)
        raise ConfigError(f"{path}: not UTF-8 text (line {line})", [problem]) from exc


def load_config(
    path: str | Path,
    *,
    environ: Mapping[str, str] | None = None,
    registry: Registry | None = None,
) -> Config:
    """Parse and validate ``path``; raise ConfigError listing EVERY problem found."""
    path = Path(path).resolve()
    text = read_config_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        problem = Problem(
            str(path),
            "",
            f"invalid TOML: {exc}",
            "check quotes, brackets and commas",
            int(found.group(1)) if found else None,
        )
        raise ConfigError(f"{path}: invalid TOML: {exc}", [problem]) from exc
    check = _Check(path, text, registry or installed())
    top, problems = validate(ConfigFile, data, file=check.file, lines=check.lines)
    check.problems += problems
    connectors = check.connectors(data.get("connectors", {}))
    pipelines = check.pipelines(data.get("pipelines", []), connectors)
    agent = top.agent if top else AgentSection()
    secrets_file = path.parent / agent.secrets_file if agent.secrets_file else None
    if secrets_file is not None:
        where = ("agent", "secrets_file")
        for p in file_problems(secrets_file):
            check.add(where, f"{p.message}: {secrets_file}", p.hint)
    check.sla_targets(data.get("sla"), connectors)
    if check.problems or top is None:
        raise ConfigError(f"{path}: {len(check.problems)} problem(s)", check.problems)
    names = [n for conn in connectors.values() for n in conn.secret_names()]
    return Config(
        path=path,
        audit_db=path.parent / agent.audit_db,
        pipelines=tuple(pipelines),
        connectors=connectors,
        secrets=load_secrets(secrets_file, environ, names),
        secrets_file=secrets_file,
        log_level=agent.log_level,
        log_json=agent.log_json,
        redact_pii=agent.redact_pii,
        decisions_days=top.retention.decisions_days,
        misfire_grace_seconds=top.scheduler.misfire_grace_seconds,
        serve_public_url=top.serve.public_url,
        serve_threads=top.serve.threads,
        outcomes_lookback_days=top.outcomes.lookback_days,
        outcomes_every_minutes=top.outcomes.every_minutes,
        sla=top.sla,
        **top.writeback.model_dump(),
    )


class _Check:
    """Cross-table checks: connector types and options, pipelines' references."""

    def __init__(self, path: Path, text: str, registry: Registry) -> None:
        self.file = str(path)
        self.base = path.parent
        self.lines = TomlLines(text)
        self.registry = registry
        self.problems: list[Problem] = []
        self.tables: set[str] = set()  # every [connectors.X] table, valid or not

    def add(self, loc: tuple[str | int, ...], message: str, hint_text: str = "") -> None:
        from sync_agent.settings import dotted

        self.problems.append(
            Problem(self.file, dotted(loc), message, hint_text, self.lines.line(loc))
        )

    def connectors(self, tables: Any) -> dict[str, ConnectorConfig]:
        out: dict[str, ConnectorConfig] = {}
        if not isinstance(tables, dict):
            return out  # the top-level model reported it
        self.tables = set(tables)
        for name, table in tables.items():
            loc = ("connectors", name)
            if not isinstance(table, dict):
                self.add(loc, "must be a table of options")
                continue
            if not re.fullmatch(_NAME, name):
                self.add(loc, "a connector name is letters, digits, '-', '_' or '.'")
            options = dict(table)
            kind = options.pop("type", name)
            prefix = options.pop("secrets_prefix", None)
            if not isinstance(kind, str):
                self.add((*loc, "type"), "must be a connector type name")
                continue
            try:
                spec = self.registry.get(kind, where=f"connectors.{name}")
            except ConfigError as exc:
                where = (*loc, "type") if "type" in table else loc
                for p in exc.problems:
                    self.add(where, p.message, p.hint)
                continue
            if prefix is None:
                prefix = "" if name == spec.name else re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_"
            elif not isinstance(prefix, str) or not re.fullmatch(r"[A-Z0-9_]*", prefix):
                self.add(
                    (*loc, "secrets_prefix"),
                    "must be upper-case letters, digits and '_'",
                    'e.g. secrets_prefix = "EU_" reads EU_<NAME> variables',
                )
                prefix = ""
            settings, problems = validate(
                spec.settings,
                options,
                file=self.file,
                prefix=loc,
                lines=self.lines,
                context={"config_dir": self.base},
            )
            self.problems += problems
            if settings is not None:
                out[name] = ConnectorConfig(name, spec, settings, prefix)
        return out

    def sla_targets(self, sla: Any, connectors: Mapping[str, ConnectorConfig]) -> None:
        """``[sla.escalate_to]`` / ``[sla.reassign_to]`` name connector instances."""
        for table in ("escalate_to", "reassign_to"):
            names = sla.get(table) if isinstance(sla, dict) else None
            for name in names if isinstance(names, dict) else ():
                if name not in connectors:
                    self.add(("sla", table, name), f"no connector instance named {name!r}",
                             _did_you_mean(name, connectors) or "keys are [connectors.NAME] "
                             "names of the sinks the actions go to")

    def pipelines(
        self, items: Any, connectors: Mapping[str, ConnectorConfig]
    ) -> list[PipelineConfig]:
        out: list[PipelineConfig] = []
        if not isinstance(items, list):
            return out
        seen: set[str] = set()
        for i, item in enumerate(items):
            loc: tuple[str | int, ...] = ("pipelines", i)
            spec, problems = validate(
                PipelineSection, item, file=self.file, prefix=loc, lines=self.lines
            )
            self.problems += problems
            self._references(item, loc, connectors, seen)
            if spec is None:
                continue
            ruleset = self.base / spec.ruleset
            schedule = Schedule(spec.schedule.every_minutes, spec.schedule.cron)
            out.append(
                PipelineConfig(
                    spec.name,
                    spec.source,
                    ruleset,
                    tuple(spec.sinks),
                    schedule,
                    spec.batch_size,
                    spec.enabled,
                )
            )
        return out

    def _references(
        self,
        item: Any,
        loc: tuple[str | int, ...],
        connectors: Mapping[str, ConnectorConfig],
        seen: set[str],
    ) -> None:
        """Names a pipeline refers to, checked even when other keys of it are wrong."""
        if not isinstance(item, dict):
            return
        name = item.get("name")
        if isinstance(name, str):
            if name in seen:
                self.add((*loc, "name"), f"duplicate pipeline name {name!r}")
            seen.add(name)
        if isinstance(item.get("source"), str):
            self._role(connectors, item["source"], (*loc, "source"), "source")
        sinks = item.get("sinks")
        for sink in sinks if isinstance(sinks, list) else ():
            if isinstance(sink, str):
                self._role(connectors, sink, (*loc, "sinks"), "sink")
        ruleset = item.get("ruleset")
        if (
            isinstance(ruleset, str)
            and "\x00" not in ruleset
            and not (self.base / ruleset).is_file()
        ):
            self.add(
                (*loc, "ruleset"),
                f"ruleset file not found: {self.base / ruleset}",
                "a path relative to this config file",
            )

    def _role(
        self,
        connectors: Mapping[str, ConnectorConfig],
        name: str,
        loc: tuple[str | int, ...],
        role: str,
    ) -> None:
        conn = connectors.get(name)
        if conn is None and name in self.tables:
            return  # its table has problems of its own, reported there
        if conn is None:
            if name in self.registry.names():
                self.add(
                    loc,
                    f"connector {name!r} is used but has no [connectors.{name}] table",
                    f"add [connectors.{name}] with its options",
                )
            else:
                known = sorted(self.tables | set(self.registry.names()))
                self.add(
                    loc,
                    f"unknown connector {name!r}",
                    _did_you_mean(name, known) or "configured: " + ", ".join(known),
                )
        elif role not in conn.spec.roles:
            self.add(
                loc,
                f"connector {name!r} ({conn.type}) cannot be a {role}",
                f"{conn.type} is a {' and '.join(conn.spec.roles)}",
            )
