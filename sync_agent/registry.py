"""The installed connectors, found through the ``sync_agent.connectors`` entry points.

This is the only registry: the built-in connectors register themselves in the project's
``pyproject.toml`` exactly as a third-party package would (APScheduler and sqlite-utils
find their plugins the same way). A connector is imported only when it is used, so one
broken package does not stop the others; using it gives a :class:`ConfigError` naming
the entry point and the import failure.
"""

from __future__ import annotations

import copyreg
import difflib
from collections.abc import Iterable
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from connectors.base import ConnectorSpec
from sync_agent.errors import ConfigError, Problem

GROUP = "sync_agent.connectors"


class Registry:
    """Connector types by name, loaded lazily from their entry points."""

    def __init__(self, points: Iterable[EntryPoint] = (), specs: Iterable[ConnectorSpec] = ()):
        self._points = {ep.name: ep for ep in points}
        self._loaded: dict[str, ConnectorSpec] = {spec.name: spec for spec in specs}

    def names(self) -> list[str]:
        """Every installed connector type (without importing any)."""
        return sorted({*self._points, *self._loaded})

    def get(self, name: str, *, where: str = "connectors") -> ConnectorSpec:
        """The spec of connector type ``name``; a ConfigError says what is wrong."""
        if name in self._loaded:
            return self._loaded[name]
        point = self._points.get(name)
        if point is None:
            close = difflib.get_close_matches(name, self.names(), n=1)
            hint = f"did you mean {close[0]!r}?" if close else ""
            hint = hint or f"installed connectors: {', '.join(self.names()) or 'none'}"
            raise ConfigError(
                f"unknown connector type {name!r}",
                [Problem("", where, f"unknown connector type {name!r}", hint)],
            )
        try:
            spec = point.load()
        except Exception as exc:  # any import-time failure of a plugin is the plugin's
            message = (
                f"connector {name!r} (entry point {point.name} = {point.value}) failed to "
                f"import: {type(exc).__name__}: {exc}"
            )
            raise ConfigError(
                message,
                [Problem("", where, message, "reinstall or fix the package that provides it")],
            ) from exc
        if not isinstance(spec, ConnectorSpec) or spec.name != name:
            message = (
                f"entry point {point.name} = {point.value} is not the ConnectorSpec of "
                f"connector {name!r}"
            )
            raise ConfigError(message, [Problem("", where, message)])
        self._loaded[name] = spec
        return spec

    def raw_prefixes(self) -> list[str]:
        """The ``<prefix>.`` of every connector that imports (rules reach raw properties so)."""
        prefixes: list[str] = []
        for name in self.names():
            try:
                prefixes.extend(self.get(name).raw_prefixes)
            except ConfigError:
                continue
        return sorted(set(prefixes))

    def specs(self) -> list[ConnectorSpec]:
        """Every spec that imports (broken ones are left out; ``get`` explains them)."""
        out = []
        for name in self.names():
            try:
                out.append(self.get(name))
            except ConfigError:
                continue
        return out


@cache
def installed() -> Registry:
    """The connectors installed in this environment (scanned once per process)."""
    return Registry(entry_points(group=GROUP))


def rescan() -> Registry:
    """Forget the scan (tests that install a connector on ``sys.path``) and scan again."""
    installed.cache_clear()
    return installed()


def _installed_spec(name: str) -> ConnectorSpec:
    return installed().get(name)


def _pickled_by_name(spec: ConnectorSpec) -> tuple[Any, tuple[str]]:
    """A connector type is code: it pickles by name and is found again among the installed
    ones (a backfill's writer process rebuilds its sinks from the configuration so)."""
    return (_installed_spec, (spec.name,))


copyreg.pickle(ConnectorSpec, _pickled_by_name)
