"""A backfill's writer in a process of its own (``--writer process``, what ``auto`` picks for a
long backfill): it writes what the writer thread writes, its errors stop the run as the
thread's do, and it never outlives the agent (docs/performance.md)."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest

from connectors.sandbox import Sandbox
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import backfill
from sync_agent.engine.run import RunContext, expected_leads, wants_process
from sync_agent.logs import configure_logging

SINCE = datetime.now(UTC) - timedelta(days=3 * 365)


def _crm(sb: Sandbox) -> dict[str, Any]:
    """What the agent left in both CRMs (ids are the sandbox's, stable for a seed)."""
    state = sb.state()
    return {
        "sal": {c["id"]: c["properties"].get("sal_status") for c in state["contacts"]},
        "notes": Counter(n["properties"].get("sal_handoff_key") for n in state["notes"]),
        "leads": {lead["Id"]: lead.get("SAL_Status__c") for lead in state["leads"]},
        "tasks": Counter(t["SAL_Handoff_Key__c"] for t in state["tasks"]
                         if t["SAL_Handoff_Key__c"]),
    }


def _backfill(tmp: Path, writer: str) -> tuple[Any, dict[str, Any], str]:
    log = io.StringIO()
    configure_logging(level="INFO", json=True, stream=log)
    with Sandbox(contacts=400, seed=9, mql_share=1.0) as sb:
        config, _ = prepare_sandbox(sb, tmp / writer)
        [summary] = backfill(config, since=SINCE, writer=writer)
        return summary, _crm(sb), log.getvalue()


def test_the_writer_process_writes_exactly_what_the_writer_thread_writes(tmp_path: Path) -> None:
    thread, thread_crm, _ = _backfill(tmp_path, "thread")
    process, process_crm, log = _backfill(tmp_path, "process")
    assert process.outcome == thread.outcome == "ok", process.error
    assert process.counts() == thread.counts()  # the child's counts and calls reach the run
    assert process.api_calls == thread.api_calls
    assert process_crm == thread_crm
    assert max(process_crm["notes"].values()) == 1 and max(process_crm["tasks"].values()) == 1
    assert sum(v == "accepted" for v in process_crm["sal"].values()) == process.accepted
    # the writes really ran elsewhere: the child's own log line, relayed with the run's context
    ready = [line for line in log.splitlines() if "writer_process_ready" in line]
    assert len(ready) == 1, log[-4000:]
    assert f'"pid": {os.getpid()}' not in ready[0]
    assert f'"run_id": {process.run_id}' in ready[0]


def test_an_error_in_the_writer_process_stops_the_run_and_the_next_run_finishes(
    tmp_path: Path,
) -> None:
    """The child's first fatal error (HubSpot refuses the token for the SAL update, after the
    run's own check passed) stops the run as the thread's would: the run says why, the
    writes stay in the outbox, and the next backfill writes each one once (reconciled at
    once here: production waits ``reconcile_after_seconds`` for the search index)."""
    with Sandbox(contacts=400, seed=9, mql_share=1.0) as sb:
        config, _ = prepare_sandbox(sb, tmp_path, reconcile_after_seconds=0)
        sb.faults.fail_next(1, 401, "hubspot:batch_update")
        [failed] = backfill(config, since=SINCE, writer="process")
        assert failed.outcome == "auth", failed.error
        assert "HUBSPOT_ACCESS_TOKEN" in failed.error
        # the child's calls count though it stopped on an error (the run's own: 1 login)
        assert failed.api_calls["salesforce"] > 1
        [done] = backfill(config, since=SINCE, writer="process")
        assert done.outcome == "ok", done.error
        crm = _crm(sb)
    assert sum(v == "accepted" for v in crm["sal"].values()) == failed.accepted
    assert max(crm["notes"].values()) == 1 and max(crm["tasks"].values()) == 1


def test_the_writer_process_dies_with_the_agent(tmp_path: Path) -> None:
    """``kill -9`` of the agent takes its writer process with it at once, even in the
    middle of a batch: no write starts after the run is gone (the next run's resume would
    race it). Each CRM call takes 300 ms here, so a writer left to finish its batch would
    still be running well after the half second allowed."""
    with Sandbox(contacts=3000, seed=5, mql_share=1.0) as sb:
        config, _ = prepare_sandbox(sb, tmp_path)
        agent = _cli_backfill(config.path, stderr=subprocess.DEVNULL)
        try:
            writer = _writer_of(agent.pid)
            while not sb.store.request_count("hubspot", "contacts.batch_update"):
                assert agent.poll() is None, "the backfill ended before it wrote"
                time.sleep(0.01)
            sb.faults.latency_ms = 300  # the writer is inside its first batch's calls
            time.sleep(0.1)
            agent.send_signal(signal.SIGKILL)
            agent.wait(timeout=30)
            assert _ended_within(writer, 0.5), "the writer outlived the agent"
        finally:
            if agent.poll() is None:
                agent.kill()
            sb.faults.latency_ms = 0


def _ended_within(process: psutil.Process, seconds: float) -> bool:
    """Gone, or a zombie (killed; nobody reaps an orphan in some containers)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.01)
    return False


def _cli_backfill(config: Path, *, stderr: int) -> subprocess.Popen[bytes]:
    """``sync-agent backfill --writer process`` over the whole sandbox, as a process."""
    return subprocess.Popen(
        [sys.executable, "-m", "sync_agent.cli", "backfill", "--since", "2000-01-01",
         "--writer", "process", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=stderr,
    )  # fmt: skip


def _writer_of(pid: int) -> psutil.Process:
    """The agent's writer process."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for child in psutil.Process(pid).children():
            with contextlib.suppress(psutil.Error):
                if "writer_process" in " ".join(child.cmdline()):
                    return child
        time.sleep(0.05)
    raise AssertionError("the agent never started its writer process")


@pytest.mark.parametrize(
    ("writer", "expected", "process"),
    [("thread", 50_000, False), ("process", 10, True), ("auto", 1_999, False),
     ("auto", 2_000, True)],
)  # fmt: skip
def test_auto_starts_a_writer_process_for_a_long_run_only(
    writer: str, expected: int, process: bool
) -> None:
    assert wants_process(writer, expected) is process


def test_the_expected_length_counts_what_the_source_says_remains() -> None:
    class Page:
        remaining = 1500
        cursor = type("C", (), {"to_dict": lambda self: {}})()

    ctx = RunContext.__new__(RunContext)
    ctx.summary = type("S", (), {"read": 600})()  # type: ignore[assignment]
    ctx.estimate = None
    assert expected_leads(ctx, Page()) == 2100  # type: ignore[arg-type]
    ctx.estimate = lambda done, position: 5000
    assert expected_leads(ctx, Page()) == 5000  # type: ignore[arg-type]
    assert expected_leads(ctx, None) == 600  # the read is over: only what was read


def test_a_writer_process_is_not_offered_where_it_cannot_run(tmp_path: Path, monkeypatch) -> None:
    """Only Linux can tie the child's life to the agent's (``PR_SET_PDEATHSIG``): elsewhere
    ``auto`` and ``process`` fall back to the thread."""
    from sync_agent.engine import writer_process

    with Sandbox(contacts=10, seed=9) as sb:
        config, _ = prepare_sandbox(sb, tmp_path)
    sinks = config.pipelines[0].sinks
    assert writer_process.unavailable(config, sinks) == ""
    monkeypatch.setattr(writer_process.sys, "platform", "darwin")
    assert "Linux" in writer_process.unavailable(config, sinks)


def test_a_writer_process_that_cannot_start_leaves_the_writes_to_the_thread(
    tmp_path: Path, monkeypatch
) -> None:
    """No process to be had (a container's pids limit): the backfill writes from the thread,
    saying why, instead of ending in a traceback."""
    from sync_agent.engine import writer_process

    def refuse(*args: object, **kwargs: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(writer_process.subprocess, "Popen", refuse)
    log = io.StringIO()
    configure_logging(level="INFO", json=True, stream=log)
    with Sandbox(contacts=400, seed=9, mql_share=1.0) as sb:
        config, _ = prepare_sandbox(sb, tmp_path)
        [summary] = backfill(config, since=SINCE, writer="process")
        crm = _crm(sb)
    assert summary.outcome == "ok", summary.error
    assert sum(v == "accepted" for v in crm["sal"].values()) == summary.accepted
    assert "writer_process_unavailable" in log.getvalue()
    assert "could not start: BlockingIOError" in log.getvalue()


def test_sigterm_while_the_writer_process_starts_is_a_clean_stop(tmp_path: Path) -> None:
    """A service manager signals every process of the service at once, maybe while the
    writer still imports: the backfill stops as on any SIGTERM (exit 5, run again), and
    the writer, which leaves stopping to the agent, does not turn it into a failure."""
    with Sandbox(contacts=3000, seed=5, mql_share=1.0) as sb:
        config, _ = prepare_sandbox(sb, tmp_path)
        agent = _cli_backfill(config.path, stderr=subprocess.PIPE)
        try:
            writer = _writer_of(agent.pid)
            for pid in (agent.pid, writer.pid):
                os.kill(pid, signal.SIGTERM)
            _, err = agent.communicate(timeout=120)
        finally:
            if agent.poll() is None:
                agent.kill()
    assert agent.returncode == 5, err.decode()[-2000:]
