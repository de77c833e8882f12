"""Install a connector for a test the way a real plugin is installed: an entry point.

``installed_entry_points(folder, {"name": "module:ATTR"})`` writes a minimal distribution
(``*.dist-info`` with ``entry_points.txt``) into ``folder``, puts it on ``sys.path`` and
rescans the registry; on exit it removes it again. So tests exercise the same discovery
path as ``pip install some-connector`` would.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sync_agent import registry


@contextmanager
def installed_entry_points(folder: Path, points: Mapping[str, str]) -> Iterator[Path]:
    info = folder / "sync_agent_test_plugins-0.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: sync-agent-test-plugins\nVersion: 0.0\n"
    )
    lines = [f"{name} = {target}" for name, target in points.items()]
    (info / "entry_points.txt").write_text("[sync_agent.connectors]\n" + "\n".join(lines) + "\n")
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    registry.rescan()
    try:
        yield folder
    finally:
        sys.path.remove(str(folder))
        importlib.invalidate_caches()
        registry.rescan()
