"""The GRPO agent end to end on CPU with the tiny model: the CLI, exact resume, the reference
model only when beta > 0, multi-turn rollouts with exact token ids and masks, group sharing,
zero-variance filtering and dynamic sampling, sampling controls, SFT and REDI."""

import argparse
import json

import gymnasium
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from thinkgym.agents.grpo import trainer as trainer_module  # noqa: E402
from thinkgym.agents.grpo.chat import ChatFormat  # noqa: E402
from thinkgym.agents.grpo.cli import add_commands  # noqa: E402
from thinkgym.agents.grpo.config import GRPOConfig  # noqa: E402
from thinkgym.agents.grpo.policy import ModelPolicy  # noqa: E402
from thinkgym.agents.grpo.redi import make_pairs, read_traces, redi_loss  # noqa: E402
from thinkgym.agents.grpo.rollout import EnvPool, play_episodes  # noqa: E402
from thinkgym.agents.grpo.sampling import Completion, HFSampler, sample  # noqa: E402
from thinkgym.agents.grpo.trainer import train  # noqa: E402
from thinkgym.agents.models import load_model  # noqa: E402
from thinkgym.spaces import UnicodeText  # noqa: E402

TIMING = {"tokens_per_s", "rollout_s", "step_s"}
SAT = ["--env", "Saturn-SAT-v0", "--env-kwargs", '{"n": 1, "k": 5, "l": 3, "prompt_template": "{instance}"}']


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def run_cli(argv):
    parser = argparse.ArgumentParser(prog="thinkgym")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def read_metrics(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


# ---- test envs -------------------------------------------------------------------------


class Turns(gymnasium.Env):
    """A multi-turn env: ``turns`` model turns; the env answers the first ones with ``reply N``
    placed as ``obs_mode`` says. The reward is paid at the end."""

    def __init__(self, turns=3, obs_mode="user"):
        self.observation_space = self.action_space = UnicodeText(10_000)
        self.turns, self.obs_mode, self.actions = turns, obs_mode, []

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return f"question {seed}", {"problem": {"id": f"q{seed}"}}

    def step(self, action):
        self.t += 1
        self.actions.append(action)
        done = self.t >= self.turns
        info = {"obs_mode": self.obs_mode} | ({"verdict": {"correct": True}} if done else {})
        return ("" if done else f"reply {self.t}"), float(done), done, False, info


class ByteParity(gymnasium.Env):
    """Single turn; reward = parity of the response's byte sum (random for the tiny model), except
    that seeds divisible by 3 always pay 0 (a zero-variance group)."""

    def __init__(self):
        self.observation_space = self.action_space = UnicodeText(10_000)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.seed_ = seed
        return f"p{seed}", {"problem": {"id": f"p{seed}"}}

    def step(self, action):
        reward = 0.0 if self.seed_ % 3 == 0 else float(sum(action.encode()) % 2)
        return "", reward, True, False, {"verdict": {"correct": reward > 0}}


gymnasium.register("TestTurns-v0", entry_point=Turns)
gymnasium.register("TestByteParity-v0", entry_point=ByteParity)


@pytest.fixture(scope="module")
def tiny():
    model, tokenizer = load_model("tiny")
    return model.eval(), tokenizer


def fixed_sampler(ids):
    return lambda prompts, temperature, seed, budgets, stops: [Completion(list(ids), True) for _ in prompts]


# ---- the command line and resume -------------------------------------------------------


def test_train_then_resume_logs_every_step_once(tmp_path):
    out = tmp_path / "run"
    common = [
        *SAT,
        "--model",
        "tiny",
        "--group-size",
        "2",
        "--prompts-per-step",
        "2",
        "--max-new-tokens",
        "6",
        "--out",
        str(out),
        "--eval-every",
        "2",
        "--eval-problems",
        "4",
        "--eval-samples",
        "2",
        "--eval-k",
        "2",
        "--save-every",
        "2",
        "--no-progress",
    ]
    assert run_cli(["train", *common, "--steps", "3"]) == 0
    assert run_cli(["train", *common, "--steps", "5", "--resume"]) == 0
    metrics = read_metrics(out)
    assert [m["step"] for m in metrics] == [1, 2, 3, 4, 5]
    for m in metrics:
        assert {"reward_mean", "loss", "kl", "entropy", "response_length", "tokens_per_s"} <= set(m)
    assert {"eval/pass@1", "eval/pass@2"} <= set(metrics[1]) and "eval/pass@1" not in metrics[2]
    checkpoints = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert checkpoints == ["step-000002", "step-000003", "step-000004", "step-000005"]
    # a checkpoint's model folder is a valid --model
    policy = ModelPolicy.load(out / "checkpoints" / "step-000005" / "model", max_new_tokens=4)
    assert isinstance(policy.act("hi", {}), str)
    # a second run into the same folder without --resume is refused rather than mixed in
    with pytest.raises(ValueError, match="--resume"):
        run_cli(["train", *common, "--steps", "1"])


def test_resume_after_a_crash_is_exact(tmp_path, monkeypatch):
    """A run that dies in step 4 (checkpoint at 2, step 3 already logged) and is resumed ends
    exactly as the uninterrupted run: same metrics for every step, each logged once, same weights."""
    settings = dict(
        env="TestByteParity-v0",
        group_size=4,
        prompts_per_step=3,
        max_new_tokens=5,
        lr=1e-2,
        steps=4,
        eval_every=0,
        save_every=2,
        progress=False,
        num_iterations=2,
        micro_batch_size=5,
        lr_schedule="cosine",
        warmup_steps=1,
        beta=0.1,
        entropy_coef=0.01,
    )
    straight = train(GRPOConfig(out=str(tmp_path / "a"), **settings))
    collect = trainer_module.collect_groups

    def crash_in_step_4(rollouts, problems, probe, cfg, step, options):
        if step == 4:
            raise RuntimeError("node lost")
        return collect(rollouts, problems, probe, cfg, step, options)

    monkeypatch.setattr(trainer_module, "collect_groups", crash_in_step_4)
    with pytest.raises(RuntimeError, match="node lost"):
        train(GRPOConfig(out=str(tmp_path / "b"), **settings))
    assert [m["step"] for m in read_metrics(tmp_path / "b")] == [1, 2, 3]
    monkeypatch.setattr(trainer_module, "collect_groups", collect)
    resumed = train(GRPOConfig(out=str(tmp_path / "b"), resume=True, **settings))
    assert [m["step"] for m in resumed] == [3, 4]
    logged = read_metrics(tmp_path / "b")
    assert [m["step"] for m in logged] == [1, 2, 3, 4]
    for a, b in zip(straight, logged, strict=True):
        assert {k: v for k, v in a.items() if k not in TIMING} == {k: v for k, v in b.items() if k not in TIMING}
    assert any(m["loss"] != 0 for m in straight)
    model_a, _ = load_model(tmp_path / "a" / "checkpoints" / "step-000004" / "model")
    model_b, _ = load_model(tmp_path / "b" / "checkpoints" / "step-000004" / "model")
    for pa, pb in zip(model_a.parameters(), model_b.parameters(), strict=True):
        assert torch.equal(pa, pb)


def test_curriculum_moves_up_and_its_state_survives_a_resume(tmp_path):
    settings = dict(
        env="TestByteParity-v0",
        group_size=4,
        prompts_per_step=2,
        max_new_tokens=3,
        eval_every=0,
        save_every=1,
        progress=False,
        curriculum_levels=[1, 2, 3],
        curriculum_epsilon=0.0,
        curriculum_eval_every=8,
        curriculum_validation_size=6,
    )
    first = train(GRPOConfig(out=str(tmp_path), steps=1, **settings))
    assert first[0]["curriculum/level"] == 2  # pass@1 > epsilon = 0 on its validation set: up one level
    resumed = train(GRPOConfig(out=str(tmp_path), steps=2, resume=True, **settings))
    assert resumed[0]["curriculum/level"] == 3  # continued from level 2, not from level 1
    state = torch.load(tmp_path / "checkpoints" / "step-000002" / "state.pt", weights_only=False)
    assert state["curriculum"]["index"] == 2 and len(state["curriculum"]["history"]) == 2


def test_reference_model_is_loaded_only_when_beta_is_positive(tmp_path, monkeypatch):
    calls = []

    def counting_load_model(spec, **kwargs):
        calls.append(str(spec))
        return load_model(spec, **kwargs)

    monkeypatch.setattr(trainer_module, "load_model", counting_load_model)
    settings = dict(
        env="TestByteParity-v0",
        group_size=4,
        prompts_per_step=2,
        max_new_tokens=4,
        steps=2,
        eval_every=0,
        progress=False,
        lr=1e-2,
    )
    without = train(GRPOConfig(out=str(tmp_path / "a"), beta=0.0, **settings))
    assert calls == ["tiny"]
    assert all(m["kl"] is None for m in without)
    with_ref = train(GRPOConfig(out=str(tmp_path / "b"), beta=0.5, **settings))
    assert calls == ["tiny", "tiny", "tiny"]
    assert with_ref[0]["kl"] == pytest.approx(0.0, abs=1e-6)  # the policy starts as the reference
    assert with_ref[1]["kl"] > 0


def test_yaml_config_with_command_line_overrides(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(
        f"env: TestByteParity-v0\ngroup_size: 3\nprompts_per_step: 2\nmax_new_tokens: 3\n"
        f"steps: 5\neval_every: 0\nprogress: false\nout: {tmp_path / 'run'}\n"
    )
    assert run_cli(["train", "--config", str(config), "--steps", "2"]) == 0
    assert [m["step"] for m in read_metrics(tmp_path / "run")] == [1, 2]
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["group_size"] == 3 and saved["steps"] == 2
    with pytest.raises(ValueError, match="unknown config key"):
        GRPOConfig.from_dict({"group_sise": 3})
    with pytest.raises(ValueError, match="loss_type"):
        GRPOConfig(loss_type="ppo")


# ---- rollouts --------------------------------------------------------------------------


def test_multi_turn_keeps_generated_ids_and_masks_env_text(tiny):
    model, tokenizer = tiny
    chat = ChatFormat(tokenizer)
    said = chat.encode("ok") + [chat.end_id]
    env = Turns(turns=3, obs_mode="user")
    (episode,) = play_episodes(
        [env], [7], fixed_sampler(said), chat, temperature=1.0, seed=0, max_new_tokens=8, max_turns=5
    )
    assert env.actions == ["ok", "ok", "ok"]  # the env sees the text without the end-of-turn token
    assert episode.turns == 3 and episode.reward == 1.0 and episode.correct and not episode.truncated
    (row,) = episode.segments
    reply1, reply2 = chat.env_turn_ids("reply 1", chat.end_id), chat.env_turn_ids("reply 2", chat.end_id)
    assert row.completion_ids == said + reply1 + said + reply2 + said
    assert row.mask == [1] * len(said) + [0] * len(reply1) + [1] * len(said) + [0] * len(reply2) + [1] * len(said)
    # the one row is exactly the chat template's rendering of the whole dialogue
    dialogue = [{"role": "user", "content": "question 7"}]
    for text in ("reply 1", "reply 2", None):
        dialogue.append({"role": "assistant", "content": "ok"})
        if text:
            dialogue.append({"role": "user", "content": text})
    rendered = tokenizer.apply_chat_template(dialogue, tokenize=False)
    assert tokenizer.decode(row.prompt_ids + row.completion_ids) + "\n" == rendered
    assert episode.policy_tokens == 3 * len(said)


def test_inline_and_new_context_observations(tiny):
    _, tokenizer = tiny
    chat = ChatFormat(tokenizer)
    said = chat.encode("go")
    play = dict(temperature=1.0, seed=0, max_new_tokens=8)
    (inline,) = play_episodes([Turns(2, "inline")], [1], fixed_sampler(said), chat, max_turns=3, **play)
    assert inline.segments[0].completion_ids == said + chat.encode("reply 1") + said
    assert inline.segments[0].mask == [1] * len(said) + [0] * len(chat.encode("reply 1")) + [1] * len(said)
    (chunks,) = play_episodes([Turns(3, "new_context")], [1], fixed_sampler(said), chat, max_turns=3, **play)
    assert [s.prompt_ids for s in chunks.segments] == [
        chat.prompt_ids("question 1"),
        chat.prompt_ids("reply 1"),
        chat.prompt_ids("reply 2"),
    ]
    assert all(s.completion_ids == said and s.mask == [1] * len(said) for s in chunks.segments)
    (cut,) = play_episodes([Turns(3)], [1], fixed_sampler(said), chat, max_turns=2, **play)
    assert cut.turns == 2 and cut.truncated and not cut.correct


def test_code_interpreter_output_is_inline_masked_and_its_stops_are_used(tiny):
    _, tokenizer = tiny
    chat = ChatFormat(tokenizer)
    env = gymnasium.make("CodeInterpreter-SAT-v0", level=1)
    answer = gymnasium.make("Saturn-SAT-v0", level=1).reset(seed=3)[1]["problem"]["answer"]
    turns = [chat.encode("```python\nprint(6 * 7)\n```\n"), chat.encode(f"\\boxed{{{answer}}}") + [chat.end_id]]
    stops_seen = []

    def scripted(prompts, temperature, seed, budgets, stops):
        stops_seen.append(stops[0])
        return [Completion(list(turns[len(stops_seen) - 1]), True)]

    (episode,) = play_episodes([env], [3], scripted, chat, temperature=1.0, seed=0, max_new_tokens=64, max_turns=4)
    output = chat.encode("```output\n42\n```\n")
    (row,) = episode.segments
    assert row.completion_ids == turns[0] + output + turns[1]
    assert row.mask == [1] * len(turns[0]) + [0] * len(output) + [1] * len(turns[1])
    assert stops_seen == [["```\n"], ["```\n"]]
    assert episode.turns == 2 and episode.correct and episode.reward == 1.0


def test_markovian_chunks_become_rows_on_the_policys_token_ids(tiny):
    model, tokenizer = tiny
    chat = ChatFormat(tokenizer)
    kwargs = {"level": 1, "preset": "tiny"}  # chunks of 64 tokens, carryover 32 (head 8), at most 4 chunks
    with pytest.raises(ValueError, match="tokenizer='policy'"):
        play_episodes(
            [gymnasium.make("Markovian-SAT-v0", **kwargs)],
            [5],
            HFSampler(model, chat),
            chat,
            temperature=1.0,
            seed=0,
            max_new_tokens=100,
            max_turns=8,
        )
    text = "".join(chr(ord("a") + i % 26) for i in range(200))
    budgets_seen = []

    def scripted(prompts, temperature, seed, budgets, stops):
        budgets_seen.append(budgets[0])
        start = 7 * len(budgets_seen)
        return [Completion(chat.encode(text[start : start + budgets[0]]), False)]

    pool = EnvPool("Markovian-SAT-v0", {**kwargs, "tokenizer": "policy", "eos_token": "policy"}, chat)
    (episode,) = play_episodes(
        pool.get(1), [5], scripted, chat, temperature=1.0, seed=0, max_new_tokens=100, max_turns=8
    )
    assert budgets_seen == [64, 32, 32, 32]  # the env's chunk budgets, under our max_new_tokens
    assert episode.turns == 4 and episode.truncated and len(episode.segments) == 4
    rows = episode.segments
    first = rows[0].prompt_ids
    assert first == chat.prompt_ids(episode.prompt)
    kept = []
    for previous, row in zip(rows[:-1], rows[1:], strict=True):
        kept = kept + previous.completion_ids
        kept = kept if len(kept) <= 32 else kept[:8] + kept[-24:]  # Delethink's progressive trimmer
        assert row.prompt_ids == first + kept  # the policy's prompt, then the carryover ids verbatim
    assert all(row.mask == [1] * len(row.completion_ids) for row in rows)


def test_multi_turn_training_runs(tmp_path):
    gymnasium.register("TestTurns3-v0", entry_point=Turns, kwargs={"turns": 2})
    history = train(
        GRPOConfig(
            env="TestTurns3-v0",
            out=str(tmp_path),
            steps=2,
            group_size=2,
            prompts_per_step=2,
            max_new_tokens=4,
            max_turns=3,
            eval_every=2,
            eval_problems=2,
            eval_samples=1,
            eval_k=1,
            progress=False,
        )
    )
    assert [m["step"] for m in history] == [1, 2]
    assert history[-1]["eval/pass@1"] == 1.0  # the env marks every finished episode correct
    assert all(m["response_length"] <= 2 * 4 for m in history)  # policy tokens only, env text excluded


def test_a_group_shares_one_problem_and_groups_differ(tmp_path):
    history_out = tmp_path / "run"
    train(
        GRPOConfig(
            env="Saturn-SAT-v0",
            env_kwargs={"level": 1},
            out=str(history_out),
            steps=1,
            group_size=3,
            prompts_per_step=4,
            max_new_tokens=3,
            eval_every=0,
            save_traces=True,
            progress=False,
        )
    )
    traces = [json.loads(line) for line in (history_out / "traces.jsonl").read_text().splitlines()]
    ids = [t["problem_id"] for t in traces]
    assert len(ids) == 12
    groups = [ids[i : i + 3] for i in range(0, 12, 3)]
    assert all(len(set(g)) == 1 for g in groups) and len({g[0] for g in groups}) == 4
    assert {"prompt", "response", "reward", "correct"} <= set(traces[0])


def test_zero_variance_filtering_and_dynamic_sampling(tmp_path):
    common = dict(
        env="TestByteParity-v0",
        group_size=4,
        prompts_per_step=6,
        max_new_tokens=4,
        steps=1,
        eval_every=0,
        progress=False,
    )
    plain = train(GRPOConfig(out=str(tmp_path / "a"), **common))[0]
    filtered = train(GRPOConfig(out=str(tmp_path / "b"), filter_zero_variance=True, **common))[0]
    dynamic = train(GRPOConfig(out=str(tmp_path / "c"), dynamic_sampling=True, **common))[0]
    assert plain["groups_kept"] == 6
    assert filtered["groups_kept"] <= 4  # seeds divisible by 3 always give a zero-variance group
    assert filtered["sampling_rounds"] == 1
    assert dynamic["groups_kept"] == 6 and dynamic["sampling_rounds"] >= 2


# ---- sampling and the policy -----------------------------------------------------------


def test_kv_cache_sampling_matches_full_recomputation(tiny):
    model, _ = tiny
    prompts = [[5, 6, 7, 8, 9], [40, 41]]  # different lengths: left padding must not change anything
    completions = sample(model, prompts, max_new_tokens=6, temperature=0)
    for prompt, completion in zip(prompts, completions, strict=True):
        ids = list(prompt)
        with torch.no_grad():
            for _ in range(6):
                ids.append(int(model(torch.tensor([ids])).logits[0, -1].argmax()))
        assert completion.ids == ids[len(prompt) :] and not completion.stopped


def test_stop_strings_tokens_budgets_and_top_p(tiny):
    model, tokenizer = tiny
    chat = ChatFormat(tokenizer)
    prompt = chat.prompt_ids("hello")
    g = torch.Generator().manual_seed(0)
    free = sample(model, [prompt] * 8, max_new_tokens=30, temperature=1.0, generator=g)
    text = chat.decode(free[0].ids)
    stop = text[5:7]
    g = torch.Generator().manual_seed(0)
    stopped = sample(
        model,
        [prompt] * 8,
        max_new_tokens=30,
        temperature=1.0,
        generator=g,
        stop_strings=[[stop]] * 8,
        decode=chat.decode,
    )
    assert stopped[0].stopped and chat.decode(stopped[0].ids).endswith(stop)
    assert stop not in chat.decode(stopped[0].ids[:-1])
    budgets = sample(model, [prompt, prompt], max_new_tokens=[2, 5], temperature=1.0)
    assert [len(c.ids) for c in budgets] == [2, 5]
    greedy = sample(model, [prompt] * 3, max_new_tokens=5, temperature=0)
    nucleus = sample(
        model, [prompt] * 3, max_new_tokens=5, temperature=1.0, top_p=1e-6, generator=torch.Generator().manual_seed(3)
    )
    assert [c.ids for c in nucleus] == [c.ids for c in greedy]
    end = sample(model, [prompt], max_new_tokens=50, temperature=1.0, stop_ids=set(range(300)))[0]
    assert end.ids and len(end.ids) == 1 and end.stopped


def test_model_policy_uses_the_chat_template(tiny):
    model, tokenizer = tiny
    policy = ModelPolicy(model, tokenizer, max_new_tokens=3)
    assert (
        policy.chat.prompt_ids("hi")
        == tokenizer("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")["input_ids"]
    )
    responses = policy.act_batch(["a", "b"], [{}, {}])
    assert len(responses) == 2 and all(isinstance(r, str) for r in responses)
    prefilled = policy.chat.prompt_ids("q\n<think>\n", {"prefill": "<think>\n"})
    assert tokenizer.decode(prefilled).endswith("assistant\n<think>\n")


# ---- SFT and REDI ----------------------------------------------------------------------


def test_sft_writes_a_model_that_train_accepts(tmp_path):
    out = tmp_path / "sft"
    assert (
        run_cli(
            [
                "sft",
                *SAT,
                "--steps",
                "3",
                "--batch-size",
                "4",
                "--out",
                str(out),
                "--no-progress",
                "--eval-problems",
                "4",
                "--reasoning-prefix",
                "Check each clause. ",
            ]
        )
        == 0
    )
    metrics = read_metrics(out)
    assert [m["step"] for m in metrics] == [1, 2, 3] and metrics[-1]["loss"] < metrics[0]["loss"]
    run = tmp_path / "grpo"
    assert (
        run_cli(
            [
                "train",
                *SAT,
                "--model",
                str(out / "model"),
                "--steps",
                "1",
                "--group-size",
                "2",
                "--prompts-per-step",
                "1",
                "--max-new-tokens",
                "4",
                "--out",
                str(run),
                "--eval-every",
                "0",
                "--no-progress",
            ]
        )
        == 0
    )


def test_redi_loss_and_pairs(tmp_path):
    positive, negative = torch.tensor([-0.5, -1.5]), torch.tensor([-2.0, -3.0])
    # Eq. 5: mean over pairs of -logp_w/|y_w| + alpha * logp_l/|y_l| (inputs already length-normalised)
    assert redi_loss(positive, negative, 0.8).item() == pytest.approx(((0.5 + 0.8 * -2.0) + (1.5 + 0.8 * -3.0)) / 2)
    assert redi_loss(positive, None, 0.0).item() == pytest.approx(1.0)
    traces = [
        {"prompt": "a", "response": "w1", "correct": True},
        {"prompt": "a", "response": "l1", "correct": False},
        {"prompt": "a", "response": "w2", "correct": True},
        {"prompt": "b", "response": "l2", "correct": False},
    ]
    assert make_pairs(traces) == [("a", "w1", "l1")]
    path = tmp_path / "traces.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in traces * 4))
    assert len(read_traces(path)) == 16
    out = tmp_path / "redi"
    assert (
        run_cli(
            [
                "sft",
                "--data",
                str(path),
                "--redi-alpha",
                "0.8",
                "--steps",
                "3",
                "--batch-size",
                "2",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    metrics = read_metrics(out)
    assert all("logp_negative" in m for m in metrics)
    # pushing the negatives down is part of the objective: their likelihood falls
    assert metrics[-1]["logp_negative"] < metrics[0]["logp_negative"]
    with pytest.raises(ValueError, match="--data"):
        run_cli(["sft", "--redi-alpha", "0.8", "--out", str(out)])


def test_markovian_env_trains_end_to_end_with_the_tiny_model(tmp_path):
    """The random tiny model samples invalid UTF-8; the wrapper measures chunks as sampled, and the
    'policy' env kwargs reach every env the trainer makes (the held-out probe included)."""
    from thinkgym.agents.grpo.trainer import train as run

    cfg = GRPOConfig(
        env="Markovian-SAT-v0",
        env_kwargs={"preset": "tiny", "tokenizer": "policy", "eos_token": "policy", "level": 1},
        out=str(tmp_path),
        steps=1,
        group_size=2,
        prompts_per_step=2,
        eval_problems=4,
        progress=False,
    )
    (metrics,) = run(cfg)
    assert metrics["step"] == 1 and metrics["response_length"] > 64, "episodes ran past one 64-token chunk"
