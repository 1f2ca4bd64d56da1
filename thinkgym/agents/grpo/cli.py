"""``thinkgym train`` and ``thinkgym sft``: :func:`add_commands` registers them on the main parser.

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
    values = load_yaml(args.config) if args.config else {}
    values.update({f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)})
    return cls.from_dict(values)


def cmd_train(args: argparse.Namespace) -> int:
    from thinkgym.agents.grpo.trainer import train

    cfg = _config(GRPOConfig, args)
    history = train(cfg)
    if history:
        last = history[-1]
        evals = {k: round(v, 4) for k, v in last.items() if k.startswith("eval/")}
        print(f"step {last['step']}: reward_mean {last['reward_mean']:.4f} {evals or ''}")
    print(f"metrics in {cfg.out}/metrics.jsonl, checkpoints in {cfg.out}/checkpoints")
    return 0


def cmd_sft(args: argparse.Namespace) -> int:
    from thinkgym.agents.grpo.sft import supervise

    cfg = _config(SFTConfig, args)
    history = supervise(cfg)
    print(f"step {history[-1]['step']}: loss {history[-1]['loss']:.4f}; model in {cfg.out}/model (a --model PATH)")
    return 0


def add_commands(subparsers: Any) -> None:
    """Registers ``train`` and ``sft`` on ``subparsers`` (from ``parser.add_subparsers()``)."""
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
