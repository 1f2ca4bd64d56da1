"""GRPO learns with two data-parallel learners: the recipe of tests/test_grpo_learns.py (SFT warm
start, then 150 GRPO steps on unit-clause SAT, seed 0) with ``num_learners=2`` (DDP on a local
2-CPU Ray cluster, gloo) raises held-out pass@1 by the same criterion as the one-learner test: a
one-sided two-proportion z-test at p < 0.01 (z > 2.33) over 256 held-out problems before and after.

Marked slow: about 11 minutes on 2 otherwise idle cores (SFT 300 steps, then 150 GRPO steps whose
updates go through the Ray learners). Select it with ``-m slow``.
"""

import dataclasses

import pytest

torch = pytest.importorskip("torch")
ray = pytest.importorskip("ray")

from thinkgym.agents.grpo.recipe import grpo_config, sft_config, wilson, z_score  # noqa: E402
from thinkgym.agents.grpo.sft import supervise  # noqa: E402
from thinkgym.agents.grpo.trainer import evaluate_model, train  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]

HELD_OUT = 256


def test_grpo_with_two_learners_raises_held_out_pass_at_1(tmp_path):
    supervise(sft_config(tmp_path / "sft", held_out=HELD_OUT))
    cfg = grpo_config(tmp_path / "sft" / "model", tmp_path / "grpo", steps=150, held_out=HELD_OUT)
    cfg = dataclasses.replace(cfg, num_learners=2)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        before = evaluate_model(cfg.model, cfg)["pass@1"]
        after = train(cfg)[-1]["eval/pass@1"]
    finally:
        ray.shutdown()
    z = z_score(before, after, HELD_OUT, HELD_OUT)
    print(
        f"two learners, held-out pass@1 (n={HELD_OUT} each): SFT {before:.3f} {wilson(before, HELD_OUT)}, "
        f"GRPO {after:.3f} {wilson(after, HELD_OUT)}, z = {z:.2f}"
    )
    assert z > 2.33  # one-sided p < 0.01, as in tests/test_grpo_learns.py
