"""Zebra (Einstein) puzzles in words: houses in a row, one value of each category per house, clues
in English; unique solution.

CNF: p(category, value, house) one-hot both ways (each value in one house, each house one value).
Every clue is a relation between the houses of one or two values (``RELATIONS``), so it is encoded
generically: for every pair of houses the relation forbids, one clause forbidding it, all guarded
by the clue's selector. Generation draws a hidden solution and random true clues until MiniSat
proves the solution unique, then removes clues in random order while it stays unique.

Parameters: ``houses`` (2..6), ``categories`` (2..5).
"""

from __future__ import annotations

import random
from typing import Any

from thinkgym.generators.logic.base import Puzzle, int_param
from thinkgym.generators.logic.pysat_tools import CNF, UniqueChecker, minimise

__all__ = ["CATEGORIES", "RELATIONS", "Zebra", "clue_holds"]

# category -> (values, subject phrase, predicate phrase)
CATEGORIES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "colour": (
        ("red", "green", "blue", "yellow", "white", "black"),
        "the person in the {} house",
        "lives in the {} house",
    ),
    "nationality": (("Brit", "Swede", "Dane", "German", "Norwegian", "Japanese"), "the {}", "is the {}"),
    "pet": (("dog", "cat", "bird", "fish", "horse", "rabbit"), "the {} owner", "keeps the {}"),
    "drink": (("tea", "coffee", "milk", "water", "juice", "cocoa"), "the person who drinks {}", "drinks {}"),
    "hobby": (
        ("chess", "painting", "hiking", "reading", "cooking", "gardening"),
        "the person who likes {}",
        "likes {}",
    ),
}

# kind -> (arity, relation on house numbers (1-based), English template: {a}, {b} subjects, {pb} predicate, {h})
RELATIONS: dict[str, tuple[int, Any, str]] = {
    "at": (1, lambda a, h: a == h, "{A} lives in house {h}."),
    "not_at": (1, lambda a, h: a != h, "{A} does not live in house {h}."),
    "same": (2, lambda a, b: a == b, "{A} {pb}."),
    "different": (2, lambda a, b: a != b, "{A} and {b} live in different houses."),
    "left_of": (2, lambda a, b: a + 1 == b, "{A} lives directly left of {b}."),
    "next_to": (2, lambda a, b: abs(a - b) == 1, "{A} and {b} live next to each other."),
    "somewhere_left": (2, lambda a, b: a < b, "{A} lives somewhere to the left of {b}."),
}


def clue_holds(clue: dict[str, Any], house: dict[tuple[int, int], int]) -> bool:
    """Whether ``clue`` holds when value (category index, value index) is in ``house[...]``."""
    a = house[tuple(clue["a"])]
    other = clue["h"] if RELATIONS[clue["kind"]][0] == 1 else house[tuple(clue["b"])]
    return RELATIONS[clue["kind"]][1](a, other)


class Zebra(Puzzle):
    name = "zebra"
    title = "zebra (Einstein)"
    unique = True
    param_names = ("houses", "categories")
    levels = {
        1: {"houses": 2, "categories": 2},
        2: {"houses": 3, "categories": 3},
        3: {"houses": 4, "categories": 4},
        4: {"houses": 5, "categories": 4},
        5: {"houses": 5, "categories": 5},
    }
    example_params = {"houses": 3, "categories": 2}
    rules = (
        "Houses stand in a row, numbered from 1 on the left. Each house has exactly one value of each "
        "category, and each value belongs to exactly one house. Use the clues to work out which value of "
        "each category belongs to which house."
    )
    answer_format = (
        "for each category in the order listed, its values in house order (house 1 first) separated by "
        "commas; categories separated by semicolons, e.g. red,green,blue;dog,cat,bird (case and whitespace "
        "are ignored)."
    )

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"houses": int_param(params, "houses", 2, 6), "categories": int_param(params, "categories", 2, 5)}

    def var(self, n: int, cat: int, val: int, house: int) -> int:
        return 1 + (cat * n + val) * n + (house - 1)

    def rules_cnf(self, n: int, m: int) -> CNF:
        cnf = CNF()
        cnf.top = m * n * n
        for cat in range(m):
            for i in range(n):
                cnf.exactly_one([self.var(n, cat, i, h) for h in range(1, n + 1)])
                cnf.exactly_one([self.var(n, cat, v, i + 1) for v in range(n)])
        return cnf

    def clue_cnf(self, cnf: CNF, n: int, clue: dict[str, Any], guard: int | None) -> None:
        arity, rel, _ = RELATIONS[clue["kind"]]
        tail = [] if guard is None else [-guard]
        houses = range(1, n + 1)
        for ha in houses:
            pa = self.var(n, *clue["a"], ha)
            if arity == 1:
                if not rel(ha, clue["h"]):
                    cnf.add([-pa, *tail])
                continue
            for hb in houses:
                if not rel(ha, hb):
                    cnf.add([-pa, -self.var(n, *clue["b"], hb), *tail])

    def draw_clue(self, n: int, m: int, house: dict[tuple[int, int], int], rng: random.Random) -> dict[str, Any]:
        while True:
            kind = rng.choice(list(RELATIONS))
            a = [rng.randrange(m), rng.randrange(n)]
            clue: dict[str, Any] = {"kind": kind, "a": a}
            if RELATIONS[kind][0] == 1:
                clue["h"] = rng.randint(1, n)
            else:
                clue["b"] = [rng.randrange(m), rng.randrange(n)]
                if clue["b"][0] == a[0] and (kind == "same" or clue["b"][1] == a[1]):
                    continue
            if clue_holds(clue, house):
                return clue

    def build(self, params: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], Any]:
        n, m = params["houses"], params["categories"]
        names = list(CATEGORIES)[:m]
        order = [rng.sample(range(n), n) for _ in range(m)]  # order[cat][house-1] = value index
        house = {(c, v): h + 1 for c in range(m) for h, v in enumerate(order[c])}
        solution_lits = [self.var(n, c, v, h) for (c, v), h in house.items()]
        cnf = self.rules_cnf(n, m)
        clues: list[dict[str, Any]] = []
        selectors: list[int] = []
        for _ in range(100):
            for _ in range(n * m):
                clues.append(self.draw_clue(n, m, house, rng))
                selectors.append(cnf.var())
                self.clue_cnf(cnf, n, clues[-1], selectors[-1])
            checker = UniqueChecker(cnf.clauses, cnf.top, solution_lits)
            if checker.unique(selectors):
                break
            checker.close()
        else:
            raise AssertionError(f"internal error: no unique zebra puzzle for {params}")
        kept = set(minimise(checker, selectors, rng))
        checker.close()
        instance = {
            "houses": n,
            "categories": {name: list(CATEGORIES[name][0][:n]) for name in names},
            "clues": [c for c, s in zip(clues, selectors, strict=True) if s in kept],
        }
        solution = [[CATEGORIES[names[c]][0][v] for v in order[c]] for c in range(m)]
        return instance, solution

    def encode(self, instance: dict[str, Any]) -> tuple[CNF, list[int], Any]:
        n, m = instance["houses"], len(instance["categories"])
        cnf = self.rules_cnf(n, m)
        for clue in instance["clues"]:
            self.clue_cnf(cnf, n, clue, None)
        values = list(instance["categories"].values())

        def decode(true: set[int]) -> list[list[str]]:
            return [
                [next(values[c][v] for v in range(n) if self.var(n, c, v, h) in true) for h in range(1, n + 1)]
                for c in range(m)
            ]

        return cnf, list(range(1, m * n * n + 1)), decode

    def phrase(self, instance: dict[str, Any], item: list[int], part: int) -> str:
        name = list(instance["categories"])[item[0]]
        return CATEGORIES[name][part].format(instance["categories"][name][item[1]])

    def describe(self, instance: dict[str, Any]) -> str:
        lines = [f"There are {instance['houses']} houses. Categories and their values:"]
        lines += [f"- {name}: {', '.join(values)}" for name, values in instance["categories"].items()]
        lines.append("Clues:")
        for i, clue in enumerate(instance["clues"], 1):
            fields = {"A": self.phrase(instance, clue["a"], 1), "h": clue.get("h")}
            if "b" in clue:
                fields.update(b=self.phrase(instance, clue["b"], 1), pb=self.phrase(instance, clue["b"], 2))
            text = RELATIONS[clue["kind"]][2].format(**fields)
            lines.append(f"{i}. {text[0].upper()}{text[1:]}")
        return "\n".join(lines)

    def format_answer(self, solution: Any) -> str:
        return ";".join(",".join(values) for values in solution)

    def random_answer(self, instance: dict[str, Any], rng: random.Random) -> str:
        return ";".join(",".join(rng.sample(values, len(values))) for values in instance["categories"].values())
