"""thinkgym's ``compute_score`` inside verl's own reward managers, on a real ``DataProto`` batch
tokenized with a real (tiny, byte-level) tokenizer: the reward verl assembles equals the env's."""

import asyncio
import json
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
    record("verl", "multi_turn", "`thinkgym_agent` agent loop, CodeInterpreter; scripted stand-in for the LLM server")
