"""Fuzz the rules engine for longer than the test suite does.

    .venv/bin/python bench/fuzz.py [--examples 500] [--seed 1] [--target ruleset ...]

Runs every target of bench/fuzz_inputs.py (ruleset files, rule test files and leads,
through the library and through the CLI) with ``--examples`` generated inputs each. A
failure is an exception other than the documented ones, an exit code outside {0, 1, 2},
a traceback in the output, or one input taking more than 10 s. Each failure prints the
smallest input hypothesis finds for it; the last line is one JSON object:
``{"inputs": N, "failures": F, "seconds": S, ...}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import fuzz_inputs  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SLOW_S = 10.0


def run_target(
    name: str,
    strategy: st.SearchStrategy[str],
    check: Callable[[str], None],
    args: argparse.Namespace,
) -> dict[str, float | int]:
    """Run one target; returns its counts (a failure stops the target, as in hypothesis)."""
    counts: dict[str, float | int] = {"inputs": 0, "failures": 0, "slowest_s": 0.0}

    def timed(text: str) -> None:
        counts["inputs"] += 1
        start = time.perf_counter()
        check(text)
        took = time.perf_counter() - start
        counts["slowest_s"] = max(counts["slowest_s"], round(took, 3))
        assert took <= SLOW_S, f"{name}: one input took {took:.1f} s (limit {SLOW_S:g} s)"

    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if args.shrink else [])
    run = seed(args.seed)(settings(
        max_examples=args.examples, deadline=None, database=None, phases=phases,
        suppress_health_check=list(HealthCheck), print_blob=True,
    )(given(strategy)(timed)))  # fmt: skip
    try:
        run()
    except Exception:  # a failure of the engine under test: report it and go on
        counts["failures"] += 1
        print(f"FAIL {name}:", file=sys.stderr)
        traceback.print_exc(limit=8)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=500, help="inputs per target")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target", action="append", help="only these targets (repeatable)")
    parser.add_argument(
        "--no-shrink", dest="shrink", action="store_false", help="report inputs as found"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    per_target = {}
    for name, strategy, check in fuzz_inputs.TARGETS:
        if args.target and name not in args.target:
            continue
        counts = run_target(name, strategy, check, args)
        per_target[name] = counts
        print(f"{name}: {counts['inputs']} inputs, {counts['failures']} failure(s), "
              f"slowest {counts['slowest_s']:.2f} s", flush=True)  # fmt: skip
    summary = {
        "inputs": sum(int(c["inputs"]) for c in per_target.values()),
        "failures": sum(int(c["failures"]) for c in per_target.values()),
        "seconds": round(time.perf_counter() - started, 1),
        "slowest_input_s": max((float(c["slowest_s"]) for c in per_target.values()), default=0.0),
        "examples_per_target": args.examples,
        "seed": args.seed,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
