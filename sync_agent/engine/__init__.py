"""The sync engine: runs, backfills and replays of pipelines through the SQLite outbox.

Library API (the CLI, the demo and the benches call these)::

    run_once(config, *, pipeline=None, dry_run=False, clock=None, progress=None, stop=None)
    backfill(config, *, since, until=None, pipeline=None, dry_run=False, reevaluate=False,
             progress=None, clock=None, stop=None)
    replay(config, *, pipeline=None, dead_letter_ids=None, clock=None)
    run_ids(config, *, pipeline, ids, clock=None, stop=None)   # records named by a webhook

each returning ``list[RunSummary]`` (``run_ids``: one) (counts, ``outcome``, ``exit_code``).
"""

from sync_agent.engine.backfill import backfill
from sync_agent.engine.by_id import run_ids
from sync_agent.engine.once import exit_code, run_once
from sync_agent.engine.replay import replay
from sync_agent.engine.run import RunSummary

__all__ = ["RunSummary", "backfill", "exit_code", "replay", "run_ids", "run_once"]
