"""thinkgym's ``compute_score`` inside verl's own reward managers, on a real ``DataProto`` batch
tokenized with a real (tiny, byte-level) tokenizer: the reward verl assembles equals the env's."""

import asyncio
import json
import sys
from pathlib import Path

import gymnasium
import pytest

import thinkgym  # noqa: F401
from thinkgym.integrations.record import record

verl = pytest.importorskip("verl", reason="verl is not installed: pip install 'thinkgym[verl]' (CPU torch first)")
torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")

from omegaconf import OmegaConf  # noqa: E402
from verl import DataProto  # noqa: E402

import thinkgym.integrations.verl as adapter  # noqa: E402
from thinkgym.agents.models import build_tiny_tokenizer  # noqa: E402
from thinkgym.experiments.export import export_problems, row_problem  # noqa: E402

ENV = "Math-RLVR-v0"


def batch(tokenizer, responses):
    """A verl rollout batch: left-padded prompts, right-padded responses, verl's non-tensor columns
    as ``thinkgym export --format verl`` writes them."""
    rows = export_problems(ENV, {2: len(responses)})
    prompts = [tokenizer.encode(r["prompt"][-60:]) for r in rows]
    outs = [tokenizer.encode(text) for text in responses]
    pad = tokenizer.pad_token_id
    p_len, r_len = max(map(len, prompts)), max(map(len, outs))
    prompt_ids = torch.tensor([[pad] * (p_len - len(p)) + p for p in prompts])
    response_ids = torch.tensor([o + [pad] * (r_len - len(o)) for o in outs])
    pairs = zip(prompts, outs, strict=True)
    mask = torch.tensor([[0] * (p_len - len(p)) + [1] * (len(p) + len(o)) + [0] * (r_len - len(o)) for p, o in pairs])
    problems = [row_problem(r) for r in rows]
    extra_info = [{"index": i, "problem": json.dumps(p)} for i, p in enumerate(problems)]
    data = DataProto.from_dict(
        tensors={
            "prompts": prompt_ids,
            "responses": response_ids,
            "input_ids": torch.cat([prompt_ids, response_ids], dim=1),
            "attention_mask": mask,
        },
        non_tensors={
            "data_source": np.array([ENV] * len(rows), dtype=object),
            "reward_model": np.array([{"style": "rule", "ground_truth": p["answer"]} for p in problems], dtype=object),
            "extra_info": np.array(extra_info, dtype=object),
        },
    )
    return data, problems, [len(o) for o in outs]


def env_rewards(problems, responses):
    env = gymnasium.make(ENV)
    rewards = []
    for problem, response in zip(problems, responses, strict=True):
        env.reset(options={"problem": problem})
        rewards.append(float(env.step(response)[1]))
    return rewards


def responses_for(tokenizer):
    problems = [row_problem(r) for r in export_problems(ENV, {2: 4})]
    first, last = problems[0]["answer"], problems[3]["answer"]
    return [f"\\boxed{{{first}}}", "\\boxed{-31337}", "no answer here", f"so \\boxed{{{last}}}"]


def config(name="compute_score"):
    return OmegaConf.create(
        {
            "reward": {
                "custom_reward_function": {"path": str(Path(adapter.__file__)), "name": name, "reward_kwargs": {}},
                "reward_manager": {"source": "register", "name": "naive", "module": {"path": None}},
            }
        }
    )


def test_reward_loop_naive_manager_scores_a_batch_like_the_env():
    """verl 0.9's trainer path: ``load_reward_manager`` loads our file by path, the reward-loop
    ``naive`` manager scores each row (concurrently, in executor threads), ``assemble_rm_scores``
    puts each score on the last response token."""
    from verl.trainer.ppo.reward import load_reward_manager

    tokenizer = build_tiny_tokenizer()
    responses = responses_for(tokenizer)
    data, problems, lengths = batch(tokenizer, responses)
    expected = env_rewards(problems, responses)
    assert expected[0] == 1.0 and expected[3] == 1.0 and expected[1] != 1.0

    async def score():
        manager = load_reward_manager(config(), tokenizer)  # inside the loop: verl captures it
        return manager, await asyncio.gather(*(manager.run_single(data[i : i + 1]) for i in range(len(data))))

    manager, results = asyncio.run(score())
    assert [r["reward_score"] for r in results] == expected
    assert [r["reward_extra_info"]["acc"] for r in results] == [1.0, 0.0, 0.0, 1.0]
    scores = manager.assemble_rm_scores(data, [r["reward_score"] for r in results])
    for i, length in enumerate(lengths):
        assert scores[i, length - 1].item() == expected[i] and scores[i].sum().item() == expected[i]
    record("verl", "reward", "`compute_score` via `load_reward_manager` + reward-loop `naive` `run_single`")


def test_legacy_naive_and_prime_managers():
    from verl.workers.reward_manager import get_reward_manager_cls

    tokenizer = build_tiny_tokenizer()
    responses = responses_for(tokenizer)
    data, problems, lengths = batch(tokenizer, responses)
    expected = env_rewards(problems, responses)
    naive = get_reward_manager_cls("naive")(tokenizer, num_examine=0, compute_score=adapter.compute_score)
    out = naive(data, return_dict=True)
    assert out["reward_tensor"].sum(dim=1).tolist() == expected
    assert out["reward_extra_info"]["acc"] == [1.0, 0.0, 0.0, 1.0]
    prime = get_reward_manager_cls("prime")(tokenizer, num_examine=0, compute_score=adapter.compute_score_float)
    assert prime(data).sum(dim=1).tolist() == expected, "Prime needs the float variant (a dict zeroes the batch)"
    record("verl", "reward", "legacy `naive` and `prime` managers (`compute_score_float`)")


class ScriptedServer:
    """Stands in for verl's rollout server manager (vLLM or SGLang, which do not run on this CPU
    machine): each ``generate`` returns the next scripted reply, cut before the first stop string
    as vLLM does by default, and records what it was asked."""

    def __init__(self, tokenizer, replies):
        self.tokenizer, self.replies, self.calls = tokenizer, list(replies), []

    async def generate(self, request_id, prompt_ids, sampling_params, **kwargs):
        from verl.workers.rollout.replica import TokenOutput

        self.calls.append((list(prompt_ids), dict(sampling_params)))
        text = self.replies.pop(0)
        for stop in sampling_params.get("stop", []):
            if stop in text:
                text = text[: text.index(stop)]
        ids = self.tokenizer.encode(text, add_special_tokens=False)[: sampling_params["max_tokens"]]
        return TokenOutput(token_ids=ids, log_probs=[-0.5] * len(ids))


def test_agent_loop_runs_a_code_interpreter_episode_with_one_sandbox():
    """verl's agent-loop interface (instantiated from its registry as its worker does) drives a
    CodeInterpreter episode: the sandbox keeps variables across turns, tool output is masked out,
    and the reward is the env's for the same segments."""
    import hydra
    from verl.experimental.agent_loop.agent_loop import AgentLoopOutput, DictConfigWrap, _agent_loop_registry

    import thinkgym.integrations.verl_agent_loop  # noqa: F401  (registers thinkgym_agent)

    tokenizer = build_tiny_tokenizer()
    problem = row_problem(export_problems(ENV, {1: 1})[0])
    replies = ["Compute.\n```python\nx = 6 * 7\nprint(x)\n```\n", "```python\nprint(x + 1)\n```\n"]
    replies.append(f"So \\boxed{{{problem['answer']}}}.")
    server = ScriptedServer(tokenizer, replies)
    rollout = {"prompt_length": 1024, "response_length": 600}
    config = OmegaConf.create({"actor_rollout_ref": {"rollout": rollout}, "data": {}})
    row = {
        "data_source": ENV,
        "raw_prompt": [{"role": "user", "content": problem["prompt"]}],
        "extra_info": {"problem": json.dumps(problem), "env": "CodeInterpreter-Math-v0"},
        "reward_model": {"style": "rule", "ground_truth": problem["answer"]},
    }

    async def rollout():
        loop = hydra.utils.instantiate(
            config=_agent_loop_registry["thinkgym_agent"],
            trainer_config=DictConfigWrap(config=config),
            server_manager=server,
            tokenizer=tokenizer,
            processor=None,
            dataset_cls=None,
            data_config=DictConfigWrap(config.data),
        )
        return await loop.run({"temperature": 1.0}, **row)

    out = asyncio.run(rollout())
    assert isinstance(out, AgentLoopOutput) and out.extra_fields["thinkgym_done"]
    env = gymnasium.make("CodeInterpreter-Math-v0")
    env.reset(options={"problem": problem})
    segments = [r.removesuffix("```\n") for r in replies[:2]] + replies[2:]  # what vLLM returns
    expected = sum(float(env.step(s)[1]) for s in segments)
    assert out.reward_score == expected == 1.0
    env_text = tokenizer.decode([t for t, m in zip(out.response_ids, out.response_mask, strict=True) if m == 0])
    assert env_text == "```\n```output\n42\n```\n```\n```output\n43\n```\n", "the sandbox kept x; its output is masked"
    assert [c[1]["stop"] for c in server.calls] == [["```\n"]] * 3
    assert server.calls[1][0] == out.prompt_ids + out.response_ids[: len(server.calls[1][0]) - len(out.prompt_ids)]
    assert out.as_dict()["responses"].shape[0] == len(out.response_ids)


def _memorize(tokenizer, examples, steps=400):
    """A tiny Qwen2-style model (random init, about 0.1M parameters) fine-tuned until greedy
    decoding reproduces ``examples``: (token ids, first position whose token is learnt,
    positions left out of the loss) each."""
    from thinkgym.agents.models import build_tiny_model

    length = max(len(ids) for ids, _, _ in examples)
    ids = torch.tensor([seq + [0] * (length - len(seq)) for seq, _, _ in examples])
    labels = ids.clone()
    attention = torch.zeros_like(ids)
    for row, (seq, start, skip) in enumerate(examples):
        attention[row, : len(seq)] = 1
        labels[row, :start] = labels[row, len(seq) :] = -100
        for position in skip:
            labels[row, position] = -100
    torch.manual_seed(0)
    model = build_tiny_model(len(tokenizer), seed=0, max_positions=1024)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        loss = model(input_ids=ids, attention_mask=attention, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if loss.item() < 0.005:
            break
    return model.eval()


class TinyLLMServer:
    """verl's rollout-server interface (``generate(request_id, prompt_ids, sampling_params, ...) ->
    TokenOutput``, what its vLLM and SGLang servers expose as Ray actors) over a transformers model
    on the CPU: decodes token by token with the KV cache (greedy at temperature 0), stops at EOS or
    at a stop string, which it leaves out of the output as vLLM does, and returns the model's own
    log-probabilities."""

    def __init__(self, path):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(1)
        self.model = AutoModelForCausalLM.from_pretrained(path).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.calls = []

    async def generate(self, request_id, prompt_ids, sampling_params, image_data=None, video_data=None, **kwargs):
        from verl.workers.rollout.replica import TokenOutput

        self.calls.append((list(prompt_ids), dict(sampling_params)))
        temperature, stops = float(sampling_params.get("temperature", 1.0)), sampling_params.get("stop") or []
        generator = torch.Generator().manual_seed(len(self.calls))
        ids, logprobs, cache, step_input = [], [], None, torch.tensor([list(prompt_ids)])
        with torch.no_grad():
            while len(ids) < sampling_params["max_tokens"]:
                out = self.model(input_ids=step_input, past_key_values=cache, use_cache=True)
                cache, logits = out.past_key_values, out.logits[0, -1].float()
                logp = torch.log_softmax(logits, -1)
                if temperature == 0:
                    token = int(logp.argmax())
                else:
                    token = int(torch.multinomial(torch.softmax(logits / temperature, -1), 1, generator=generator))
                ids.append(token)
                logprobs.append(float(logp[token]))
                step_input = torch.tensor([[token]])
                if token == self.tokenizer.eos_token_id:
                    break
                text = self.tokenizer.decode(ids)
                stop = next((s for s in stops if text.endswith(s)), None)
                if stop is not None:
                    while self.tokenizer.decode(ids) != text[: -len(stop)]:
                        ids.pop()
                        logprobs.pop()
                    break
        return TokenOutput(token_ids=ids, log_probs=logprobs, stop_reason="completed")

    def seen(self):
        return self.calls


@pytest.mark.slow  # a local Ray cluster, verl's worker actor (imports verl) and a model fine-tuned here: ~70 s
def test_agent_loop_manager_with_a_real_model_runs_a_code_interpreter_episode(tmp_path, one_torch_thread):
    """verl's own rollout path end to end: ``AgentLoopManager`` starts its ``AgentLoopWorker`` Ray
    actor, which loads ``thinkgym_agent`` from the agent-loop YAML and generates through verl's
    ``LLMServerClient`` and load balancer from a real transformers model (a tiny one, fine-tuned
    here on one CodeInterpreter transcript: vLLM and SGLang need GPUs). The model's cell runs in
    the sandbox, its output comes back masked, and the batch's reward equals the env's."""
    ray = pytest.importorskip("ray")
    from verl.experimental.agent_loop.agent_loop import AgentLoopManager
    from verl.workers.rollout.llm_server import LLMServerClient
    from verl.workers.rollout.router import get_router_handle

    tokenizer = build_tiny_tokenizer()
    problem = row_problem(export_problems(ENV, {1: 1})[0])
    env = gymnasium.make("CodeInterpreter-Math-v0")
    prompt, _ = env.reset(options={"problem": problem})
    messages = [{"role": "user", "content": prompt}]
    chat = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def encode(text):
        return tokenizer.encode(text, add_special_tokens=False)

    prompt_ids, code, final = encode(chat), "```python\nx = 6 * 7\nprint(x)\n", f"So \\boxed{{{problem['answer']}}}."
    env_text, *_ = env.step(code)  # the cell as vLLM returns it: the stop string left out
    _, expected, *_ = env.step(final)
    assert env_text == "```\n```output\n42\n```\n" and expected == 1.0
    turn1 = prompt_ids + encode(code + "```\n")  # the model writes the stop string, the server cuts it
    turn2 = prompt_ids + encode(code) + encode(env_text) + encode(final) + [tokenizer.eos_token_id]
    env_span = range(len(prompt_ids) + len(encode(code)), len(prompt_ids) + len(encode(code + env_text)))
    model = _memorize(tokenizer, [(turn1, len(prompt_ids), ()), (turn2, len(prompt_ids), env_span)])
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    loops = tmp_path / "agent_loops.yaml"
    loops.write_text("- name: thinkgym_agent\n  _target_: thinkgym.integrations.verl_agent_loop.ThinkgymAgentLoop\n")
    config = OmegaConf.load(Path(verl.__file__).parent / "trainer/config/_generated_ppo_trainer.yaml")
    rollout = {
        "name": "tiny-hf", "prompt_length": 512, "response_length": 200, "temperature": 0,
        "calculate_log_probs": True, "agent": {"num_workers": 1, "agent_loop_config_path": str(loops)},
    }  # fmt: skip
    overrides = {"actor_rollout_ref": {"model": {"path": str(tmp_path / "model")}, "rollout": rollout}}
    config = OmegaConf.merge(config, OmegaConf.create(overrides))
    row = {
        "data_source": ENV,
        "agent_name": "thinkgym_agent",
        "raw_prompt": [{"role": "user", "content": problem["prompt"]}],
        "extra_info": {"problem": json.dumps(problem), "env": "CodeInterpreter-Math-v0"},
        "reward_model": {"style": "rule", "ground_truth": problem["answer"]},
    }
    batch = DataProto.from_dict(
        tensors={"dummy": torch.zeros(1, 1)}, non_tensors={k: np.array([v], dtype=object) for k, v in row.items()}
    )
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this file
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        server = ray.remote(TinyLLMServer).remote(str(tmp_path / "model"))
        client = LLMServerClient(config, load_balancer_handle=get_router_handle({"tiny": server}))
        manager = AgentLoopManager.create(config, client)
        out = manager.generate_sequences(batch)
        calls = ray.get(server.seen.remote())
    finally:
        ray.shutdown()
    length = int(out.batch["attention_mask"][0, 512:].sum())
    response, mask = out.batch["responses"][0, :length].tolist(), out.batch["response_mask"][0, :length].tolist()
    model_text = tokenizer.decode([t for t, m in zip(response, mask, strict=True) if m])
    assert model_text == code + final + tokenizer.eos_token, "the model wrote the cell, then the answer"
    masked = tokenizer.decode([t for t, m in zip(response, mask, strict=True) if not m])
    assert masked == env_text, "the sandbox's output, masked out of the loss"
    assert out.batch["rm_scores"][0].sum().item() == expected, "the reward verl assembles is the env's"
    assert out.non_tensor_batch["thinkgym_done"][0] and out.non_tensor_batch["thinkgym_correct"][0]
    assert len(calls) == 2 and all(c[1]["stop"] == ["```\n"] and c[1]["temperature"] == 0 for c in calls)
    assert calls[1][0] == out.batch["prompts"][0][-len(prompt_ids) :].tolist() + encode(code) + encode(env_text)
    logprobs = out.batch["rollout_log_probs"][0, :length].tolist()
    assert all(lp < 0 for lp, m in zip(logprobs, mask, strict=True) if m), "the model's own log-probabilities"
    what = "`AgentLoopManager` + Ray `AgentLoopWorker` + `thinkgym_agent`, CodeInterpreter in the sandbox"
    record("verl", "multi_turn", f"{what}; a tiny transformers model (CPU) behind verl's `LLMServerClient`")
