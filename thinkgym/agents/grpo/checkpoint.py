"""Checkpoints for exact resume, and the per-step metrics log.

``OUT/checkpoints/step-000123/`` holds ``model/`` (``save_pretrained`` model and tokenizer, so it
is also a valid ``--model PATH``) and ``state.pt``: the step, optimiser, LR scheduler, the Python,
NumPy and torch (CPU and CUDA) RNG states, and the trainer's own state (problem stream,
curriculum). A checkpoint is written to a temporary folder and renamed into place, so a crash
never leaves a half-written one.

``OUT/metrics.jsonl`` gets one JSON object per step. On resume, lines after the checkpoint's step
(written after it by the interrupted run) are dropped, so every step appears exactly once. With
``tensorboard`` importable the same scalars also go to ``OUT/tensorboard/``.
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["MetricsLog", "latest_checkpoint", "load_state", "save_checkpoint"]


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


def save_checkpoint(out: Path, step: int, model: Any, tokenizer: Any, state: dict[str, Any]) -> Path:
    """Writes ``OUT/checkpoints/step-NNNNNN``; ``state`` holds state dicts (optimiser, ...)."""
    final = Path(out) / "checkpoints" / f"step-{step:06d}"
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
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
