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

from thinkgym.agents.grpo.config import GRPOConfig, SFTConfig  # noqa: E402
from thinkgym.agents.grpo.sft import supervise  # noqa: E402
from thinkgym.agents.grpo.trainer import evaluate_model, train  # noqa: E402

pytestmark = pytest.mark.slow

ENV = {"n": 1, "k": 8, "l": 3, "prompt_template": "{instance}"}
HELD_OUT = 256


def wilson(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_grpo_raises_held_out_pass_at_1(tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        supervise(
            SFTConfig(
                env_kwargs=ENV,
                steps=300,
                batch_size=16,
                lr=3e-3,
                out=str(tmp_path / "sft"),
                eval_problems=HELD_OUT,
                progress=False,
            )
        )
        cfg = GRPOConfig(
            env_kwargs=ENV,
            model=str(tmp_path / "sft" / "model"),
            out=str(tmp_path / "grpo"),
            steps=150,
            group_size=16,
            prompts_per_step=8,
            max_new_tokens=20,
            lr=1e-3,
            warmup_steps=20,
            micro_batch_size=128,
            eval_every=150,
            eval_problems=HELD_OUT,
            eval_samples=1,
            eval_k=1,
            eval_temperature=1.0,
            progress=False,
        )
        before = evaluate_model(cfg.model, cfg)["pass@1"]
        after = train(cfg)[-1]["eval/pass@1"]
    finally:
        torch.set_num_threads(threads)
    se = math.sqrt(before * (1 - before) / HELD_OUT + after * (1 - after) / HELD_OUT)
    z = (after - before) / se
    print(
        f"held-out pass@1 (n={HELD_OUT} each): SFT {before:.3f} {wilson(before * HELD_OUT, HELD_OUT)}, "
        f"GRPO {after:.3f} {wilson(after * HELD_OUT, HELD_OUT)}, z = {z:.2f}"
    )
    assert z > 2.33  # one-sided p < 0.01
