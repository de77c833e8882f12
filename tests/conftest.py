"""Shared test helpers live in this folder (``plugin_kit``): make them importable."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
