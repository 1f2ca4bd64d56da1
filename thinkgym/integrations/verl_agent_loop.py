"""verl agent loop ``thinkgym_agent``: whole thinkgym episodes (CodeInterpreter, Markovian, single
turn) inside verl's multi-turn rollout.

verl's ``ToolAgentLoop`` creates, executes and releases a tool for every call, so a Python session
that must persist across the turns of one trajectory (CodeInterpreter's sandbox) cannot live in a
``BaseTool``. This loop owns the episode instead: it builds the row's env, and alternates
``server_manager.generate`` (with the env's stop strings, ``info["stop"]``) and ``env.step``
until the episode ends or the response budget (``rollout.response_length``) is spent. Model tokens
get ``response_mask`` 1; the text the env writes (``info["env_text"]``: tool output) is encoded
and appended with mask 0, so the loss skips it (CoRT §3.4). The episode's summed reward is the
output's ``reward_score``. The env is closed (its sandbox with it) when the loop returns.

Rows as ``thinkgym export --format verl`` writes them, plus ``agent_name: thinkgym_agent``; the
env is ``extra_info["env"]`` when set (e.g. ``CodeInterpreter-Math-v0`` over Math-RLVR-v0 rows),
else ``data_source``; ``extra_info["env_kwargs"]`` go to ``gymnasium.make``. Register by importing
this module in the worker, or with ``rollout.agent.agent_loop_config_path`` pointing at a YAML
``- name: thinkgym_agent`` / ``_target_: thinkgym.integrations.verl_agent_loop.ThinkgymAgentLoop``.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import gymnasium
from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopOutput, register

__all__ = ["ThinkgymAgentLoop"]


@register("thinkgym_agent")
class ThinkgymAgentLoop(AgentLoopBase):
    """One thinkgym episode per trajectory (see the module docstring)."""

    async def run(self, sampling_params: dict[str, Any], **row: Any) -> AgentLoopOutput:
        import thinkgym  # noqa: F401  (registers the envs in a fresh worker)

        extra_info = dict(row.get("extra_info") or {})
        problem = extra_info.get("problem")
        if problem is None:
            raise ValueError("the thinkgym agent loop needs extra_info['problem']; export with --format verl")
        env_id = extra_info.get("env") or row["data_source"]
        if isinstance(problem, str):
            problem = json.loads(problem)
        env = gymnasium.make(env_id, **dict(extra_info.get("env_kwargs") or {}))
        try:
            return await self._episode(env, problem, sampling_params)
        finally:
            await self.loop.run_in_executor(None, env.close)

    async def _episode(self, env: gymnasium.Env, problem: dict[str, Any], sampling_params: dict[str, Any]) -> Any:
        budget = int(self.rollout_config.response_length)
        prompt, info = await self.loop.run_in_executor(None, lambda: env.reset(options={"problem": problem}))
        prompt_ids = list(await self.ct_build_initial_tokens([{"role": "user", "content": prompt}]))
        response_ids: list[int] = []
        mask: list[int] = []
        logprobs: list[float] = []
        reward, turns, done = 0.0, 1, False
        request_id = uuid4().hex
        while not done and len(response_ids) < budget:
            params = dict(sampling_params, max_tokens=budget - len(response_ids))
            if info.get("stop"):
                params["stop"] = list(info["stop"])
            out = await self.server_manager.generate(
                request_id=request_id, prompt_ids=prompt_ids + response_ids, sampling_params=params
            )
            response_ids += out.token_ids
            mask += [1] * len(out.token_ids)
            logprobs += list(out.log_probs) if out.log_probs else [0.0] * len(out.token_ids)
            text = self.tokenizer.decode(out.token_ids, skip_special_tokens=True)
            _, step_reward, terminated, truncated, info = await self.loop.run_in_executor(None, env.step, text)
            reward += float(step_reward)
            turns += 1
            done = bool(terminated or truncated)
            if not done and info.get("env_text"):
                env_ids = self.tokenizer.encode(info["env_text"], add_special_tokens=False)
                response_ids += env_ids
                mask += [0] * len(env_ids)
                logprobs += [0.0] * len(env_ids)
                turns += 1
        verdict = info.get("verdict") or {}
        return AgentLoopOutput(
            prompt_ids=prompt_ids,
            response_ids=response_ids[:budget],
            response_mask=mask[:budget],
            response_logprobs=logprobs[:budget],
            reward_score=reward if done else None,
            num_turns=turns,
            metrics={},
            extra_fields={
                "turn_scores": [],
                "tool_rewards": [],
                "thinkgym_done": done,
                "thinkgym_correct": bool(verdict.get("correct")),
            },
        )
