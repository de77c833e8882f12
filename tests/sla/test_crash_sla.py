"""SIGKILL the agent between queueing an SLA action and writing it: never written twice.

The sandbox lives in this test process; the agent that finds the breaches runs in a child
process that kills itself with SIGKILL at an exact point: right after the breach and its
actions were committed to the outbox (nothing sent yet), or right after a sink carried out
its actions but before their results were committed (the CRM has them, the audit log does
not know). The next runs must then leave each action in the CRM exactly once.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sla_world import action_counts, action_states, breached_keys, escalation, sla_config_file

from connectors.sandbox import Sandbox
from connectors.sandbox.sales_team import TeamConfig
from sync_agent.config import load_config
from sync_agent.engine import run_once

CHILD = """
import os, signal, sys
from datetime import UTC, datetime, timedelta

import connectors.hubspot.sink as hubspot_sink
import connectors.salesforce.sink as salesforce_sink
import sync_agent.sla.watch as watch
from sync_agent.config import load_config
from sync_agent.engine import run_once

point, offset, path = sys.argv[1], float(sys.argv[2]), sys.argv[3]


def die():
    os.kill(os.getpid(), signal.SIGKILL)


if point == "queued":
    queue = watch.record_breaches

    def record_breaches(*args, **kwargs):
        ids = queue(*args, **kwargs)
        if ids:
            die()
        return ids

    watch.record_breaches = record_breaches
else:
    for cls in (hubspot_sink.HubSpotSink, salesforce_sink.SalesforceSink):
        def act(self, actions, *, recovering=False, _act=cls.act):
            _act(self, actions, recovering=recovering)
            die()

        cls.act = act
clock = lambda: datetime.now(UTC) + timedelta(seconds=offset)
run_once(load_config(path, environ={}), clock=clock)
"""


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(contacts=100, seed=7, mql_share=0.8, team=TeamConfig(enabled=False)) as sb:
        yield sb


@pytest.mark.parametrize("point", ["queued", "written"])
def test_a_kill_between_queueing_and_writing_never_writes_an_action_twice(
    sandbox: Sandbox, tmp_path, point: str
) -> None:
    path = sla_config_file(sandbox, tmp_path)
    config = load_config(path, environ={})
    [first] = run_once(config, clock=sandbox.now)
    assert first.accepted > 0 and breached_keys(config) == []
    sandbox.advance(hours=30)
    offset = (sandbox.now() - sandbox.store.clock.base()).total_seconds()
    child = subprocess.run([sys.executable, "-c", CHILD, point, str(offset), str(path)],
                           capture_output=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    breached = breached_keys(config)
    assert breached, "the breaches were committed before the kill"
    notes, tasks = action_counts(sandbox)
    if point == "queued":
        assert not notes and not tasks, "killed before anything was sent"
    else:
        assert notes or tasks, "one sink carried out its actions before the kill"
    sandbox.advance(seconds=5)  # past the reconcile delay of writes cut off in flight
    run_once(config, clock=sandbox.now)
    run_once(config, clock=sandbox.now)
    assert breached_keys(config) == breached, "each breach recorded once"
    notes, tasks = action_counts(sandbox)
    assert sorted(k.rpartition(":sla:")[0] for k in notes) == breached
    assert all(n == 1 for n in notes.values()) and all(n == 1 for n in tasks.values())
    assert tasks and set(tasks) <= {escalation(k) for k in breached}
    assert action_states(config) == {"written"}
