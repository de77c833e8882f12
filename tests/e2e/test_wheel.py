"""It works from a wheel: a non-editable install runs the demo from another folder.

The default ruleset and its lists ship as package data and the connectors as entry
points, so nothing may depend on the source checkout. The wheel is built offline and
installed into a fresh virtual environment that borrows only the dependencies.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_wheel_installed_elsewhere_runs_the_demo(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(dist), str(ROOT)],
        check=True, capture_output=True, cwd=tmp_path,
    )  # fmt: skip
    [wheel] = dist.glob("sync_agent-*.whl")
    venv = tmp_path / "w"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    site = Path(subprocess.check_output(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True
    ).strip())  # fmt: skip
    # The dependencies (not sync-agent) come from the test's own environment.
    (site / "borrowed-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    shipped = site / "sync_agent" / "defaults" / "sal.toml"
    assert shipped.is_file() and not shipped.is_symlink(), "the rules ship as real files"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run(
        [str(venv / "bin" / "sync-agent"), "demo", "--contacts", "300"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "Exactly once" in run.stdout
    where = subprocess.check_output(
        [str(python), "-c", "import sync_agent, connectors; print(sync_agent.__file__)"],
        cwd=elsewhere, env=env, text=True,
    )  # fmt: skip
    assert where.startswith(str(site)), "the installed wheel ran, not the checkout"
