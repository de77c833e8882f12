"""The ``sync-agent`` command: a thin click layer over the library.

Each command group lives in its own module and only parses options, calls one library
function, and renders its result; library errors become ``click.ClickException`` with
the library's message, so a user never sees a traceback for bad input.

Exit codes scripts can trust: 0 success, 1 a check/test/run failed (bad rules, failed
writes, failed rule tests), 2 usage error (click), 3 another agent holds the lock,
4 an API budget stopped the run early (state saved, resume later).
"""

from __future__ import annotations

import click

from sync_agent import __version__
from sync_agent.cli.rules import rules
from sync_agent.cli.sandbox import sandbox
from sync_agent.cli.sync import register as register_sync_commands


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="sync-agent")
def main() -> None:
    """sync-agent: the Sales Accepted Lead gate between marketing and sales.

    It pulls MQLs from HubSpot (or a Salesforce lead query), evaluates the acceptance
    rules in rules/*.toml, writes SAL status and a context note back to Salesforce and
    HubSpot, and keeps a SQLite audit log of every handoff.

    \b
    Start here:
      sync-agent demo                      full sync against the local sandbox
      sync-agent rules check rules/        validate rulesets
      sync-agent rules test                run rule test cases in rules/tests/
      sync-agent rules explain --lead lead.json
    """


main.add_command(rules)
main.add_command(sandbox)
register_sync_commands(main)
