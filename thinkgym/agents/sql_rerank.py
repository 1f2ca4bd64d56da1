"""Generator-discriminator reranking for text-to-SQL, and the discriminator's soft score from a
Hugging Face model's logits.

Source: Anjum, "When Reasoning Beats Scale: A 1.5B Reasoning Model Outranks 13B LLMs as
Discriminator", arXiv 2505.03786 (framework adapted from OSU-NLP-Group/llm-planning-eval).

**Soft score** (the paper's ``LLMReasoningEvaluator.isCorrectV3``): generate greedily after the
prompt and the prefill ``<think>\\nOkay,``; read the judgement, the last ``"correct": true|false``
(:func:`thinkgym.verifiers.sql.read_judgement`); find the generated token where its word starts;
``p = softmax(logits at that step)[that token]``. The score is ``p`` for ``true``, ``1 - p`` for
``false`` and ``0.5`` when no judgement can be read. The binary variant scores 1 / 0 / 0.5.

**Reranking.** A generator samples ``n`` responses per question; the discriminator scores the SQL
of each; the highest score wins (the paper sorts by ``-score``, lowest first). With ``check_exec``
a query that does not run ranks below every query that does (the paper adds 1 to its ``-score``);
ties go to the earlier sample. :func:`rerank_eval` reports the execution accuracy of the winner
next to the first sample's, the mean over samples and best-of-n (the oracle's ceiling).

torch and transformers are imported inside the functions that need them, so importing this module
stays light.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from thinkgym.agents.policies import Policy
from thinkgym.core import Problem
from thinkgym.generators.sql import discriminate_prompt
from thinkgym.verifiers.sql import Limits, extract_sql, read_judgement, verify

if TYPE_CHECKING:
    from thinkgym.envs.base import ReasoningEnv

__all__ = [
    "PREFILL",
    "Discriminator",
    "HFDiscriminator",
    "OracleDiscriminator",
    "binary_score",
    "rerank",
    "rerank_eval",
    "score_from_logits",
    "soft_score",
]

PREFILL = "<think>\nOkay,"  # the paper's prompts end with it: the discriminator starts thinking
EXECUTED = frozenset({"correct", "wrong_column_count", "wrong_row_count", "wrong_values", "wrong_order"})

# (problem, candidate SQL texts) -> one score per candidate, higher = more likely correct
Discriminator = Callable[[Problem, list[str]], list[float]]


def soft_score(judgement: bool | None, p: float) -> float:
    """The paper's soft score: ``p`` when the judgement is true, ``1 - p`` when false, else 0.5."""
    if judgement is None:
        return 0.5
    return p if judgement else 1.0 - p


def binary_score(judgement: bool | None) -> float:
    """The paper's binary variant: 1 for true, 0 for false, 0.5 when there is no judgement."""
    return 0.5 if judgement is None else float(judgement)


def _token_at(tokenizer: Any, ids: Sequence[int], char: int) -> int:
    """Index of the first token whose decoded prefix extends past character ``char`` (binary
    search over prefix decodes, so no offset mapping or re-tokenisation is needed)."""
    lo, hi = 0, len(ids) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        text = tokenizer.decode(ids[: mid + 1], skip_special_tokens=True, clean_up_tokenization_spaces=False)
        if len(text) > char:
            hi = mid
        else:
            lo = mid + 1
    return lo


def score_from_logits(tokenizer: Any, ids: Sequence[int], step_logits: Any, prefix: str = "") -> tuple[float, str]:
    """(soft score, response text) of one generated sequence.

    ``ids``: the generated token ids; ``step_logits``: a ``(len(ids), vocab)`` tensor, row ``i``
    the logits the model produced when emitting ``ids[i]``; ``prefix``: text that precedes the
    generation in the response (the prefill), so that ``</think>`` there is seen.
    """
    import torch

    text = prefix + tokenizer.decode(list(ids), skip_special_tokens=True, clean_up_tokenization_spaces=False)
    judgement = read_judgement(text)
    if judgement.value is None or judgement.start < len(prefix) or not len(ids):
        return 0.5, text
    step = _token_at(tokenizer, ids, judgement.start - len(prefix))
    p = torch.softmax(step_logits[step].float(), dim=-1)[ids[step]].item()
    return soft_score(judgement.value, p), text


class HFDiscriminator:
    """A Hugging Face causal LM as the paper's reasoning discriminator.

    Args:
        model, tokenizer: a ``transformers`` causal LM and its tokenizer.
        max_new_tokens: the thinking budget (the paper: 300 by default; <1024 costs little).
        prefill: appended after the prompt (after the chat template's generation prompt when the
            tokenizer has one; after a newline otherwise, which reproduces the paper's raw prompt).
        batch_size: prompts per ``generate`` call.
        binary: use the binary score instead of the soft one.
        generate_kwargs: passed to ``model.generate`` (greedy decoding is always used).
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        max_new_tokens: int = 300,
        prefill: str = PREFILL,
        batch_size: int = 8,
        binary: bool = False,
        **generate_kwargs: Any,
    ) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.max_new_tokens, self.prefill, self.batch_size, self.binary = max_new_tokens, prefill, batch_size, binary
        self.generate_kwargs = generate_kwargs
        self.chat = bool(getattr(tokenizer, "chat_template", None))

    def input_text(self, prompt: str) -> str:
        if self.chat:
            messages = [{"role": "user", "content": prompt}]
            text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            return text + self.prefill
        return prompt + "\n" + self.prefill

    def judge(self, prompts: Sequence[str]) -> list[tuple[float, str]]:
        """(score, response text including the prefill) for each discriminator prompt."""
        import torch

        tok = self.tokenizer
        out: list[tuple[float, str]] = []
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        side, tok.padding_side = tok.padding_side, "left"
        try:
            for start in range(0, len(prompts), self.batch_size):
                texts = [self.input_text(p) for p in prompts[start : start + self.batch_size]]
                batch = tok(texts, return_tensors="pt", padding=True, add_special_tokens=not self.chat)
                enc = {k: batch[k].to(self.model.device) for k in ("input_ids", "attention_mask")}
                with torch.no_grad():
                    gen = self.model.generate(
                        **enc, max_new_tokens=self.max_new_tokens, do_sample=False, output_logits=True,
                        return_dict_in_generate=True, pad_token_id=pad, **self.generate_kwargs,
                    )
                new = gen.sequences[:, enc["input_ids"].shape[1] :]
                logits = torch.stack(gen.logits, dim=1)
                for row in range(new.shape[0]):
                    score, text = score_from_logits(tok, new[row].tolist(), logits[row], self.prefill)
                    if self.binary:
                        score = binary_score(read_judgement(text).value)
                    out.append((score, text))
        finally:
            tok.padding_side = side
        return out

    def score_response(self, prompt: str, response: str) -> float:
        """The soft score of a given ``response`` (the text after the prefill), teacher-forced: one
        forward pass over prompt + prefill + response instead of generation."""
        import torch

        tok = self.tokenizer
        context = tok(self.input_text(prompt), add_special_tokens=not self.chat)["input_ids"]
        ids = tok(response, add_special_tokens=False)["input_ids"]
        full = torch.tensor([list(context) + list(ids)], device=self.model.device)
        with torch.no_grad():
            logits = self.model(input_ids=full).logits[0]
        return score_from_logits(tok, ids, logits[len(context) - 1 : -1], self.prefill)[0]

    def __call__(self, problem: Problem, sqls: list[str]) -> list[float]:
        meta = problem.metadata
        return [s for s, _ in self.judge([discriminate_prompt(meta["schema_text"], meta["question"], q) for q in sqls])]


class OracleDiscriminator:
    """Scores 1 for a candidate that executes to the gold result, else 0: reranking with it reaches
    best-of-n, the ceiling of any discriminator."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits

    def __call__(self, problem: Problem, sqls: list[str]) -> list[float]:
        meta = problem.metadata
        return [
            float(verify(f"```sql\n{q}\n```", meta["schema"], meta["rows"], meta["gold"], meta["ordered"],
                         self.limits).correct)
            for q in sqls
        ]


def rerank(scores: Sequence[float], executable: Sequence[bool] | None = None) -> int:
    """Index of the winning candidate: executable before non-executable (when ``executable`` is
    given), then the highest score, then the earliest."""
    ok = [True] * len(scores) if executable is None else list(executable)
    return max(range(len(scores)), key=lambda i: (ok[i], scores[i], -i))


def rerank_eval(
    env: ReasoningEnv | str,
    levels: Sequence[int],
    generator: Policy,
    discriminator: Discriminator,
    *,
    n: int = 8,
    episodes: int = 20,
    seed: int = 0,
    check_exec: bool = True,
) -> list[dict[str, Any]]:
    """Generator-discriminator reranking on a Text2SQL env, one result row per level.

    For each of ``episodes`` problems (seeds ``seed ..``), ``generator.act_batch`` answers the
    prompt ``n`` times; the discriminator scores every candidate with a readable ``sql`` block
    (the others rank last); :func:`rerank` picks one. Row keys: ``level``, ``difficulty`` (mean),
    ``episodes``, ``n``, ``reranked_acc`` (execution accuracy of the pick), ``first_acc`` (of the
    first sample: no reranking), ``mean_acc`` (of a random sample: pass@1), ``best_of_n`` (any
    sample correct: the oracle's ceiling), ``disc_accuracy`` (score > 0.5 agrees with execution,
    over readable candidates) and ``no_sql_rate``.
    """
    import gymnasium

    if n < 1 or episodes < 1:
        raise ValueError(f"n and episodes must be >= 1, got n={n}, episodes={episodes}")
    if not levels:
        raise ValueError("levels must name at least one level")
    if isinstance(env, str):
        env = gymnasium.make(env).unwrapped
    rows = []
    for level in levels:
        picked, first, mean, best, agree, judged, no_sql, difficulty = [], [], [], [], 0, 0, 0, []
        for episode in range(episodes):
            obs, info = env.reset(seed=seed + episode, options={"level": level})
            problem = Problem.from_dict(info["problem"])
            responses = generator.act_batch([obs] * n, [info] * n)
            verdicts = [env.verify(r, problem) for r in responses]
            correct = [v.correct for v in verdicts]
            sqls = [extract_sql(r).sql for r in responses]
            readable = [i for i, q in enumerate(sqls) if q is not None]
            scores = [0.0] * n
            if readable:
                for i, s in zip(readable, discriminator(problem, [sqls[i] for i in readable]), strict=True):
                    scores[i] = float(s)
                    agree += (s > 0.5) == correct[i]
            judged += len(readable)
            no_sql += n - len(readable)
            runs = [v.reason in EXECUTED for v in verdicts] if check_exec else [q is not None for q in sqls]
            picked.append(correct[rerank(scores, runs)])
            first.append(correct[0])
            mean.append(statistics.fmean(correct))
            best.append(any(correct))
            difficulty.append(problem.difficulty)
        rows.append({
            "level": level,
            "difficulty": round(statistics.fmean(difficulty), 4),
            "episodes": episodes,
            "n": n,
            "reranked_acc": round(statistics.fmean(picked), 6),
            "first_acc": round(statistics.fmean(first), 6),
            "mean_acc": round(statistics.fmean(mean), 6),
            "best_of_n": round(statistics.fmean(best), 6),
            "disc_accuracy": round(agree / judged, 6) if judged else None,
            "no_sql_rate": round(no_sql / (n * episodes), 6),
        })
    return rows
