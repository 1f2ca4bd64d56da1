"""The weight-sync contract a separate sampling engine (``backend="vllm"``, Ray rollout workers)
relies on: every rollout AND every evaluation samples with the learner's current weights.

vLLM is not needed: the sampler here is the HF sampler over its own copy of the model, synced
like an engine (``sync`` copies the learner's weights in), and it records, at each call, whether
its copy equals the learner. Before the fix, the evaluation after an update ran on the weights
of before that update (the engine was synced only at the start of the next step), so an
evaluated pass@1 with vLLM was one step stale.
"""

import copy

import pytest

torch = pytest.importorskip("torch")

import thinkgym.agents.grpo.trainer as trainer_module  # noqa: E402
from thinkgym.agents.grpo.config import GRPOConfig  # noqa: E402
from thinkgym.agents.grpo.sampling import HFSampler  # noqa: E402


class CopySampler(HFSampler):
    """The HF sampler over a copy of the learner, loaded on ``sync`` (as an engine is)."""

    def __init__(self, learner, chat, top_p):
        super().__init__(copy.deepcopy(learner), chat, top_p)
        self.learner, self.calls = learner, []

    def sync(self, model):
        self.model.load_state_dict(model.state_dict())

    def __call__(self, prompts, temperature, seed, max_new_tokens, stop):
        pairs = zip(self.model.parameters(), self.learner.parameters(), strict=True)
        self.calls.append(all(torch.equal(a, b) for a, b in pairs))
        return super().__call__(prompts, temperature, seed, max_new_tokens, stop)


def test_rollouts_and_evaluations_sample_the_learners_current_weights(tmp_path, monkeypatch, one_torch_thread):
    samplers = []

    def copy_rollouts(cfg, model, chat):
        samplers.append(CopySampler(model, chat, cfg.top_p))
        return trainer_module.LocalRollouts(samplers[-1], chat, cfg)

    monkeypatch.setattr(trainer_module, "make_rollouts", copy_rollouts)
    cfg = GRPOConfig(
        env="Saturn-SAT-v0",
        env_kwargs={"n": 1, "k": 5, "l": 3, "prompt_template": "{instance}"},
        out=str(tmp_path),
        steps=3,
        group_size=4,
        prompts_per_step=2,
        max_new_tokens=4,
        lr=1e-2,
        warmup_steps=0,
        entropy_coef=0.1,  # a gradient even when every reward of a group is equal
        eval_every=1,
        eval_problems=4,
        eval_samples=1,
        eval_k=1,
        curriculum_levels=[1, 2],
        curriculum_eval_every=8,  # a curriculum evaluation every step (8 episodes per step)
        curriculum_validation_size=4,
        progress=False,
    )
    history = trainer_module.train(cfg)
    assert all("eval/pass@1" in m and "curriculum/pass@1" in m for m in history)
    assert all(m["grad_norm"] > 0 for m in history), "no update moved the weights: the test would prove nothing"
    (sampler,) = samplers
    assert len(sampler.calls) == 3 * 3  # per step: the rollout, the curriculum and the held-out evaluation
    assert all(sampler.calls), f"calls with stale weights (False): {sampler.calls}"
