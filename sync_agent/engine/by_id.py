"""``run_ids``: one pass of a pipeline over records named by id (webhook-triggered).

The same run as :func:`~sync_agent.engine.run_once` (resume open writes, decide, record
decisions and pending writes in one transaction, write through the outbox, supersede older
writes), with one difference: instead of reading from the pipeline's cursor, the source
reads the given records (``Source.read_ids``), and no cursor moves. Records that are not
MQLs (any more) are left out by the source; records already handed off, or unchanged
since their last decision, are skipped as in any run. The run is recorded with mode
``webhook``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from connectors.base import Cursor, Page, Source
from sync_agent.config import Config
from sync_agent.engine.once import opened, prepare
from sync_agent.engine.run import Clock, RunContext, RunSummary, execute, utc_now
from sync_agent.errors import ConfigError, Problem

MODE = "webhook"


@dataclass
class IdsSource:
    """A source's ``read_ids`` seen through the ``Source`` protocol (what ``execute`` reads)."""

    inner: Source
    ids: Sequence[str]
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.name or self.inner.name

    @property
    def api_calls(self) -> Any:
        return getattr(self.inner, "api_calls", None)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()

    def read(self, cursor: Cursor, *, until_ms: int | None = None) -> Iterator[Page]:
        reader = getattr(self.inner, "read_ids", None)
        if not callable(reader):
            raise ConfigError(
                f"source {self.inner.name!r} cannot read records by id",
                [Problem("", f"connectors.{self.inner.name}", "has no read_ids")],
            )
        yield from reader(list(self.ids))


def can_read_ids(source: Source) -> bool:
    """Whether a built source reads records by id (webhook runs need it)."""
    return callable(getattr(source, "read_ids", None))


def run_ids(
    config: Config,
    *,
    pipeline: str,
    ids: Sequence[str],
    clock: Clock | None = None,
    stop: threading.Event | None = None,
) -> RunSummary:
    """Decide and hand off the MQLs among source records ``ids`` of ``pipeline``.

    Takes the agent lock (re-entrant within ``serve``); raises AgentLocked when another
    process holds it. A pipeline that cannot be built is recorded as a failed run.
    """
    clock = clock or utc_now
    spec = config.pipeline(pipeline)
    with opened(config, lock=True) as audit:
        built = prepare(config, audit, spec, MODE, clock)
        if isinstance(built, RunSummary):
            return built
        ctx = RunContext(
            config, audit, replace(built, source=IdsSource(built.source, list(ids))),
            RunSummary(spec.name, MODE), clock=clock, stop=stop,
        )  # fmt: skip
        return execute(ctx, cursor_kind=None, start=None)
