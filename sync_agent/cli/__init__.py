"""The ``sync-agent`` command: a thin click layer over the library.

Each command group lives in its own module and only parses options, calls one library
function, and renders its result; library errors become ``click.ClickException`` with
the library's message, so a user never sees a traceback for bad input. Every command is
registered here, the connectors' own groups (``sync-agent <type> ...``) included: a
connector that fails to import still gets its group, which explains why.

Exit codes scripts can trust: 0 success, 1 a check/test/run failed (bad rules, failed
writes, failed rule tests), 2 usage error (click), 3 another agent holds the lock,
4 an API budget stopped the run early (state saved, resume later), 5 SIGTERM/Ctrl-C
stopped a one-shot run before it was done (state saved, run it again).
"""

from __future__ import annotations

import click

from sync_agent import __version__
from sync_agent.cli.audit import audit, prune, report
from sync_agent.cli.demo import demo
from sync_agent.cli.outcomes import outcomes
from sync_agent.cli.rules import rules
from sync_agent.cli.sandbox import sandbox
from sync_agent.cli.serve import serve, status
from sync_agent.cli.sla import sla
from sync_agent.cli.sync import backfill, config_group, replay, run
from sync_agent.errors import ConfigError
from sync_agent.logs import configure_logging
from sync_agent.registry import installed


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="sync-agent")
def main() -> None:
    """sync-agent: the Sales Accepted Lead gate between marketing and sales.

    It pulls MQLs from a marketing or CRM source, evaluates the acceptance rules in
    rules/*.toml, writes the SAL status and a context note or task back to the CRMs, and
    keeps a SQLite audit log of every handoff.

    \b
    Start here:
      sync-agent demo                      full sync against the local sandbox
      sync-agent rules check rules/        validate rulesets
      sync-agent rules test                run rule test cases in rules/tests/
      sync-agent rules explain --lead lead.json
    """
    # Until a command configures logging from its config: warnings, on stderr, redacted
    # (structlog's own default prints everything to stdout, where scripts read results).
    configure_logging(level="WARNING")


for command in (demo, rules, run, backfill, replay, report, audit, config_group, prune, sandbox):
    main.add_command(command)
for command in (serve, status, sla):
    main.add_command(command)
main.add_command(outcomes)


def _unavailable(name: str, error: ConfigError) -> click.Command:
    """A stand-in group for a connector whose package does not import."""

    def explain() -> None:
        raise click.ClickException(str(error))

    return click.Command(
        name, callback=explain, help=f"Unavailable: the {name} connector does not import. {error}"
    )


def _add_connector_commands(group: click.Group) -> None:
    registry = installed()
    for name in registry.names():
        try:
            spec = registry.get(name)
        except ConfigError as error:
            group.add_command(_unavailable(name, error))
            continue
        if spec.commands is None:
            continue
        try:
            group.add_command(spec.commands(), name)
        except Exception as exc:  # a broken plugin must not take the whole CLI down
            group.add_command(_unavailable(name, ConfigError(f"{type(exc).__name__}: {exc}")))


_add_connector_commands(main)
