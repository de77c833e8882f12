"""What ships inside the package: the default ruleset, its lists, rule tests and example leads.

They live in the repository's top-level ``rules/`` folder, which the package exposes as
``sync_agent/defaults`` (a symlink in the source tree, real files in a wheel), so that
``pip install sync-agent`` (not editable) and ``sync-agent demo`` from any folder find them.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def rules_dir() -> Path:
    """The shipped rules folder (``sal.toml``, ``lists/``, ``tests/``, ``examples/``)."""
    return Path(str(files("sync_agent") / "defaults"))


def default_ruleset() -> Path:
    """The default ruleset, ``sal.toml``."""
    return rules_dir() / "sal.toml"
