"""Every command the README shows runs, in README order, with the exit code the README claims.

Commands are the lines of the README's ``sh`` blocks and the ``$ `` lines of its ``console``
blocks (whose other lines are the output shown: each must appear in the real output, ``…``
standing for anything). A trailing ``# exits N`` says a command is meant to fail with N;
otherwise it must exit 0. They run in a fresh folder holding a copy of ``rules/``, as a new
user in a checkout would:

- ``sync-agent sandbox serve ...`` starts in the background (the README's "terminal 1") and
  runs until the end; ``sync-agent serve ...`` is started (on a free port instead of the one
  written), asked for ``/healthz`` and stopped with SIGTERM;
- any other ``sync-agent ...`` runs in-process (``CliRunner``: no interpreter start-up each);
- ``make TARGET`` is checked with ``make -n`` (never ``make test`` inside the tests);
- ``python bench/...`` runs with ``SYNC_AGENT_BENCH_SMOKE=1`` (a few seconds each), in
  parallel with the rest, and must print its JSON line last;
- ``sqlite3 ...`` and ``bash ...`` run as written; ``source .venv/bin/activate`` is the
  environment the test already has.

Any other command fails the test: a command added to the README comes with a way to run it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sync_agent.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CLI = [sys.executable, "-m", "sync_agent.cli"]
SMOKE = {"SYNC_AGENT_BENCH_SMOKE": "1"}
EXITS = re.compile(r"#\s*exits (\d+)")


@dataclass
class Command:
    line: int  # README line number
    text: str  # as written, without the prompt
    exit_code: int = 0
    shown: list[str] = field(default_factory=list)  # output lines a console block shows

    @property
    def args(self) -> list[str]:
        return shlex.split(self.text, comments=True)

    def where(self) -> str:
        return f"README.md:{self.line}: {self.text}"


def readme_commands(text: str) -> list[Command]:
    """The commands of the ``sh`` and ``console`` blocks, in order."""
    out: list[Command] = []
    block: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        fence = re.match(r"^```(\S*)", line)
        if fence:
            block = None if block is not None else fence.group(1)
            continue
        if block == "sh" and line.strip() and not line.lstrip().startswith("#"):
            out.append(_command(number, line.strip()))
        elif block == "console":
            if line.startswith("$ "):
                out.append(_command(number, line[2:].strip()))
            elif line.strip() and out and out[-1].line < number:
                out[-1].shown.append(line.rstrip())
    return out


def _command(number: int, text: str) -> Command:
    found = EXITS.search(text)
    return Command(number, text, int(found.group(1)) if found else 0)


def test_the_readme_has_commands_of_each_kind() -> None:
    kinds = {_kind(c) for c in readme_commands(README.read_text(encoding="utf-8"))}
    assert {"sandbox", "serve", "cli", "make", "bench", "sqlite3"} <= kinds


def test_commands_are_read_from_sh_and_console_blocks_only() -> None:
    text = "\n".join([
        "```sh", "# a comment", "sync-agent run --once   # exits 4",
        "curl -s localhost/healthz", "```",
        "```console", "$ sync-agent rules test", "3 of 3 rule test case(s) passed", "```",
        "```ini", "ExecStart=sync-agent run", "```",
        "```toml", "sync-agent = 1", "```",
    ])  # fmt: skip
    commands = readme_commands(text)
    assert [(c.line, c.text, c.exit_code) for c in commands] == [
        (3, "sync-agent run --once   # exits 4", 4),
        (4, "curl -s localhost/healthz", 0),
        (7, "sync-agent rules test", 0),
    ]
    assert commands[2].shown == ["3 of 3 rule test case(s) passed"]
    assert [_kind(c) for c in commands] == ["cli", None, "cli"], "curl: not known, so it fails"
    assert _shown_in("… of … passed", "51 of 51 rule test case(s) passed")
    assert not _shown_in("4 of 4", "3 of 3 rule test case(s) passed")


def test_every_readme_command_runs_as_the_readme_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    unknown = [c.where() for c in commands if _kind(c) is None]
    assert unknown == [], "README commands this test does not know how to run"
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    monkeypatch.chdir(tmp_path)
    for name in ("HUBSPOT_ACCESS_TOKEN", "SALESFORCE_SESSION_ID", "SALESFORCE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    walk = time.monotonic()
    failures: list[str] = []
    with _background() as started:
        benches = {c.where(): _start_bench(c) for c in commands if _kind(c) == "bench"}
        started.extend(benches.values())
        for c in commands:
            kind = _kind(c)
            if kind == "bench":
                continue
            if kind == "sandbox":
                started.append(_start_sandbox(c, tmp_path))
                continue
            began = time.monotonic()
            code, output = RUNNERS[kind](c, tmp_path)
            print(f"{time.monotonic() - began:5.1f} s  {c.where()}")  # shown with -s or on failure
            if code != c.exit_code:
                failures.append(f"{c.where()}\n  exit {code}, README says {c.exit_code}\n{output}")
            missing = [s for s in c.shown if not _shown_in(s, output)]
            if missing:
                failures.append(f"{c.where()}\n  output lacks {missing}\n{output}")
        for where, proc in benches.items():
            out, err = proc.communicate(timeout=300)
            print(f"bench done at {time.monotonic() - walk:5.1f} s  {where}")
            last = out.strip().splitlines()[-1] if out.strip() else ""
            if proc.returncode != 0 or not last.startswith("{"):
                failures.append(f"{where}\n  exit {proc.returncode}\n{out[-2000:]}{err[-2000:]}")
            else:
                json.loads(last)
    assert failures == [], "\n\n".join(failures)


def test_the_readme_error_sample_is_what_rules_check_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's sample error line, from the typo it describes, is printed verbatim."""
    text = README.read_text(encoding="utf-8")
    [sample] = re.findall(r"^error: rules/sal\.toml:.*$", text, re.M)
    typo = re.search(r'With `op = "(\w+)"` typed on line (\d+) of `rules/sal\.toml`', text)
    assert typo, "the README says which typo gives the sample"
    wrong, number = typo.group(1), int(typo.group(2))
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    ruleset = tmp_path / "rules" / "sal.toml"
    lines = ruleset.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[number - 1], n = re.subn(r'op = "\w+"', f'op = "{wrong}"', lines[number - 1])
    assert n == 1, f"line {number} of rules/sal.toml has no op to mistype"
    ruleset.write_text("".join(lines), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(main, ["rules", "check", "rules/"])
    assert out.exit_code == 1
    assert sample in out.output.splitlines()


def test_the_commands_table_names_every_command() -> None:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Commands") :].split("\n\n")[1]
    missing = [" ".join(path) for path in _leaf_commands(main, []) if " ".join(path) not in table]
    assert missing == []


# -- what each kind of command is, and how it runs ---------------------------------------


def _kind(c: Command) -> str | None:
    args = c.args
    if not args:
        return None
    if args[:2] == ["source", ".venv/bin/activate"]:
        return "setup"
    if args[0] == "sync-agent":
        if args[1:3] == ["sandbox", "serve"]:
            return "sandbox"
        return "serve" if args[1:2] == ["serve"] else "cli"
    if args[0] == "make" and len(args) == 2:
        return "make"
    if args[0] == "python" and len(args) > 1 and args[1].startswith("bench/"):
        return "bench"
    if args[0] in ("sqlite3", "bash"):
        return args[0]
    return None


def _run_setup(c: Command, tmp: Path) -> tuple[int, str]:
    return 0, ""  # the test runs in the virtual environment already


def _run_cli(c: Command, tmp: Path) -> tuple[int, str]:
    out = CliRunner().invoke(main, c.args[1:])
    if out.exception is not None and not isinstance(out.exception, SystemExit):
        return 99, f"{out.output}\n{out.exception!r}"
    return out.exit_code, out.output


def _run_make(c: Command, tmp: Path) -> tuple[int, str]:
    proc = subprocess.run(["make", "-n", c.args[1]], cwd=ROOT, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def _run_process(c: Command, tmp: Path) -> tuple[int, str]:
    args = c.args
    if args[0] == "sqlite3" and shutil.which("sqlite3") is None:
        with sqlite3.connect(tmp / args[1]) as db:  # the same query, without the shell
            return 0, "\n".join("|".join(map(str, row)) for row in db.execute(args[2]))
    proc = subprocess.run(args, cwd=tmp, capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def _run_serve(c: Command, tmp: Path) -> tuple[int, str]:
    """Start ``serve`` on a free port, wait until it answers, stop it with SIGTERM."""
    args = c.args[1:]
    port = _free_port()
    if "--port" in args:
        args[args.index("--port") + 1] = str(port)
    else:
        args += ["--port", str(port)]
    proc = subprocess.Popen([*CLI, *args], cwd=tmp, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        answered = _wait_for_http(f"http://127.0.0.1:{port}/healthz", proc, seconds=90)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if not answered:
        return 98, f"never answered /healthz\n{out}{err}"
    return proc.returncode, out + err


RUNNERS = {
    "setup": _run_setup,
    "cli": _run_cli,
    "make": _run_make,
    "sqlite3": _run_process,
    "bash": _run_process,
    "serve": _run_serve,
}


def _start_bench(c: Command) -> subprocess.Popen[str]:
    """A bench at smoke size, niced: it soaks up the CPU the walk leaves idle while it waits
    on HTTP and SQLite, instead of slowing the walk's sandbox down."""
    return subprocess.Popen([sys.executable, *c.args[1:]], cwd=ROOT, env={**os.environ, **SMOKE},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: os.nice(10))  # fmt: skip


def _start_sandbox(c: Command, tmp: Path) -> subprocess.Popen[str]:
    """The README's terminal 1: ready once it printed its JSON line and wrote the config."""
    proc = subprocess.Popen([*CLI, *c.args[1:]], cwd=tmp, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("{"), f"{c.where()}: the sandbox did not start: {first!r}"
    config = c.args[c.args.index("--write-config") + 1]
    assert (tmp / config).exists(), f"{c.where()}: no config written"
    return proc


@contextmanager
def _background() -> Iterator[list[subprocess.Popen[str]]]:
    """Background processes, stopped when the walk ends (even when it fails)."""
    started: list[subprocess.Popen[str]] = []
    try:
        yield started
    finally:
        for proc in started:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _shown_in(shown: str, output: str) -> bool:
    """A console block's output line is in the real output (``…`` matches anything)."""
    pattern = ".*".join(re.escape(part.strip()) for part in shown.split("…"))
    return re.search(pattern, output) is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_http(url: str, proc: subprocess.Popen[str], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return True
        except urllib.error.HTTPError:
            return True  # 503 is an answer: the server runs
        except OSError:
            time.sleep(0.2)
    return False


def _leaf_commands(command: click.Command, path: list[str]) -> Iterator[list[str]]:
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _leaf_commands(sub, [*path, name])
    else:
        yield ["sync-agent", *path]
