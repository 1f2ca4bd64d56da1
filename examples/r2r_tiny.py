"""R2R end to end with two tiny offline models: a short supervised warm start on an easy SAT
setting, router labels judged by the SAT verifier, router training, a threshold for a target
routed fraction, and accuracy against routed fraction next to each model alone.

Run: python examples/r2r_tiny.py  (CPU, a few minutes)
"""

import time

import gymnasium

import thinkgym  # noqa: F401
from thinkgym.agents.models import build_tiny_model, build_tiny_tokenizer
from thinkgym.agents.r2r import Router, choose_threshold, label_divergences, routing_sweep, train_router
from thinkgym.agents.r2r.warm_start import warm_start
from thinkgym.experiments.sweep import markdown_table

ENV_KWARGS = {"n": 1, "k": 3, "l": 2, "prompt_template": "{instance}\n"}


def main() -> None:
    start = time.perf_counter()
    tok = build_tiny_tokenizer()
    env = gymnasium.make("Saturn-SAT-v0", **ENV_KWARGS)
    small = warm_start(build_tiny_model(len(tok), seed=3, hidden_size=32, num_layers=1), tok, env, 40, seed=0)
    large = warm_start(build_tiny_model(len(tok), seed=4, hidden_size=64, num_layers=2), tok, env, 120, seed=1)
    examples = label_divergences(env, small, large, tok, range(200), max_tokens=12)
    positives = sum(e.divergent for e in examples)
    print(f"labels: {len(examples)} positions, {positives} divergent ({time.perf_counter() - start:.0f} s)")
    router = Router(small.get_input_embeddings().weight.detach(), top_k=16, width=32)
    print("router:", train_router(router, examples, epochs=15))
    thresholds = [choose_threshold(router, examples, f) for f in (0.1, 0.25, 0.5)]
    rows = routing_sweep(
        "Saturn-SAT-v0",
        [None],
        small,
        large,
        tok,
        router,
        thresholds,
        episodes=100,
        max_tokens=12,
        env_kwargs=ENV_KWARGS,
    )
    print(markdown_table(rows))
    print(f"done in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
