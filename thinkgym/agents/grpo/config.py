"""``GRPOConfig``: every knob of the bundled GRPO agent, with its default and where it comes from.

A config is built from defaults, then a YAML file (``--config FILE.yaml``, keys = field names;
needs ``pyyaml``), then explicit command-line flags, in that order. No torch import here, so the
CLI can describe itself without the ``train`` extra.

Loss variants (objectives.md §10; formulas in :mod:`thinkgym.agents.grpo.loss`):

* ``loss_type="grpo"``: DeepSeekMath Eq. 3, per-response token mean, then mean over responses.
* ``loss_type="dr_grpo"``: Dr. GRPO (arXiv 2503.20783), token sum over the constant
  ``max_new_tokens``; its advantage is ``r - mean(r)`` (no std).
* ``loss_type="dapo"``: DAPO (arXiv 2503.14476), token sum over all tokens of the batch. Pair it
  with ``eps_high=0.28`` (clip-higher) and ``dynamic_sampling=True`` for the full recipe.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["GRPOConfig", "LOSS_TYPES", "SFTConfig", "load_yaml"]

LOSS_TYPES = ("grpo", "dr_grpo", "dapo")
SCHEDULES = ("constant", "linear", "cosine")
BACKENDS = ("hf", "vllm")


def _opt(default: Any, help: str) -> Any:
    """A dataclass field with its command-line help (mutable defaults are copied per instance)."""
    if isinstance(default, dict | list):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class GRPOConfig:
    """Every option of ``thinkgym train``; each field's ``help`` is its command-line help."""

    # what to train, and where results go
    env: str = _opt("Saturn-SAT-v0", "env id, e.g. Saturn-SAT-v0")
    env_kwargs: dict[str, Any] = _opt({}, 'JSON object of env keyword arguments, e.g. \'{"n": 2, "k": 3, "l": 4}\'')
    model: str = _opt("tiny", "'tiny' (offline random-weight model) or a local Hugging Face model folder")
    out: str = _opt("runs/grpo", "output folder: metrics.jsonl, checkpoints/, config.json")
    seed: int = _opt(0, "run seed: model init (tiny), training problems, sampling")
    steps: int = _opt(100, "training steps (one rollout batch each)")
    resume: bool = _opt(False, "continue from the latest checkpoint in --out")

    # rollouts: prompts_per_step groups of group_size samples each; a group shares one problem
    prompts_per_step: int = _opt(8, "problems (groups) per step")
    group_size: int = _opt(8, "G: samples per problem")
    max_new_tokens: int = _opt(256, "token budget of one model turn")
    max_turns: int = _opt(8, "model turns per episode in multi-turn envs")
    temperature: float = _opt(1.0, "sampling temperature (0 = greedy)")
    top_p: float = _opt(1.0, "nucleus sampling mass")
    stop: list[str] = _opt([], "JSON list of stop strings (kept at the end of the response)")

    # objective (objectives.md §10)
    loss_type: str = _opt("grpo", f"token aggregation: one of {LOSS_TYPES}")
    advantage: str | None = _opt(
        None, "group shaper: grpo, dr_grpo, mgpo or module:function (default: the loss type's)"
    )
    advantage_kwargs: dict[str, Any] = _opt({}, "JSON keyword arguments of the shaper, e.g. '{\"lam\": 1.0}' for mgpo")
    eps_low: float = _opt(0.2, "lower clip range: ratio >= 1 - eps_low")
    eps_high: float = _opt(0.2, "upper clip range: ratio <= 1 + eps_high (DAPO clip-higher: 0.28)")
    beta: float = _opt(0.0, "k3 KL coefficient (0: no reference model is loaded)")
    entropy_coef: float = _opt(0.0, "entropy bonus coefficient (1-shot RLVR: 0.001)")
    filter_zero_variance: bool = _opt(False, "drop groups whose rewards are all equal")
    dynamic_sampling: bool = _opt(False, "DAPO: re-sample until prompts_per_step groups have reward variance")
    max_sampling_rounds: int = _opt(10, "dynamic sampling: most rollout rounds per step")

    # optimisation
    lr: float = _opt(1e-6, "AdamW learning rate")
    weight_decay: float = _opt(0.0, "AdamW weight decay")
    adam_betas: tuple[float, float] = _opt((0.9, 0.999), "AdamW betas, JSON list")
    lr_schedule: str = _opt("constant", f"one of {SCHEDULES}, after warmup")
    warmup_steps: int = _opt(0, "linear LR warmup steps")
    num_iterations: int = _opt(1, "mu: optimiser steps per rollout batch")
    micro_batch_size: int = _opt(8, "rows per forward/backward; gradients accumulate over the whole batch")
    max_grad_norm: float = _opt(1.0, "gradient clipping norm")

    # evaluation on held-out problems, checkpoints, logs
    eval_every: int = _opt(10, "evaluate every N steps (0 = never)")
    eval_problems: int = _opt(64, "held-out problems, never trained on (even with --eval-every 0)")
    eval_samples: int = _opt(4, "samples per held-out problem (n of pass@k)")
    eval_k: int = _opt(4, "report pass@1 and pass@k")
    eval_temperature: float | None = _opt(None, "evaluation temperature (default: --temperature)")
    save_every: int = _opt(50, "checkpoint every N steps (and at the last step)")
    save_traces: bool = _opt(False, "append every rollout to OUT/traces.jsonl (REDI's input)")
    progress: bool = _opt(True, "tqdm progress bar")

    # SATURN curriculum (thinkgym.curriculum.SaturnCurriculum); None = fixed difficulty
    curriculum_levels: list[int] | None = _opt(None, "JSON list of levels to climb with SATURN's curriculum")
    curriculum_epsilon: float = _opt(0.5, "curriculum: move up when validation pass@1 > epsilon")
    curriculum_eval_every: int = _opt(250, "curriculum: training samples between validations")
    curriculum_validation_size: int = _opt(64, "curriculum: validation problems per level")

    # hardware and scale
    device: str = _opt("auto", "auto (cuda with bf16 autocast when present, else cpu fp32), cpu, cuda, cuda:1")
    backend: str = _opt("hf", f"sampler: one of {BACKENDS} (vllm only if importable)")
    vllm_gpu_memory: float = _opt(0.3, "backend vllm: fraction of the GPU vLLM may take (the learner keeps the rest)")
    vllm_kwargs: dict[str, Any] = _opt(
        {}, 'backend vllm: JSON object of extra vllm.LLM arguments, e.g. \'{"enforce_eager": false}\' (docs/vllm.md)'
    )
    num_rollout_workers: int = _opt(0, "Ray rollout actors (0 = roll out in-process)")
    rollout_gpus_per_worker: float = _opt(0.0, "GPUs per Ray rollout actor")
    ray_address: str | None = _opt(None, "Ray address ('auto' joins a running cluster; default starts a local one)")
    num_learners: int = _opt(1, "data-parallel learners: 1 = in-process; N > 1 = N Ray actors (torch.distributed)")
    shard: bool = _opt(False, "num_learners > 1: FSDP2 (fully_shard) instead of DDP: the model is split over learners")
    learner_cpus: float = _opt(1.0, "CPUs per Ray learner (its torch threads on CPU)")
    learner_gpus: float | None = _opt(None, "GPUs per Ray learner (default: 1 if the cluster has enough, else 0)")
    learner_rollouts: bool = _opt(
        False, "num_learners > 1, DDP: each learner samples its share of the groups with its own replica"
    )

    def __post_init__(self) -> None:
        checks = [
            (self.loss_type in LOSS_TYPES, f"loss_type must be one of {LOSS_TYPES}, got {self.loss_type!r}"),
            (self.lr_schedule in SCHEDULES, f"lr_schedule must be one of {SCHEDULES}, got {self.lr_schedule!r}"),
            (self.backend in BACKENDS, f"backend must be one of {BACKENDS}, got {self.backend!r}"),
            (self.steps >= 1, f"steps must be >= 1, got {self.steps}"),
            (self.group_size >= 1, f"group_size must be >= 1, got {self.group_size}"),
            (self.prompts_per_step >= 1, f"prompts_per_step must be >= 1, got {self.prompts_per_step}"),
            (self.max_new_tokens >= 1, f"max_new_tokens must be >= 1, got {self.max_new_tokens}"),
            (self.max_turns >= 1, f"max_turns must be >= 1, got {self.max_turns}"),
            (self.temperature >= 0, f"temperature must be >= 0, got {self.temperature}"),
            (0 < self.top_p <= 1, f"top_p must be in (0, 1], got {self.top_p}"),
            (
                0 <= self.eps_low < 1 and self.eps_high >= 0,
                f"need 0 <= eps_low < 1, eps_high >= 0, got {self.eps_low}, {self.eps_high}",
            ),
            (self.beta >= 0, f"beta must be >= 0, got {self.beta}"),
            (self.num_iterations >= 1, f"num_iterations must be >= 1, got {self.num_iterations}"),
            (self.micro_batch_size >= 1, f"micro_batch_size must be >= 1, got {self.micro_batch_size}"),
            (
                1 <= self.eval_k <= self.eval_samples,
                f"need 1 <= eval_k <= eval_samples, got {self.eval_k}, {self.eval_samples}",
            ),
            (self.num_rollout_workers >= 0, f"num_rollout_workers must be >= 0, got {self.num_rollout_workers}"),
            (self.num_learners >= 1, f"num_learners must be >= 1, got {self.num_learners}"),
            (
                not self.shard or self.num_learners > 1,
                "shard (FSDP2) splits the model over learners: it needs num_learners > 1",
            ),
            (
                not self.learner_rollouts or (self.num_learners > 1 and not self.shard),
                "learner_rollouts samples with each learner's full replica: it needs num_learners > 1 and DDP, "
                f"got num_learners={self.num_learners}, shard={self.shard}; set --num-learners N and drop --shard, "
                "or drop --learner-rollouts",
            ),
            (
                not self.learner_rollouts or (self.num_rollout_workers == 0 and self.backend == "hf"),
                "learner_rollouts: the learners sample themselves with the hf backend; drop --num-rollout-workers "
                "and --backend vllm, or drop --learner-rollouts",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        self.adam_betas = tuple(self.adam_betas)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GRPOConfig:
        """A config from a dict; unknown keys are a ``ValueError`` naming them."""
        return _from_dict(cls, data)


def _from_dict(cls: type, data: dict[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown config key(s) {sorted(unknown)}; valid: {sorted(known)}")
    return cls(**data)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML config file (keys are :class:`GRPOConfig` field names)."""
    try:
        import yaml
    except ImportError:
        raise ValueError("--config needs pyyaml: pip install 'thinkgym[train]'") from None
    data = yaml.safe_load(Path(path).read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config file must hold a mapping of option: value")
    return data


@dataclass
class SFTConfig:
    """Every option of ``thinkgym sft``: supervised warm start, or REDI (objectives.md §7) when
    ``redi_alpha > 0``."""

    env: str = _opt("Saturn-SAT-v0", "env id whose generator supplies problems and reference answers")
    env_kwargs: dict[str, Any] = _opt({}, "JSON object of env keyword arguments")
    model: str = _opt("tiny", "'tiny' or a local Hugging Face model folder")
    out: str = _opt("runs/sft", "output folder: model/ (a valid --model PATH) and metrics.jsonl")
    seed: int = _opt(0, "seed of the problems, the shuffling and the tiny model's init")
    steps: int = _opt(200, "optimiser steps")
    batch_size: int = _opt(16, "examples (REDI: pairs) per step")
    lr: float = _opt(1e-4, "AdamW learning rate (REDI's paper: 5e-5 SFT, 1e-6 REDI, on 1.5B models)")
    weight_decay: float = _opt(0.0, "AdamW weight decay")
    lr_schedule: str = _opt("constant", f"one of {SCHEDULES}, after warmup")
    warmup_steps: int = _opt(0, "linear LR warmup steps")
    max_grad_norm: float = _opt(1.0, "gradient clipping norm")
    reasoning_prefix: str = _opt("", "text put before the reference answer's \\\\boxed{...}")
    data: str | None = _opt(None, "JSONL of traces (prompt, response, correct) instead of generated problems")
    redi_alpha: float = _opt(0.0, "REDI negative weight alpha (paper: 0.8); 0 = SFT on the positives")
    eval_problems: int = _opt(64, "never train on the first N held-out problems of thinkgym train")
    save_every: int = _opt(0, "keep OUT/checkpoints/step-NNNNNN/ (a --model PATH) every N steps and at the end (0: no)")
    device: str = _opt("auto", "auto, cpu, cuda")
    progress: bool = _opt(True, "tqdm progress bar")

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError(f"steps and batch_size must be >= 1, got {self.steps}, {self.batch_size}")
        if self.save_every < 0:
            raise ValueError(f"save_every must be >= 0 (0 = no intermediate checkpoints), got {self.save_every}")
        if self.redi_alpha < 0:
            raise ValueError(f"redi_alpha must be >= 0, got {self.redi_alpha}")
        if self.redi_alpha > 0 and self.data is None:
            raise ValueError("REDI (redi_alpha > 0) needs --data, a JSONL of positive and negative traces")
        if self.lr_schedule not in SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {SCHEDULES}, got {self.lr_schedule!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SFTConfig:
        """A config from a dict; unknown keys are a ``ValueError`` naming them."""
        return _from_dict(cls, data)
