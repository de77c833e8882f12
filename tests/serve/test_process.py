"""``sync-agent serve`` as a process: it serves until SIGTERM and then stops cleanly (exit 0,
lock released); a second agent on the same database exits 3; a taken port exits 1."""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import requests
from serve_kit import handed_off, leads_with_a_salesforce_lead, make_mql, sandbox_config, wait_for

from sync_agent.lock import agent_lock

SERVING = re.compile(r"serving on (http://[0-9.]+:[0-9]+)")


def start(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sync_agent.cli", "serve", "--config", str(config), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def lines_of(stream: IO[str]) -> queue.Queue[str]:
    """The stream's lines as they come (read by a thread: no blocking read in the test)."""
    out: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            out.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return out


def url_of(lines: queue.Queue[str], timeout: float = 60) -> str:
    seen = []
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("serve never said where it listens:\n" + "".join(seen)) from None
        seen.append(line)
        found = SERVING.search(line)
        if found:
            return found.group(1)


def test_serve_stops_cleanly_on_sigterm(sandbox, tmp_path) -> None:
    config = sandbox_config(sandbox, tmp_path)
    proc = start(config.path, "--port", "0")
    try:
        assert proc.stderr is not None
        url = url_of(lines_of(proc.stderr))
        sandbox.webhooks.configure(target_url=url + "/webhooks/hubspot")
        wait_for(lambda: requests.get(url + "/healthz", timeout=30).status_code == 200,
                 what="healthy after the first run")
        [contact] = leads_with_a_salesforce_lead(sandbox, 1)
        make_mql(sandbox, contact)
        wait_for(lambda: handed_off(sandbox, contact), what="the webhook handoff")

        second = subprocess.run(
            [sys.executable, "-m", "sync_agent.cli", "serve", "--config", str(config.path),
             "--port", "0"], capture_output=True, text=True, timeout=120)
        assert second.returncode == 3 and "already running" in second.stderr

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with agent_lock(config.audit_db):  # released: taken at once
        pass


def test_a_taken_port_is_an_error_with_the_fix(sandbox, tmp_path) -> None:
    config = sandbox_config(sandbox, tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "sync_agent.cli", "serve", "--config", str(config.path),
             "--port", str(port)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_audit_database_that_cannot_be_created_is_an_error_with_the_place(sandbox,
                                                                              tmp_path) -> None:
    config = sandbox_config(sandbox, tmp_path)
    (tmp_path / "not-a-folder").write_text("a file")
    text = config.path.read_text().replace('audit_db = "sync-agent.db"',
                                           'audit_db = "not-a-folder/sync-agent.db"')
    config.path.write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "sync_agent.cli", "serve", "--config", str(config.path),
         "--port", "0"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "not-a-folder/sync-agent.db" in done.stderr and "[agent] audit_db" in done.stderr
    assert "Traceback" not in done.stderr
