"""GRPO learns: on Saturn-SAT-v0 with the tiny model, after a short SFT warm start, GRPO raises
pass@1 on held-out problems by more than sampling noise can explain.

The task is SAT with unit clauses (n=1, k=8, l=3, the instance alone as the prompt): three of the
eight variables are fixed by the clauses, the other five are free, so an answer is right when
the model reads the three literals off the prompt; a uniform guess is right 1 time in 8. There
are 448 distinct problems; the 256 held-out ones are never trained on (SFT and GRPO skip their
ids). The SFT warm start (300 steps on reference answers) teaches the format and part of the
reading; GRPO then sharpens the reading. pass@1 is measured with one sample per held-out problem
at temperature 1, i.e. 256 independent Bernoulli trials before and 256 after. The test asserts a
one-sided two-proportion z-test at p < 0.01 (z > 2.33) and prints the 95% Wilson intervals.
Select it with ``-m slow``.
"""

import math

import pytest

torch = pytest.importorskip("torch")

from thinkgym.agents.grpo.recipe import grpo_config, sft_config, wilson  # noqa: E402
from thinkgym.agents.grpo.sft import supervise  # noqa: E402
from thinkgym.agents.grpo.trainer import evaluate_model, train  # noqa: E402

pytestmark = pytest.mark.slow

HELD_OUT = 256


def test_grpo_raises_held_out_pass_at_1(tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        supervise(sft_config(tmp_path / "sft", held_out=HELD_OUT))
        cfg = grpo_config(tmp_path / "sft" / "model", tmp_path / "grpo", steps=150, held_out=HELD_OUT)
        before = evaluate_model(cfg.model, cfg)["pass@1"]
        after = train(cfg)[-1]["eval/pass@1"]
    finally:
        torch.set_num_threads(threads)
    se = math.sqrt(before * (1 - before) / HELD_OUT + after * (1 - after) / HELD_OUT)
    z = (after - before) / se
    print(
        f"held-out pass@1 (n={HELD_OUT} each): SFT {before:.3f} {wilson(before, HELD_OUT)}, "
        f"GRPO {after:.3f} {wilson(after, HELD_OUT)}, z = {z:.2f}"
    )
    assert z > 2.33  # one-sided p < 0.01
