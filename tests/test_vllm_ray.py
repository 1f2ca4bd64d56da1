"""Ray rollout workers that each hold a vLLM engine (``--num-rollout-workers N --backend vllm``):
the learner's weights reach every engine through the object store, and after a sync every
worker's greedy episodes are the learner's greedy completions token for token.

Needs vLLM and Ray (CI: ``.ci/run`` section 3); skipped otherwise.
"""

import gymnasium
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("vllm", reason="vLLM is not installed (CI runs this file in .venv-vllm; see docs/vllm.md)")
ray = pytest.importorskip("ray")

from test_vllm import SAT, learner_greedy, save_small_model  # noqa: E402

from thinkgym.agents.grpo.chat import ChatFormat  # noqa: E402
from thinkgym.agents.grpo.config import GRPOConfig  # noqa: E402
from thinkgym.agents.grpo.ray_rollout import RayRollouts  # noqa: E402
from thinkgym.agents.models import load_model  # noqa: E402


def test_each_worker_engine_serves_the_learners_weights_after_sync(tmp_path):
    folder = save_small_model(tmp_path / "model")
    cfg = GRPOConfig(
        env="Saturn-SAT-v0",
        env_kwargs=SAT,
        model=str(folder),
        backend="vllm",
        num_rollout_workers=2,
        max_new_tokens=16,
        max_turns=1,
        out=str(tmp_path / "run"),
    )
    model, tokenizer = load_model(folder)
    chat = ChatFormat(tokenizer)
    with torch.no_grad():  # the learner moves away from the folder the engines loaded
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p, generator=torch.Generator().manual_seed(1)))
    env = gymnasium.make("Saturn-SAT-v0", **SAT)
    seeds = [0, 1, 2, 3]
    expected = learner_greedy(model.eval(), chat, [chat.prompt_ids(*env.reset(seed=s)) for s in seeds], 16)

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        rollouts = RayRollouts(cfg)
        try:
            stale = rollouts.play(seeds, temperature=0.0, seed=0)
            rollouts.sync(model)
            synced = rollouts.play(seeds, temperature=0.0, seed=0)  # two per worker
        finally:
            rollouts.close()
    finally:
        ray.shutdown()
    assert [e.segments[0].completion_ids for e in stale] != expected
    assert [e.segments[0].completion_ids for e in synced] == expected
