"""``Puzzle``: what one logic-puzzle family supplies, and the generation pipeline they share.

A family (one module under :mod:`thinkgym.generators.logic`) subclasses :class:`Puzzle` with:

* ``name``, ``title``, ``unique`` (whether every instance has exactly one solution), ``levels``
  (level number -> parameters) and ``check_params`` (``ValueError`` naming the parameter and its
  valid range);
* ``build(params, rng) -> (instance, solution)``: a JSON-serialisable instance (what the solver
  and the verifier see: givens, clues, edges, ...) and one solution, from ``rng`` only (what
  ``rng(params, seed)`` returns: ``random.Random(seed)``, or the :func:`hash_words` of the seed
  where a family overrides it), so a seed gives the same instance on every machine;
* ``encode(instance) -> (cnf, answer_vars, decode)``: the puzzle as CNF, the variables an answer
  fixes, and ``decode(model) -> solution``; the pysat oracle and the difficulty features use it;
* ``describe(instance)`` (the puzzle in words), ``format_answer(solution)`` (the exact text that
  goes inside ``\\boxed{}``) and ``answer_format`` (that format in words);
* ``random_answer(instance, rng)``: a well-formed guess (the random policy of the tests);
* optionally ``one_hot_answer = True`` (every solution makes the same number of answer variables
  true, so counting blocks a solution by its true literals alone) and ``symmetry(instance)`` (a
  :class:`~thinkgym.generators.logic.pysat_tools.Symmetry` of the solutions, for counting whole
  classes at a time).

:meth:`Puzzle.generate` builds the instance, measures it with
:func:`~thinkgym.generators.logic.pysat_tools.measure` and returns a :class:`~thinkgym.core.Problem`
of family ``"logic"`` whose ``metadata`` holds ``puzzle`` (the family), ``instance``, ``solver``
(the effort features), ``unique`` and ``seed``. The verifier (:mod:`thinkgym.verifiers.logic`)
needs only ``metadata``; it checks the constraints themselves, never the reference answer.
"""

from __future__ import annotations

import functools
import hashlib
import random
import struct
from typing import Any, ClassVar

from thinkgym.core import Problem, stable_id
from thinkgym.generators.logic.pysat_tools import CNF, Symmetry, measure, solve_first

__all__ = ["Puzzle", "hash_words", "int_param"]

FINAL_ANSWER_RULE = "Please reason step by step, and put your final answer within \\boxed{}."


def int_param(params: dict[str, Any], name: str, lo: int, hi: int) -> int:
    """``params[name]`` as an int in lo..hi, else a ``ValueError`` naming it and the range."""
    if name not in params:
        raise ValueError(f"missing parameter {name!r} (an int in {lo}..{hi})")
    value = params[name]
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an int in {lo}..{hi}, got {value!r}")
    return value


def hash_words(label: str, seed: int | str, count: int) -> tuple[int, ...]:
    """``count`` uniform 32-bit unsigned ints for ``seed``: SHAKE-128 (FIPS 202) of
    ``"<label>:<seed>"`` read as little-endian words. The same on every machine, and about 1.5 us
    where ``random.Random(seed)`` takes 4.4 us (seeding the Mersenne Twister fills 624 words): for a
    family whose items are so small that seeding is a fifth of their cost (graph colouring). A word
    w picks one of m items as ``(w * m) >> 32``, biased by at most m / 2**32."""
    return _words_format(count).unpack(hashlib.shake_128(f"{label}:{seed}".encode()).digest(4 * count))


@functools.cache
def _words_format(count: int) -> struct.Struct:
    return struct.Struct(f"<{count}I")


class Puzzle:
    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    unique: ClassVar[bool] = True
    one_hot_answer: ClassVar[bool] = False
    levels: ClassVar[dict[int, dict[str, Any]]] = {}
    rules: ClassVar[str] = ""
    answer_format: ClassVar[str] = ""
    example_params: ClassVar[dict[str, Any]] = {}
    param_names: ClassVar[tuple[str, ...]] = ()

    # -- what a family supplies --------------------------------------------------------------
    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def build(self, params: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], Any]:
        raise NotImplementedError

    def encode(self, instance: dict[str, Any]) -> tuple[CNF, list[int], Any]:
        raise NotImplementedError

    def describe(self, instance: dict[str, Any]) -> str:
        raise NotImplementedError

    def format_answer(self, solution: Any) -> str:
        raise NotImplementedError

    def random_answer(self, instance: dict[str, Any], rng: random.Random) -> str:
        raise NotImplementedError

    def symmetry(self, instance: dict[str, Any]) -> Symmetry | None:
        """The symmetry of the instance's solutions that counting may use; None: count one by one."""
        return None

    # -- shared pipeline ----------------------------------------------------------------------
    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        """Unknown names are a ``ValueError``; then the family's ``check_params``. The result is a
        new dict; the last 64 accepted parameter sets are remembered (keyed by their items, types
        included, so ``True`` is not taken for ``1``), as generating many problems from one set is
        the common case."""
        if not isinstance(params, dict):
            raise ValueError(f"{self.name} parameters must be a dict, got {type(params).__name__}")
        try:
            key: Any = (tuple(params.items()), tuple(map(type, params.values())))
            hash(key)
        except TypeError:  # an unhashable value: not remembered (check_params rejects it anyway)
            key = None
        seen = self.__dict__.setdefault("_valid_params", {})
        if key in seen:
            return dict(seen[key])
        unknown = set(params) - set(self.param_names)
        if unknown:
            raise ValueError(
                f"unknown {self.name} parameter(s) {sorted(unknown)}; valid: {', '.join(self.param_names)}"
            )
        checked = self.check_params(dict(params))
        if key is not None:
            if len(seen) >= 64:
                seen.clear()
            seen[key] = dict(checked)
        return checked

    def clear_memos(self) -> None:
        """Forgets what this family remembers between problems (validated parameters, the prompt's
        fixed part, the worked example): a benchmark's first problem then pays for them again."""
        for memo in ("_valid_params", "_prompt_head", "_example_text"):
            self.__dict__.pop(memo, None)

    def prompt(self, instance: dict[str, Any]) -> str:
        head = self.__dict__.get("_prompt_head")
        if head is None:
            example, example_answer = self._example()
            head = self.__dict__["_prompt_head"] = (
                f"Solve this {self.title} puzzle.\n{self.rules}\n"
                f"Answer format: {self.answer_format}"
                f"{' Any answer that satisfies every rule is accepted.' if not self.unique else ''}\n"
                f"{FINAL_ANSWER_RULE}\n\n"
                f"**Example**\n{example}\n**Final Answer**\n\\boxed{{{example_answer}}}\n\n"
                "Below is the puzzle you need to solve:\n"
            )
        return f"{head}{self.describe(instance)}\n"

    def _example(self) -> tuple[str, str]:
        cached = self.__dict__.get("_example_text")
        if cached is None:
            params = self.validate(self.example_params)
            instance, solution = self.build(params, self.rng(params, "worked example"))
            cached = self.__dict__["_example_text"] = (self.describe(instance), self.format_answer(solution))
        return cached

    def rng(self, params: dict[str, Any], seed: int | str) -> Any:
        """The random source :meth:`build` draws from for ``seed``: ``random.Random(seed)``."""
        return random.Random(seed)

    def generate(self, params: dict[str, Any], seed: int) -> Problem:
        """One problem from parameters (validated here) and an integer seed."""
        params = self.validate(params)
        instance, solution = self.build(params, self.rng(params, seed))
        stats = self.solver_features(instance)
        if self.unique and stats["solutions"] != 1:
            raise AssertionError(f"internal error: {self.name} seed {seed} is not unique: {stats}")
        return Problem(
            id=self.instance_id(instance),
            prompt=self.prompt(instance),
            answer=self.format_answer(solution),
            params=params,
            difficulty=stats["log_effort"],
            family="logic",
            metadata={"puzzle": self.name, "instance": instance, "solver": stats, "unique": self.unique, "seed": seed},
        )

    def instance_id(self, instance: dict[str, Any]) -> str:
        """The problem id: :func:`~thinkgym.core.stable_id` of the family name and the instance (so
        re-wording a prompt keeps it). A family may compute the same string faster; a test
        compares."""
        return stable_id("logic", {"puzzle": self.name, "instance": instance})

    def solver_features(self, instance: dict[str, Any]) -> dict[str, Any]:
        """The solver-effort features of an instance (``metadata["solver"]``):
        :func:`~thinkgym.generators.logic.pysat_tools.measure` of :meth:`encode`. A family may
        override it to do the same measurement faster (caching, a smaller equivalent encoding); the
        override documents what it measures."""
        cnf, answer_vars, _ = self.encode(instance)
        _, stats = measure(
            cnf.clauses,
            answer_vars,
            top=cnf.top,
            atmosts=cnf.atmosts,
            one_hot=self.one_hot_answer,
            symmetry=self.symmetry(instance),
        )
        return stats

    def solve(self, instance: dict[str, Any]) -> str | None:
        """The pysat oracle: the answer text of a solution MiniSat finds, or None if there is none."""
        cnf, _, decode = self.encode(instance)
        model = solve_first(cnf.clauses, atmosts=cnf.atmosts)
        return None if model is None else self.format_answer(decode(set(model)))
