"""RLlib integration: the causal-LM RLModule (logits at the last real token, a value head, prefix
sharing, the env runners' KV cache), the reference-KL learner, ppo_config, and PPO iterations on
Saturn-SAT-v0 on a local Ray cluster (one learner, and two DDP learners with two env runners)."""

from __future__ import annotations

import math

import gymnasium
import numpy as np
import pytest

import thinkgym  # noqa: F401  (registers the envs)

pytest.importorskip("ray.rllib")
torch = pytest.importorskip("torch")

from thinkgym.agents.models import build_tiny_tokenizer  # noqa: E402
from thinkgym.agents.rllib import CausalLMModule, TokenEnv, make_token_env, ppo_config  # noqa: E402
from thinkgym.agents.rllib.learner import reference_kl  # noqa: E402
from thinkgym.agents.rllib.module import prefix_owners  # noqa: E402
from thinkgym.agents.rllib.token_env import SkipProblems  # noqa: E402

SAT = {"n": 3, "k": 5, "l": 5}


@pytest.fixture(scope="module")
def episodes():
    """Observations of two 6-token episodes with random tokens, shuffled, as RLlib's minibatches are."""
    env = TokenEnv(gymnasium.make("Saturn-SAT-v0", **SAT), build_tiny_tokenizer(), max_new_tokens=6)
    rng = np.random.default_rng(0)
    rows = []
    for seed in (0, 1):
        obs, _ = env.reset(seed=seed)
        rows.append(obs)
        for token in rng.integers(0, 256, size=6):
            rows.append(env.step(int(token))[0])
    obs = torch.as_tensor(np.stack(rows))
    return env, obs[torch.randperm(len(rows), generator=torch.Generator().manual_seed(0))]


@pytest.fixture(scope="module")
def module(episodes):
    env, _ = episodes
    return CausalLMModule(
        observation_space=env.observation_space,
        action_space=env.action_space,
        inference_only=False,
        model_config={"model": "tiny"},
    )


def test_prefix_owners_groups_each_episode_under_its_longest_observation(episodes):
    _, obs = episodes
    lengths = obs[:, 1].sum(dim=-1)
    owners, shared = prefix_owners(obs[:, 0], lengths)
    assert len(shared) == 2, "one forward pass per episode"
    for row, owner in enumerate(owners.tolist()):
        n = int(lengths[row])
        assert torch.equal(obs[shared[owner], 0, :n], obs[row, 0, :n])


def test_action_logits_are_the_lm_logits_at_the_last_real_token(episodes, module):
    _, obs = episodes
    with torch.no_grad():
        out = module.forward_inference({"obs": obs})
        for row in range(len(obs)):
            n = int(obs[row, 1].sum())
            expected = module.lm(input_ids=obs[row : row + 1, 0, :n]).logits[0, -1]
            torch.testing.assert_close(out["action_dist_inputs"][row], expected, atol=1e-4, rtol=1e-4)
    assert out["action_dist_inputs"].shape == (len(obs), 261)


def test_padding_content_is_ignored_and_values_start_at_zero(episodes, module):
    _, obs = episodes
    noisy = obs.clone()
    noisy[:, 0][noisy[:, 1] == 0] = 7
    with torch.no_grad():
        torch.testing.assert_close(module.last_hidden(noisy), module.last_hidden(obs))
        values = module.compute_values({"obs": obs})
    assert values.shape == (len(obs),) and not values.any()


def test_ppo_config_builds_the_token_env_and_rejects_unknown_settings():
    config = ppo_config("Saturn-SAT-v0", env_kwargs=SAT, max_new_tokens=8, lr=3e-5)
    assert config.lr == 3e-5 and config.num_env_runners >= 1 and config.train_batch_size_per_learner == 64
    env = make_token_env(config.env_config)
    assert isinstance(env, TokenEnv) and env.max_new_tokens == 8
    assert env.unwrapped.params == {**SAT, "planting": "naive"}
    long = ppo_config("Saturn-SAT-v0", max_length=2048, max_new_tokens=100)
    assert long.train_batch_size_per_learner == 200, "two whole responses per batch"
    with pytest.raises(ValueError, match="learning_rate"):
        ppo_config("Saturn-SAT-v0", learning_rate=1e-5)


def test_a_local_model_folder_serves_as_policy_and_tokenizer(tmp_path, episodes):
    from thinkgym.agents.models import load_model

    lm, tokenizer = load_model("tiny", seed=1)
    lm.to(torch.bfloat16).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    config = ppo_config("Saturn-SAT-v0", model=tmp_path, env_kwargs=SAT)
    env = make_token_env(config.env_config)
    module = config.rl_module_spec.module_class(
        observation_space=env.observation_space,
        action_space=env.action_space,
        inference_only=False,
        model_config=config.rl_module_spec.model_config,
    )
    assert config.rl_module_spec.model_config == {"model": str(tmp_path), "kv_cache": True}
    assert env.action_space.n == 261
    _, obs = episodes
    with torch.no_grad():
        logits = module.forward_inference({"obs": obs})["action_dist_inputs"]
    assert logits.dtype == torch.float32 and logits.shape == (len(obs), 261)


@pytest.fixture
def local_ray():
    import ray

    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


def test_ppo_trains_two_iterations_and_records_the_episode_return_and_reference_kl(local_ray):
    algo = ppo_config("Saturn-SAT-v0", model="tiny", env_kwargs=SAT, ref_kl_coeff=0.1).build_algo()
    try:
        before = {k: v.copy() for k, v in algo.get_module().get_state().items()}
        results = [algo.train() for _ in range(2)]
        after = algo.get_module().get_state()
    finally:
        algo.stop()
    for result in results:
        episode_return = result["env_runners"]["episode_return_mean"]
        assert math.isfinite(episode_return) and -1.0 <= episode_return <= 1.0
    assert not np.allclose(before["lm.lm_head.weight"], after["lm.lm_head.weight"]), "PPO updated the LM"
    # the first update starts at the reference, so its KL estimate is ~0; after updates it is positive
    kl = float(results[-1]["learners"]["default_policy"]["ref_kl"])
    assert 0.0 < kl < 10.0


def test_two_ddp_learners_and_two_env_runners_run_a_ppo_iteration(local_ray):
    config = ppo_config(
        "Saturn-SAT-v0",
        env_kwargs=SAT,
        ref_kl_coeff=0.1,
        num_env_runners=2,
        num_cpus_per_env_runner=0.5,
        num_learners=2,
        num_cpus_per_learner=0.5,
    )
    algo = config.build_algo()
    try:
        result = algo.train()
        calls = algo.learner_group.foreach_learner(lambda learner: learner.module["default_policy"].get_state())
    finally:
        algo.stop()
    assert result["env_runners"]["num_env_steps_sampled"] >= 64
    weights = [call.get()["lm.lm_head.weight"] for call in calls]
    assert len(weights) == 2 and np.array_equal(weights[0], weights[1]), "DDP keeps the learners in step"
    assert math.isfinite(float(result["learners"]["default_policy"]["ref_kl"]))


def _staggered_observations(steps=12, envs=3):
    """Runs ``envs`` token envs with random tokens, env i starting i steps late, and yields each
    step's batch of observations (the way an env runner batches its vector env)."""
    tokenizer = build_tiny_tokenizer()
    runs = [TokenEnv(gymnasium.make("Saturn-SAT-v0", **SAT), tokenizer, max_new_tokens=5) for _ in range(envs)]
    obs = [env.reset(seed=i)[0] for i, env in enumerate(runs)]
    rng = np.random.default_rng(0)
    for step in range(steps):
        yield torch.as_tensor(np.stack(obs))
        for i, env in enumerate(runs):
            if step >= i:
                o, _, terminated, truncated, _ = env.step(int(rng.integers(0, 256)))
                obs[i] = env.reset(seed=100 + step)[0] if terminated or truncated else o


def test_kv_cache_gives_the_same_logits_as_full_forward_passes(module):
    module._kv.clear()
    for batch in _staggered_observations():
        with torch.no_grad():
            cached = module.forward_exploration({"obs": batch})["action_dist_inputs"]
            module.model_config["kv_cache"] = False
            full = module.forward_exploration({"obs": batch})["action_dist_inputs"]
            module.model_config["kv_cache"] = True
        torch.testing.assert_close(cached, full, atol=1e-4, rtol=1e-4)
    assert module._kv, "the rows were served from the cache"


def test_kv_cache_costs_linear_forward_tokens_and_is_dropped_with_new_weights(module):
    tokenizer = build_tiny_tokenizer()
    env = TokenEnv(gymnasium.make("Saturn-SAT-v0", **SAT), tokenizer, max_new_tokens=16)
    fed = []
    hook = module.lm.base_model.register_forward_pre_hook(
        lambda _, args, kwargs: fed.append(kwargs["input_ids"].numel()), with_kwargs=True
    )
    try:
        obs, _ = env.reset(seed=3)
        prompt = int(obs[1].sum())
        for token in range(16):
            with torch.no_grad():
                module.forward_exploration({"obs": torch.as_tensor(obs[None])})
            obs = env.step(ord("a") + token)[0]
        assert fed == [prompt] + [1] * 15, "a turn of T tokens feeds prompt + T - 1 tokens"
        assert module._kv, "the turn's cache is kept"
        module.set_state(module.get_state())
        assert not module._kv, "new weights drop every cached key and value"
    finally:
        hook.remove()


def test_reference_kl_estimators_match_the_exact_kl():
    torch.manual_seed(0)
    p, q = torch.softmax(torch.randn(50), -1), torch.softmax(torch.randn(50), -1)
    exact = float((p * (p.log() - q.log())).sum())
    samples = torch.multinomial(p, 200_000, replacement=True)
    for estimator in ("k1", "k3"):
        estimate = float(reference_kl(p.log()[samples], q.log()[samples], estimator).mean())
        assert abs(estimate - exact) < 0.03 * max(exact, 1.0), estimator
    assert (reference_kl(p.log()[samples], q.log()[samples], "k3") >= 0).all()
    assert float(reference_kl(p.log(), p.log(), "k3").abs().max()) == 0.0
    with pytest.raises(ValueError, match="k3"):
        reference_kl(p, q, "k2")


def test_skip_problems_never_starts_on_a_held_out_problem():
    inner = gymnasium.make("Saturn-SAT-v0", n=1, k=3, l=1)
    held = {inner.reset(seed=s)[1]["problem"]["id"] for s in range(4)}
    env = SkipProblems(inner, held)
    seen = {env.reset()[1]["problem"]["id"] for _ in range(200)}
    assert seen and not seen & held
    assert len(held) >= 2, "the held-out set is not trivial"
