"""Math-MaskedStep-v0 and Math-StepOrder-v0: MR-RLVR's process-level tasks on reference solutions.

Source: Wang, Gao and Ke, "Masked-and-Reordered Self-Supervision for Reinforcement Learning from
Verifiable Rewards" (MR-RLVR), arXiv 2511.17473, Stage I: "masked-then-fill" and "step
reordering" on reference reasoning traces, rewarded by agreement with the reference (notes in
shared/reference/mechanics.md §4.1). The traces here are the worked solutions of
:mod:`thinkgym.generators.math`, whose steps form a chain (each uses a result of the one before),
so a masked step has one result and the shuffled steps have one correct order.

**Math-MaskedStep-v0.** Observation: the problem, then its solution as numbered steps with one
step replaced by ``[MASKED]``, and the request to box the result that step arrives at. Action: the
response; the answer is read as in every math env (last ``\\boxed{}`` after the last ``</think>``).
Reward: 1 when the boxed result is equivalent to the step's ``result``
(:func:`thinkgym.verifiers.math.verify`), 0 when not, -1 when no answer can be read. Results are
numbers, expressions, sets, tuples or equations; an equation matches an equation with the same
solutions up to a non-zero factor (``-11y - z = 11`` matches ``11y + z = -11``, not ``11``), and a
value answers an assignment (``-4`` matches ``y = -4``). The masked step is drawn from the seed,
uniformly over all steps (the last step's result is the problem's answer).

**Math-StepOrder-v0.** Observation: the problem, then its solution's steps shuffled and labelled
``[1]``..``[n]``, and the request to box the labels in the solution's order. The shuffle is drawn
from the seed and never shows the steps in their original order. Action: the response; the boxed
answer is the labels, first step first, separated by commas or spaces (``\\boxed{3,1,2}``; one pair
of outer brackets and brackets around single labels are allowed). Reward: 1 for the original
order, else 0; -1 when no answer can be read. With ``partial_credit=True`` a well-formed wrong order
scores ``(tau + 1) / 2``, tau the Kendall rank correlation between the given and the true order
(MR-RLVR rewards agreement with the true step positions), and gets that fraction of the way from
the ``wrong`` to the ``correct`` reward; ``correct`` stays exact-order only. A malformed order is a
wrong answer with a reason: ``not_integer``, ``wrong_length``, ``out_of_range`` or
``repeated_label`` (an empty box: ``no_answer``). Steps with identical text are interchangeable.

Episode end: after one step (terminated=True). ``info["verdict"]`` says why.

Arguments: as Math-RLVR-v0 (``family`` or ``mixture``, ``level`` or knobs, ``require_think``,
``timeout``, ``rewards``, ``max_text_length``, ``render_mode``); StepOrder also ``partial_credit``.

``info["problem"]["metadata"]``: ``source_id``, ``source_family``, ``source_answer``, ``question``
and ``steps`` (the reference solution, in order); MaskedStep adds ``masked_step`` (1-based);
StepOrder adds ``shuffled`` (the 0-based original index of the step shown with each label).

Version history: v0 — first release.
"""

from __future__ import annotations

import random
import re
from collections import deque
from typing import Any

from thinkgym.core import Problem, Verdict, stable_id
from thinkgym.envs.math.procedural import MathRLVREnv
from thinkgym.generators.math import INSTRUCTION
from thinkgym.verifiers.extract import last_boxed

__all__ = ["MASK", "MaskedStepEnv", "StepOrderEnv", "kendall_tau", "parse_order"]

MASK = "[MASKED]"
_MASK_REQUEST = (
    "What does Step {k} arrive at? Reason step by step, and put the result of Step {k} (the number, "
    "expression, set, tuple or equation it ends with) within \\boxed{{}}."
)
_ORDER_REQUEST = (
    "Restore the order of the solution. Reason step by step, and put the labels of the steps in the "
    "order in which they occur in the solution, first step first and separated by commas, within "
    "\\boxed{} (for example \\boxed{3,1,2} if a three-step solution starts with the step labelled [3])."
)
_LABEL = re.compile(r"[(\[]?([+-]?\d+)[)\]]?")
_OUTER = (("(", ")"), ("[", "]"), ("\\{", "\\}"), ("{", "}"))


def _source(problem: Problem) -> dict[str, Any]:
    """The metadata every process task keeps about the problem it was built from."""
    question = problem.prompt.removesuffix(INSTRUCTION).rstrip()
    return {
        "source_id": problem.id,
        "source_family": problem.metadata["family"],
        "source_answer": problem.answer,
        "question": question,
        "steps": problem.metadata["steps"],
    }


class MaskedStepEnv(MathRLVREnv):
    """MR-RLVR masked-then-fill: box the result of the hidden step (see the module docstring)."""

    family = "math-masked-step"

    def generate(self, params: dict[str, Any], seed: int) -> Problem:
        source = super().generate(params, seed)
        meta = _source(source)
        steps = meta["steps"]
        masked = random.Random(f"masked-step:{seed}").randrange(len(steps))
        lines = [f"Step {i + 1}: {MASK if i == masked else step['text']}" for i, step in enumerate(steps)]
        prompt = (
            f"{meta['question']}\n\nHere is a worked solution with one step hidden as {MASK}:\n"
            + "\n".join(lines)
            + "\n\n"
            + _MASK_REQUEST.format(k=masked + 1)
        )
        return Problem(
            id=stable_id(self.family, {"source": source.id, "masked": masked}),
            prompt=prompt,
            answer=steps[masked]["result"],
            params=source.params,
            difficulty=source.difficulty,
            family=self.family,
            metadata={**meta, "masked_step": masked + 1},
        )


def parse_order(content: str, n: int) -> tuple[list[int] | None, str, dict[str, Any]]:
    """Reads a boxed order of the labels 1..n: ``(labels, "ok", {})``, or ``(None, reason, details)``
    with reason ``no_answer``, ``not_integer``, ``wrong_length``, ``out_of_range`` or ``repeated_label``."""
    text = content.replace("\\left", "").replace("\\right", "").replace("$", "").strip()
    for opening, closing in _OUTER:
        if text.startswith(opening) and text.endswith(closing):
            text = text[len(opening) : -len(closing)].strip()
            break
    tokens = [token for token in re.split(r"[\s,;]+", text) if token]
    if not tokens:
        return None, "no_answer", {}
    labels = []
    for token in tokens:
        match = _LABEL.fullmatch(token)
        if match is None:
            return None, "not_integer", {"token": token[:50]}
        labels.append(int(match.group(1)))
    if len(labels) != n:
        return None, "wrong_length", {"expected": n, "got": len(labels)}
    outside = [label for label in labels if not 1 <= label <= n]
    if outside:
        return None, "out_of_range", {"labels": outside[:10], "valid": f"1..{n}"}
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        return None, "repeated_label", {"labels": repeated}
    return labels, "ok", {}


def kendall_tau(positions: list[int]) -> float:
    """Kendall's tau between ``positions`` and the sorted order: 1 - 4·inversions / (n(n-1));
    1.0 for fewer than two items."""
    n = len(positions)
    if n < 2:
        return 1.0
    inversions = sum(positions[i] > positions[j] for i in range(n) for j in range(i + 1, n))
    return 1.0 - 4.0 * inversions / (n * (n - 1))


class StepOrderEnv(MathRLVREnv):
    """MR-RLVR step reordering: box the labels of the shuffled steps in order (see the module docstring)."""

    family = "math-step-order"

    def __init__(self, *, partial_credit: bool = False, **kwargs: Any) -> None:
        if not isinstance(partial_credit, bool):
            raise ValueError(f"partial_credit must be True or False, got {partial_credit!r}")
        self.partial_credit = partial_credit
        super().__init__(**kwargs)

    def generate(self, params: dict[str, Any], seed: int) -> Problem:
        source = super().generate(params, seed)
        meta = _source(source)
        texts = [step["text"] for step in meta["steps"]]
        if len(set(texts)) < 2:
            raise ValueError(f"problem {source.id} has fewer than two distinct steps; nothing to reorder")
        rng = random.Random(f"step-order:{seed}")
        shuffled = list(range(len(texts)))
        while [texts[i] for i in shuffled] == texts:
            rng.shuffle(shuffled)
        lines = [f"[{label + 1}] {texts[index]}" for label, index in enumerate(shuffled)]
        answer = ",".join(str(shuffled.index(index) + 1) for index in range(len(texts)))
        prompt = f"{meta['question']}\n\nThe steps of a worked solution, shuffled:\n" + "\n".join(lines)
        return Problem(
            id=stable_id(self.family, {"source": source.id, "shuffled": shuffled}),
            prompt=f"{prompt}\n\n{_ORDER_REQUEST}",
            answer=answer,
            params=source.params,
            difficulty=source.difficulty,
            family=self.family,
            metadata={**meta, "shuffled": shuffled},
        )

    def judge(self, response: str, problem: Problem) -> Verdict:
        box = last_boxed(response)
        if box.status != "ok" or box.content is None:
            return Verdict(False, False, 0.0, box.status)
        texts = [step["text"] for step in problem.metadata["steps"]]
        shuffled = problem.metadata["shuffled"]
        labels, reason, details = parse_order(box.content, len(texts))
        details["extracted"] = box.content[:200]
        if labels is None:
            return Verdict(False, reason != "no_answer", 0.0, reason, details)
        # Original position of each step in the given order; a text that occurs several times takes
        # its positions in increasing order, so interchangeable steps never count as inverted.
        free = {text: deque(i for i, t in enumerate(texts) if t == text) for text in set(texts)}
        positions = [free[texts[shuffled[label - 1]]].popleft() for label in labels]
        tau = kendall_tau(positions)
        details.update(order=labels, kendall_tau=tau)
        if positions == sorted(positions):
            return Verdict(True, True, 1.0, "correct", details)
        return Verdict(False, True, (tau + 1.0) / 2.0 if self.partial_credit else 0.0, "wrong_order", details)

    def reward(self, verdict: Verdict) -> float:
        """With ``partial_credit``, a well-formed wrong order earns ``score`` of the way from the
        ``wrong`` to the ``correct`` reward; otherwise the scheme of every env."""
        if self.partial_credit and verdict.format_ok and not verdict.correct:
            wrong = self.rewards["wrong"]
            return wrong + verdict.score * (self.rewards["correct"] - wrong)
        return super().reward(verdict)
