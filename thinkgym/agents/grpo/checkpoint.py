"""Checkpoints for exact resume, and the per-step metrics log.

``OUT/checkpoints/step-000123/`` holds ``model/`` (``save_pretrained`` model and tokenizer, so it
is also a valid ``--model PATH``) and ``state.pt``: the step, optimiser, LR scheduler, the Python,
NumPy and torch (CPU and CUDA) RNG states, and the trainer's own state (problem stream,
curriculum). A checkpoint is written to a temporary folder and renamed into place, so a crash
never leaves a half-written one.

Under FSDP2 (``--num-learners N --shard``) the optimiser state is not gathered: every learner
writes its own shard of the model and AdamW state with ``torch.distributed.checkpoint`` (DCP) into
``shards/`` (``__R_0.distcp`` per rank and a ``.metadata`` index), and ``state.pt`` holds
``optimizer=None`` and ``sharded={"num_learners": N, "lrs": [the next step's LRs]}``. DCP reshards
on load, so such a checkpoint resumes exactly with any number of sharded learners, and also without
a process group (DDP learners, the in-process learner): one process then reads every shard
(:func:`restore_optimizer`).

``OUT/metrics.jsonl`` gets one JSON object per step. On resume, lines after the checkpoint's step
(written after it by the interrupted run) are dropped, so every step appears exactly once. With
``tensorboard`` importable the same scalars also go to ``OUT/tensorboard/``.
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "SHARDS",
    "MetricsLog",
    "latest_checkpoint",
    "load_sharded_state",
    "load_state",
    "restore_optimizer",
    "save_checkpoint",
    "save_sharded_state",
]

SHARDS = "shards"  # the DCP folder inside a checkpoint


def _rng_state() -> dict[str, Any]:
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    out: Path,
    step: int,
    model: Any,
    tokenizer: Any,
    state: dict[str, Any],
    write: Callable[[Path], dict[str, Any]] | None = None,
) -> Path:
    """Writes ``OUT/checkpoints/step-NNNNNN``; ``state`` holds state dicts (optimiser, ...).
    ``write(folder)``, called first, may write more files into the checkpoint (the learners'
    shards) and returns entries that update ``state``."""
    final = Path(out) / "checkpoints" / f"step-{step:06d}"
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if write is not None:
        state = {**state, **write(tmp)}
    model.save_pretrained(tmp / "model")
    tokenizer.save_pretrained(tmp / "model")
    torch.save({"step": step, "rng": _rng_state(), **state}, tmp / "state.pt")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return final


def latest_checkpoint(out: Path) -> Path | None:
    """The checkpoint with the highest step under ``OUT/checkpoints``, or None."""
    found = sorted(p for p in (Path(out) / "checkpoints").glob("step-*") if not p.name.endswith(".tmp"))
    return found[-1] if found else None


def load_state(checkpoint: Path) -> dict[str, Any]:
    """The checkpoint's ``state.pt``, with the global RNG states restored as a side effect."""
    state = torch.load(Path(checkpoint) / "state.pt", weights_only=False)
    _set_rng_state(state["rng"])
    return state


def save_sharded_state(folder: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Collective: every rank writes its shard of ``model`` (FSDP2) and ``optimizer`` to ``folder``."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict

    model_state, optim_state = get_state_dict(model, optimizer)
    dcp.save({"model": model_state, "optimizer": optim_state}, checkpoint_id=str(folder))


def load_sharded_state(folder: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Loads :func:`save_sharded_state`'s files into ``model`` and ``optimizer``: collective on
    FSDP2 ranks (any number of them: DCP reshards), or in one process without a process group
    (a plain model, which then reads every shard)."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

    # an LR scheduler's initial_lr is the driver's own (learners have no scheduler): not in the shards
    initial = [{k: g.pop(k) for k in list(g) if k == "initial_lr"} for g in optimizer.param_groups]
    model_state, optim_state = get_state_dict(model, optimizer)  # tensors of the right shapes to load into
    state = {"model": model_state, "optimizer": optim_state}
    alone = not (torch.distributed.is_available() and torch.distributed.is_initialized())
    with warnings.catch_warnings():  # DCP warns on every no_dist load, even when asked for one
        warnings.filterwarnings("ignore", "torch.distributed is disabled", UserWarning)
        dcp.load(state, checkpoint_id=str(folder), no_dist=alone)  # alone: this process reads every shard
    set_state_dict(model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optimizer"])
    for group, keys in zip(optimizer.param_groups, initial, strict=True):
        group.update(keys)


def restore_optimizer(
    checkpoint: Path,
    state: dict[str, Any],
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    learners_read_shards: bool,
) -> None:
    """The checkpoint's optimiser state into ``optimizer``: from ``state.pt``, or from a sharded
    checkpoint's DCP files unless ``learners_read_shards`` (sharded learners load them themselves;
    the driver's optimiser then only gets the LRs, which its scheduler hands to the learners)."""
    if state.get("optimizer") is not None:
        optimizer.load_state_dict(state["optimizer"])
    elif state.get("sharded"):
        if not learners_read_shards:
            load_sharded_state(Path(checkpoint) / SHARDS, model, optimizer)
        for group, lr in zip(optimizer.param_groups, state["sharded"]["lrs"], strict=True):
            group["lr"] = lr


class MetricsLog:
    """Appends one JSON object per step to ``OUT/metrics.jsonl`` (and TensorBoard when present)."""

    def __init__(self, out: Path, resume_step: int = 0) -> None:
        self.path = Path(out) / "metrics.jsonl"
        kept = []
        if resume_step and self.path.exists():
            kept = [line for line in self.path.read_text().splitlines() if json.loads(line)["step"] <= resume_step]
        self.path.write_text("".join(line + "\n" for line in kept))
        self.tensorboard = None
        if importlib.util.find_spec("tensorboard") is not None:
            from torch.utils.tensorboard import SummaryWriter

            self.tensorboard = SummaryWriter(str(Path(out) / "tensorboard"), purge_step=resume_step + 1)

    def write(self, metrics: dict[str, Any]) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(metrics) + "\n")
        if self.tensorboard is not None:
            for key, value in metrics.items():
                if key != "step" and isinstance(value, int | float):
                    self.tensorboard.add_scalar(key, value, metrics["step"])

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
