"""``thinkgym demo``: a few CPU minutes that show what thinkgym does, written up as a report.

1. a difficulty sweep over SATURN's levels with the solver oracle and the random policy
   (pass@k tables and ``sweep.png``);
2. verifiers at work: tricky responses and the verdicts they get (SAT, math, SQL);
3. a tool-use episode: CoRT-style Python calls in the sandbox on ``CodeInterpreter-SAT-v0``;
4. an SFT warm start and a short GRPO run of the tiny offline model, with held-out pass@1 before
   and after (95% Wilson intervals and the z of the gain) and its curves (``training.png``; needs
   the ``train`` extra, otherwise the report says how to get it).

Everything goes to one folder, with ``report.md`` linking the tables and pictures.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import gymnasium

from thinkgym.experiments.plots import plot_sweep
from thinkgym.experiments.sweep import markdown_table, sweep, write_results

__all__ = ["run_demo"]


def _section_sweep(out: Path, episodes: int, samples: int, seed: int, progress: bool) -> str:
    levels = list(range(1, 16))
    results = {}
    for policy in ("oracle", "random"):
        rows = sweep("Saturn-SAT-v0", levels, policy, k=samples, episodes=episodes, seed=seed, progress=progress)
        write_results(rows, out, name=f"sweep_{policy}")
        results[policy] = rows
    plot_sweep(results, out / "sweep.png", title="Saturn-SAT-v0: solver oracle vs random guessing, by level")
    keep = ("level", "n", "k", "l", "difficulty", "pass@1", f"pass@{samples}")
    table = [
        {**{c: r[c] for c in keep}, "random pass@1": q["pass@1"], f"random pass@{samples}": q[f"pass@{samples}"]}
        for r, q in zip(results["oracle"], results["random"], strict=True)
    ]
    for row in table:
        row["oracle pass@1"] = row.pop("pass@1")
        row.pop(f"pass@{samples}")
    return (
        "## 1. Difficulty sweep\n\n"
        f"Saturn-SAT-v0, SATURN's 15 levels ordered by its difficulty estimate D, {episodes} problems per level, "
        f"{samples} samples each (pass@k with the unbiased estimator). The oracle solves every instance with a "
        "SAT solver (a check of generator, prompt and verifier end to end); uniform guessing falls with D.\n\n"
        + markdown_table(table)
        + "\n\n![sweep](sweep.png)\n"
    )


def _verdict_rows(env_id: str, cases: list[tuple[str, str]], seed: int, **kwargs: Any) -> list[dict[str, Any]]:
    env = gymnasium.make(env_id, **kwargs)
    rows = []
    for label, response in cases:
        env.reset(seed=seed)
        _, reward, _, _, info = env.step(response)
        verdict = info["verdict"]
        shown = response.replace("\n", " ").replace("`", "'")  # one table cell, no code fences
        shown = shown if len(shown) <= 70 else shown[:67] + "..."
        rows.append(
            {
                "env": env_id,
                "response": f"`{shown}`",
                "what it is": label,
                "reason": verdict["reason"],
                "reward": reward,
            }
        )
    env.close()
    return rows


MATH_CASES = [
    ("\\frac{1}{2}", "\\boxed{0.5}", "a decimal equal to the fraction"),
    ("\\frac{1}{2}", "\\boxed{\\dfrac{2}{4}}", "an unreduced \\dfrac"),
    ("3^{100}+1", "\\boxed{3^{100}}", "off by one at 48 digits"),
    ("\\sqrt{2}", "\\boxed{1.414}", "a rounded irrational"),
    ("(-\\infty, 3)", "\\boxed{x<3}", "an inequality for an interval"),
    ("\\frac{1}{2}", "\\boxed{\\int_0^1 x\\,dx}", "the problem restated"),
    ("12", "\\boxed{9^{9^{9^9}}}", "a tower no machine can evaluate"),
]


def _math_rows() -> list[dict[str, Any]]:
    try:
        from thinkgym.verifiers.math import verify
    except ImportError:  # the math verifier is not in this install
        return []
    rows = []
    for gold, response, label in MATH_CASES:
        verdict = verify(response, gold)
        rows.append(
            {
                "env": f"math, gold `{gold}`",
                "response": f"`{response}`",
                "what it is": label,
                "reason": verdict.reason,
                "reward": float(verdict.correct),
            }
        )
    return rows


def _section_verifiers(seed: int) -> str:
    env = gymnasium.make("Saturn-SAT-v0", level=4)
    _, info = env.reset(seed=seed)
    answer = info["problem"]["answer"]
    flipped = "".join("1" if c == "0" else "0" for c in answer)
    rows = _verdict_rows(
        "Saturn-SAT-v0",
        [
            ("the planted assignment", f"<think>...</think> \\boxed{{{answer}}}"),
            ("its complement", f"\\boxed{{{flipped}}}"),
            ("too short (SATURN's scorer reads the rest as 0s)", f"\\boxed{{{answer[:-1]}}}"),
            ("a box inside unfinished thinking", f"<think> maybe \\boxed{{{answer}}}"),
            ("no box at all", f"The answer is {answer}."),
        ],
        seed,
        level=4,
    )
    rows += _math_rows()
    sql_env = gymnasium.make("Text2SQL-v0", level=3)
    _, info = sql_env.reset(seed=seed)
    gold = info["problem"]["answer"]
    table = re.search(r"CREATE TABLE (\w+)", info["problem"]["prompt"]).group(1)
    rows += _verdict_rows(
        "Text2SQL-v0",
        [
            ("the gold query", f"```sql\n{gold}\n```"),
            ("a query that writes", f"```sql\nDELETE FROM {table}\n```"),
            (
                "a runaway recursive query",
                "```sql\nWITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r) SELECT count(*) FROM r\n```",
            ),
        ],
        seed,
        level=3,
    )
    return (
        "## 2. Verifiers at work\n\n"
        "Each response is scored by the env's verifier; a malformed one is a verdict with a reason, never an "
        "exception.\n\n" + markdown_table(rows) + "\n"
    )


def _section_tool_use(seed: int) -> str:
    env = gymnasium.make("CodeInterpreter-SAT-v0", level=6)
    _, info = env.reset(seed=seed)
    meta = info["problem"]["metadata"]
    code = (
        "```python\nimport itertools\n"
        f"clauses = {meta['clauses']}\n"
        f"for bits in itertools.product('01', repeat={meta['num_vars']}):\n"
        "    if all(any((x > 0) == (bits[abs(x) - 1] == '1') for x in c) for c in clauses):\n"
        "        print(''.join(bits))\n        break\n```\n"
    )
    turns = [f"I will search all assignments.\n{code}"]
    output, _, _, _, _ = env.step(turns[0])
    found = output.split("```output\n", 1)[1].split("\n", 1)[0].strip()
    turns.append(f"The search found {found}, so the answer is \\boxed{{{found}}}.")
    _, reward, terminated, _, info = env.step(turns[1])
    env.close()
    transcript = "\n".join(
        f"[{'model' if s['source'] == 'model' else 'sandbox'}]\n{s['text'].rstrip()}" for s in info["segments"]
    )
    return (
        "## 3. A tool-use episode\n\n"
        "CodeInterpreter-SAT-v0 (CoRT's protocol): the model's ```python block runs in the sandbox (namespaces, "
        "seccomp, cgroups); its output comes back as the next observation, marked as environment-written so "
        "a trainer masks it out of the loss. Here a scripted model writes a brute-force search:\n\n"
        f"````text\n{transcript}\n````\n\n"
        f"Verdict: `{info['verdict']['reason']}`, reward {reward}, episode over: {terminated}.\n"
    )


def _section_training(out: Path, steps: int, seed: int) -> str:
    if steps == 0:
        return "## 4. Training\n\nSkipped (`--train-steps 0`).\n"
    try:
        import torch  # noqa: F401

        from thinkgym.agents.grpo.demo import demo_training
    except ImportError:
        return (
            "## 4. Training\n\nSkipped: the GRPO agent needs the `train` extra "
            "(`pip install torch==2.13.0 && pip install 'thinkgym[train]'`).\n"
        )
    return demo_training(out, steps=steps, seed=seed)


def run_demo(
    out: str | Path,
    *,
    episodes: int = 40,
    samples: int = 4,
    train_steps: int = 150,
    seed: int = 0,
    progress: bool = True,
) -> Path:
    """Runs every section, prints each as it finishes, and writes ``out/report.md``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    sections = []
    for title, make in (
        ("difficulty sweep", lambda: _section_sweep(out, episodes, samples, seed, progress)),
        ("verifiers", lambda: _section_verifiers(seed)),
        ("tool use", lambda: _section_tool_use(seed)),
        ("training", lambda: _section_training(out, train_steps, seed)),
    ):
        t = time.perf_counter()
        text = make()
        sections.append(text)
        print(f"\n{text}\n({title}: {time.perf_counter() - t:.1f} s)")
    report = out / "report.md"
    report.write_text(
        "# thinkgym demo\n\n" + "\n".join(sections) + f"\n_Generated in {time.perf_counter() - start:.0f} s._\n"
    )
    print(f"\nwrote {report} and the tables and pictures beside it")
    return report
