"""The SAT verifier: is the boxed assignment a satisfying assignment of the clauses?

Strict where SATURN's scorer (gtxygyzb/Saturn-code ``src/reward_function/reward_func.py``) is
lenient: the answer must be exactly ``num_vars`` characters, each ``0`` or ``1`` (SATURN reads a
missing position as 0 and never checks the length, so ``\\boxed{}`` could satisfy clauses that
only use negated late variables). Verification is linear in the number of literals and needs no
solver (verifiers.md §C2).

Reasons: ``correct``, ``unsatisfied_clause``, ``wrong_length``, ``bad_char`` (an answer was read:
``format_ok=True``), and ``no_answer``, ``unclosed_box``, ``unfinished_thinking`` (no answer:
``format_ok=False``).
"""

from __future__ import annotations

from typing import Any

from thinkgym.core import Verdict
from thinkgym.verifiers.extract import last_boxed

__all__ = ["verify", "first_unsatisfied", "read_assignment"]

_WRAPPERS = ("\\text{", "\\texttt{", "\\mathtt{", "\\mathrm{")
_PREVIEW = 200


def read_assignment(content: str) -> str:
    """The boxed content with surrounding whitespace and one ``\\text{...}``-style wrapper removed."""
    s = content.strip()
    for w in _WRAPPERS:
        if s.startswith(w) and s.endswith("}"):
            return s[len(w) : -1].strip()
    return s


def first_unsatisfied(assignment: str, clauses: list[list[int]]) -> int:
    """Index of the first clause no literal of which is true under ``assignment`` (a 0/1 string,
    position i = variable i+1), or -1 when every clause holds."""
    true_literals = {i + 1 if c == "1" else -(i + 1) for i, c in enumerate(assignment)}
    for index, clause in enumerate(clauses):
        if true_literals.isdisjoint(clause):
            return index
    return -1


def verify(response: str, clauses: list[list[int]], num_vars: int) -> Verdict:
    """Judges ``response``: the last ``\\boxed{}`` after any ``</think>`` must hold a 0/1 string
    of exactly ``num_vars`` characters satisfying every clause."""
    boxed = last_boxed(response)
    if boxed.content is None:
        return Verdict(False, False, 0.0, boxed.status)
    answer = read_assignment(boxed.content)
    details: dict[str, Any] = {"answer": answer[:_PREVIEW]}
    if len(answer) != num_vars:
        details.update(expected_length=num_vars, length=len(answer))
        return Verdict(False, True, 0.0, "wrong_length", details)
    if answer.strip("01"):
        bad = next(i for i, c in enumerate(answer) if c not in "01")
        details.update(position=bad, char=answer[bad])
        return Verdict(False, True, 0.0, "bad_char", details)
    index = first_unsatisfied(answer, clauses)
    if index >= 0:
        details.update(clause_index=index, clause=list(clauses[index]))
        return Verdict(False, True, 0.0, "unsatisfied_clause", details)
    return Verdict(True, True, 1.0, "correct", details)
