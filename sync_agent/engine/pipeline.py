"""Build a pipeline's parts (source, ruleset, sinks) from the configuration.

Connectors are reached only through their specs (:class:`connectors.base.ConnectorSpec`,
found by :mod:`sync_agent.registry`) and the instances the configuration holds; the
ruleset is loaded by the caller and passed in, so nothing here depends on how rulesets
are parsed and tests can hand in any object with ``name``, ``hash`` and ``evaluate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from connectors.base import Instance, Sink, Source, StateStore
from sync_agent.config import Config, PipelineConfig
from sync_agent.errors import ConfigError, Problem
from sync_agent.model import Decision
from sync_agent.rules import Ruleset, load_ruleset


class Rules(Protocol):
    """What the engine needs of a ruleset: its identity and a pure decision function."""

    @property
    def name(self) -> str: ...

    @property
    def hash(self) -> str: ...

    def evaluate(self, fields: Mapping[str, Any], now: datetime) -> Decision: ...


@dataclass
class Pipeline:
    """A configured pipeline, ready to run: its source, ruleset and sinks."""

    config: PipelineConfig
    source: Source
    sinks: dict[str, Sink]
    ruleset: Rules
    instance: Instance  # the source's

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def rules_name(self) -> str:
        return self.ruleset.name

    @property
    def rules_hash(self) -> str:
        return self.ruleset.hash

    def evaluate(self, fields: Mapping[str, Any], now: datetime) -> Decision:
        return self.ruleset.evaluate(fields, now)


def load_pipeline_ruleset(config: Config, pipeline: PipelineConfig) -> Ruleset:
    """The pipeline's ruleset, validated with the raw-property prefixes of its source."""
    source = config.connectors[pipeline.source].spec
    return load_ruleset(pipeline.ruleset, raw_prefixes=source.raw_prefixes)


def build_pipeline(
    config: Config,
    pipeline: PipelineConfig,
    ruleset: Rules,
    *,
    sinks: bool = True,
    state: Mapping[str, StateStore] | None = None,
) -> Pipeline:
    """Build the source and (unless ``sinks=False``) the sinks around ``ruleset``.

    ``state`` gives each connector instance its store (by instance name).
    """
    stores = state or {}
    source_instance = config.instance(pipeline.source, stores.get(pipeline.source))
    source = _builder(config, source_instance, "source")(source_instance)
    built: dict[str, Sink] = {}
    if sinks:
        for name in pipeline.sinks:
            instance = config.instance(name, stores.get(name))
            built[name] = _builder(config, instance, "sink")(instance)
    return Pipeline(pipeline, source, built, ruleset, source_instance)


def _builder(config: Config, instance: Instance, role: str) -> Any:
    builder = getattr(instance.spec, f"build_{role}")
    if builder is None:  # config validation refuses this; a spec may still change under us
        raise ConfigError(
            f"connector {instance.name!r} ({instance.spec.name}) cannot be a {role}",
            [Problem(str(config.path), f"connectors.{instance.name}", f"not a {role}")],
        )
    return builder
