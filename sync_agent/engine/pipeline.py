"""Build a pipeline's parts (source, ruleset, sinks) from the configuration.

The engine knows connectors only through a small :class:`ConnectorFactory` registry:
``hubspot`` and ``salesforce`` map lazily onto their packages' factories
(``build_source``, ``build_sink``, ``check_connection``, ``<Name>Settings.from_options``);
tests register in-memory fakes under other names. The rules engine is reached through
:data:`RULES` so that nothing here depends on how rulesets are parsed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from connectors.base import Sink, Source
from sync_agent.config import Config, PipelineConfig
from sync_agent.model import Decision


class ConnectorFactory(Protocol):
    """What the engine needs from a connector package."""

    def validate(self, options: Mapping[str, Any]) -> None: ...  # raises ConfigError
    def build_source(self, options: Mapping[str, Any], secrets: Mapping[str, str]) -> Source: ...
    def build_sink(self, options: Mapping[str, Any], secrets: Mapping[str, str]) -> Sink: ...
    def check_connection(
        self, options: Mapping[str, Any], secrets: Mapping[str, str]
    ) -> list[tuple[str, bool, str]]: ...


class ModuleConnector:
    """A connector package (``connectors.<name>``) imported on first use."""

    def __init__(self, module: str, settings: str) -> None:
        self.module_name = module
        self.settings_name = settings

    def _module(self) -> Any:
        return importlib.import_module(self.module_name)

    def validate(self, options: Mapping[str, Any]) -> None:
        getattr(self._module(), self.settings_name).from_options(options)

    def build_source(self, options: Mapping[str, Any], secrets: Mapping[str, str]) -> Source:
        source: Source = self._module().build_source(options, secrets)
        return source

    def build_sink(self, options: Mapping[str, Any], secrets: Mapping[str, str]) -> Sink:
        sink: Sink = self._module().build_sink(options, secrets)
        return sink

    def check_connection(
        self, options: Mapping[str, Any], secrets: Mapping[str, str]
    ) -> list[tuple[str, bool, str]]:
        result: list[tuple[str, bool, str]] = self._module().check_connection(options, secrets)
        return result


_REGISTRY: dict[str, ConnectorFactory] = {
    "hubspot": ModuleConnector("connectors.hubspot", "HubSpotSettings"),
    "salesforce": ModuleConnector("connectors.salesforce", "SalesforceSettings"),
}


def register_connector(name: str, factory: ConnectorFactory) -> None:
    """Make ``name`` usable in ``[connectors.NAME]`` and in pipelines (tests, plugins)."""
    _REGISTRY[name] = factory


def unregister_connector(name: str) -> None:
    _REGISTRY.pop(name, None)


def connector_names() -> list[str]:
    return sorted(_REGISTRY)


def get_connector(name: str) -> ConnectorFactory:
    return _REGISTRY[name]


class RulesBackend(Protocol):
    """The two calls the engine makes into the rules engine."""

    def load(self, path: Any) -> Any: ...
    def evaluate(self, fields: Mapping[str, Any], ruleset: Any, now: datetime) -> Decision: ...


class _DefaultRules:
    """``sync_agent.rules``: ``load_ruleset(path)`` and ``evaluate(fields, ruleset, now)``."""

    def load(self, path: Any) -> Any:
        return importlib.import_module("sync_agent.rules").load_ruleset(path)

    def evaluate(self, fields: Mapping[str, Any], ruleset: Any, now: datetime) -> Decision:
        decision: Decision = importlib.import_module("sync_agent.rules").evaluate(
            fields, ruleset, now
        )
        return decision


#: The rules backend in use; tests may swap it for a tiny stand-in.
RULES: list[RulesBackend] = [_DefaultRules()]


@dataclass
class Pipeline:
    """A configured pipeline, ready to run: its source, ruleset and sinks."""

    config: PipelineConfig
    source: Source
    sinks: dict[str, Sink]
    ruleset: Any
    evaluator: Callable[[Mapping[str, Any], Any, datetime], Decision]

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def rules_name(self) -> str:
        return str(getattr(self.ruleset, "name", ""))

    @property
    def rules_hash(self) -> str:
        return str(getattr(self.ruleset, "hash", ""))

    def evaluate(self, fields: Mapping[str, Any], now: datetime) -> Decision:
        return self.evaluator(fields, self.ruleset, now)


def build_pipeline(config: Config, pipeline: PipelineConfig, *, sinks: bool = True) -> Pipeline:
    """Load the ruleset (RulesError), build the source and (unless ``sinks=False``) the sinks."""
    rules = RULES[0]
    ruleset = rules.load(pipeline.ruleset)
    source = get_connector(pipeline.source).build_source(
        config.connectors.get(pipeline.source, {}), config.secrets
    )
    built: dict[str, Sink] = {}
    if sinks:
        for name in pipeline.sinks:
            built[name] = get_connector(name).build_sink(
                config.connectors.get(name, {}), config.secrets
            )
    return Pipeline(pipeline, source, built, ruleset, rules.evaluate)
