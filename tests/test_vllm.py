"""vLLM (V1 engine) as the GRPO sampler and as a sweep policy, on CPU with a small random Qwen2.

Needs vLLM, which pins its own torch and transformers: CI runs this file in a second venv
(``.ci/run`` section 3, docs/vllm.md); in the main venv it is skipped. One engine is shared by the
sampler tests (starting one costs 20-70 s on a busy 2-core machine); the end-to-end tests start
their own, as ``thinkgym train`` and ``thinkgym sweep`` do.
"""

import csv
import json

import gymnasium
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("vllm", reason="vLLM is not installed (CI runs this file in .venv-vllm; see docs/vllm.md)")

from thinkgym.agents.grpo.chat import ChatFormat  # noqa: E402
from thinkgym.agents.grpo.config import GRPOConfig  # noqa: E402
from thinkgym.agents.grpo.loss import collate  # noqa: E402
from thinkgym.agents.grpo.rollout import EnvPool, play_episodes  # noqa: E402
from thinkgym.agents.grpo.sampling import sample  # noqa: E402
from thinkgym.agents.grpo.trainer import build_batch, update  # noqa: E402
from thinkgym.agents.grpo.vllm_sampler import VLLMSampler  # noqa: E402
from thinkgym.agents.models import build_tiny_model, build_tiny_tokenizer, load_model  # noqa: E402

SAT = {"n": 1, "k": 5, "l": 3, "prompt_template": "{instance}"}


def save_small_model(folder, seed=0, initializer_range=0.3):
    """The tiny model with head size 32 (vLLM's CPU attention has no kernel for the tiny's 16),
    by default initialised wide enough that greedy completions vary from token to token."""
    tokenizer = build_tiny_tokenizer()
    model = build_tiny_model(
        len(tokenizer), seed=seed, num_attention_heads=2, num_key_value_heads=1, initializer_range=initializer_range
    )
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """(sampler, learner model, chat): a vLLM engine on a saved model, and the learner loaded
    from the same folder."""
    torch.set_num_threads(1)
    folder = save_small_model(tmp_path_factory.mktemp("vllm") / "model")
    model, tokenizer = load_model(folder)
    chat = ChatFormat(tokenizer)
    sampler = VLLMSampler(folder, chat.stop_ids, seed=0)
    yield sampler, model.eval(), chat
    sampler.close()


def sat_prompts(chat, count, level=1):
    env = gymnasium.make("Saturn-SAT-v0", level=level)
    return [chat.prompt_ids(*env.reset(seed=s)) for s in range(count)]


def learner_greedy(model, chat, prompts, budget, stops=None):
    out = sample(
        model,
        prompts,
        max_new_tokens=budget,
        temperature=0.0,
        stop_ids=chat.stop_ids,
        stop_strings=stops,
        decode=chat.decode,
        pad_id=chat.pad_id,
    )
    return [c.ids for c in out]


def grpo_step(sampler, model, chat, seed=3):
    """One GRPO step of the learner on episodes vLLM sampled (advantages +-1, so the step moves)."""
    pool = EnvPool("Saturn-SAT-v0", {"level": 1}, chat)
    episodes = play_episodes(
        pool.get(8), [0] * 4 + [1] * 4, sampler, chat, temperature=1.0, seed=seed, max_new_tokens=24
    )
    groups = [episodes[:4], episodes[4:]]
    batch = build_batch(groups, [np.array([1.0, -1.0, 1.0, -1.0])] * 2, chat.pad_id)
    cfg = GRPOConfig(lr=1e-2, micro_batch_size=8, max_new_tokens=24)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    update(model, None, optimizer, batch, 8, cfg, torch.device("cpu"))


def test_greedy_matches_the_learner_after_a_grpo_step_and_sync(engine):
    sampler, model, chat = engine
    prompts = sat_prompts(chat, 6)
    assert [c.ids for c in sampler(prompts, 0.0, 0, [32] * 6, [[]] * 6)] == learner_greedy(model, chat, prompts, 32)

    grpo_step(sampler, model, chat)
    expected = learner_greedy(model, chat, prompts, 32)
    stale = [c.ids for c in sampler(prompts, 0.0, 0, [32] * 6, [[]] * 6)]
    assert stale != expected, "the step did not change the greedy completions: the test would prove nothing"
    sampler.sync(model)
    assert [c.ids for c in sampler(prompts, 0.0, 0, [32] * 6, [[]] * 6)] == expected


def learner_scores(model, chat, prompts, completions, temperature):
    """Per sampled token, under the learner's softmax(logits / T) (the distribution the loss
    assumes): log p of the token, the entropy H, and the variance of log p over the vocabulary."""
    rows = [(p, c.ids, [1] * len(c.ids)) for p, c in zip(prompts, completions, strict=True)]
    batch = collate(rows, [0.0] * len(rows), list(range(len(rows))), chat.pad_id)
    width = batch.mask.shape[1]
    positions = (batch.attention_mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        out = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, position_ids=positions)
    logp_all = torch.log_softmax(out.logits[:, -(width + 1) : -1].float() / temperature, dim=-1)
    logp = logp_all.gather(-1, batch.input_ids[:, -width:].unsqueeze(-1)).squeeze(-1)
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    variance = (logp_all.exp() * logp_all**2).sum(-1) - entropy**2
    keep = batch.mask.bool()
    return logp[keep], entropy[keep], variance[keep]


def sampling_z(logp, entropy, variance):
    """sum_t (log p(x_t) + H_t) / sqrt(sum_t Var_t): if every x_t is drawn from p_t, each term has
    mean 0 and variance Var_t, so this is about N(0, 1); tokens from a sharper or flatter
    distribution (another temperature, top-k, stale weights) push it far from 0."""
    return float((logp + entropy).sum() / variance.sum().sqrt())


def test_engine_samples_the_learners_distribution_after_a_sync(engine):
    """The diagnostic for on-policy rollouts: after a real GRPO step and a sync, vLLM's
    log-probability of every token it sampled equals the learner's (the loss's pi_old) within
    1e-3, and its samples are draws from the learner's distribution at the same temperature.
    The prompts (~920 tokens) were sampled before the step, so their KV blocks sat in the prefix
    cache with the old weights."""
    sampler, model, chat = engine
    sampler.sync(model)
    prompts = sat_prompts(chat, 16) * 4
    sampler(prompts, 1.0, 0, [8] * 64, [[]] * 64)  # fills the prefix cache with the old weights
    grpo_step(sampler, model, chat, seed=4)
    sampler.sync(model)
    scored = {}
    for temperature in (1.0, 0.7):
        completions, engine_logp = sampler.generate(prompts, temperature, 5, [20] * 64, [[]] * 64, logprobs=True)
        logp, entropy, variance = learner_scores(model, chat, prompts, completions, temperature)
        gap = (logp - torch.tensor([x for row in engine_logp for x in row])).abs().max().item()
        assert gap < 1e-3, f"T={temperature}: vLLM's and the learner's log-probabilities differ by {gap:.2e}"
        z = sampling_z(logp, entropy, variance)
        assert abs(z) < 4, f"T={temperature}: vLLM's samples are not the learner's distribution (z = {z:.1f})"
        scored[temperature] = completions
    # the statistic sees a wrong temperature: samples drawn at T=1, scored as if drawn at T=0.7
    z_wrong = sampling_z(*learner_scores(model, chat, prompts, scored[1.0], 0.7))
    assert z_wrong < -4, f"the sampling check could not tell T=1 from T=0.7 (z = {z_wrong:.1f})"


def printable_after(chat, ids, start):
    """The first printable ASCII character among ``ids[start:]`` (one byte-level token each), or None."""
    for token in ids[start:]:
        text = chat.decode([token])
        if len(text) == 1 and text.isascii() and text.isprintable():
            return text
    return None


def test_stop_strings_budgets_and_seeds(engine):
    sampler, model, chat = engine
    sampler.sync(model)  # whatever the previous test left, the engine now serves the learner
    prompts = sat_prompts(chat, 8, level=3)
    free = learner_greedy(model, chat, prompts, 40)
    stops = [[s] if (s := printable_after(chat, ids, 1)) else [] for ids in free]  # text greedy reaches
    got = sampler(prompts, 0.0, 0, [40] * 8, stops)
    assert [c.ids for c in got] == learner_greedy(model, chat, prompts, 40, stops)
    by_string = [c for c in got if c.stopped and c.ids[-1] not in chat.stop_ids]
    assert len(by_string) >= 2, "too few rows were cut by a stop string for the test to mean anything"

    prompts, budgets = prompts[:4], [0, 1, 5, 17]
    got = sampler(prompts, 1.0, 9, budgets, [[]] * 4)
    assert [len(c.ids) for c in got if not c.stopped] == [b for b, c in zip(budgets, got, strict=True) if not c.stopped]
    assert all(len(c.ids) <= b for c, b in zip(got, budgets, strict=True)) and got[0].ids == []
    again = sampler(prompts, 1.0, 9, budgets, [[]] * 4)
    other = sampler(prompts, 1.0, 10, budgets, [[]] * 4)
    assert [c.ids for c in again] == [c.ids for c in got]
    assert [c.ids for c in other] != [c.ids for c in got]


def test_markovian_chunks_and_code_interpreter_turns_with_vllm(engine):
    sampler, model, chat = engine
    seen = []

    def recording(prompts, temperature, seed, budgets, stops):
        completions = sampler(prompts, temperature, seed, budgets, stops)
        seen.append((budgets, stops, [list(c.ids) for c in completions]))
        return completions

    # MarkovianThinking: new-context rows, the env's per-chunk budgets, ids kept as sampled
    kwargs = {"level": 1, "preset": "tiny", "tokenizer": "policy", "eos_token": "policy"}
    pool = EnvPool("Markovian-SAT-v0", kwargs, chat)
    episodes = play_episodes(
        pool.get(2), [5, 5], recording, chat, temperature=1.0, seed=1, max_new_tokens=100, max_turns=8
    )
    assert seen[0][0] == [64, 64] and all(b == 32 for budgets, _, _ in seen[1:] for b in budgets)
    sampled = [ids for _, _, turn in seen for ids in turn]
    for episode in episodes:
        assert len(episode.segments) == episode.turns
        assert all(
            row.completion_ids in sampled and row.mask == [1] * len(row.completion_ids) for row in episode.segments
        )
        first = episode.segments[0].prompt_ids
        assert all(seg.prompt_ids[: len(first)] == first for seg in episode.segments[1:])
    assert max(e.turns for e in episodes) >= 2, "no episode ran past its first chunk"

    # CodeInterpreter: the env's stop strings reach vLLM; the model's ids are kept, env text masked
    seen.clear()
    env = gymnasium.make("CodeInterpreter-SAT-v0", level=1)
    (episode,) = play_episodes([env], [3], recording, chat, temperature=1.0, seed=2, max_new_tokens=48, max_turns=4)
    assert seen[0][1] == [["```\n"]]
    (row,) = episode.segments
    policy_ids = [t for t, m in zip(row.completion_ids, row.mask, strict=True) if m]
    assert policy_ids == [t for _, _, ids in seen for t in ids[0]]


@pytest.mark.timeout(900)  # two engine starts; each takes 20-70 s on a busy 2-core machine
def test_train_with_vllm_then_resume_logs_every_step_once(tmp_path):
    from thinkgym.cli import main

    folder = save_small_model(tmp_path / "model")
    out = tmp_path / "run"
    common = [
        *f"train --env Saturn-SAT-v0 --model {folder} --backend vllm --group-size 2 --prompts-per-step 2".split(),
        *f"--max-new-tokens 8 --out {out} --eval-every 2 --eval-problems 4 --eval-samples 2 --eval-k 2".split(),
        *["--save-every", "2", "--lr", "1e-3", "--no-progress", "--env-kwargs", json.dumps(SAT)],
    ]
    assert main([*common, "--steps", "3"]) == 0
    assert main([*common, "--steps", "5", "--resume"]) == 0
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2, 3, 4, 5]
    assert all(m["response_length"] > 0 and m["loss"] is not None for m in metrics)
    assert {"eval/pass@1", "eval/pass@2"} <= set(metrics[3])


@pytest.mark.timeout(600)  # an engine start
def test_sweep_with_a_vllm_policy_writes_results(tmp_path):
    from thinkgym.cli import main

    folder = save_small_model(tmp_path / "model")
    out = tmp_path / "sweep"
    argv = f"sweep --policy vllm:{folder} --env Saturn-SAT-v0 --levels 1,4 --samples 8 -k 4 --episodes 4".split()
    argv += ["--max-tokens", "16", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [int(r["level"]) for r in rows] == [1, 4]
    assert all(0.0 <= float(r["pass@4"]) <= 1.0 and float(r["pass@1"]) <= float(r["pass@4"]) for r in rows)
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()[1:]]  # after the header
    assert len(records) == 2 * 4 * 8
    assert all(r["tokens"] is not None and 0 <= r["tokens"] <= 16 for r in records)  # counted by the policy
