"""Checking pipelines against the live systems: behind ``rules check --against PIPELINE`` and
``config check --connect``.

For one pipeline: its ruleset checked against the schema its source describes
(:func:`sync_agent.rules.against.check_against`), and every sink's write-back targets
(``ConnectorSpec.check_targets``). This module does what the pure checker may not: it asks
the connectors (through the schema cache kept in each instance's state, so a system that
is down yields the last known schema with a warning), reads the configuration text to
give each configuration problem its file and line, and turns a system that cannot be asked
(no cached schema either) into an error naming the instance and its address, never a
traceback. Each instance is refreshed at most once per check, however many pipelines use
it; a sink shared by several pipelines is checked once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.base import StateStore, TargetProblem
from sync_agent.config import Config, PipelineConfig, read_config_text
from sync_agent.errors import ConfigError, Problem, SyncAgentError
from sync_agent.rules.against import AgainstReport, ConfigSite, check_against
from sync_agent.rules.lists import display_path
from sync_agent.rules.ruleset import Ruleset
from sync_agent.settings import TomlLines


@dataclass(frozen=True)
class PipelineCheck:
    """What checking one pipeline found: its problems, and what was checked (``checked``:
    one line per system, e.g. the age of the schema used)."""

    pipeline: str
    report: AgainstReport
    checked: tuple[str, ...] = ()


@dataclass
class Checker:
    """Checks pipelines of one configuration, sharing refreshes and sink checks between them.

    ``states`` are the instances' stores (the audit database's connector state, where the
    schema cache lives); ``refresh`` asks each system again once instead of trusting a
    cached schema younger than its refresh interval.
    """

    config: Config
    states: Mapping[str, StateStore] = field(default_factory=dict)
    refresh: bool = False
    _asked: set[str] = field(default_factory=set)
    _stale: set[str] = field(default_factory=set)  # answered from the cache: said once
    _down: set[str] = field(default_factory=set)  # could not be asked, nothing cached
    _sinks: set[str] = field(default_factory=set)
    _lines: TomlLines | None = None

    def pipeline(self, pipeline: PipelineConfig, ruleset: Ruleset | None) -> PipelineCheck:
        """The ruleset (None: only the sinks) against the source, then every sink not
        checked yet in this run."""
        report, checked = AgainstReport(), []
        if ruleset is not None:
            found, line = self.source(pipeline, ruleset)
            report, checked = report + found, [line]
        for sink in pipeline.sinks:
            if sink not in self._sinks:
                self._sinks.add(sink)
                found, line = self.sink(sink)
                report, checked = report + found, [*checked, line]
        return PipelineCheck(pipeline.name, report, tuple(c for c in checked if c))

    def source(self, pipeline: PipelineConfig, ruleset: Ruleset) -> tuple[AgainstReport, str]:
        name = pipeline.source
        conn = self.config.connectors[name]
        if conn.spec.describe is None:
            return (
                AgainstReport(),
                f"{name}: its type ({conn.type}) declares no schema to check against",
            )
        if name in self._down:
            return AgainstReport(), ""
        try:
            schema = conn.spec.describe(self._instance(name), self._refresh(name))
        except SyncAgentError as exc:
            return self._unreachable(name, exc), ""
        report = check_against(ruleset.spec, schema, config=self.site(name))
        if schema.stale and name not in self._stale:
            self._stale.add(name)
            report += self._warn(
                name,
                schema.stale,
                "retry when it answers",
            )
        return report, f"{name}: rules checked against its schema of {_when(schema.fetched_at)}"

    def sink(self, name: str) -> tuple[AgainstReport, str]:
        conn = self.config.connectors[name]
        if conn.spec.check_targets is None or name in self._down:
            return AgainstReport(), ""
        try:
            found = conn.spec.check_targets(self._instance(name), self._refresh(name))
        except SyncAgentError as exc:
            return self._unreachable(name, exc), ""
        return self._targets(name, found), f"{name}: write-back targets checked"

    def site(self, name: str) -> ConfigSite:
        """Where an option of instance ``name`` is (or would be) in the config file."""

        def where(option: tuple[str, ...]) -> tuple[str, int | None, str]:
            shown = f"[connectors.{name}]" + (f" {'.'.join(option)}" if option else "")
            return (
                display_path(self.config.path),
                self._config_lines().line(("connectors", name, *option)),
                shown,
            )

        return where

    def _targets(self, name: str, found: list[TargetProblem]) -> AgainstReport:
        site = self.site(name)
        errors: list[Problem] = []
        warnings: list[Problem] = []
        for problem in found:
            if name in self._stale and not problem.option and problem.severity == "warning":
                continue  # the system could not be asked: said once already
            file, line, shown = site(problem.option)
            item = Problem(file, shown, problem.message, problem.hint, line)
            (warnings if problem.severity == "warning" else errors).append(item)
        return AgainstReport(tuple(errors), tuple(warnings))

    def _unreachable(self, name: str, exc: SyncAgentError) -> AgainstReport:
        self._down.add(name)
        settings = self.config.connectors[name].settings
        where = ", ".join(f"{k} = {v}" for k, v in _addresses(settings)) or "its settings"
        file, line, shown = self.site(name)(())
        return AgainstReport(
            (
                Problem(
                    file,
                    shown,
                    f"cannot read the schema of '{name}' and none is cached: {exc}",
                    f"check {where}, the network and the credentials, then retry",
                    line,
                ),
            )
        )

    def _warn(self, name: str, message: str, hint: str) -> AgainstReport:
        file, line, shown = self.site(name)(())
        return AgainstReport((), (Problem(file, shown, message, hint, line),))

    def _instance(self, name: str) -> Any:
        return self.config.instance(name, self.states.get(name))

    def _refresh(self, name: str) -> bool:
        """``refresh`` the first time an instance is asked in this check, then its cache."""
        first = name not in self._asked
        self._asked.add(name)
        return self.refresh and first

    def _config_lines(self) -> TomlLines:
        if self._lines is None:
            try:
                self._lines = TomlLines(read_config_text(Path(self.config.path)))
            except ConfigError:  # it was read a moment ago; without it, problems lack lines
                self._lines = TomlLines("")
        return self._lines


def _when(stamp: str) -> str:
    """``2026-12-02 17:23 UTC`` from an ISO time (as it is when it is not one)."""
    return f"{stamp[:16].replace('T', ' ')} UTC" if len(stamp) >= 16 else stamp


def _addresses(settings: Any) -> list[tuple[str, str]]:
    """The instance's ``*_url`` settings: where it talks to (named in an error)."""
    names = getattr(type(settings), "model_fields", {})
    return [(k, str(getattr(settings, k))) for k in names
            if k.endswith("_url") and getattr(settings, k, None)]  # fmt: skip
