"""Peak RSS of the agent process during backfills of 20,000 and 100,000 MQLs.

The sandbox runs in another process (``sync-agent sandbox serve``, limits off); the agent
runs ``sync-agent backfill`` as a child of this script. A long backfill writes from a
process of its own (``--writer auto``), so the agent is two processes: their resident
sets are sampled together every 50 ms and the peak of the sum is reported (a process's
own ``ru_maxrss`` would leave the writer out). Targets: the 100k peak under 200 MB and
within 1.2x of the 20k peak (the agent streams; it holds no whole-history lists).

    .venv/bin/python bench/memory.py [--sizes 20000 100000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import emit
from _smoke import smoke

CLI = [sys.executable, "-m", "sync_agent.cli"]


def peak_rss_mb(mqls: int, seed: int) -> tuple[float, int]:
    """Backfill ``mqls`` MQLs from a fresh sandbox; the agent's peak RSS and exit code."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "sync-agent.toml"
        sandbox = subprocess.Popen(
            [*CLI, "sandbox", "serve", "--contacts", str(mqls), "--mql-share", "1.0",
             "--seed", str(seed), "--write-config", str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            assert sandbox.stdout is not None
            json.loads(sandbox.stdout.readline())  # ready once it printed its JSON line
            subprocess.run([*CLI, "hubspot", "setup-properties", "--config", str(config)],
                           check=True, capture_output=True)  # fmt: skip
            agent = subprocess.Popen(
                [*CLI, "backfill", "--since", "2000-01-01", "--config", str(config), "--json"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            peak, pss, own = _peak_rss(agent)
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=30)
    print(f"{mqls:,} MQLs: peak {peak / 2**20:.1f} MB resident in all ({pss / 2**20:.1f} MB "
          f"proportional), the page-loop process alone {own / 2**20:.1f} MB")  # fmt: skip
    return peak / 2**20, agent.returncode


def _peak_rss(agent: subprocess.Popen[bytes]) -> tuple[int, int, int]:
    """Until ``agent`` ends, the largest sums over it and its children of their resident
    sets and of their proportional sets (PSS: a page two processes share counts half in
    each, as a container's memory accounting counts it once), and the agent's own
    largest resident set (its writer process is the rest)."""
    root = psutil.Process(agent.pid)
    peak = peak_pss = own = 0
    while agent.poll() is None:
        total = pss = 0
        try:
            for proc in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    info = proc.memory_full_info()
                    total += info.rss
                    pss += getattr(info, "pss", info.rss)  # PSS is Linux's; RSS elsewhere
                    own = max(own, info.rss) if proc is root else own
        except psutil.Error:  # the agent ended between poll() and here
            break
        peak, peak_pss = max(peak, total), max(peak_pss, pss)
        time.sleep(0.05)
    return peak, peak_pss, own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[20_000, 100_000])
    smoke(parser, sizes=[100, 200])  # SYNC_AGENT_BENCH_SMOKE=1: a few seconds (README test)
    args = parser.parse_args()
    small, large = args.sizes
    rss_small, rc_small = peak_rss_mb(small, seed=21)
    rss_large, rc_large = peak_rss_mb(large, seed=22)
    print(f"peak RSS: {rss_small:.1f} MB for {small:,} MQLs (exit {rc_small}), "
          f"{rss_large:.1f} MB for {large:,} MQLs (exit {rc_large}); "
          f"ratio {rss_large / rss_small:.2f}")  # fmt: skip
    emit({"peak_rss_mb_20k": round(rss_small, 1), "peak_rss_mb_100k": round(rss_large, 1)})


if __name__ == "__main__":
    main()
