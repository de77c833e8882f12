"""The rules language and engine: acceptance rules as TOML files, evaluated purely.

Public API::

    ruleset = load_ruleset("rules/sal.toml")        # raises RulesError(problems=[...])
    decision = evaluate(lead_fields, ruleset, now)   # -> sync_agent.model.Decision
    report = check_rulesets("rules")                 # behind `sync-agent rules check`
    report = run_rule_tests("rules/tests")           # behind `sync-agent rules test`

See docs/rules.md for the language.
"""

from sync_agent.rules.check import CheckReport, check_rulesets
from sync_agent.rules.ruleset import Ruleset, evaluate, load_ruleset
from sync_agent.rules.testing import CaseResult, TestReport, run_rule_tests

__all__ = [
    "CaseResult",
    "CheckReport",
    "Ruleset",
    "TestReport",
    "check_rulesets",
    "evaluate",
    "load_ruleset",
    "run_rule_tests",
]
