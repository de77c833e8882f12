"""``rules check --against PIPELINE`` and ``config check --connect`` on the sandbox, through
the real SDK clients: rules and write-back settings checked against the systems' schemas,
every problem with its file, line and a did-you-mean, never a traceback (issue #11)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from hubspot.crm.properties import PropertyCreate

from connectors.hubspot import build_client
from connectors.sandbox import Sandbox
from sync_agent.cli import main
from sync_agent.demo import prepare_sandbox

QUICK = {"max_attempts": 1}  # a system that is down answers at once, without backoff

RULES = """[ruleset]
name = "trial"

[threshold]
accept_at = 70

[[gates]]
name = "size"
field = "company.numberofemploye"
op = "gte"
value = 50

[[gates]]
name = "revenue"
field = "hubspot.annualrevenue"
op = "gte"
value = 1000000

[[criteria]]
name = "fit"
weight = 100
checks = [
  { field = "company.industry", op = "in", value = ["Software"] },
]
"""


def cli(config: Any, *args: str) -> Result:
    result = CliRunner().invoke(main, [*args, "--config", str(config.path)])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception,
                                                                      SystemExit), result.output
    return result


def line_of(path: Path, needle: str) -> int:
    return next(i for i, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


def lines_with(output: str, *needles: str) -> list[str]:
    return [line for line in output.splitlines() if all(n in line for n in needles)]


def test_against_flags_each_mistake_with_file_line_and_a_did_you_mean(tmp_path: Path) -> None:
    rules = tmp_path / "trial.toml"
    rules.write_text(RULES)
    with Sandbox(contacts=30, seed=7) as sb:
        config, _ = prepare_sandbox(sb, tmp_path / "agent",
                                    salesforce_options={"status_accepted": "SAL Accepted"})
        result = cli(config, "rules", "check", str(rules), "--against", "hubspot-mqls")
    out = result.output
    assert result.exit_code == 1, out
    [missing] = lines_with(out, "error:", "company.numberofemploye'")
    assert f"trial.toml:{line_of(rules, 'company.numberofemploye')}: gates.size:" in missing
    assert "did you mean company.numberofemployees (Number of Employees)?" in missing
    [free_text] = lines_with(out, "warning:", "hubspot.annualrevenue")
    assert f"trial.toml:{line_of(rules, 'hubspot.annualrevenue')}: gates.revenue:" in free_text
    assert ("'gte' compares numbers, but hubspot.annualrevenue (Annual Revenue) is free "
            "text") in free_text
    [option] = lines_with(out, "error:", "'Software' is not an option of company.industry")
    assert f"trial.toml:{line_of(rules, 'company.industry')}: criteria.fit.checks[0]:" in option
    assert "did you mean 'COMPUTER_SOFTWARE'?" in option
    [status] = lines_with(out, "error:", "'SAL Accepted' is not a Lead Status of the org")
    line = line_of(config.path, "status_accepted")
    assert f"{config.path.name}:{line}: [connectors.salesforce] status_accepted:" in status
    assert "did you mean 'SAL - Accepted'" in status
    assert out.splitlines()[-1] == (f"{rules} against pipeline hubspot-mqls: 3 error(s); "
                                    "2 warning(s)")  # the free text, and no rule test cases


def test_the_shipped_config_and_ruleset_pass(tmp_path: Path) -> None:
    with Sandbox(contacts=30, seed=7) as sb:
        config, _ = prepare_sandbox(sb, tmp_path)
        result = cli(config, "rules", "check", "--against", "hubspot-mqls", "--refresh")
        connect = cli(config, "config", "check", "--connect")
    assert result.exit_code == 0, result.output
    assert "error:" not in result.output
    assert re.search(r"sal\.toml against pipeline hubspot-mqls: OK", result.output), result.output
    assert connect.exit_code == 0, connect.output
    assert "✓ pipeline hubspot-mqls against the systems: 0 error(s)" in connect.output


def test_config_check_connect_flags_the_retired_score_with_the_portals_score_properties(
    tmp_path: Path,
) -> None:
    with Sandbox(contacts=30, seed=7) as sb:
        config, _ = prepare_sandbox(sb, tmp_path,
                                    hubspot_options={"field_map": {"lead_score": "hubspotscore"}})
        result = cli(config, "config", "check", "--connect")
    assert result.exit_code == 1, result.output
    [retired] = lines_with(result.output, "✗ pipeline hubspot-mqls:", "retired")
    line = line_of(config.path, "hubspotscore")
    assert (f"{config.path.name}:{line}: [connectors.hubspot] field_map.lead_score: "
            "'lead_score' is read from hubspot.hubspotscore, which is retired") in retired
    # the portal's score properties, not the agent's own sal_score (setup created it)
    assert retired.endswith("(hint: use one of the current properties instead: "
                            "'example_combined_score', 'example_engagement_score', "
                            "'example_fit_score')")
    assert "✗ pipeline hubspot-mqls against the systems: 1 error(s)" in result.output


def test_config_check_connect_names_a_field_hidden_by_field_level_security(tmp_path: Path) -> None:
    with Sandbox(contacts=30, seed=7) as sb:
        config, _ = prepare_sandbox(sb, tmp_path, salesforce_options={"task_priority": "Urgent"})
        sb.org.security.hidden["Lead"] = {"SAL_Date__c"}
        result = cli(config, "config", "check", "--connect")
    assert result.exit_code == 1
    [hidden] = lines_with(result.output, "[connectors.salesforce] date_field:")
    assert "Lead.SAL_Date__c is absent from the Lead describe" in hidden
    assert "field-level security hides it from the integration user" in hidden
    [priority] = lines_with(result.output, "[connectors.salesforce] task_priority:")
    assert "'Urgent' is not a Task Priority value of the org (a restricted picklist" in priority


def test_an_unknown_pipeline_is_a_usage_error_naming_the_known_ones(tmp_path: Path) -> None:
    with Sandbox(contacts=5, seed=7) as sb:
        config, _ = prepare_sandbox(sb, tmp_path)
        result = cli(config, "rules", "check", "--against", "hubspot-mql")
    assert result.exit_code == 2
    assert "no pipeline named 'hubspot-mql' (known: hubspot-mqls)" in result.output
    assert "--against" in result.output
    assert CliRunner().invoke(main, ["rules", "check", "--refresh"]).exit_code == 2


def test_a_schema_is_cached_until_refresh(tmp_path: Path) -> None:
    rules = tmp_path / "grade.toml"
    rules.write_text(RULES.split("[[gates]]")[0] + '[[criteria]]\nname = "grade"\nweight = 100\n'
                     'checks = [ { field = "hubspot.lead_grade", op = "equals", value = "A" } ]\n')
    with Sandbox(contacts=5, seed=7) as sb:
        config, _ = prepare_sandbox(sb, tmp_path / "agent")
        before = cli(config, "rules", "check", str(rules), "--against", "hubspot-mqls")
        client = build_client(config.connectors["hubspot"].settings, config.secrets)
        client.create_property("contacts", PropertyCreate(
            name="lead_grade", label="Lead grade", type="string", field_type="text",
            group_name="contactinformation"))
        client.close()
        cached = cli(config, "rules", "check", str(rules), "--against", "hubspot-mqls")
        fresh = cli(config, "rules", "check", str(rules), "--against", "hubspot-mqls", "--refresh")
    assert before.exit_code == 1 and "'hubspot.lead_grade'" in before.output
    assert cached.exit_code == 1, "the cached schema does not know the new property yet"
    assert fresh.exit_code == 0, fresh.output


def test_a_system_that_is_down_uses_the_cached_schema_else_names_its_address(
    tmp_path: Path,
) -> None:
    with Sandbox(contacts=5, seed=7) as sb:
        config, _ = prepare_sandbox(sb, tmp_path / "cached", hubspot_options=QUICK,
                                    salesforce_options=QUICK)
        fresh, _ = prepare_sandbox(sb, tmp_path / "fresh", hubspot_options=QUICK,
                                   salesforce_options=QUICK)
        assert cli(config, "rules", "check", "--against", "hubspot-mqls").exit_code == 0
        url = sb.info()["hubspot_url"]
    stale = cli(config, "rules", "check", "--against", "hubspot-mqls", "--refresh")
    never = cli(fresh, "rules", "check", "--against", "hubspot-mqls")
    assert stale.exit_code == 0, stale.output
    for name in ("hubspot", "salesforce"):  # once each, though each is source or sink twice
        [warned] = lines_with(stale.output, "warning:", f"[connectors.{name}]:")
        assert "the schema could not be read (" in warned and "; using the one from" in warned
    assert never.exit_code == 1, never.output
    [down] = lines_with(never.output, "error:", "[connectors.hubspot]:")
    assert "cannot read the schema of 'hubspot' and none is cached" in down
    assert f"check base_url = {url}" in down


def test_an_unmapped_lead_score_lists_the_portals_score_properties(tmp_path: Path) -> None:
    """What a real portal's admin sees first: the default maps no lead score."""
    with Sandbox(contacts=5, seed=7) as sb:
        config, _ = prepare_sandbox(sb, tmp_path, hubspot_options={"field_map": {"lead_score": ""}})
        result = cli(config, "config", "check", "--connect")
    assert result.exit_code == 0, result.output  # a warning: the rules still run
    [unmapped] = lines_with(result.output, "⚠ pipeline hubspot-mqls:", "'lead_score' is not mapped")
    assert unmapped.endswith('(hint: map it: [connectors.hubspot] field_map.lead_score = '
                             '"example_combined_score" or "example_engagement_score" or '
                             '"example_fit_score")')
