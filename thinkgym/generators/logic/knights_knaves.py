"""Knights and knaves: knights always tell the truth, knaves always lie; from what the inhabitants
say, decide who is which. Unique solution.

Each statement is one of a few templates about one to three other inhabitants (``TEMPLATES``),
true or false as a function of their kinds (``statement_true``). Generation draws a hidden
assignment, then statements consistent with it (true when the speaker is a knight, false when a
knave): one per inhabitant, plus a pool of extra ones. In CNF, K_i says inhabitant i is a knight;
a statement is a Tseitin OR over the assignments of its subjects that make it true, and
``K_speaker <-> statement`` is guarded by a selector. Extra statements are added until MiniSat
proves the assignment unique, then removed in random order while it stays unique, so everyone
speaks at least once and no extra statement is redundant.

Parameters: ``people`` (2..10).
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from thinkgym.generators.logic.base import Puzzle, int_param
from thinkgym.generators.logic.pysat_tools import CNF, UniqueChecker, minimise

__all__ = ["KnightsKnaves", "NAMES", "TEMPLATES", "statement_true"]

NAMES = ("Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy")

# kind -> (number of subjects, English template)
TEMPLATES: dict[str, tuple[int, str]] = {
    "is_knight": (1, "{0} is a knight."),
    "is_knave": (1, "{0} is a knave."),
    "both_knights": (2, "{0} and {1} are both knights."),
    "both_knaves": (2, "{0} and {1} are both knaves."),
    "either_knight": (2, "At least one of {0} and {1} is a knight."),
    "either_knave": (2, "At least one of {0} and {1} is a knave."),
    "same": (2, "{0} and {1} are of the same kind."),
    "different": (2, "{0} and {1} are of different kinds."),
    "implies": (2, "If {0} is a knight, then {1} is a knight."),
    "exactly_one": (3, "Exactly one of {0}, {1} and {2} is a knight."),
}


# "I am a knight" says nothing, "I am a knave" cannot be said; "implies" would need "If I am"
SELF_EXCLUDED = ("is_knight", "is_knave", "implies")


def statement_true(kind: str, knights: list[bool]) -> bool:
    """Whether a statement of ``kind`` holds when its subjects' kinds are ``knights`` (True =
    knight), in the template's order."""
    a = knights[0]
    b = knights[1] if len(knights) > 1 else False
    return {
        "is_knight": a,
        "is_knave": not a,
        "both_knights": a and b,
        "both_knaves": not a and not b,
        "either_knight": a or b,
        "either_knave": not a or not b,
        "same": a == b,
        "different": a != b,
        "implies": not a or b,
        "exactly_one": sum(knights) == 1,
    }[kind]


def statement_cnf(cnf: CNF, st: dict[str, Any], guard: int | None) -> None:
    """K_speaker <-> statement (K_i is variable i+1), guarded by ``guard`` when given."""
    about = st["about"]
    terms = []
    for values in itertools.product((False, True), repeat=len(about)):
        if statement_true(st["kind"], list(values)):
            terms.append(cnf.and_([(i + 1) if v else -(i + 1) for i, v in zip(about, values, strict=True)]))
    g = cnf.or_(terms)
    k = st["speaker"] + 1
    tail = [] if guard is None else [-guard]
    cnf.add([-k, g, *tail])
    cnf.add([k, -g, *tail])


class KnightsKnaves(Puzzle):
    name = "knights_knaves"
    title = "knights and knaves"
    unique = True
    param_names = ("people",)
    levels = {1: {"people": 2}, 2: {"people": 3}, 3: {"people": 4}, 4: {"people": 6}, 5: {"people": 8}}
    example_params = {"people": 3}
    rules = (
        "On this island every inhabitant is either a knight, who always tells the truth, or a knave, who "
        "always lies. Decide from their statements who is a knight and who is a knave."
    )
    answer_format = (
        "knight or knave for each inhabitant, in the order they are introduced, separated by commas, "
        "e.g. knight,knave,knave."
    )

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"people": int_param(params, "people", 2, len(NAMES))}

    def draw(self, speaker: int, n: int, truth: list[bool], rng: random.Random) -> dict[str, Any]:
        """A random statement by ``speaker`` that is true iff the speaker is a knight. Symmetric
        templates may include the speaker ("Bob and I are both knaves"), always named last."""
        while True:
            kind = rng.choice(list(TEMPLATES))
            arity = TEMPLATES[kind][0]
            pool = [i for i in range(n) if i != speaker or kind not in SELF_EXCLUDED]
            if arity > len(pool):
                continue
            about = rng.sample(pool, arity)
            if speaker in about:
                about.remove(speaker)
                about.append(speaker)
            if statement_true(kind, [truth[i] for i in about]) == truth[speaker]:
                return {"speaker": speaker, "kind": kind, "about": about}

    def build(self, params: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], Any]:
        n = params["people"]
        truth = [rng.random() < 0.5 for _ in range(n)]
        solution_lits = [(i + 1) if t else -(i + 1) for i, t in enumerate(truth)]
        statements = [self.draw(i, n, truth, rng) for i in range(n)]
        cnf = CNF()
        cnf.top = n
        for st in statements:
            statement_cnf(cnf, st, None)
        extras: list[dict[str, Any]] = []
        selectors: list[int] = []
        for _ in range(100):
            for _ in range(n):
                extras.append(self.draw(rng.randrange(n), n, truth, rng))
                selectors.append(cnf.var())
                statement_cnf(cnf, extras[-1], selectors[-1])
            checker = UniqueChecker(cnf.clauses, cnf.top, solution_lits)
            if checker.unique(selectors):
                break
            checker.close()
        else:
            raise AssertionError(f"internal error: no unique knights-and-knaves puzzle for {params}")
        kept = set(minimise(checker, selectors, rng))
        checker.close()
        statements += [st for st, s in zip(extras, selectors, strict=True) if s in kept]
        statements.sort(key=lambda st: st["speaker"])
        return {"people": list(NAMES[:n]), "statements": statements}, truth

    def encode(self, instance: dict[str, Any]) -> tuple[CNF, list[int], Any]:
        n = len(instance["people"])
        cnf = CNF()
        cnf.top = n
        for st in instance["statements"]:
            statement_cnf(cnf, st, None)
        return cnf, list(range(1, n + 1)), lambda true: [(i + 1) in true for i in range(n)]

    def describe(self, instance: dict[str, Any]) -> str:
        names = instance["people"]
        lines = [f"You meet {len(names)} inhabitants: {', '.join(names)}."]
        for st in instance["statements"]:
            said = ("I" if i == st["speaker"] else names[i] for i in st["about"])
            text = TEMPLATES[st["kind"]][1].format(*said)
            lines.append(f'{names[st["speaker"]]} says: "{text}"')
        return "\n".join(lines)

    def format_answer(self, solution: Any) -> str:
        return ",".join("knight" if k else "knave" for k in solution)

    def random_answer(self, instance: dict[str, Any], rng: random.Random) -> str:
        return ",".join(rng.choice(("knight", "knave")) for _ in instance["people"])
