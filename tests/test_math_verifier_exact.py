"""Issue #14 for the math verifier: every example of the issue gets the right verdict.

Numbers are exact unless the problem carries a tolerance; percent only where the meanings agree;
expression identity by randomized evaluation (no fixed points to aim at); ordered bounds;
thousands separators only where they can be one; the exact set of multiple-choice letters;
verifier failures are their own outcome; and the recall additions (labelled golds, mixed numbers,
lists joined by words, ratios, trailing commas, matrix sums and products, positive variables).
"""

from __future__ import annotations

import json

import pytest

from thinkgym.core import Problem
from thinkgym.verifiers import math_worker
from thinkgym.verifiers.math import VERIFIER_ERRORS, check_tolerance, is_equivalent, verify


def boxed(pred: str) -> str:
    return f"The answer is $\\boxed{{{pred}}}$."


def assert_verdicts(pairs: list[tuple[str, str, bool]], **kwargs: object) -> None:
    wrong = [
        (pred, gold, expected, verdict.reason)
        for pred, gold, expected in pairs
        if (verdict := verify(boxed(pred), gold, **kwargs)).correct is not expected  # type: ignore[arg-type]
    ]
    assert not wrong, wrong


# --- 1. numbers are exact ----------------------------------------------------------------------

DECIMALS = [
    ("0.46", "0.5", False),
    ("0.54", "0.5", False),
    ("46\\%", "0.5", False),
    ("0.5\\%", "0.5", False),
    ("\\frac{\\sqrt{2}}{3}", "0.5", False),
    ("\\frac14", "0.2", False),
    ("1.95", "2.0", False),
    ("3.1416", "3.14", False),
    ("\\pi", "3.14", False),
    ("0.333", "\\frac13", False),
    ("\\frac12", "0.5", True),
    ("1/2", "0.5", True),
    ("0.50", "0.5", True),
    ("2", "2.0", True),
    ("0.\\overline{3}", "\\frac13", True),
]


def test_decimals_are_exact() -> None:
    assert_verdicts(DECIMALS)


def test_decimals_are_exact_in_the_sympy_stage_too() -> None:
    # a symbolic answer goes to the worker: it must not round either
    assert_verdicts([("\\frac{\\sqrt{2}}{2}", "0.7071", False), ("\\sqrt{2}/2", "0.7071067811865476", False)])


def test_tolerance_only_when_explicit() -> None:
    assert not verify(boxed("3.1416"), "3.14").correct
    assert verify(boxed("3.1416"), "3.14", tolerance={"abs": 0.005}).correct
    assert not verify(boxed("3.15"), "3.14", tolerance={"abs": 0.005}).correct
    assert verify(boxed("\\pi"), "3.14", tolerance={"abs": 0.005}).correct  # the SymPy stage applies it too
    assert verify(boxed("1010"), "1000", tolerance={"rel": 0.01}).correct
    assert not verify(boxed("1011"), "1000", tolerance={"rel": 0.01}).correct
    assert verify(boxed("(1.001, 2)"), "(1, 2)", tolerance={"abs": 0.01}).correct


@pytest.mark.parametrize(
    "bad", [{"abs": -1}, {"abs": float("inf")}, {"tol": 0.1}, {}, 0.1, {"rel": "0.1"}, {"abs": True}]
)
def test_malformed_tolerance_is_a_clear_error(bad: object) -> None:
    with pytest.raises(ValueError, match="tolerance"):
        check_tolerance(bad)
    with pytest.raises(ValueError, match="tolerance"):
        verify(boxed("1"), "1", tolerance=bad)  # type: ignore[arg-type]


PERCENT = [
    ("50", "50\\%", True),  # the sign dropped from a count of percent
    ("0.5", "50\\%", True),  # the same amount as a fraction
    ("50\\%", "50", True),  # a "what percent" gold written without the sign
    ("50\\%", "0.5", True),
    ("0.5\\%", "0.5", False),  # 0.005 is not a half
    ("0.5", "0.5\\%", False),
    ("0.005", "0.5\\%", True),
    ("46\\%", "0.5", False),
    ("50", "0.5", False),
    ("12.5\\%", "\\frac18", True),
]


def test_percent_only_where_meanings_agree() -> None:
    assert_verdicts(PERCENT)


# --- 2. identity by randomized evaluation --------------------------------------------------------

# P vanishes at every point of the old fixed set (7/5, 13/4, 5/11, ...): any fixed set can be
# aimed at; fresh random points cannot
_FIXED = ["(x-\\frac{7}{5})", "(x-\\frac{13}{4})", "(x-\\frac{5}{11})", "(x-\\frac{29}{10})", "(x-\\frac{17}{3})"]
_FIXED += ["(x-\\frac{3}{13})", "(x+\\frac{13}{4})", "(x+\\frac{5}{11})", "(x+\\frac{29}{10})", "(x+\\frac{7}{5})"]
IDENTITY_TRAPS = [
    "x+\\sin(660\\pi x)",
    "x+\\sqrt{x}-\\sqrt{|x|}",
    "x+" + "".join(_FIXED),
    "x+\\sin(\\pi x)",  # zero at every integer
    "x+(x^{2}-x)(x-2)(x+1)(x-3)",
    "|x|",
    "x+\\frac{x-x}{x}",  # undefined at 0 only: equal elsewhere, so accepted (checked below)
]


def test_identity_traps_are_rejected() -> None:
    for pred in IDENTITY_TRAPS[:-1]:
        for _ in range(3):  # fresh points every call
            assert not verify(boxed(pred), "x").correct, pred


def test_identity_accepts_equal_functions() -> None:
    assert_verdicts(
        [
            ("(x+1)^2", "x^2+2x+1", True),
            ("2\\sin x\\cos x", "\\sin 2x", True),
            ("\\frac{x^2-1}{x-1}", "x+1", True),
            ("\\frac{1}{\\sqrt{2}}x", "\\frac{\\sqrt{2}}{2}x", True),
            ("e^{\\ln x}", "x", True),  # exp(log x) = x on the principal branch, negative x too
            ("\\sqrt{x^2}", "|x|", True),
            ("\\sqrt{x^2}", "x", False),
            ("(a+b)^{3}", "a^3+3a^2b+3ab^2+b^3", True),
            ("(a+b)^{3}", "a^3+3a^2b+3ab^2+b^3+1", False),
            ("\\frac{1}{1-x}+\\frac{1}{1+x}", "\\frac{2}{1-x^2}", True),
        ]
    )


def test_identity_seed_is_reproducible_and_points_are_fresh() -> None:
    from dataclasses import asdict

    from thinkgym.verifiers.math_compare import judge
    from thinkgym.verifiers.math_identity import _numeric_points, make_rng
    from thinkgym.verifiers.math_normalize import normalize

    def points(seed: int | None) -> list[str]:
        return [str(p) for p in _numeric_points(["x"], make_rng(seed), False, 5)]

    assert points(7) == points(7)
    assert points(None) != points(None)
    g, p = asdict(normalize("x")), asdict(normalize("x+\\sin(660\\pi x)"))
    assert judge(g, p, {"seed": 1}) == judge(g, p, {"seed": 1})
    assert verify(boxed("(x+1)^2"), "x^2+2x+1", seed=3).correct


def test_schwartz_zippel_point_count() -> None:
    """The exact stage draws enough points: (d/|S|)^k <= 2^-30 for the numerator degree d."""
    import sympy

    from thinkgym.verifiers.math_identity import _exact_identity, degree_bound, make_rng

    x, y = sympy.symbols("x y")
    assert degree_bound(x**3 / (x + 1)) == (3, 1)
    assert degree_bound((x + y) ** 4 - x) == (4, 0)
    assert degree_bound(sympy.sin(x)) is None
    # x^1000 (x - 1) vanishes only at 0 and 1: still rejected, and an equal rewrite accepted
    big = x**1024
    assert _exact_identity(big, big + x**1000 * (x - 1), [x], make_rng(None), False) is False
    assert _exact_identity(big, (x**512) ** 2, [x], make_rng(None), False) is True


def test_domain_mismatch_is_a_disagreement() -> None:
    assert verify(boxed("\\sqrt{x}\\sqrt{x}"), "x").correct  # (i sqrt|x|)^2 = x for x < 0: equal everywhere
    assert not verify(boxed("\\sqrt{x^2}"), "x").correct  # |x| != x for x < 0
    assert not verify(boxed("\\ln|x|"), "\\ln x").correct  # complex against real for x < 0
    assert verify(boxed("\\ln|x|"), "\\ln x", positive=True).correct
    assert not verify(boxed("\\ln(x^2)"), "2\\ln x").correct
    assert verify(boxed("\\ln(x^2)"), "2\\ln x", positive=True).correct


# --- 3. inequalities, separators, multiple choice ------------------------------------------------


def test_inequalities() -> None:
    assert_verdicts(
        [
            ("1 < x < -5", "(1,-5)", False),
            ("1<x<5", "(1,5)", True),
            ("5 > x > 1", "(1,5)", True),
            ("-x > -1", "x<1", True),
            ("-2x \\geq 4", "x \\leq -2", True),
            ("-x>1", "x<1", False),
            ("x^2<9", "(-3,3)", False),
            ("-5<-x<1", "-1<x<5", True),
        ]
    )


def test_thousands_separators_by_context() -> None:
    assert_verdicts(
        [
            ("(12,102)", "12102", False),
            ("\\{12,102\\}", "12102", False),
            ("12,102", "12102", True),
            ("32,\\! 349", "32349", True),
            ("32{,}349", "32349", True),
            ("1\\,000\\,000", "10^6", True),
            ("(12,102)", "(12,102)", True),
            ("12102", "(12,102)", False),
        ]
    )


def test_multiple_choice_exact_set() -> None:
    assert_verdicts(
        [
            ("B C", "B", False),
            ("B, C", "B", False),
            ("B and C", "B", False),
            ("(B) or (C)", "B", False),
            ("B", "B", True),
            ("(B)", "B", True),
            ("(B) 42", "B", True),
            ("b", "B", True),
        ]
    )


# --- 4. verifier failure is its own outcome --------------------------------------------------------


def test_verifier_errors_are_flagged() -> None:
    timeout = verify(boxed("(x+1)^2"), "x^2+2x+1", timeout=1e-6)
    assert timeout.reason == "timeout" and timeout.verifier_error
    assert (timeout.correct, timeout.format_ok, timeout.score) == (False, False, 0.0)
    invalid = verify(boxed("1"), "\\frac{1}{")
    assert invalid.reason == "invalid_gold" and invalid.verifier_error and not invalid.format_ok
    assert verify(boxed("1"), "$ $").verifier_error
    assert {"timeout", "worker_error", "internal_error", "invalid_gold"} == VERIFIER_ERRORS
    wrong = verify(boxed("2"), "1")
    assert not wrong.verifier_error and wrong.format_ok


def test_a_crashed_worker_is_retried_then_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []

    def crash(self: object, request: object, timeout: float) -> None:
        calls.append(timeout)
        raise EOFError("worker closed its socket")

    monkeypatch.setattr(math_worker.WorkerPool, "call", crash)
    verdict = verify(boxed("(x+1)^2"), "x^2+2x+1")
    assert (verdict.reason, verdict.verifier_error, verdict.format_ok) == ("worker_error", True, False)
    assert len(calls) == 2


def test_a_slow_check_is_retried_with_a_larger_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    budgets: list[float] = []
    real_call = math_worker.WorkerPool.call

    def slow_first(self: math_worker.WorkerPool, request: dict[str, object], timeout: float) -> object:
        budgets.append(timeout)
        return None if len(budgets) == 1 else real_call(self, request, timeout)

    monkeypatch.setattr(math_worker.WorkerPool, "call", slow_first)
    verdict = verify(boxed("(x+1)^2"), "x^2+2x+1", timeout=2.0)
    assert verdict.correct and budgets == [2.0, 8.0]


def test_internal_error_is_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    from thinkgym.verifiers import math as math_verifier

    def broken(*args: object) -> object:
        raise RuntimeError("a bug")

    monkeypatch.setattr(math_verifier, "_rational_verdict", broken)
    verdict = verify(boxed("3"), "4")
    assert (verdict.reason, verdict.verifier_error, verdict.correct) == ("internal_error", True, False)


def test_unparseable_gold_is_refused_where_a_problem_is_loaded(tmp_path: object) -> None:
    from pathlib import Path

    from thinkgym.envs.math.dataset import MathDatasetEnv, gold_error

    assert gold_error("\\frac{1}{") is not None
    path = Path(str(tmp_path)) / "bad.jsonl"
    path.write_text(json.dumps({"problem": "p", "answer": "\\frac{1}{"}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1"):
        MathDatasetEnv(path=path)


def test_generator_golds_are_valid() -> None:
    from thinkgym.envs.math.dataset import gold_error
    from thinkgym.generators import math as gen

    for family in gen.list_families():
        for seed in range(3):
            problem = gen.generate(family, seed)
            assert gold_error(problem.answer) is None, (family, seed, problem.answer)


# --- tolerance and positivity through Math-Dataset-v0 -------------------------------------------


def _dataset(tmp_path: object, rows: list[dict[str, object]], **kwargs: object) -> object:
    from pathlib import Path

    from thinkgym.envs.math.dataset import MathDatasetEnv

    path = Path(str(tmp_path)) / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return MathDatasetEnv(path=path, **kwargs)


def test_dataset_tolerance_per_dataset_and_per_row(tmp_path: object) -> None:
    rows = [
        {"problem": "Approximate pi.", "answer": "3.14"},
        {"problem": "Approximate e.", "answer": "2.718", "tolerance": {"abs": 0.001}},
        {"problem": "Exact.", "answer": "0.5", "tolerance": None},
        {"problem": "Sqrt of x^2 for positive x.", "answer": "x", "positive_variables": True},
    ]

    def score(env: object, index: int, response: str) -> float:
        problem: Problem = env.problems[index]  # type: ignore[attr-defined]
        return env.judge(response, problem).score  # type: ignore[attr-defined]

    exact = _dataset(tmp_path, rows)
    assert score(exact, 0, boxed("\\pi")) == 0.0
    assert score(exact, 1, boxed("e")) == 1.0  # the row's own tolerance
    assert score(exact, 3, boxed("\\sqrt{x^2}")) == 1.0
    loose = _dataset(tmp_path, rows, tolerance={"abs": 0.005})
    assert score(loose, 0, boxed("\\pi")) == 1.0
    assert score(loose, 2, boxed("0.501")) == 0.0  # the row says exact
    assert loose.problems[0].metadata["tolerance"] == {"abs": 0.005}  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="tolerance"):
        _dataset(tmp_path, [{"problem": "p", "answer": "1", "tolerance": {"abs": -1}}])
    with pytest.raises(ValueError, match="tolerance"):
        _dataset(tmp_path, rows, tolerance=0.1)


# --- 5. recall -------------------------------------------------------------------------------------


COLUMN = "\\begin{pmatrix}1\\\\2\\end{pmatrix}+\\begin{pmatrix}3\\\\4\\end{pmatrix}"
PRODUCT = "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}\\begin{pmatrix}1\\\\1\\end{pmatrix}"
RECALL = [
    ("2x+3", "f(x)=2x+3", True),
    ("f(x)=2x+3", "2x+3", True),
    ("2x+4", "f(x)=2x+3", False),
    ("(3,2)", "(p,q)=(3,2)", True),
    ("p=3, q=2", "(p,q)=(3,2)", True),
    ("q=2, p=3", "(p,q)=(3,2)", True),
    ("(2,3)", "(p,q)=(3,2)", False),
    ("4, 5", "AB=4, CD=5", True),
    ("CD=5, AB=4", "AB=4, CD=5", True),
    ("AB=5, CD=4", "AB=4, CD=5", False),
    ("\\frac{1}{\\sqrt 6}", "\\frac{NO}{BO}=\\frac{1}{\\sqrt 6}", True),
    ("\\frac{\\sqrt 6}{6}", "\\frac{NO}{BO}=\\frac{1}{\\sqrt 6}", True),
    ("\\frac{1}{6}", "\\frac{NO}{BO}=\\frac{1}{\\sqrt 6}", False),
    ("(0,1)", "0<f(x)<1", True),
    ("0<f(x)<1", "(0,1)", True),
    ("[0,1)", "0<f(x)<1", False),
    ("x=3, x=2", "x=2, x=3", True),
    ("x = 2 \\text{ or } x = 3", "2, 3", True),
    ("x=2 \\text{ or } x=3", "x=2", False),
    ("4 4/9", "\\frac{40}{9}", True),
    ("4 4/9", "\\frac{16}{9}", False),
    ("3 and 5", "3, 5", True),
    ("3 or 5", "\\{3, 5\\}", True),
    ("3 \\quad \\text{and} \\quad 5", "3, 5", True),
    ("3 \\quad \\text{and} \\quad 6", "3, 5", False),
    ("6:4", "3:2", True),
    ("3:2", "6:4", True),
    ("2:3", "3:2", False),
    ("1.5", "3:2", True),
    ("10:30", "1:3", False),
    ("1, 2,", "1, 2", True),
    ("7,", "7", True),
    (COLUMN, "\\begin{pmatrix}4\\\\6\\end{pmatrix}", True),
    (PRODUCT, "\\begin{pmatrix}3\\\\7\\end{pmatrix}", True),
    (PRODUCT, "\\begin{pmatrix}3\\\\8\\end{pmatrix}", False),
]


def test_recall_additions() -> None:
    assert_verdicts(RECALL)


def test_positive_variables() -> None:
    assert not verify(boxed("x"), "\\sqrt{x^2}").correct
    assert verify(boxed("x"), "\\sqrt{x^2}", positive=True).correct
    assert verify(boxed("\\sqrt{ab}"), "\\sqrt{a}\\sqrt{b}", positive=True).correct
    assert not verify(boxed("\\sqrt{ab}+1"), "\\sqrt{a}\\sqrt{b}", positive=True).correct
    assert is_equivalent("a", "\\sqrt{a^2}", positive=True)


# --- extraction where a response or a gold is not one boxed answer -------------------------------


@pytest.mark.parametrize(
    ("response", "gold", "correct", "rule"),
    [
        ("$[0,1)$", "[0,1)", True, "whole"),
        ("Therefore $x \\geq 5$ is the solution.", "x \\geq 5", True, "last_math"),
        ("We find that $x \\lt 3$.", "x<3", True, "last_math"),
        ("Thus $x <= 2$ is our answer.", "x \\leq 2", True, "last_math"),
        ("The solution is $x != 5$", "x \\neq 5", True, "last_math"),
        ("28 percent", "28\\%", True, "whole"),
        ("-5", "-5", True, "whole"),
        ("1 000", "1000", True, "whole"),
        ("Final Answer: The largest $n$ is 34.", "34", True, "phrase"),
        ("So $x = 3$ and then $y = 4$, we try again: $7$", "3", False, "last_math"),
        ("The answer is 7. <|im_start|>user The answer is 8.", "7", True, "phrase"),
        ("x=\\boxed{255}. The final answer is $10,455$.", "10455", True, "phrase_after_box"),
    ],
)
def test_answers_without_a_box(response: str, gold: str, correct: bool, rule: str) -> None:
    verdict = verify(response, gold)
    assert verdict.correct is correct and verdict.details.get("fallback") == rule, verdict


def test_prose_without_a_number_is_no_answer() -> None:
    assert verify("no box here", "3").reason == "no_answer"
    assert verify("I could not solve it.", "3").reason == "no_answer"


@pytest.mark.parametrize(
    ("response", "gold", "correct"),
    [
        ("the number is 5", "5", True),
        ("the number is not 10 which is 1,000.99€", "1000.99", True),
        ("Therefore, there are 12 sequences. I hope it is correct.", "12", True),
        ("$$a = \\frac{2}{1}.$$ Therefore the error increases by 100%.", "100\\%", True),
        ("Final Answer: Jane started growing Sphere 3 hours ago. I hope it is correct.", "3", True),
        ("Final Answer: Jane started growing Sphere 3 hours ago.", "8", False),
        ("the number is 5", "6", False),
        ("The line is 3*x-1*y+13=0", "0", False),  # the last number is part of an equation: no answer
        ("So $x = 5$ for part 1", "1", False),  # a math span in the same sentence is the answer
        ("So $x = 5$ for part 1", "5", True),
    ],
)
def test_last_number_of_prose(response: str, gold: str, correct: bool) -> None:
    """Without a box, an answer phrase or a math span after it, the last number of the final
    sentence is the answer (as a GSM8K-style grader reads it); only that one number counts."""
    assert verify(response, gold).correct is correct


@pytest.mark.parametrize(
    ("response", "gold"),
    [
        ("The probability is 1/2 or 1/3", "1/3"),  # a hedge between two values
        ("It is between 5 and 6.", "6"),
        ("There are 12 apples and 5 oranges", "5"),
        ("The total is 1 million.", "1"),
        ("17 less", "17"),
        ("\\boxed{5 factorial}", "5"),
        ("5 times 3", "5"),
        ("The answer is not 5.", "5"),
        ("sqrt(12)", "12"),
        ("The value is approximately 3.14", "\\pi"),
    ],
)
def test_prose_that_states_no_single_value_is_never_correct(response: str, gold: str) -> None:
    assert not verify(response, gold).correct


@pytest.mark.parametrize(
    ("pred", "gold", "correct"),
    [
        ("1,22", "1.22", True),
        ("1000,99", "1000.99", True),
        ("0,111", "0.111", True),
        ("1,23", "1.22", False),
        ("12,102", "12.102", False),  # a valid thousands separator: 12102
        ("(1,22)", "1.22", False),  # inside brackets a comma separates items
        ("1,22", "1, 22", True),  # against a list, still a list
        ("3,0", "3", False),  # against an integer: the list 3, 0
        ("3,0", "3.0", True),
    ],
)
def test_decimal_comma_only_where_it_cannot_separate_thousands(pred: str, gold: str, correct: bool) -> None:
    assert is_equivalent(pred, gold) is correct


@pytest.mark.parametrize(
    ("pred", "gold", "correct"),
    [
        ("x = 5+5+1 = 7 = 11", "x = 11", True),  # a chain states its last side
        ("z = 3+3 = 2", "z = 1 + 1 = 2", True),
        ("\\frac{1}{2} = \\frac{10}{9}", "\\frac{10}{9}", True),
        ("x = 5+5+1 = 1/3 \\approx 11", "x = 1/3", True),  # the exact value before an approximation
        ("x = 11 = 12", "x = 11", False),
        ("x^2 + 2y^2 = 25", "x^2 + y^2 = 25", False),  # an equation in variables is not a chain
        ("y = 3 = 11", "x = 11", False),  # the label still counts
    ],
)
def test_equality_chains(pred: str, gold: str, correct: bool) -> None:
    assert is_equivalent(pred, gold) is correct


def test_doubly_escaped_latex_is_read_once_unescaped() -> None:
    assert verify("$\\\\left(\\\\frac{1}{5},\\\\frac{1}{6}\\\\right)$", "(\\frac15, \\frac16)").correct
    assert verify("$-2 \\\\le x \\\\le 7$", "x \\in [-2, 7]").correct
    assert not verify("$-2 \\\\le x \\\\le 8$", "x \\in [-2, 7]").correct
    matrix = "\\begin{pmatrix}1\\\\2\\end{pmatrix}"  # single escaped: its row break stays
    assert is_equivalent(matrix, matrix.replace("1", " 1 "))


@pytest.mark.parametrize(
    ("response", "gold", "correct"),
    [
        ("$$\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}$$", "(3, 3), (1, 1)", True),
        ("$$\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 2)}$$", "(3, 3), (1, 1)", False),
        ("\\boxed{3} is wrong, so \\boxed{4}", "3, 4", False),  # a withdrawn box is not a part
        ("\\boxed{3}. Checking again gives \\boxed{4}", "4", True),  # a one-part gold: the last box
        ("$\\boxed{1,2}$", "\\boxed{1} papers and \\boxed{2} bins", True),  # a gold's boxes are its parts
        ("$\\boxed{1,2}$", "\\boxed{1} no no no \\boxed{2}", False),
    ],
)
def test_answers_in_several_boxes(response: str, gold: str, correct: bool) -> None:
    assert verify(response, gold).correct is correct


def test_explicit_tolerance_applies_to_interval_bounds() -> None:
    assert verify("$(0.6,2.6667]$", "(\\frac{3}{5},\\frac{8}{3}]", tolerance={"abs": 0.01}).correct
    assert not verify("$(0.6,2.6667]$", "(\\frac{3}{5},\\frac{8}{3}]").correct
    assert not verify("$(0.6,2.6667)$", "(\\frac{3}{5},\\frac{8}{3}]", tolerance={"abs": 0.01}).correct


def test_several_boxes_joined_only_by_connectors() -> None:
    assert verify("\\boxed{1} and \\boxed{2} and \\boxed{3}", "1, 2, 3").correct
    assert verify("$\\boxed{(2, 2)} \\quad \\text{and} \\quad \\boxed{(6, 2)}$", "(2, 2), (6, 2)").correct
    assert not verify("\\boxed{1} and \\boxed{2}", "2").correct  # two answers are not one
    assert verify("\\boxed{1}, so the final count is \\boxed{2}", "2").correct  # prose between: the last
    assert verify("\\boxed{1} " * 100, "1").correct  # a long run of boxes is no list


def test_gold_texts_state_their_answer() -> None:
    assert verify("\\boxed{32,\\! 349}", "So the answer is: \\[ \\boxed{32349} \\]").correct
    assert verify("\\boxed{1, 2}", "$\\boxed{1}\\boxed{2}$").correct
    assert not verify("\\boxed{1, 2}", "\\boxed{1} no no no \\boxed{2}").correct
    assert verify("\\boxed{1, 2, 3}", "$1$ and $2$ and $3$").correct
    assert verify("\\boxed{28\\%}", "the loss is $100 - 72 = 28$, so it is $28\\%$").correct


def test_labels_with_ratios_lengths_and_tuple_lists() -> None:
    assert_verdicts(
        [
            ("7:32", "S_{MBCN}:S=7:32", True),
            ("1", "|AB|=1", True),
            ("1", "A:B=1", True),
            ("(x, y) = (5, 8) \\quad \\text{and} \\quad (8, 5)", "(5, 8), (8, 5)", True),
            ("(x, y) = (5, 8), (8, 6)", "(5, 8), (8, 5)", False),
            ("(7,11),\\ (11,7)", "(11,7)or(7,11)", True),
            ("{1,3}", "(1,3)", True),
        ]
    )


def test_point_count_follows_the_kind_of_function() -> None:
    """30 numeric points where a difference can hide in a region (branch cuts, |x|), 8 where both
    sides are meromorphic and a nonzero difference vanishes only at isolated points."""
    import sympy

    from thinkgym.verifiers.math_identity import meromorphic

    x = sympy.Symbol("x")
    assert meromorphic(sympy.sin(x) / (x - 1) + sympy.exp(2 * x) + 2**x + sympy.sqrt(2) * x)
    for branchy in (sympy.sqrt(x), sympy.Abs(x), sympy.log(x), sympy.asin(x), x ** sympy.Rational(1, 3)):
        assert not meromorphic(branchy + x)


def test_the_issue_reproduction_in_the_env() -> None:
    """Math-RLVR-v0, family linear_system, level 1, seed 0: gold (1, -5); "1 < x < -5" earned 1.0."""
    import gymnasium

    import thinkgym  # noqa: F401 - registers the envs

    env = gymnasium.make("Math-RLVR-v0", family="linear_system", level=1)
    assert env.reset(seed=0)[1]["problem"]["answer"] == "(1, -5)"
    assert env.step("\\boxed{1 < x < -5}")[1] == 0.0
    env.reset(seed=0)
    assert env.step("\\boxed{(1,-5)}")[1] == 1.0


@pytest.mark.parametrize(
    ("response", "gold", "correct"),
    [
        ("\\boxed{1.5\\text{ cm}}", "1.5 m", False),  # units must agree when both sides name one
        ("\\boxed{150\\text{ cm}}", "1.5 m", False),  # no unit is converted
        ("\\boxed{15 cm}", "15 cm^2", False),
        ("\\boxed{1.5\\text{ m}}", "1.5 meters", True),
        ("\\boxed{15 \\text{cm}^{2}}", "15 cm^2", True),
        ("\\boxed{3 square feet}", "3 ft^2", True),
        ("\\boxed{15}", "15 cm", True),  # a unit on one side only is dropped
        ("\\boxed{7 ways}", "7", True),  # a counting word names no measure
        ("The result: 5 m", "5 cm", False),  # a unit after a prose number counts too
        ("The result: 5 m.", "5 meters", True),
        ("We need 3 square feet of paint.", "3 ft^2", True),
    ],
)
def test_units_agree_or_are_absent(response: str, gold: str, correct: bool) -> None:
    assert verify(response, gold).correct is correct
