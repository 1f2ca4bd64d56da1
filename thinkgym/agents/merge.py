"""Weight averaging of checkpoints (``thinkgym merge``): the "expert model fusion" of VibeThinker's
Two-Stage Diversity-Exploring Distillation (WeiboAI, arXiv 2511.06221), which fuses the best SFT
checkpoint of each sub-domain (picked by ``thinkgym probe``) into one model before RL::

    theta_merged = sum_i w_i * theta_i,    w_i >= 0,  sum_i w_i = 1

Weights: equal (``1/N``) by default; given weights must be finite and >= 0 with a positive sum, and
are **normalised** to sum to 1 (``--weights 2,1`` is 2/3, 1/3), so the result is always a convex
combination (negative "task arithmetic" weights are refused). Each floating-point tensor is
accumulated in float64 and cast back to the checkpoints' dtype; non-float tensors (integer buffers)
must be equal in every checkpoint and are copied.

Only checkpoints of one architecture and one tokenizer can be averaged: the model configs (all keys
except ``_name_or_path`` and ``transformers_version``), the tokenizers (vocabulary, merges,
special tokens, chat template) and the parameter names and shapes must match, else a
``ValueError`` names the first difference. The result is a model folder (``save_pretrained``
model, the first checkpoint's tokenizer, ``merge.json`` with the sources and weights), a valid
``--model PATH``.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["merge_models", "model_folder", "normalise_weights"]

_IGNORED_CONFIG_KEYS = {"_name_or_path", "transformers_version"}


def model_folder(path: str | Path) -> Path:
    """The model folder of ``path``: the folder itself when it holds a ``config.json``, or its
    ``model/`` (the layout of ``thinkgym train`` checkpoints)."""
    path = Path(path)
    for candidate in (path, path / "model"):
        if (candidate / "config.json").is_file():
            return candidate
    raise ValueError(f"{str(path)!r} is not a model folder (no config.json in it or in its model/)")


def normalise_weights(weights: Sequence[float] | None, count: int) -> list[float]:
    """``weights`` divided by their sum (equal weights when None); refuses a wrong count, a
    negative or non-finite weight, or a zero sum."""
    if count < 1:
        raise ValueError("merge needs at least one checkpoint")
    if weights is None:
        return [1.0 / count] * count
    weights = [float(w) for w in weights]
    if len(weights) != count:
        raise ValueError(f"--weights has {len(weights)} value(s) for {count} checkpoint(s); give one per checkpoint")
    bad = [w for w in weights if not math.isfinite(w) or w < 0]
    if bad:
        raise ValueError(f"weights must be finite and >= 0 (a convex combination), got {bad[0]!r}")
    total = sum(weights)
    if total <= 0:
        raise ValueError(f"weights must have a positive sum, got {weights}")
    return [w / total for w in weights]


def _config_dict(folder: Path) -> dict[str, Any]:
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(folder, local_files_only=True).to_dict()
    return {k: v for k, v in config.items() if k not in _IGNORED_CONFIG_KEYS}


def _tokenizer_fingerprint(tokenizer: Any) -> dict[str, Any]:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return {
        "vocabulary": tokenizer.get_vocab(),
        "model": json.loads(backend.to_str())["model"] if backend is not None else None,
        "special tokens": tokenizer.special_tokens_map,
        "added tokens": {k: str(v) for k, v in tokenizer.added_tokens_decoder.items()},
        "chat template": tokenizer.chat_template,
    }


def _first_difference(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """The key whose values differ, scalars before lists and dicts (``num_hidden_layers`` is a
    clearer message than the ``layer_types`` list that follows from it), then by name."""
    differing = [key for key in set(a) | set(b) if a.get(key, "<missing>") != b.get(key, "<missing>")]
    return min(differing, key=lambda k: (isinstance(a.get(k), list | dict | tuple), k), default=None)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def merge_models(
    checkpoints: Sequence[str | Path],
    out: str | Path,
    weights: Sequence[float] | None = None,
) -> Path:
    """Writes the weighted average of ``checkpoints`` (model folders, or ``thinkgym train``
    checkpoints) to the model folder ``out``; returns it. See the module docstring for the rules."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folders = [model_folder(c) for c in checkpoints]
    w = normalise_weights(weights, len(folders))
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"--out {str(out)!r} exists and is not empty; choose another folder or remove it")

    reference_config = _config_dict(folders[0])
    reference_tokenizer = AutoTokenizer.from_pretrained(folders[0], local_files_only=True)
    reference_fingerprint = _tokenizer_fingerprint(reference_tokenizer)
    for folder in folders[1:]:
        config = _config_dict(folder)
        key = _first_difference(reference_config, config)
        if key is not None:
            raise ValueError(
                f"cannot merge: config key {key!r} is {_short(config.get(key, '<missing>'))} in {folder} but "
                f"{_short(reference_config.get(key, '<missing>'))} in {folders[0]} (merge needs one architecture)"
            )
        fingerprint = _tokenizer_fingerprint(AutoTokenizer.from_pretrained(folder, local_files_only=True))
        key = _first_difference(reference_fingerprint, fingerprint)
        if key is not None:
            raise ValueError(f"cannot merge: the tokenizer of {folder} differs from {folders[0]}'s in its {key}")

    merged = AutoModelForCausalLM.from_pretrained(folders[0], local_files_only=True)
    reference = merged.state_dict()
    sums = {name: t.to(torch.float64) * w[0] for name, t in reference.items() if t.is_floating_point()}
    for folder, weight in zip(folders[1:], w[1:], strict=True):
        state = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True).state_dict()
        if set(state) != set(reference):
            extra = sorted(set(state) ^ set(reference))[0]
            raise ValueError(f"cannot merge: parameter {extra!r} is in only one of {folders[0]} and {folder}")
        for name, tensor in state.items():
            if tensor.shape != reference[name].shape or tensor.dtype != reference[name].dtype:
                raise ValueError(
                    f"cannot merge: parameter {name!r} is {tuple(tensor.shape)} {tensor.dtype} in {folder} "
                    f"but {tuple(reference[name].shape)} {reference[name].dtype} in {folders[0]}"
                )
            if name in sums:
                sums[name] += tensor.to(torch.float64) * weight
            elif not torch.equal(tensor, reference[name]):
                raise ValueError(f"cannot merge: non-float tensor {name!r} differs between {folders[0]} and {folder}")
    merged.load_state_dict({name: sums[name].to(t.dtype) if name in sums else t for name, t in reference.items()})

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    merged.save_pretrained(tmp)
    reference_tokenizer.save_pretrained(tmp)
    (tmp / "merge.json").write_text(
        json.dumps({"sources": [str(f) for f in folders], "weights": w, "rule": "sum_i w_i * theta_i"}, indent=2)
    )
    if out.exists():
        out.rmdir()
    tmp.rename(out)
    return out
