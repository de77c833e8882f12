"""Smoke size: ``SYNC_AGENT_BENCH_SMOKE=1`` shrinks a benchmark to a few seconds.

``tests/test_readme.py`` runs every command the README shows, the benchmarks included; at
their real sizes they take minutes, so under this variable each bench swaps its size
defaults for small ones (flags given on the command line still win). Figures from a smoke
run mean nothing: it only proves the command runs and prints its JSON line.
"""

from __future__ import annotations

import argparse
import os

ENV = "SYNC_AGENT_BENCH_SMOKE"


def smoke(parser: argparse.ArgumentParser, **small: object) -> None:
    """Make ``small`` the parser's defaults when the smoke variable is set."""
    if os.environ.get(ENV, "") not in ("", "0"):
        parser.set_defaults(**small)
