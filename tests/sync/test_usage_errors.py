"""Usage mistakes are usage errors (exit 2) that say what would have worked, never a
traceback and never a silent "ok"."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sync_agent.cli import main


@pytest.fixture
def cli(make_config):
    config = make_config()

    def invoke(*args: str):
        return CliRunner().invoke(main, [*args, "--config", str(config.path)])

    return invoke


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--once", "--pipeline", "mqlz"],
        ["run", "--pipeline", "mqlz"],
        ["backfill", "--since", "2026-01-01", "--pipeline", "mqlz"],
        ["replay", "--pipeline", "mqlz"],
    ],
    ids=" ".join,
)
def test_an_unknown_pipeline_is_a_usage_error_naming_the_known_ones(cli, args) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert "no pipeline named 'mqlz'" in result.output and "mqls" in result.output
    assert "Traceback" not in result.output


def test_a_backfill_window_that_ends_before_it_starts_is_a_usage_error(cli) -> None:
    result = cli("backfill", "--since", "2026-01-01", "--until", "2025-01-01")
    assert result.exit_code == 2 and "is not after --since" in result.output


def test_replaying_a_dead_letter_that_does_not_exist_is_a_usage_error(cli) -> None:
    result = cli("replay", "--id", "99999")
    assert result.exit_code == 2 and "no dead letter with id 99999" in result.output
