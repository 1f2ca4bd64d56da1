"""R2R routing with two tiny offline models of different sizes (random weights, then a short
supervised warm start so that their answers are sometimes right and sometimes differ)."""

import math
from pathlib import Path

import gymnasium
import pytest

torch = pytest.importorskip("torch")

import thinkgym  # noqa: E402,F401
from thinkgym.agents.models import build_tiny_model, build_tiny_tokenizer  # noqa: E402
from thinkgym.agents.r2r import (  # noqa: E402
    RoutedPolicy,
    Router,
    choose_threshold,
    label_divergences,
    routing_sweep,
    train_router,
)
from thinkgym.agents.r2r.warm_start import warm_start  # noqa: E402

ENV_KWARGS = {"n": 1, "k": 3, "l": 2, "prompt_template": "{instance}\n"}


@pytest.fixture(scope="module")
def tok():
    return build_tiny_tokenizer()


def _greedy(model, tok, prompt, n):
    text = tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True)
    ids = tok.encode(text, add_special_tokens=False)
    out = model.generate(
        torch.tensor([ids]),
        max_new_tokens=n,
        do_sample=False,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
    )
    return out[0, len(ids) :].tolist()


def test_routing_all_or_nothing_reproduces_each_model(tok):
    small = build_tiny_model(len(tok), seed=1, hidden_size=32, num_layers=1, initializer_range=0.5)
    large = build_tiny_model(len(tok), seed=2, hidden_size=96, num_layers=3, initializer_range=0.5)
    router = Router(small.get_input_embeddings().weight.detach(), top_k=16, width=32)
    prompt = "Find x: \\boxed{}"
    want_large, want_small = _greedy(large, tok, prompt, 40), _greedy(small, tok, prompt, 40)
    assert want_large != want_small, "the two models must disagree for this test to mean anything"
    always = RoutedPolicy(small, large, tok, router, threshold=0.0, max_tokens=40)
    never = RoutedPolicy(small, large, tok, router, threshold=1.01, max_tokens=40)
    ids = always.prompt_ids(prompt)
    got_large, routed_all = always.generate_ids(ids)
    got_small, routed_none = never.generate_ids(ids)
    assert got_large == want_large and all(routed_all)
    assert got_small == want_small and not any(routed_none)
    mixed = RoutedPolicy(small, large, tok, router, threshold=0.5, max_tokens=40)
    mixed.act(prompt, {})
    stats = mixed.stats
    assert stats.tokens == 40 and stats.large_params > 10 * stats.small_params
    assert stats.activated_params_per_token == pytest.approx(
        stats.small_params + stats.routed_fraction * stats.large_params
    )
    with pytest.raises(ValueError, match="share a vocabulary"):
        RoutedPolicy(small, build_tiny_model(100), tok, router)


def test_labels_router_training_and_routing_sweep_end_to_end(tok):
    env = gymnasium.make("Saturn-SAT-v0", **ENV_KWARGS)
    small = warm_start(build_tiny_model(len(tok), seed=3, hidden_size=32, num_layers=1), tok, env, 40, seed=0)
    large = warm_start(build_tiny_model(len(tok), seed=4, hidden_size=64, num_layers=2), tok, env, 120, seed=1)

    examples = label_divergences(env, small, large, tok, range(60), max_tokens=12)
    assert examples and all(e.hidden.shape == (32,) and e.logits.shape == (len(tok),) for e in examples)
    assert all(e.token == int(e.logits.argmax()) for e in examples), "the small model's greedy token"
    positives = sum(e.divergent for e in examples)
    assert 0 < positives < len(examples), f"need both label classes, got {positives}/{len(examples)}"

    router = Router(small.get_input_embeddings().weight.detach(), top_k=16, width=32)
    report = train_router(router, examples, epochs=15, recall_factor=1.0)
    assert math.isfinite(report["loss"]) and report["positives"] == positives
    assert report["recall"] >= 0.5, "class weighting keeps the divergent tokens' recall up"
    threshold = choose_threshold(router, examples, 0.25)
    probs = [router.probability(e.hidden, e.token, e.logits) for e in examples]
    routed = sum(p >= threshold for p in probs) / len(probs)
    assert routed == pytest.approx(0.25, abs=0.1)

    # level None: the env's own parameters (n=1, k=3, l=2) rather than a named level
    rows = routing_sweep(
        "Saturn-SAT-v0",
        [None],
        small,
        large,
        tok,
        router,
        [threshold],
        episodes=20,
        max_tokens=12,
        env_kwargs=ENV_KWARGS,
    )
    by = {r["setting"]: r for r in rows}
    assert by["small"]["routed_fraction"] == 0.0 and by["large"]["routed_fraction"] == 1.0
    r2r = by[f"r2r@{threshold:g}"]
    assert 0.0 < r2r["routed_fraction"] < 1.0
    assert (
        by["small"]["activated_params_per_token"]
        < r2r["activated_params_per_token"]
        < by["large"]["activated_params_per_token"]
    )
    # the warm-started large model answers what the small one cannot (0.69 vs 0.00 in docs/r2r.md)
    print({name: row["pass@1"] for name, row in by.items()})
    assert by["large"]["pass@1"] >= by["small"]["pass@1"] + 0.3
    small_params = by["small"]["activated_params_per_token"]  # the small model runs for every token
    both = by["large"]["activated_params_per_token"]  # every token routed: small + large
    for row in rows:  # the cost column is the paper's count: small + routed fraction x large
        expected = small_params + row["routed_fraction"] * (both - small_params)
        assert row["activated_params_per_token"] == pytest.approx(expected, abs=2)


def _docs_table():
    """The rows of docs/r2r.md's measured table: (setting, pass@1, routed fraction, params/token)."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "r2r.md").read_text()
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith(("small", "large", "R2R")):
            rows.append((cells[0], float(cells[1]), float(cells[2]), int(cells[3].replace(",", ""))))
    return rows


def test_docs_table_is_consistent():
    rows = {name: rest for name, *rest in _docs_table()}
    assert {"small alone", "large alone"} <= set(rows) and len(rows) >= 3
    small, large = rows["small alone"][2], rows["large alone"][2] - rows["small alone"][2]
    for name, (_, fraction, params) in rows.items():
        # the routed fraction is printed to 2 decimals: params must lie in its rounding band
        low, high = small + max(0.0, fraction - 0.005) * large, small + (fraction + 0.005) * large
        assert low - 1 <= params <= high + 1, (name, fraction, params, (round(low), round(high)))
