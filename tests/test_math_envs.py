"""Math envs: Math-RLVR-v0 (every family x level), Math-Dataset-v0 (the bundled sample, JSONL and
saved Hugging Face datasets, gold checks, 1-shot repeat_one), MR-RLVR's Math-MaskedStep-v0 and
Math-StepOrder-v0, and the shared require_think rule: the reference answer scores 1, a wrong one 0,
the same seed gives the same problem, seeds give varied problems, bad input is a clear error and a
malformed response a verdict."""

import json
import sys
import warnings

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

from thinkgym.core import Problem
from thinkgym.envs.code_interpreter import make_math_env
from thinkgym.envs.markovian import make_markovian_math
from thinkgym.envs.math import SAMPLE_PATH, MaskedStepEnv, MathDatasetEnv, MathRLVREnv, StepOrderEnv
from thinkgym.envs.math.process import MASK, kendall_tau, parse_order
from thinkgym.envs.registration import ENVS
from thinkgym.envs.thinking import ThinkingMode
from thinkgym.generators import math as gen

FAMILIES = gen.list_families()
LEVELS = range(1, 6)
SEEDS = range(60)
ENTRY_POINT = ("thinkgym.envs.math:MathRLVREnv", "procedural math")


def boxed(answer: str) -> str:
    return f"Some reasoning.\n\\boxed{{{answer}}}"


def _split_top(text: str) -> list[str]:
    """Splits at the commas outside any bracket."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char in "({[") - (char in ")}]")
        if char == "," and depth == 0:
            parts, current = [*parts, current], ""
        else:
            current += char
    return [part.strip() for part in [*parts, current]]


def wrong_answer(answer: str) -> str:
    """A sensible wrong answer of the same kind: one element of a set, tuple or interval changed (a
    finite one), the right side of an equation moved by 1, another word, else the answer plus 1."""
    answer = answer.strip()
    if answer.startswith("\\text{"):
        return "\\text{none}"
    if "=" in answer:
        lhs, rhs = answer.rsplit("=", 1)
        return f"{lhs}= ({rhs.strip()}) + 1"
    for opening, closing in (("\\{", "\\}"), ("(", ")"), ("[", ")"), ("(", "]"), ("[", "]")):
        if answer.startswith(opening) and answer.endswith(closing):
            items = _split_top(answer[len(opening) : -len(closing)])
            if len(items) > 1:
                i = next(i for i, item in enumerate(items) if "infty" not in item)
                items[i] = f"({items[i]}) + 1"
                return opening + ", ".join(items) + closing
    return f"({answer}) + 1"


def play(env: gymnasium.Env, seed: int, response: str) -> tuple[dict, float, dict]:
    """(problem dict, reward, verdict dict) of one episode."""
    _, info = env.reset(seed=seed)
    _, reward, terminated, truncated, step_info = env.step(response)
    assert terminated and not truncated
    return info["problem"], reward, step_info["verdict"]


def assert_oracle_and_wrong(env: gymnasium.Env, seeds, wrong=wrong_answer) -> None:
    for seed in seeds:
        _, info = env.reset(seed=seed)
        answer = info["problem"]["answer"]
        _, reward, verdict = play(env, seed, boxed(answer))
        assert (reward, verdict["correct"]) == (1.0, True), (answer, verdict)
        _, reward, verdict = play(env, seed, boxed(wrong(answer)))
        assert (reward, verdict["correct"], verdict["format_ok"]) == (0.0, False, True), (answer, verdict)


def assert_deterministic_and_varied(env: gymnasium.Env, other: gymnasium.Env) -> None:
    """The same seed gives the same problem (also on another instance, whatever its history), and 60
    seeds give at least 40 distinct problems."""
    first = env.reset(seed=11)
    other.reset(seed=5)
    assert other.reset(seed=11) == first == env.reset(seed=11)
    assert len({env.reset(seed=seed)[1]["problem"]["id"] for seed in SEEDS}) >= 40


# -- Math-RLVR-v0 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("family", FAMILIES)
def test_rlvr_every_family_and_level(family, level):
    env, other = MathRLVREnv(family=family, level=level), MathRLVREnv(family=family, level=level)
    assert_oracle_and_wrong(env, range(3))
    assert_deterministic_and_varied(env, other)
    _, info = env.reset(seed=4)
    assert info["level"] == level and info["problem"] == gen.generate(family, 4, level=level).to_dict()
    assert info["problem"]["params"]["family"] == family


def test_rlvr_mixture_draws_family_from_seed_by_weight():
    env = MathRLVREnv(mixture={"fractions": 2, "counting": 1, "sequences": 0})
    families = [env.reset(seed=seed)[1]["problem"]["params"]["family"] for seed in range(600)]
    assert set(families) == {"fractions", "counting"}
    assert 0.6 < families.count("fractions") / 600 < 0.73
    again = MathRLVREnv(mixture={"counting": 1, "fractions": 2})  # key order does not matter
    assert [again.reset(seed=seed)[1]["problem"]["params"]["family"] for seed in range(600)] == families
    assert set(MathRLVREnv().draw_family(seed) for seed in range(300)) == set(FAMILIES)
    # the problem of a mixture episode is the generator's problem of that family and seed
    problem = env.reset(seed=9)[1]["problem"]
    assert problem == gen.generate(problem["params"]["family"], 9, level=1).to_dict()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"family": "geometry"}, r"family must be one of \[.*'fractions'"),
        ({"level": 6}, r"level must be one of 1\.\.5"),
        ({"level": True}, r"level must be one of 1\.\.5"),
        ({"mixture": {"fractions": 1, "calculus": 2}}, r"mixture: unknown family.*'calculus'.*valid: \["),
        ({"mixture": {"fractions": -1}}, r"mixture weight of 'fractions' must be a finite number >= 0"),
        ({"mixture": {"fractions": float("nan")}}, r"mixture weight"),
        ({"mixture": {"fractions": True}}, r"mixture weight"),
        ({"mixture": {"fractions": 0, "counting": 0}}, r"at least one positive weight"),
        ({"mixture": {}}, r"mixture must be a non-empty dict"),
        ({"family": "fractions", "mixture": {"counting": 1}}, r"family= or mixture=, not both"),
        ({"num_terms": 3}, r"knobs \['num_terms'\] need a single family="),
        ({"family": "fractions", "num_terms": 99}, r"num_terms"),
        ({"family": "fractions", "colour": 1}, r"unknown fractions knob\(s\) \['colour'\]"),
        ({"family": "fractions", "require_think": "yes"}, r"require_think must be True or False"),
        ({"family": "fractions", "timeout": 0}, r"timeout must be a positive number"),
    ],
)
def test_rlvr_bad_arguments_name_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MathRLVREnv(**kwargs)


def test_rlvr_knobs_reset_options_and_replay():
    env = MathRLVREnv(family="fractions", num_terms=4)
    assert env.reset(seed=0)[1]["problem"]["params"]["num_terms"] == 4
    env = MathRLVREnv(family="fractions")
    _, info = env.reset(seed=0, options={"level": 5})
    assert info["level"] == 5 and info["problem"]["params"]["num_terms"] == 5
    _, info = env.reset(seed=0, options={"params": {"level": 2, "num_terms": 4}})
    assert info["problem"]["params"]["num_terms"] == 4 and info["problem"]["params"]["max_denominator"] == 12
    stored = info["problem"]
    assert env.reset(seed=99, options={"problem": stored})[1]["problem"] == stored
    assert env.step(boxed(stored["answer"]))[1] == 1.0
    with pytest.raises(ValueError, match="family 'math-step-order'"):
        env.reset(options={"problem": {**stored, "family": "math-step-order"}})
    env.reset(seed=0)
    with pytest.raises(TypeError, match="action must be a str"):
        env.step(42)


# -- the thinking format, shared by every math env -------------------------------------------------
THINK_ENVS = {
    "rlvr": lambda **kw: MathRLVREnv(family="counting", **kw),
    "dataset": lambda **kw: MathDatasetEnv(**kw),
    "masked": lambda **kw: MaskedStepEnv(family="sequences", **kw),
    "order": lambda **kw: StepOrderEnv(family="number_theory", **kw),
}


@pytest.mark.parametrize("name", sorted(THINK_ENVS))
def test_require_think_makes_a_missing_think_block_a_format_error(name):
    env = THINK_ENVS[name](require_think=True)
    answer = env.reset(seed=1)[1]["problem"]["answer"]
    cases = {
        f"\\boxed{{{answer}}}": (-1.0, "no_think"),
        f"<think>still thinking \\boxed{{{answer}}}": (-1.0, "no_think"),
        f"<think>\nwork\n</think>\nSo \\boxed{{{answer}}}": (1.0, "correct"),
        f"work (the template opened the block)</think>\\boxed{{{answer}}}": (1.0, "correct"),
        f"<think>\n</think>\\boxed{{{answer}}}": (1.0, "correct"),  # NoThinking is a closed block
        f"<think>\\boxed{{{answer}}}</think> no box here": (-1.0, "no_answer"),  # boxes in thinking never count
    }
    for response, (reward, reason) in cases.items():
        _, got, verdict = play(env, 1, response)
        assert (got, verdict["reason"]) == (reward, reason), response
        assert verdict["format_ok"] is (reward != -1.0)
    plain = THINK_ENVS[name]()
    assert play(plain, 1, f"\\boxed{{{answer}}}")[1] == 1.0, "without require_think no block is needed"
    wrapped = ThinkingMode(THINK_ENVS[name](require_think=True), mode="nothinking")
    wrapped.reset(seed=1)
    assert wrapped.step(f"\\boxed{{{answer}}}")[1] == 1.0, "the NoThinking prefill closes the block"


# -- Math-Dataset-v0 ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample() -> MathDatasetEnv:
    return MathDatasetEnv()


def test_sample_dataset_oracle_wrong_determinism_and_variety(sample):
    records = [json.loads(line) for line in SAMPLE_PATH.read_text(encoding="utf-8").splitlines()]
    assert len(sample.problems) == len(records) >= 40
    assert_oracle_and_wrong(sample, range(len(records)))
    assert_deterministic_and_varied(sample, MathDatasetEnv())
    answers = [r["answer"] for r in records]
    for kind in ("\\{", "(", "[", "\\infty", "\\frac", "\\sqrt", "\\pi", "\\text", "."):  # sets, tuples, ...
        assert any(kind in answer for answer in answers), kind


def test_dataset_seed_picks_index_modulo_length_and_unseeded_draws_are_seeded(sample):
    n = len(sample.problems)
    for seed in (0, 7, n - 1):
        _, info = sample.reset(seed=seed + 2 * n)
        assert info["problem"]["metadata"] == {"index": seed, "source": f"line {seed + 1}"}
        assert info["level"] == 1
    other = MathDatasetEnv()
    sample.reset(seed=3)
    other.reset(seed=3)
    assert [sample.reset()[0] for _ in range(5)] == [other.reset()[0] for _ in range(5)]
    info = sample.reset(seed=0)[1]
    info["problem"]["metadata"]["index"] = -1
    assert sample.reset(seed=0)[1]["problem"]["metadata"]["index"] == 0, "info never aliases the dataset"


def test_repeat_one_always_serves_the_same_problem():
    env = MathDatasetEnv(repeat_one=17)
    prompts = {env.reset(seed=seed)[0] for seed in SEEDS} | {env.reset()[0] for _ in range(10)}
    assert len(prompts) == 1
    _, info = env.reset(seed=3)
    assert info["problem"]["metadata"]["index"] == 17
    assert env.step(boxed(info["problem"]["answer"]))[1] == 1.0
    for bad in (42, -1, True, "3"):
        with pytest.raises(ValueError, match=r"repeat_one must be an integer in 0\.\.41"):
            MathDatasetEnv(repeat_one=bad)


def write_jsonl(path, lines):
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


BAD_GOLDS = [
    {"problem": "One plus one?", "answer": "2"},  # line 1
    {"problem": "Half of one?", "answer": "\\frac{1}{"},  # line 2: unbalanced
    "",  # line 3: blank, skipped
    {"problem": "Two squared?"},  # line 4: no answer
    {"problem": "Gibberish?", "answer": "x^^2"},  # line 5: does not parse
    {"problem": "Empty?", "answer": "  "},  # line 6
    {"problem": "A number?", "answer": 12.8},  # line 7: a JSON number is fine
    {"problem": "A flag?", "answer": True},  # line 8
]


def test_bad_golds_are_reported_with_their_line_numbers(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", BAD_GOLDS)
    with pytest.raises(ValueError) as err:
        MathDatasetEnv(path=path)
    message = str(err.value)
    assert "5 bad record(s)" in message
    for line in (2, 4, 5, 6, 8):
        assert f"line {line}: gold" in message
    assert "line 1:" not in message and "line 7:" not in message
    assert "does not match itself when boxed (unclosed_box)" in message and "does not parse" in message
    with pytest.warns(UserWarning, match=r"skipped 5 bad gold\(s\): .*line 2: .*line 8: "):
        env = MathDatasetEnv(path=path, on_bad_gold="skip")
    assert [p.answer for p in env.problems] == ["2", "12.8"]
    assert [p.metadata["source"] for p in env.problems] == ["line 1", "line 7"]
    assert play(env, 1, boxed("12.8"))[1] == 1.0
    with pytest.raises(ValueError, match="on_bad_gold must be 'raise' or 'skip'"):
        MathDatasetEnv(path=path, on_bad_gold="ignore")


def test_broken_records_are_errors_even_when_skipping_golds(tmp_path):
    with pytest.raises(ValueError, match=r"line 2 is not valid JSON"):
        MathDatasetEnv(path=write_jsonl(tmp_path / "a.jsonl", [{"problem": "p", "answer": "1"}, "{oops"]))
    with pytest.raises(ValueError, match=r"line 1 is not a JSON object"):
        MathDatasetEnv(path=write_jsonl(tmp_path / "b.jsonl", ["[1, 2]"]))
    path = write_jsonl(tmp_path / "c.jsonl", [{"problem": "p", "answer": "1"}, {"question": "q", "answer": "2"}])
    with pytest.raises(ValueError, match=r"line 2: no problem text in field 'problem'"):
        MathDatasetEnv(path=path, on_bad_gold="skip")
    path = write_jsonl(tmp_path / "d.jsonl", [{"problem": "p", "answer": "1", "difficulty": "hard"}])
    with pytest.raises(ValueError, match=r"line 1: 'difficulty' is not a number: 'hard'"):
        MathDatasetEnv(path=path)
    with pytest.raises(ValueError, match="no problems to serve"), pytest.warns(UserWarning, match="is empty"):
        MathDatasetEnv(path=write_jsonl(tmp_path / "e.jsonl", [{"problem": "p", "answer": ""}]), on_bad_gold="skip")
    with pytest.raises(FileNotFoundError, match="no such file"):
        MathDatasetEnv(path=tmp_path / "missing.jsonl")
    with pytest.raises(ValueError, match="split= applies to a saved Hugging Face DatasetDict"):
        MathDatasetEnv(split="train")
    with pytest.raises(ValueError, match=r"prompt_template must be a str containing '\{problem\}'"):
        MathDatasetEnv(prompt_template="Solve it.")
    with pytest.raises(ValueError, match="no generator parameters"):
        MathDatasetEnv(num_terms=3)


def test_custom_fields_difficulty_and_template(tmp_path):
    rows = [
        {"question": "What is $3 \\cdot 4$?", "solution": "12", "level": "Level 3"},
        {"question": "What is $1/4 + 1/4$?", "solution": "\\frac{1}{2}"},
    ]
    path = write_jsonl(tmp_path / "custom.jsonl", rows)
    env = MathDatasetEnv(
        path=path,
        problem_field="question",
        answer_field="solution",
        difficulty_field="level",
        prompt_template="Q: {problem}\nA:",
    )
    prompt, info = env.reset(seed=0)
    assert prompt == "Q: What is $3 \\cdot 4$?\nA:" and info["problem"]["difficulty"] == 3.0
    assert env.reset(seed=1)[1]["problem"]["difficulty"] == 0.0
    assert play(env, 1, boxed("0.5"))[1] == 1.0
    reworded = MathDatasetEnv(path=path, problem_field="question", answer_field="solution", difficulty_field=None)
    assert reworded.reset(seed=0)[1]["problem"]["id"] == info["problem"]["id"], "the id ignores the template"


def test_saved_hugging_face_dataset_and_splits(tmp_path):
    datasets = pytest.importorskip("datasets")
    train = [{"problem": "What is $2 + 5$?", "answer": "7"}, {"problem": "Is it?", "answer": "\\frac{1}{"}]
    test = [{"problem": "What is $9 - 4$?", "answer": "5"}]
    datasets.DatasetDict(
        {"train": datasets.Dataset.from_list(train), "test": datasets.Dataset.from_list(test)}
    ).save_to_disk(tmp_path / "dict")
    datasets.Dataset.from_list(test).save_to_disk(tmp_path / "single")
    with pytest.raises(ValueError, match=r"row 1: gold '\\\\frac\{1\}\{'"):
        MathDatasetEnv(path=tmp_path / "dict", split="train")
    with pytest.warns(UserWarning, match="row 1"):
        env = MathDatasetEnv(path=tmp_path / "dict", split="train", on_bad_gold="skip")
    assert [p.answer for p in env.problems] == ["7"]
    assert play(MathDatasetEnv(path=tmp_path / "dict", split="test"), 0, boxed("5"))[1] == 1.0
    with pytest.raises(ValueError, match=r"split must be one of \['test', 'train'\]"):
        MathDatasetEnv(path=tmp_path / "dict")
    assert MathDatasetEnv(path=tmp_path / "single").problems[0].metadata["source"] == "row 0"
    with pytest.raises(ValueError, match="holds a single Dataset"):
        MathDatasetEnv(path=tmp_path / "single", split="test")


def test_saved_dataset_without_the_datasets_package_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(ImportError, match="needs the `datasets` package: pip install datasets"):
        MathDatasetEnv(path=tmp_path)


# -- Math-MaskedStep-v0 --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def masked() -> MaskedStepEnv:
    return MaskedStepEnv()


@pytest.mark.parametrize("level", LEVELS)
def test_masked_step_oracle_wrong_determinism_and_variety(level):
    env = MaskedStepEnv(level=level)
    assert_oracle_and_wrong(env, range(20))
    assert_deterministic_and_varied(env, MaskedStepEnv(level=level))


def test_masked_step_prompt_hides_exactly_the_masked_step(masked):
    for seed in range(30):
        prompt, info = masked.reset(seed=seed)
        meta = info["problem"]["metadata"]
        k, steps = meta["masked_step"], meta["steps"]
        assert prompt.count(MASK) == 2 and f"Step {k}: {MASK}" in prompt  # the header names the marker too
        assert steps[k - 1]["text"] not in prompt
        assert all(f"Step {i + 1}: {s['text']}" in prompt for i, s in enumerate(steps) if i != k - 1)
        assert info["problem"]["answer"] == steps[k - 1]["result"]
        assert prompt.startswith(meta["question"]) and gen.INSTRUCTION not in prompt
    masked_steps = {masked.reset(seed=seed)[1]["problem"]["metadata"]["masked_step"] for seed in range(60)}
    assert {1, 2, 3} <= masked_steps, "any step may be masked"


def test_masked_equation_results_match_equivalent_equations():
    env = MaskedStepEnv(family="linear_system", level=4)
    seed = next(s for s in range(100) if env.reset(seed=s)[1]["problem"]["metadata"]["masked_step"] == 1)
    gold = env.reset(seed=seed)[1]["problem"]["answer"]
    lhs, rhs = (side.strip() for side in gold.split("="))
    assert lhs[0] == "-" or lhs[0].isdigit()
    negated = f"-({lhs}) = -({rhs})"
    for response, correct in [(gold, True), (negated, True), (f"{rhs} = {lhs}", True), (rhs, False)]:
        assert play(env, seed, boxed(response))[2]["correct"] is correct, response
    # a value answers an assignment: "y = -4" for the result -4
    env = MaskedStepEnv(family="linear_system", level=1)
    seed = next(s for s in range(100) if env.reset(seed=s)[1]["problem"]["metadata"]["masked_step"] == 1)
    gold = env.reset(seed=seed)[1]["problem"]["answer"]
    assert play(env, seed, boxed(f"y = {gold}"))[1] == 1.0


# -- Math-StepOrder-v0 ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def order() -> StepOrderEnv:
    return StepOrderEnv()


def swap_first_two(answer: str) -> str:
    labels = answer.split(",")
    return ",".join([labels[1], labels[0], *labels[2:]])


@pytest.mark.parametrize("level", LEVELS)
def test_step_order_oracle_wrong_determinism_and_variety(level):
    env = StepOrderEnv(level=level)
    assert_oracle_and_wrong(env, range(20), wrong=swap_first_two)
    assert_deterministic_and_varied(env, StepOrderEnv(level=level))


def test_step_order_is_never_the_identity_and_shows_every_step_once(order):
    for seed in range(200):
        prompt, info = order.reset(seed=seed)
        problem = info["problem"]
        steps, shuffled = problem["metadata"]["steps"], problem["metadata"]["shuffled"]
        n = len(steps)
        assert sorted(shuffled) == list(range(n)) and shuffled != list(range(n))
        assert problem["answer"] != ",".join(map(str, range(1, n + 1)))
        assert all(f"[{label + 1}] {steps[index]['text']}" in prompt for label, index in enumerate(shuffled))
        # the answer lists, for each original step, the label it is shown under
        assert [shuffled[int(label) - 1] for label in problem["answer"].split(",")] == list(range(n))


def three_step_seed(env: StepOrderEnv) -> int:
    return next(s for s in range(200) if len(env.reset(seed=s)[1]["problem"]["metadata"]["steps"]) == 3)


@pytest.mark.parametrize(
    ("content", "reason", "reward"),
    [
        ("1,2", "wrong_length", 0.0),
        ("1,2,3,1", "wrong_length", 0.0),
        ("1,1,2", "repeated_label", 0.0),
        ("0,1,2", "out_of_range", 0.0),
        ("1,2,4", "out_of_range", 0.0),
        ("-1,2,3", "out_of_range", 0.0),
        ("1,2,x", "not_integer", 0.0),
        ("1.5,2,3", "not_integer", 0.0),
        ("first,second,third", "not_integer", 0.0),
        ("", "no_answer", -1.0),
        ("  ", "no_answer", -1.0),
    ],
)
def test_malformed_step_orders_are_verdicts(order, content, reason, reward):
    seed = three_step_seed(order)
    _, got, verdict = play(order, seed, boxed(content))
    assert (verdict["reason"], got, verdict["correct"]) == (reason, reward, False)


def test_step_order_formats_accepted_and_format_errors(order):
    seed = three_step_seed(order)
    answer = order.reset(seed=seed)[1]["problem"]["answer"]
    a, b, c = answer.split(",")
    for content in (f"{a}, {b}, {c}", f"({a},{b},{c})", f"{a} {b} {c}", f"${a},{b},{c}$", f"[{a}],[{b}],[{c}]"):
        assert play(order, seed, boxed(content))[1] == 1.0, content
    assert play(order, seed, f"\\boxed{{{a},{b}")[2]["reason"] == "unclosed_box"
    assert play(order, seed, f"The order is {a},{b},{c}.")[2]["reason"] == "no_answer"
    assert play(order, seed, f"<think>\\boxed{{{answer}}}")[2]["reason"] == "unfinished_thinking"


def test_partial_credit_is_kendall_tau_and_correct_stays_exact():
    env = StepOrderEnv(family="fractions", level=5, partial_credit=True)
    _, info = env.reset(seed=0)
    labels = info["problem"]["answer"].split(",")
    n = len(labels)
    assert n >= 4
    _, reward, verdict = play(env, 0, boxed(",".join(labels)))
    assert (reward, verdict["score"], verdict["correct"]) == (1.0, 1.0, True)
    _, reward, verdict = play(env, 0, boxed(",".join(reversed(labels))))
    assert (reward, verdict["details"]["kendall_tau"], verdict["reason"]) == (0.0, -1.0, "wrong_order")
    _, reward, verdict = play(env, 0, boxed(swap_first_two(",".join(labels))))
    assert reward == pytest.approx(1 - 2 / (n * (n - 1))) and verdict["score"] == reward and not verdict["correct"]
    scaled = StepOrderEnv(family="fractions", level=5, partial_credit=True, rewards={"correct": 2.0, "wrong": -1.0})
    assert play(scaled, 0, boxed(swap_first_two(",".join(labels))))[1] == pytest.approx(-1 + 3 * reward)
    assert play(scaled, 0, boxed("1,1"))[1] == -1.0, "a malformed order earns no partial credit"
    assert play(StepOrderEnv(family="fractions", level=5), 0, boxed(swap_first_two(",".join(labels))))[1] == 0.0
    with pytest.raises(ValueError, match="partial_credit must be True or False"):
        StepOrderEnv(partial_credit=1)


def test_kendall_tau_and_parse_order():
    assert kendall_tau([0, 1, 2, 3]) == 1.0 and kendall_tau([3, 2, 1, 0]) == -1.0
    assert kendall_tau([1, 0, 2]) == pytest.approx(1 / 3) and kendall_tau([0]) == 1.0
    assert parse_order("\\left(2, 3, 1\\right)", 3) == ([2, 3, 1], "ok", {})
    assert parse_order("\\{2;3;1\\}", 3)[0] == [2, 3, 1]
    assert parse_order("2,3,1", 4) == (None, "wrong_length", {"expected": 4, "got": 3})


def test_steps_with_identical_text_are_interchangeable(order):
    steps = [
        {"text": "Add 2.", "result": "3"},
        {"text": "Double it.", "result": "6"},
        {"text": "Add 2.", "result": "8"},
    ]
    problem = Problem(
        prompt="...", answer="3,2,1", family="math-step-order", metadata={"steps": steps, "shuffled": [2, 1, 0]}
    )
    for content, correct in (("3,2,1", True), ("1,2,3", True), ("2,1,3", False)):
        assert order.verify(boxed(content), problem).correct is correct, content


# -- every env: gymnasium compliance, factories ------------------------------------------------------------
@pytest.mark.parametrize("make", [MathRLVREnv, MathDatasetEnv, MaskedStepEnv, StepOrderEnv])
def test_check_env(make):
    env = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no spec": the env is not made through gymnasium.make here
        check_env(env, skip_render_check=False)
    assert isinstance(env.observation_space, gymnasium.spaces.Text)
    assert isinstance(env.action_space, gymnasium.spaces.Text)


def test_process_problems_replay_and_reject_other_families(masked, order):
    for env in (masked, order):
        prompt, info = env.reset(seed=5)
        assert env.reset(seed=6, options={"problem": info["problem"]})[0] == prompt
        plain = gen.generate("fractions", 0, level=1)
        with pytest.raises(ValueError, match="this env plays"):
            env.reset(options={"problem": plain})


def test_code_interpreter_and_markovian_factories_build_on_math_rlvr(monkeypatch):
    monkeypatch.setitem(ENVS, "Math-RLVR-v0", ENVS.get("Math-RLVR-v0", ENTRY_POINT))
    env = make_math_env(family="fractions", level=2, max_tool_calls=2)
    _, info = env.reset(seed=0)
    _, reward, terminated, _, info = env.step(boxed(info["problem"]["answer"]))
    assert terminated and info["verdict"]["correct"] and reward == pytest.approx(0.9)  # CoRT: no cell ran, -0.1
    env.close()
    env = make_markovian_math(preset="tiny", family="counting", level=3)
    _, info = env.reset(seed=0)
    assert info["problem"]["params"] == gen.generate("counting", 0, level=3).params
    env.step("w" * 64)
    _, reward, terminated, _, info = env.step(boxed(info["problem"]["answer"]))
    assert terminated and reward == 1.0 and info["verdict"]["correct"]
