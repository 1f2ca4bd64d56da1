"""``thinkgym train`` and ``thinkgym sft``: :func:`add_commands` registers them on the main parser,
with ``thinkgym probe`` (:mod:`thinkgym.experiments.probe`) and ``thinkgym merge``
(:mod:`thinkgym.agents.merge`), the checkpoint tools of VibeThinker's Spectrum-to-Signal recipe.

Every field of :class:`~thinkgym.agents.grpo.config.GRPOConfig` (``SFTConfig``) is a flag
(``group_size`` -> ``--group-size``; dicts, lists and tuples are JSON; booleans have a ``--no-``
form). Values come from the defaults, then ``--config FILE.yaml``, then the flags given. Torch is
imported only when a command runs, so ``thinkgym --help`` works without the ``train`` extra.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import typing
from typing import Any

from thinkgym.agents.grpo.config import GRPOConfig, SFTConfig, load_yaml

__all__ = ["add_commands", "cmd_sft", "cmd_train"]


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc.msg}") from None


def _add_config_flags(parser: argparse.ArgumentParser, cls: type) -> None:
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        kwargs: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS, "help": f.metadata["help"]}
        if kind is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif kind in (int, float, str):
            kwargs["type"] = kind
        elif kind in (str | None, float | None):
            kwargs["type"] = typing.get_args(kind)[0]
        else:  # dict, list, tuple, list | None
            kwargs["type"] = _json
        parser.add_argument("--" + f.name.replace("_", "-"), **kwargs)
    parser.add_argument("--config", default=None, help="YAML file of options (keys = option names with underscores)")


def _config(cls: type, args: argparse.Namespace) -> Any:
    """The config from ``--config`` and the flags; an env id from the YAML file is checked as
    ``--env`` is (an unknown one is a one-line usage error)."""
    from thinkgym.cli import check_env_id

    values = load_yaml(args.config) if args.config else {}
    values.update({f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)})
    if isinstance(values.get("env"), str):
        check_env_id(values["env"])
    return cls.from_dict(values)


def _pass_at_1(label: str, p: float, n: int) -> str:
    from thinkgym.agents.grpo.recipe import wilson

    lo, hi = wilson(p, n)
    return f"  {label:<22} {p:.3f}  [{lo:.3f}, {hi:.3f}]"


def cmd_train(args: argparse.Namespace) -> int:
    """GRPO; with evaluation on (``--eval-every``), held-out pass@1 of the starting model first,
    and at the end before and after with 95% Wilson intervals and the z of the change."""
    cfg = _config(GRPOConfig, args)  # first: a bad option is reported before torch is imported
    from thinkgym.agents.grpo.recipe import z_score
    from thinkgym.agents.grpo.trainer import evaluate_model, train

    before = None
    if cfg.eval_every and not cfg.resume:
        before = evaluate_model(cfg.model, cfg)["pass@1"]
        print(f"held-out pass@1 of {cfg.model} before GRPO: {before:.3f}")
    history = train(cfg)
    if history:
        last = history[-1]
        evals = {k: round(v, 4) for k, v in last.items() if k.startswith("eval/")}
        print(f"step {last['step']}: reward_mean {last['reward_mean']:.4f} {evals or ''}")
    evaluated = [h for h in history if "eval/pass@1" in h]
    if before is not None and evaluated:
        n, after = cfg.eval_problems, evaluated[-1]["eval/pass@1"]
        print(f"held-out pass@1, {n} problems x {cfg.eval_samples} sample(s), 95% Wilson interval over {n}:")
        print(_pass_at_1("start (--model)", before, n))
        for h in evaluated:
            print(_pass_at_1(f"GRPO step {h['step']}", h["eval/pass@1"], n))
        print(f"  change {after - before:+.3f}, z = {z_score(before, after, n, n):.2f} (z > 2.33: p < 0.01)")
    print(f"metrics in {cfg.out}/metrics.jsonl, checkpoints in {cfg.out}/checkpoints")
    return 0


def cmd_sft(args: argparse.Namespace) -> int:
    cfg = _config(SFTConfig, args)  # first: a bad option is reported before torch is imported
    from thinkgym.agents.grpo.sft import supervise

    history = supervise(cfg)
    print(f"step {history[-1]['step']}: loss {history[-1]['loss']:.4f}; model in {cfg.out}/model (a --model PATH)")
    if cfg.save_every:
        print(f"checkpoints in {cfg.out}/checkpoints (thinkgym probe --checkpoints {cfg.out} compares them)")
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    """pass@k per sub-domain of every checkpoint; see :mod:`thinkgym.experiments.probe`."""
    from thinkgym.experiments.probe import probe, write_probe

    result = probe(
        args.checkpoints,
        args.env,
        by=args.by or ("env" if len(args.env) > 1 else "family"),
        k=args.k,
        problems=args.problems,
        samples=args.samples,
        skip=args.skip,
        env_kwargs=args.env_kwargs,
        temperature=args.temperature,
        max_new_tokens=args.max_new_tokens,
        device=args.device,
        progress=not args.quiet,
    )
    paths = write_probe(result, args.out)
    print(paths["md"].read_text(), end="")
    seeds = f"{result['skip']}..{result['scanned'] - 1}"
    print(f"\nheld-out seeds {seeds}: train/sft with --eval-problems >= {result['scanned']} never train on them")
    print(f"wrote {paths['csv']}, {paths['json']}, {paths['md']}, {paths['png']}")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    """Weighted average of checkpoints; see :mod:`thinkgym.agents.merge`."""
    from thinkgym.agents.merge import merge_models

    out = merge_models(args.checkpoints, args.out, args.weights)
    weights = json.loads((out / "merge.json").read_text())["weights"]
    print(f"merged {len(args.checkpoints)} checkpoints with weights {[round(w, 6) for w in weights]} into {out}")
    return 0


def _weights(text: str) -> list[float]:
    try:
        return [float(w) for w in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"weights must look like 0.5,0.5 or 2,1, got {text!r}") from None


def add_commands(subparsers: Any) -> None:
    """Registers ``train``, ``sft``, ``probe`` and ``merge`` on ``subparsers`` (from ``parser.add_subparsers()``)."""
    p = subparsers.add_parser(
        "train",
        help="train a model on an env with GRPO (needs thinkgym[train])",
        description="GRPO / Dr. GRPO / DAPO on any thinkgym env. See docs/grpo.md.",
    )
    _add_config_flags(p, GRPOConfig)
    p.set_defaults(func=cmd_train)

    p = subparsers.add_parser(
        "sft",
        help="supervised warm start on reference answers, or REDI on traces",
        description="SFT on the generator's \\boxed{answer}s, or on traces; REDI with --redi-alpha.",
    )
    _add_config_flags(p, SFTConfig)
    p.set_defaults(func=cmd_sft)

    p = subparsers.add_parser(
        "probe",
        help="pass@k per sub-domain (family or env) of every checkpoint in a folder, and the best of each",
        description="VibeThinker's diversity probing: unbiased pass@k of every checkpoint on held-out problems "
        "of each sub-domain, a table, a plot and the best checkpoint per sub-domain. See docs/grpo.md.",
    )
    p.add_argument("--checkpoints", required=True, help="an sft/train --out folder, or a folder of model folders")
    p.add_argument("--env", required=True, type=lambda s: s.split(","), help="env id, or several: A,B")
    p.add_argument("--by", choices=["family", "env"], default=None, help="sub-domains (default: env if several)")
    p.add_argument("--env-kwargs", type=_json, default=None, help="JSON object of env keyword arguments")
    p.add_argument("--k", "-k", type=int, default=8, help="pass@k to select by (default 8)")
    p.add_argument("--problems", type=int, default=64, help="held-out problems per sub-domain (default 64)")
    p.add_argument("--samples", type=int, default=None, help="samples per problem, n >= k (default 2k)")
    p.add_argument("--skip", type=int, default=0, help="start at this held-out seed index (default 0)")
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default 1)")
    p.add_argument("--max-new-tokens", type=int, default=256, help="tokens per response (default 256)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda")
    p.add_argument("--out", default="runs/probe", help="folder for probe.csv/.json/.md/.png (runs/probe)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_probe)

    p = subparsers.add_parser(
        "merge",
        help="weighted average of checkpoints of one architecture and tokenizer",
        description="theta = sum_i w_i theta_i with the weights normalised to sum to 1 (default equal). "
        "Refuses checkpoints whose configs, tokenizers or parameter shapes differ. See docs/grpo.md.",
    )
    p.add_argument("checkpoints", nargs="+", help="model folders (or train checkpoints holding model/)")
    p.add_argument("--weights", type=_weights, default=None, help="w1,w2,... >= 0, normalised (default equal)")
    p.add_argument("--out", required=True, help="the merged model folder (must not exist or be empty)")
    p.set_defaults(func=cmd_merge)
