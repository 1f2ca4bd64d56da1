"""No caller can change a verdict: what ``reset`` and ``step`` put in ``info`` are fresh objects, and
editing them (every mutable object, recursively) changes no reward, verdict or later problem. Checked
for every registered thinkgym env and for the wrappers (reward shaping, thinking modes, Markovian
thinking, the code interpreter)."""

import gymnasium
import pytest

import thinkgym
from thinkgym.envs.markovian import MarkovianThinking
from thinkgym.envs.registration import ENVS
from thinkgym.envs.thinking import ThinkingMode
from thinkgym.rewards.wrappers import AutoThinkReward, HapoReward, LaserReward, OpenRSReward, OverlongPenalty

THINKGYM_IDS = sorted(
    env_id
    for env_id, spec in gymnasium.registry.items()
    if isinstance(spec.entry_point, str) and spec.entry_point.startswith("thinkgym.")
)


def test_every_env_of_the_catalogue_is_registered():
    assert set(ENVS) <= set(THINKGYM_IDS) and len(THINKGYM_IDS) >= 11


def oracle(problem: dict) -> str:
    """A response the env's verifier accepts, from the problem as reset handed it out."""
    family = problem["family"]
    if family == "text2sql":
        return "```sql\n" + problem["metadata"]["gold"] + "\n```"
    if family == "text2sql-discriminate":
        return problem["answer"]
    return "\\boxed{" + problem["answer"] + "}"


def wrong(problem: dict) -> str:
    if problem["family"] == "text2sql":
        return "```sql\nSELECT 1\n```"
    if problem["family"] == "text2sql-discriminate":
        return '{"correct": %s}' % ("true" if "false" in problem["answer"] else "false")
    return "\\boxed{0}"


def vandalise(data):
    """Empties every dict and list inside ``data`` (innermost first) and leaves junk in each, so any
    state still sharing an object with ``data`` sees it change. Returns how many objects it edited."""
    edited = 0
    if isinstance(data, dict):
        for value in list(data.values()):
            edited += vandalise(value)
        data.clear()
        data["junk"] = [0]
        edited += 1
    elif isinstance(data, list):
        for value in data:
            edited += vandalise(value)
        data.clear()
        data.append(-1)
        edited += 1
    return edited


def shares_an_object(a, b) -> bool:
    """Whether ``a`` and ``b`` hold a common dict or list anywhere inside (identity, not value)."""

    def containers(data, found):
        if isinstance(data, dict | list):
            found.add(id(data))
            for value in data.values() if isinstance(data, dict) else data:
                containers(value, found)
        elif isinstance(data, tuple):
            for value in data:
                containers(value, found)
        return found

    return bool(containers(a, set()) & containers(b, set()))


def play(env, seed, response, *, vandalise_reset=False):
    _, info = env.reset(seed=seed)
    respond = response(info["problem"])
    if vandalise_reset:
        assert vandalise(info) > 3
    reward, info_step = None, None
    for _ in range(10):  # multi-step wrappers end on a final answer
        _, reward, terminated, truncated, info_step = env.step(respond)
        if terminated or truncated:
            break
    return reward, info_step


@pytest.mark.parametrize("env_id", THINKGYM_IDS)
@pytest.mark.parametrize("response", [oracle, wrong], ids=["oracle", "wrong"])
def test_editing_reset_info_changes_no_reward(env_id, response):
    untouched, edited = gymnasium.make(env_id), gymnasium.make(env_id)
    try:
        for seed in (3, 11):
            expected, expected_info = play(untouched, seed, response)
            got, got_info = play(edited, seed, response, vandalise_reset=True)
            assert got == expected
            assert got_info["verdict"] == expected_info["verdict"]
            assert got_info["problem"] == expected_info["problem"]
        if response is oracle:
            assert expected > 0, "the oracle must score, or the test proves nothing"
    finally:
        untouched.close()
        edited.close()


@pytest.mark.parametrize("env_id", THINKGYM_IDS)
def test_infos_share_nothing_and_editing_step_info_changes_no_later_episode(env_id):
    env = gymnasium.make(env_id)
    try:
        _, first = env.reset(seed=5)
        _, again = env.reset(seed=5)
        assert not shares_an_object(first, again)
        respond = oracle(again["problem"])
        infos = [again]
        while True:
            _, reward, terminated, truncated, info = env.step(respond)
            infos.append(info)
            if terminated or truncated:
                break
        for i, a in enumerate(infos):
            for b in infos[i + 1 :]:
                assert not shares_an_object(a, b)
        for info in infos:
            vandalise(info)
        _, replay = env.reset(seed=5)
        assert replay == first
        while True:
            _, reward_again, terminated, truncated, _ = env.step(respond)
            if terminated or truncated:
                break
        assert reward_again == reward
    finally:
        env.close()


def test_the_issue_example_clearing_the_clauses_does_not_make_a_wrong_answer_right():
    env = gymnasium.make("Saturn-SAT-v0", level=4)
    _, info = env.reset(seed=7)
    info["problem"]["metadata"]["clauses"].clear()
    _, reward, *_ = env.step("\\boxed{00000}")
    assert reward == 0.0


def test_a_replayed_problem_is_copied_and_the_problem_property_is_a_copy():
    env = thinkgym.SaturnSATEnv(level=4)
    _, info = env.reset(seed=7)
    stored = info["problem"]
    env.reset(options={"problem": stored})
    stored["metadata"]["clauses"].clear()  # the caller edits its own dict after handing it over
    env.problem.metadata["clauses"].clear()  # and the copy the property returns
    _, reward, *_ = env.step("\\boxed{00000}")
    assert reward == 0.0


def sat(**kwargs):
    return thinkgym.SaturnSATEnv(level=4, **kwargs)


WRAPPERS = {
    "laser": lambda: LaserReward(sat(), target=100),
    "hapo": lambda: HapoReward(sat(), update_every=1),
    "open_rs": lambda: OpenRSReward(sat()),
    "overlong": lambda: OverlongPenalty(sat(), max_length=50, cache=10),
    "thinking_mode": lambda: ThinkingMode(sat(), mode="nothinking"),
    "autothink": lambda: AutoThinkReward(ThinkingMode(sat(), mode="ellipsis")),
    "markovian": lambda: MarkovianThinking(sat(), thinkgym.envs.markovian.CharTokenizer(), 64, 32, 8, 4),
}


@pytest.mark.parametrize("name", sorted(WRAPPERS))
@pytest.mark.parametrize("response", [oracle, wrong], ids=["oracle", "wrong"])
def test_editing_infos_of_wrapped_envs_changes_no_reward(name, response):
    untouched, edited = WRAPPERS[name](), WRAPPERS[name]()
    # the issue's example through the wrapper: all zeros is wrong for Saturn level 4, seed 7
    texts = {"oracle": lambda p: "</think>" + oracle(p), "wrong": lambda p: "</think>\\boxed{00000}"}
    respond = texts[response.__name__]
    for seed in (7, 8):
        expected, expected_info = play(untouched, seed, respond)
        got, got_info = play(edited, seed, respond, vandalise_reset=True)
        assert got == expected and got_info["verdict"] == expected_info["verdict"]
        vandalise(got_info)  # and a step info edited before the next episode changes nothing either
    assert play(edited, 7, respond)[0] == play(untouched, 7, respond)[0]
    if response is oracle:
        assert got_info is not None and expected_info["verdict"]["correct"]


def test_editing_the_code_interpreter_transcript_in_info_does_not_change_what_is_judged():
    def episode(edit):
        env = gymnasium.make("CodeInterpreter-SAT-v0", level=4)
        try:
            _, info = env.reset(seed=7)
            answer = info["problem"]["answer"]
            _, _, terminated, _, info = env.step("Let me check.\n```python\nprint(6 * 7)\n```\n")
            assert not terminated and info["turn"] == "tool_call" and "42" in info["env_text"]
            if edit:  # a caller rewrites the model's first segment in the transcript it was handed
                info["segments"][0]["text"] = "\\boxed{" + answer + "}"
            _, reward, terminated, _, info = env.step("I am done.")
            assert terminated
            return reward, info["verdict"]["reason"]
        finally:
            env.close()

    assert episode(edit=True) == episode(edit=False)
    assert episode(edit=False)[1] == "no_answer"


def test_editing_markovian_chunk_infos_changes_no_later_chunk_or_reward():
    def episode(edit):
        env = MarkovianThinking(sat(), thinkgym.envs.markovian.CharTokenizer(), 64, 32, 8, 4)
        _, info = env.reset(seed=7)
        answer = info["problem"]["answer"]
        infos = [info]
        for chunk in ("thinking about it " * 3, "still thinking " * 2):
            _, _, terminated, _, info = env.step(chunk)
            assert not terminated
            infos.append(info)
            if edit:
                vandalise(infos[-2])
        _, reward, _, _, final = env.step("so \\boxed{" + answer + "}")
        return reward, final["chunks"], infos[-1]["carryover_ids"]

    assert episode(edit=True) == episode(edit=False)
    assert episode(edit=False)[0] == 1.0
