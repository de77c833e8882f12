"""Evaluation: (lead, ruleset, now) -> Decision, pure and total.

Order of the verdict (every check is always evaluated, so the explanation is complete):

1. a failed gate or a firing disqualifier rejects (reasons ``gate:<name>``,
   ``disqualifier:<name>``), even when a fast lane matches;
2. otherwise a matching fast lane accepts (``fast_lane:<name>``) whatever the score;
3. otherwise the score decides: ``>= accept_at`` accepts, ``>= review_at`` sends the lead
   to human review, anything lower rejects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sync_agent.model import Check, Decision, Outcome
from sync_agent.rules.checks import make_check
from sync_agent.rules.compiler import Node, compile_condition
from sync_agent.rules.scoring import compile_criterion
from sync_agent.rules.spec import Rule, RulesetSpec

if TYPE_CHECKING:
    from sync_agent.rules.ruleset import Ruleset

Evaluator = Callable[[Mapping[str, Any], datetime], Decision]
RuleNode = Callable[[Mapping[str, Any], datetime, dict[Any, Any]], Check]


def evaluate(lead_fields: Mapping[str, Any], ruleset: Ruleset, now: datetime) -> Decision:
    """Decide one lead. ``now`` is the clock value (naive values are taken as UTC)."""
    return ruleset.evaluator(lead_fields, now)


def _rule_node(rule: Rule, kind: str, free: frozenset[str]) -> RuleNode:
    inner: Node = compile_condition(rule.condition, free)
    name, description = rule.name, rule.description
    invert = kind == "disqualifier"

    def node(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Check:
        child = inner(lead, now, cache)
        passed = not child.passed if invert else child.passed
        return make_check(kind, name, passed, description, None, None, None, (child,))

    return node


def compile_ruleset(spec: RulesetSpec, ruleset_hash: str) -> Evaluator:
    """The evaluator closure for a validated ruleset (compiled once, called per lead)."""
    free = frozenset(d.strip().lower() for d in spec.lists.get(spec.free_email_list, ()))
    gates = [_rule_node(r, "gate", free) for r in spec.gates]
    disqualifiers = [_rule_node(r, "disqualifier", free) for r in spec.disqualifiers]
    lanes = [_rule_node(r, "fast_lane", free) for r in spec.fast_lanes]
    criteria = [compile_criterion(c, free) for c in spec.criteria]
    verdict = _verdict(spec)
    name = spec.name

    def evaluator(lead: Mapping[str, Any], now: datetime) -> Decision:
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        cache: dict[Any, Any] = {}
        g = [n(lead, now, cache) for n in gates]
        d = [n(lead, now, cache) for n in disqualifiers]
        f = [n(lead, now, cache) for n in lanes]
        c = [n(lead, now, cache) for n in criteria]
        score = round(sum([x.points or 0.0 for x in c]), 2)
        outcome, reasons, lane, threshold = verdict(g, d, f, score)
        return Decision(
            outcome, score, reasons, (*g, *d, *f, *c, threshold), name, ruleset_hash, now, lane
        )

    return evaluator


def _verdict(spec: RulesetSpec) -> Callable[[list[Check], list[Check], list[Check], float], Any]:
    accept, review = spec.accept, spec.review
    band = f", review from {review:g}" if review is not None else ""
    threshold_name = f"accept at {accept:g}{band}"

    def verdict(
        g: list[Check], d: list[Check], f: list[Check], score: float
    ) -> tuple[Outcome, tuple[str, ...], str | None, Check]:
        threshold = make_check("threshold", threshold_name, score >= accept, "", None, score, 100.0)
        blocked = [f"gate:{x.name}" for x in g if not x.passed] + [
            f"disqualifier:{x.name}" for x in d if not x.passed
        ]
        if blocked:
            return Outcome.REJECTED, tuple(blocked), None, threshold
        lane = next((x.name for x in f if x.passed), None)
        if lane is not None:
            return Outcome.ACCEPTED, (f"fast_lane:{lane}",), lane, threshold
        if score >= accept:
            return Outcome.ACCEPTED, (f"score {score:g} >= {accept:g}",), None, threshold
        if review is not None and score >= review:
            return (
                Outcome.REVIEW,
                (f"score {score:g} in review band {review:g}-{accept:g}",),
                None,
                threshold,
            )
        return Outcome.REJECTED, (f"score {score:g} < {accept:g}",), None, threshold

    return verdict
