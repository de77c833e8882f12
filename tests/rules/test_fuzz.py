"""Property-based fuzzing of the three ways into the rules engine (ruleset files, rule test
files, leads), through the library and through the CLI, on a small budget.

The strategies and the promise each input must keep live in bench/fuzz_inputs.py, shared
with ``bench/fuzz.py`` for longer runs: no exception but ``RulesError``, exit codes 0, 1
or 2, never a traceback, output that encodes as UTF-8.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def _load() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "fuzz_inputs.py"
    spec = importlib.util.spec_from_file_location("fuzz_inputs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fuzz_inputs", module)
    spec.loader.exec_module(module)
    return module


FUZZ = _load()
#: Library targets get more examples than the (slower) CLI ones: a few seconds in all.
BUDGET = {"ruleset": 40, "rule_tests": 25, "lead": 40, "cli_ruleset": 6, "cli_rule_tests": 6,
          "cli_lead": 6}  # fmt: skip


@pytest.mark.timeout(120)  # a safety net only
@pytest.mark.parametrize(
    ("name", "strategy", "check"), FUZZ.TARGETS, ids=[t[0] for t in FUZZ.TARGETS]
)
def test_hostile_inputs_never_escape_as_exceptions(
    name: str, strategy: st.SearchStrategy[str], check: Callable[[str], None]
) -> None:
    @settings(
        max_examples=BUDGET[name],
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(text: str) -> None:
        check(text)

    run()
