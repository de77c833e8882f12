"""Shared test helpers live in this folder (``plugin_kit``): make them importable.

``tests/connectors`` mirrors the ``connectors`` package's layout without being a package,
so the real packages are imported first: otherwise, with this folder at the front of
``sys.path``, ``import connectors`` would find the test folder (a namespace package) when
pytest is run as ``pytest`` rather than ``python -m pytest``."""

from __future__ import annotations

import sys
from pathlib import Path

import connectors  # noqa: F401  (see the docstring)
import sync_agent  # noqa: F401

sys.path.insert(0, str(Path(__file__).parent))
