"""The file connector: leads from a CSV or JSON Lines file, as a source (type ``file``).

It proves the plugin shape: everything about it lives in this package plus one entry
point line in ``pyproject.toml``; the worked example of ``docs/connectors.md``. Sinks
match its leads by e-mail (there are no CRM ids in a file).
"""

from __future__ import annotations

from connectors.base import ConnectorSpec, Instance
from connectors.file.settings import FileSettings
from connectors.file.source import RAW_PREFIX, FileSource


def _source(instance: Instance) -> FileSource:
    return FileSource(instance.settings, instance.name)


def _check(instance: Instance) -> list[tuple[str, bool, str]]:
    source = _source(instance)
    if not source.path.is_file():
        return [("file", False, f"not found: {source.path}")]
    return [("file", True, f"{source.path}: {source.total()} row(s)")]


CONNECTOR = ConnectorSpec(
    name="file",
    title="File",
    summary="leads from a CSV or JSON Lines file (a trade-show list, an export)",
    raw_prefix=RAW_PREFIX,
    settings=FileSettings,
    build_source=_source,
    check_connection=_check,
    start_position=lambda since_ms: {},
)

__all__ = ["CONNECTOR", "FileSettings", "FileSource"]
