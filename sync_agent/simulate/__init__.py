"""Simulation: re-decide the lead snapshots in the audit log under a candidate ruleset.

Before a ruleset edit goes live, RevOps wants to know what it would have done: which
decisions flip, what happens to the MQL→SAL rate, and (once sales outcomes are read back)
how many SALs that sales rejected it would have stopped and how many SQLs it would have
lost. Every decision row keeps the lead's fields as evaluated (``decisions.snapshot``) and
its decision time, so the candidate can decide the same leads again with no API call.

It sits above :mod:`sync_agent.audit` and :mod:`sync_agent.rules` (it reads the one and
calls the other) and below the CLI. Public API::

    candidate = load_ruleset("rules/examples/sal_stricter.toml")
    result = simulate(config.audit_db, candidate, since=..., pipeline=..., now=None)
    print(render_text(result))        # or json.dumps(result.to_dict())

See docs/simulate.md.
"""

from sync_agent.simulate.log import SimulationError, pipelines_in_log
from sync_agent.simulate.render import render_text
from sync_agent.simulate.result import Simulation
from sync_agent.simulate.run import simulate
from sync_agent.simulate.tally import Example

__all__ = [
    "Example",
    "Simulation",
    "SimulationError",
    "pipelines_in_log",
    "render_text",
    "simulate",
]
