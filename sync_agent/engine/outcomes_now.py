"""``sync-agent outcomes``: the outcome read-back on its own, outside a run.

Builds each selected pipeline's sinks that can read outcomes back (with their instance
state, so the day's API usage counts and is kept), runs :func:`read_back` under the agent
lock, and closes them. A sink that cannot be built is reported like a failed read-back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from connectors.base import Sink
from sync_agent.config import Config
from sync_agent.engine.once import opened
from sync_agent.engine.outcomes import SinkReadBack, can_read, read_back
from sync_agent.logs import get_logger


def read_outcomes_now(
    config: Config, *, pipeline: str | None = None, clock: Callable[[], datetime] | None = None
) -> list[SinkReadBack]:
    """``sync-agent outcomes``: the read-back alone, for each selected pipeline's sinks.

    Takes the agent lock (raises AgentLocked when another agent holds it); each sink is
    built with its instance state (so the day's API usage counts) and closed after.
    """
    clock = clock or (lambda: datetime.now(UTC))
    out: list[SinkReadBack] = []
    with opened(config, lock=True) as audit:
        states = audit.connector_states(config)
        for spec in config.selected(pipeline):
            log = get_logger("sync_agent.outcomes", pipeline=spec.name)
            sinks: dict[str, Sink] = {}
            for name in spec.sinks:
                if not can_read(config, name):
                    continue
                instance = config.instance(name, states.get(name))
                try:
                    builder = instance.spec.build_sink
                    assert builder is not None  # config validation: a sink has a builder
                    sinks[name] = builder(instance)
                except Exception as exc:  # a sink that cannot be built is reported, not raised
                    failed = SinkReadBack(spec.name, name, error=f"{type(exc).__name__}: {exc}")
                    log.warning("outcomes_read_failed", sink=name, error=failed.error)
                    out.append(failed)
            try:
                out += read_back(config, audit, spec.name, sinks, clock, log, force=True)
            finally:
                for sink in sinks.values():
                    close = getattr(sink, "close", None)
                    if callable(close):
                        close()
    return out
