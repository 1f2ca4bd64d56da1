"""The env contract of DESIGN.md, for every registered env."""

import subprocess
import sys

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

import thinkgym
from thinkgym.envs.registration import ENVS
from thinkgym.spaces import UnicodeText

ALL_ENVS = sorted(ENVS)


@pytest.mark.parametrize("env_id", ALL_ENVS)
def test_check_env_passes(env_id):
    env = gymnasium.make(env_id)
    check_env(env.unwrapped, skip_render_check=False)
    assert isinstance(env.observation_space, gymnasium.spaces.Text)
    assert isinstance(env.action_space, gymnasium.spaces.Text)
    env.close()


@pytest.mark.parametrize("env_id", ALL_ENVS)
def test_same_seed_same_problem_and_sampling_is_seeded(env_id):
    a, b = gymnasium.make(env_id), gymnasium.make(env_id)
    oa, ia = a.reset(seed=42)
    b.reset(seed=7)
    b.step("junk")
    ob, ib = b.reset(seed=42)  # history does not matter, only the seed
    assert oa == ob and ia["problem"] == ib["problem"]
    # unseeded resets after a seeded one continue deterministically
    assert [a.reset()[0] for _ in range(3)] == [b.reset()[0] for _ in range(3)]
    assert len({a.reset(seed=s)[1]["problem"]["id"] for s in range(20)}) > 15


def test_reset_options_level_params_and_problem_replay():
    env = gymnasium.make("Saturn-SAT-v0", level=1)
    _, info = env.reset(seed=0, options={"level": 13})
    assert info["level"] == 13 and info["problem"]["params"]["l"] == 40
    _, info = env.reset(seed=0, options={"params": {"n": 3, "k": 6, "l": 9}})
    assert info["problem"]["params"] == {"n": 3, "k": 6, "l": 9, "planting": "naive"}
    assert info["level"] is None
    stored = info["problem"]
    _, again = env.reset(seed=999, options={"problem": stored})
    assert again["problem"] == stored
    _, reward, terminated, truncated, info = env.step("\\boxed{" + stored["answer"] + "}")
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info["verdict"]["reason"] == "correct" and info["problem"]["id"] == stored["id"]
    _, info = env.reset(seed=1)
    assert info["level"] == 1, "options apply to one episode only"


def test_rewards_follow_saturn_scheme_and_are_configurable():
    env = gymnasium.make("Saturn-SAT-v0")
    _, info = env.reset(seed=3)
    answer = info["problem"]["answer"]
    assert env.step("\\boxed{" + answer + "}")[1] == 1.0
    env.reset(seed=3)
    assert env.step("\\boxed{" + "2" * len(answer) + "}")[1] == 0.0
    env.reset(seed=3)
    assert env.step("I give up")[1] == -1.0
    custom = gymnasium.make("Saturn-SAT-v0", rewards={"format_error": -0.5, "correct": 2})
    custom.reset(seed=3)
    assert custom.step("I give up")[1] == -0.5
    with pytest.raises(ValueError, match="unknown key"):
        gymnasium.make("Saturn-SAT-v0", rewards={"bonus": 1})


def test_bad_input_gets_clear_errors():
    env = gymnasium.make("Saturn-SAT-v0")
    env.reset(seed=0)
    with pytest.raises(TypeError, match="action must be a str"):
        env.unwrapped.step(b"bytes")
    with pytest.raises(ValueError, match=r"level must be one of 1..18"):
        gymnasium.make("Saturn-SAT-v0", level=99)
    with pytest.raises(ValueError, match=r"l \(number of clauses\)"):
        gymnasium.make("Saturn-SAT-v0", n=3, k=4, l=100)
    with pytest.raises(ValueError, match="missing"):
        gymnasium.make("Saturn-SAT-v0", n=3, k=4)
    with pytest.raises(ValueError, match="not both"):
        gymnasium.make("Saturn-SAT-v0", level=2, n=3, k=5, l=5)
    with pytest.raises(ValueError, match="unknown SAT parameter"):
        gymnasium.make("Saturn-SAT-v0", n=3, k=5, l=5, m=1)
    with pytest.raises(ValueError, match="reset options"):
        env.reset(options={"lvl": 2})
    with pytest.raises(ValueError, match="family"):
        env.reset(options={"problem": {"prompt": "p", "answer": "a", "family": "math"}})
    raw = thinkgym.SaturnSATEnv()
    with pytest.raises(gymnasium.error.ResetNeeded):
        raw.step("x")
    raw.reset(seed=0)
    raw.step("x")
    with pytest.raises(gymnasium.error.ResetNeeded):
        raw.step("x")


def test_malformed_responses_are_verdicts_not_exceptions():
    env = gymnasium.make("Saturn-SAT-v0")
    for response in ["", "\\boxed{", "}" * 1000, "\\boxed{\\boxed{\\boxed{}}}", "€" * 10_000, "<think>"]:
        env.reset(seed=0)
        _, reward, terminated, _, info = env.step(response)
        assert terminated and reward <= 0 and not info["verdict"]["correct"]


def test_text_spaces_hold_real_model_text():
    space = thinkgym.SaturnSATEnv().observation_space
    assert space.max_length >= 1 << 20
    assert space.contains("Let's think. ∑ √2 → 中文 \\boxed{0101}\n") and not space.contains(b"bytes")
    assert not UnicodeText(4).contains("12345")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_envs(mode):
    envs = gymnasium.make_vec("Saturn-SAT-v0", num_envs=3, vectorization_mode=mode, level=2)
    try:
        obs, infos = envs.reset(seed=[0, 1, 2])
        assert len(obs) == 3 and all('"n_sat": 3' in o for o in obs)
        answers = infos["problem"]["answer"]  # vector infos are dicts of arrays
        actions = tuple("<think>ünïcode ∑</think>\\boxed{" + a + "}" for a in answers)
        _, rewards, terminated, _, infos = envs.step(actions)
        assert list(rewards) == [1.0, 1.0, 1.0] and all(terminated)
        single = gymnasium.make("Saturn-SAT-v0", level=2)
        assert obs[1] == single.reset(seed=1)[0]
        # next-step autoreset: the step after a terminal step starts new problems
        obs2, rewards, _, _, infos = envs.step(("", "", ""))
        assert list(rewards) == [0.0, 0.0, 0.0]
        assert all('"n_sat": 3' in o for o in obs2) and list(obs2) != list(obs)
    finally:
        envs.close()


def test_make_with_module_prefix_without_importing_thinkgym():
    code = (
        "import sys, gymnasium\n"
        "assert 'thinkgym' not in sys.modules\n"
        "env = gymnasium.make('thinkgym:Saturn-SAT-v0', level=3)\n"
        "obs, info = env.reset(seed=0)\n"
        "print(info['problem']['params']['l'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "8"


def test_import_stays_light():
    heavy = "('torch', 'transformers', 'ray', 'matplotlib')"
    code = f"import sys, thinkgym; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_render_modes():
    env = thinkgym.SaturnSATEnv(render_mode="ansi")
    prompt, _ = env.reset(seed=0)
    assert env.render() == prompt
    env.step("my answer")
    assert env.render() == "my answer"
    with pytest.raises(ValueError, match="render_mode"):
        thinkgym.SaturnSATEnv(render_mode="rgb_array")
