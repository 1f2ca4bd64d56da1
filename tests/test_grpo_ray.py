"""GRPO rollouts on Ray actors, on a local Ray cluster on CPU: the workers get the learner's
weights, groups still share their instance, and training with 2 rollout workers runs."""

import json

import pytest

torch = pytest.importorskip("torch")
ray = pytest.importorskip("ray")

from thinkgym.agents.grpo.config import GRPOConfig  # noqa: E402
from thinkgym.agents.grpo.ray_rollout import RayRollouts  # noqa: E402
from thinkgym.agents.grpo.trainer import train  # noqa: E402
from thinkgym.agents.models import load_model  # noqa: E402

SAT = {"n": 1, "k": 5, "l": 3, "prompt_template": "{instance}"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_workers_load_the_learners_weights_and_play_whole_groups(local_ray):
    cfg = GRPOConfig(
        env="Saturn-SAT-v0", env_kwargs=SAT, num_rollout_workers=2, group_size=3, max_new_tokens=4, max_turns=1
    )
    rollouts = RayRollouts(cfg)
    try:
        model, _ = load_model("tiny", seed=7)  # other weights than the workers started with (seed 0)
        rollouts.sync(model)
        expected = float(sum(p.detach().double().sum() for p in model.parameters()))
        checksum = lambda worker: float(sum(p.detach().double().sum() for p in worker.model.parameters()))  # noqa: E731
        sums = ray.get([w.__ray_call__.remote(checksum) for w in rollouts.workers])
        assert sums == pytest.approx([expected, expected], rel=1e-12)
        seeds = [11, 11, 11, 12, 12, 12, 13, 13, 13]
        episodes = rollouts.play(seeds, temperature=1.0, seed=5)
        assert [e.seed for e in episodes] == seeds
        ids = [e.problem_id for e in episodes]
        assert len(set(ids[0:3])) == len(set(ids[3:6])) == len(set(ids[6:9])) == 1 and len(set(ids)) == 3
        again = rollouts.play(seeds, temperature=1.0, seed=5)
        assert [e.responses for e in again] == [e.responses for e in episodes]  # seeded: reproducible
    finally:
        rollouts.close()


def test_training_with_two_rollout_workers(local_ray, tmp_path):
    history = train(
        GRPOConfig(
            env="Saturn-SAT-v0",
            env_kwargs=SAT,
            out=str(tmp_path),
            steps=2,
            group_size=2,
            prompts_per_step=3,
            max_new_tokens=4,
            num_rollout_workers=2,
            eval_every=2,
            eval_problems=2,
            eval_samples=2,
            eval_k=1,
            progress=False,
        )
    )
    assert [m["step"] for m in history] == [1, 2]
    assert "eval/pass@1" in history[-1]
    logged = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in logged] == [1, 2]
