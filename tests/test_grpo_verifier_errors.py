"""A verifier that cannot decide is neither right nor wrong: the GRPO trainer leaves its episodes out
of the advantages and the loss, and logs how many there were as ``verifier_errors``. One real
training step of the tiny model on a SAT env whose verifier "times out" on some responses."""

import json

import gymnasium
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from thinkgym.agents.grpo import trainer as trainer_module  # noqa: E402
from thinkgym.agents.grpo.config import GRPOConfig  # noqa: E402
from thinkgym.core import Verdict  # noqa: E402
from thinkgym.envs.sat import SaturnSATEnv  # noqa: E402

VERIFIER_ERROR_REWARD = 5.0  # far from every other reward, so a leak into the advantages shows


class FlakySAT(SaturnSATEnv):
    """Saturn-SAT-v0 whose verifier cannot decide on responses of an even byte sum."""

    def verify(self, response, problem):
        if sum(response.encode()) % 2 == 0:
            return Verdict(False, False, 0.0, "timeout", {"why": "test"}, verifier_error=True)
        return super().verify(response, problem)


gymnasium.register("TestFlakySAT-v0", entry_point=FlakySAT)


def test_verifier_error_episodes_get_no_advantage_and_no_loss(tmp_path, monkeypatch):
    seen = {}
    collect, update = trainer_module.collect_groups, trainer_module.update

    def recording_collect(*args, **kwargs):
        groups, sampled, rounds = collect(*args, **kwargs)
        seen["groups"], seen["sampled"] = groups, sampled
        return groups, sampled, rounds

    def recording_update(model, ref_model, optimizer, batch, num_episodes, cfg, device):
        seen["batch"], seen["num_episodes"] = batch, num_episodes
        return update(model, ref_model, optimizer, batch, num_episodes, cfg, device)

    rewards_seen = []

    def shaper(rewards, **_):
        rewards_seen.append(rewards.copy())
        return rewards - rewards.mean()

    monkeypatch.setattr(trainer_module, "collect_groups", recording_collect)
    monkeypatch.setattr(trainer_module, "update", recording_update)
    cfg = GRPOConfig(
        env="TestFlakySAT-v0",
        env_kwargs={
            "n": 1,
            "k": 5,
            "l": 3,
            "prompt_template": "{instance}",
            "rewards": {"verifier_error": VERIFIER_ERROR_REWARD},
        },
        model="tiny",
        out=str(tmp_path / "run"),
        steps=1,
        group_size=4,
        prompts_per_step=3,
        max_new_tokens=6,
        eval_every=0,
        progress=False,
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two threads on a busy 2-core machine are many times slower than one
    try:
        metrics = trainer_module.train(cfg, shaper=shaper)
    finally:
        torch.set_num_threads(threads)

    sampled = seen["sampled"]
    errors = [e for e in sampled if e.verifier_error]
    valid = [e for e in sampled if not e.verifier_error]
    assert 0 < len(errors) < len(sampled), "the seeded run must mix both kinds, or the test proves nothing"
    assert all(e.reward == VERIFIER_ERROR_REWARD for e in errors)  # the env paid rewards["verifier_error"]

    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert logged[0]["verifier_errors"] == metrics[0]["verifier_errors"] == len(errors)

    # advantages: only the decided episodes of each group reach the shaper
    trained = [e for group in seen["groups"] for e in group]
    assert not any(e.verifier_error for e in trained) and len(trained) == len(valid)
    flat = np.concatenate(rewards_seen)
    assert VERIFIER_ERROR_REWARD not in flat and len(flat) == len(valid)

    # loss: the batch holds exactly the decided episodes' rows, and the loss normalises over them
    batch = seen["batch"]
    assert seen["num_episodes"] == len(valid)
    assert all(sum(e.segments[0].mask) for e in valid)  # every decided episode has a row to train on
    completions = batch.input_ids[:, batch.input_ids.shape[1] - batch.mask.shape[1] :]
    in_batch = [tuple(completions[r][batch.mask[r] > 0].tolist()) for r in range(len(completions))]
    assert sorted(in_batch) == sorted(tuple(e.segments[0].completion_ids) for e in valid)
    assert sorted(batch.episode.tolist()) == list(range(len(valid)))
