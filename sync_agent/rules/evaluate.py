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
from typing import Any

from sync_agent.model import Check, Decision, Outcome
from sync_agent.rules.checks import PASSED, POINTS, make_check, make_decision
from sync_agent.rules.compiler import Node, compile_condition, memo_fields
from sync_agent.rules.memo import child_memo, subtree_memo, watching_clock
from sync_agent.rules.scoring import compile_criterion
from sync_agent.rules.spec import Rule, RulesetSpec

Evaluator = Callable[[Mapping[str, Any], datetime], Decision]
Verdict = tuple[Outcome, tuple[str, ...], str | None]


def _rule_node(rule: Rule, kind: str, free: frozenset[str]) -> Node:
    inner: Node = compile_condition(rule.condition, free)
    name, description = rule.name, rule.description
    invert = kind == "disqualifier"

    def build(children: tuple[Check, ...]) -> Check:
        passed = not children[0].passed if invert else children[0].passed
        return make_check(kind, name, passed, description, None, None, None, children)

    key = memo_fields(rule.condition, free)
    cached = child_memo(build, key.timed)

    def node(lead: Mapping[str, Any], now: datetime, cache: dict[Any, Any]) -> Check:
        return cached((inner(lead, now, cache),))

    return subtree_memo(node, key)


def compile_ruleset(spec: RulesetSpec, ruleset_hash: str) -> Evaluator:
    """The evaluator closure for a validated ruleset (compiled once, called per lead)."""
    free = frozenset(d.strip().lower() for d in spec.lists.get(spec.free_email_list, ()))
    with watching_clock() as clock:
        nodes = [_rule_node(r, "gate", free) for r in spec.gates]
        nodes += [_rule_node(r, "disqualifier", free) for r in spec.disqualifiers]
        nodes += [_rule_node(r, "fast_lane", free) for r in spec.fast_lanes]
        first_criterion = len(nodes)
        nodes += [compile_criterion(c, free) for c in spec.criteria]
        threshold, verdict = _threshold(spec), _verdict(spec)
    name = spec.name

    def evaluator(lead: Mapping[str, Any], now: datetime) -> Decision:
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        clock.see(now)
        cache: dict[Any, Any] = {}
        checks = [node(lead, now, cache) for node in nodes]
        score = round(sum(map(POINTS, checks[first_criterion:])), 2)
        checks.append(threshold(score))
        outcome, reasons, lane = verdict(checks, score)
        return make_decision(outcome, score, reasons, tuple(checks), name, ruleset_hash, now, lane)

    return evaluator


def _threshold(spec: RulesetSpec) -> Callable[[float], Check]:
    """The threshold node, memoised by score (scores take few distinct values)."""
    accept, review = spec.accept, spec.review
    band = f", review from {review:g}" if review is not None else ""
    label = f"accept at {accept:g}{band}"
    memo: dict[float, Check] = {}

    def threshold(score: float) -> Check:
        node = memo.get(score)
        if node is None:
            if len(memo) > 4096:
                memo.clear()
            node = memo[score] = make_check(
                "threshold", label, score >= accept, "", None, score, 100.0
            )
        return node

    return threshold


def _verdict(spec: RulesetSpec) -> Callable[[list[Check], float], Verdict]:
    accept, review = spec.accept, spec.review
    names = [f"gate:{r.name}" for r in spec.gates]
    names += [f"disqualifier:{r.name}" for r in spec.disqualifiers]
    blocking = list(enumerate(names))
    start = len(blocking)
    lanes = [(start + i, r.name, (f"fast_lane:{r.name}",)) for i, r in enumerate(spec.fast_lanes)]
    by_score: dict[float, Verdict] = {}

    def on_score(score: float) -> Verdict:
        """The score's verdict, memoised: scores take few distinct values."""
        if score >= accept:
            return Outcome.ACCEPTED, (f"score {score:g} >= {accept:g}",), None
        if review is not None and score >= review:
            return Outcome.REVIEW, (f"score {score:g} in review band {review:g}-{accept:g}",), None
        return Outcome.REJECTED, (f"score {score:g} < {accept:g}",), None

    def verdict(checks: list[Check], score: float) -> Verdict:
        if not all(map(PASSED, checks[:start])):
            blocked = [reason for i, reason in blocking if not checks[i].passed]
            return Outcome.REJECTED, tuple(blocked), None
        for index, name, reasons in lanes:
            if checks[index].passed:
                return Outcome.ACCEPTED, reasons, name
        found = by_score.get(score)
        if found is None:
            if len(by_score) > 4096:
                by_score.clear()
            found = by_score[score] = on_score(score)
        return found

    return verdict
