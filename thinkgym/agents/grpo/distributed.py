"""Data-parallel GRPO learners: the update runs on ``num_learners`` Ray actors that form one
``torch.distributed`` group (gloo on CPU, NCCL on GPU), with DDP, or FSDP2 (``fully_shard``) when
``shard`` is set.

Why plain Ray actors and not Ray Train's ``TorchTrainer``: ``fit()`` blocks and its training
function owns the control flow, so the rollouts, evaluation, curriculum and checkpoints of
:func:`thinkgym.agents.grpo.trainer.train` would have to move inside the workers. A group of
actors lets the driver keep the step-by-step loop and call ``update`` once per step; OpenRLHF and
verl use the same pattern (scale.md §2.3). Rank 0 picks a free TCP port and every actor calls
``init_process_group(init_method="tcp://IP:PORT")``.

One step, exactly equal to the one-learner update (up to float summation order):

1. the driver samples and computes group advantages on the whole batch, then the loss weights w of
   :func:`.loss.row_weights` **over the global batch** (so GRPO's 1/B, Dr. GRPO's 1/(B L) and
   DAPO's 1/sum|o_i| all use global counts, never per-learner ones);
2. the rows are split into ``num_learners`` contiguous shards along group boundaries (every group
   stays whole on one learner), and each shard into micro-batches; shards with fewer
   micro-batches get zero-weight copies of a row, so every rank runs the same number of forward
   and backward passes (FSDP2 all-gathers in each forward, DDP all-reduces in the last backward);
3. learner r minimises ``N * sum_{rows of r} w l`` (DDP and FSDP2 average gradients over the N
   ranks, so the factor N makes the synced gradient the gradient of ``sum_all w l``, the
   one-learner loss); gradient clipping and AdamW then act on identical full gradients;
4. rank 0 sends the full new weights back through the Ray object store; the driver loads them
   into its own copy, which samples the next step (and feeds rollout workers as before).

The update itself (micro-batch accumulation, clipping, AdamW) is :func:`.update.optimise`, the same
function the in-process learner runs.

With ``learner_rollouts`` (DDP only) the learners also sample: :class:`LearnerRollouts` cuts a
step's seeds into N contiguous runs of whole groups, learner r plays its run with its own replica
and sampling seed ``step_seed(seed, r)`` (what Ray rollout worker r would use), and step 4 sends
no weights: the driver fetches them only for a checkpoint.

Checkpoints: under DDP rank 0's optimiser state goes into ``state.pt`` in the single-process
``torch.optim`` form. Under FSDP2 nothing is gathered: every learner writes its shard of the model
and AdamW state with ``torch.distributed.checkpoint`` (:mod:`.checkpoint`), and DCP reshards on
load. Either kind resumes exactly with any ``num_learners`` and ``shard``, the in-process learner
included.
"""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path
from typing import Any

import numpy as np
import torch

from thinkgym.agents.grpo.checkpoint import SHARDS
from thinkgym.agents.grpo.config import GRPOConfig
from thinkgym.agents.grpo.loss import RowBatch, row_weights
from thinkgym.agents.grpo.sampling import step_seed
from thinkgym.agents.grpo.update import MicroBatch, micro_batches, optimise

__all__ = ["Learner", "LearnerGroup", "LearnerRollouts", "make_learners", "shard_rows", "split_groups"]

PLACEMENT_TIMEOUT_S = 600  # how long the learners may wait for Ray to place them


def shard_rows(batch: RowBatch, group_sizes: list[int], num_learners: int) -> list[tuple[int, int]]:
    """Row ranges ``[(start, stop)]``, one per learner: contiguous whole groups, balanced by trained
    tokens, none empty while there are at least as many groups as learners. ``group_sizes`` are the
    episodes per group in batch order (``batch`` rows are in episode order)."""
    n_groups = len(group_sizes)
    episode_tokens = torch.zeros(sum(group_sizes)).index_add(0, batch.episode, batch.mask.sum(-1)).numpy()
    first_episode = np.r_[0, np.cumsum(group_sizes)]  # of each group, and the end
    cum = np.r_[
        0.0, np.cumsum([episode_tokens[a:b].sum() for a, b in zip(first_episode[:-1], first_episode[1:], strict=True)])
    ]
    cuts = [0]
    for r in range(1, num_learners):
        ideal = int(np.argmin(np.abs(cum - cum[-1] * r / num_learners)))
        lo = cuts[-1] + (1 if n_groups - cuts[-1] > num_learners - r else 0)
        hi = max(lo, n_groups - (num_learners - r)) if n_groups >= num_learners else n_groups
        cuts.append(int(np.clip(ideal, lo, hi)))
    cuts.append(n_groups)
    rows = [int(np.searchsorted(batch.episode.numpy(), first_episode[c], side="left")) for c in cuts]
    return list(zip(rows[:-1], rows[1:], strict=True))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


class Learner:
    """One rank (``ray.remote(Learner)``): a model replica (DDP) or shard (FSDP2) and its AdamW (the
    LR comes from the driver's schedule with every update). Built by :class:`LearnerGroup`; every
    method except ``address`` is collective."""

    def __init__(self, cfg: dict[str, Any], rank: int, world: int) -> None:
        self.cfg, self.rank, self.world = GRPOConfig.from_dict(cfg), rank, world
        import ray

        if ray.get_gpu_ids() and torch.cuda.is_available():  # Ray made its GPU the only visible one
            self.device = torch.device("cuda", 0)
            torch.cuda.set_device(self.device)
        else:
            self.device = torch.device("cpu")
            torch.set_num_threads(max(1, int(self.cfg.learner_cpus)))

    def address(self) -> tuple[str, int]:
        import ray

        return ray.util.get_node_ip_address(), _free_port()

    def setup(self, master: tuple[str, int], weights: dict[str, torch.Tensor], optim_state: dict) -> str:
        import torch.distributed as dist

        from thinkgym.agents.models import load_model

        backend = "nccl" if self.device.type == "cuda" else "gloo"
        dist.init_process_group(
            backend, init_method=f"tcp://{master[0]}:{master[1]}", rank=self.rank, world_size=self.world
        )
        cfg = self.cfg
        model, self.tokenizer = load_model(cfg.model, seed=cfg.seed)
        self.rollouts: Any = None  # built on the first play (learner_rollouts)
        model.load_state_dict(weights)
        model.to(self.device).eval()  # eval(): no dropout, as in the in-process learner
        self.names = [n for n, _ in model.named_parameters()]  # the optimiser's parameter order
        self.ref = None
        if cfg.beta > 0:
            self.ref = load_model(cfg.model, seed=cfg.seed)[0].to(self.device).eval().requires_grad_(False)
        if cfg.shard:
            from torch.distributed.device_mesh import init_device_mesh
            from torch.distributed.fsdp import fully_shard

            mesh = init_device_mesh(self.device.type, (self.world,))
            for module in model.modules():  # one FSDP unit per decoder block, then the rest
                if type(module).__name__.endswith("DecoderLayer"):
                    fully_shard(module, mesh=mesh)
            fully_shard(model, mesh=mesh)
            self.model = self.inner = model
        else:
            from torch.nn.parallel import DistributedDataParallel

            self.inner = model
            self.model = DistributedDataParallel(
                model, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        self.optimizer = torch.optim.AdamW(
            self.inner.parameters(), lr=cfg.lr, betas=cfg.adam_betas, weight_decay=cfg.weight_decay
        )
        if optim_state.get("state"):
            self.load_optimizer_state(optim_state)
        return dist.get_backend()

    # -- optimiser state in torch.optim's index-keyed form (the checkpoint format) --------------

    def optimizer_state(self) -> dict | None:
        """The full optimiser state on rank 0 (None elsewhere); collective under FSDP2."""
        if not self.cfg.shard:
            return _to_cpu(self.optimizer.state_dict()) if self.rank == 0 else None
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

        full = get_optimizer_state_dict(
            self.model, self.optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
        )
        if self.rank != 0:
            return None
        index = {n: i for i, n in enumerate(self.names)}
        groups = [{**g, "params": [index[n] for n in g["params"]]} for g in full["param_groups"]]
        return {"state": {index[n]: s for n, s in full["state"].items()}, "param_groups": groups}

    def load_optimizer_state(self, state: dict) -> None:
        if not self.cfg.shard:
            self.optimizer.load_state_dict(state)
            return
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

        groups = [{**g, "params": [self.names[i] for i in g["params"]]} for g in state["param_groups"]]
        full = {"state": {self.names[i]: s for i, s in state["state"].items()}, "param_groups": groups}
        set_optimizer_state_dict(self.model, self.optimizer, full, options=StateDictOptions(full_state_dict=True))

    def weights(self) -> dict[str, torch.Tensor] | None:
        """The full model state dict on CPU on rank 0 (None elsewhere); collective under FSDP2."""
        if self.cfg.shard:
            from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

            full = get_model_state_dict(self.model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
            return full if self.rank == 0 else None
        return _to_cpu(self.inner.state_dict()) if self.rank == 0 else None

    # -- sharded checkpoints (FSDP2) ------------------------------------------------------

    def save_shards(self, folder: str, lrs: list[float]) -> None:
        """Collective: this rank's shard of the model and AdamW state into ``folder`` (DCP), with the
        driver's current LRs (those of the next step)."""
        from thinkgym.agents.grpo.checkpoint import save_sharded_state

        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        save_sharded_state(Path(folder), self.model, self.optimizer)

    def load_shards(self, folder: str) -> None:
        """Collective: the model and AdamW state from ``folder``, written by any number of ranks."""
        from thinkgym.agents.grpo.checkpoint import load_sharded_state

        load_sharded_state(Path(folder), self.model, self.optimizer)

    # -- rollouts from the learner's own replica (learner_rollouts) ------------------------

    def play(self, seeds: list[int], temperature: float, seed: int, options: dict[str, Any] | None) -> list:
        """Plays episodes with this rank's replica (not collective); sampling noise
        ``step_seed(seed, rank)``, as Ray rollout worker ``rank`` would use."""
        if self.rollouts is None:
            from thinkgym.agents.grpo.chat import ChatFormat
            from thinkgym.agents.grpo.sampling import HFSampler
            from thinkgym.agents.grpo.trainer import LocalRollouts

            chat = ChatFormat(self.tokenizer)
            self.rollouts = LocalRollouts(HFSampler(self.inner, chat, top_p=self.cfg.top_p), chat, self.cfg)
        return self.rollouts.play(seeds, temperature=temperature, seed=step_seed(seed, self.rank), options=options)

    # -- the update -------------------------------------------------------------------------

    def update(self, micro: list[MicroBatch], lrs: list[float], send_weights: bool) -> dict[str, Any]:
        """``num_iterations`` optimiser steps on this rank's micro-batches (:func:`.update.optimise`,
        with the loss scaled by the world size); returns the first step's global statistics and,
        on rank 0 when ``send_weights``, the new weights."""
        import torch.distributed as dist

        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):  # the driver's LR schedule
            group["lr"] = lr

        def all_reduce(sums: torch.Tensor) -> torch.Tensor:
            total = sums.to(self.device)
            dist.all_reduce(total)
            return total.cpu()

        stats = optimise(
            self.model,
            self.ref,
            self.optimizer,
            micro,
            self.cfg,
            self.device,
            loss_scale=self.world,  # synced gradients are averaged over the ranks
            sync=self._accumulate,
            reduce=all_reduce,
        )
        stats["weights"] = self.weights() if send_weights else None
        return stats

    def _accumulate(self, last: bool) -> contextlib.AbstractContextManager:
        """Gradient sync only on the last micro-batch (DDP ``no_sync``; FSDP2 keeps reduce-scatter
        on every backward, which sums the same)."""
        if self.cfg.shard or last:
            return contextlib.nullcontext()
        return self.model.no_sync()

    def shutdown(self) -> None:
        import torch.distributed as dist

        if self.rollouts is not None:
            self.rollouts.close()

        if dist.is_initialized():
            dist.destroy_process_group()


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_cpu(v) for v in obj]
    return obj


class LearnerGroup:
    """The driver's handle on N :class:`Learner` actors: ``update`` (one GRPO update on a global
    batch, the new weights loaded into the driver's model), ``write_state`` (a checkpoint's
    optimiser state, or the learners' shards), ``rollouts`` (learner_rollouts), ``close``."""

    def __init__(
        self,
        cfg: GRPOConfig,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        checkpoint: Path | None = None,
    ) -> None:
        import ray

        self.ray, self.cfg, self.model, self.optimizer = ray, cfg, model, optimizer
        self.stale = False  # learner_rollouts: the driver's copy lags the learners until fetched
        if not ray.is_initialized():
            ray.init(address=cfg.ray_address, ignore_reinit_error=True, log_to_driver=False)
        resources = ray.cluster_resources()
        gpus = cfg.learner_gpus
        if gpus is None:  # one GPU per learner when the cluster has enough of them
            gpus = (
                1.0
                if resources.get("GPU", 0) >= cfg.num_learners + cfg.num_rollout_workers * cfg.rollout_gpus_per_worker
                else 0.0
            )
        for kind, each, rollout_each in (("CPU", cfg.learner_cpus, 1.0), ("GPU", gpus, cfg.rollout_gpus_per_worker)):
            need = cfg.num_learners * each + cfg.num_rollout_workers * rollout_each
            if need > resources.get(kind, 0):  # Ray would wait for them forever
                raise ValueError(
                    f"--num-learners {cfg.num_learners} (x {each:g} {kind}) and --num-rollout-workers "
                    f"{cfg.num_rollout_workers} (x {rollout_each:g} {kind}) need {need:g} {kind}s, but the Ray cluster "
                    f"has {resources.get(kind, 0):g}; use fewer learners, a smaller --learner-{kind.lower()}s, or a "
                    "larger cluster (--ray-address)"
                )
        actor = ray.remote(num_cpus=cfg.learner_cpus, num_gpus=gpus)(Learner)
        n = cfg.num_learners
        self.actors = [actor.remote(cfg.to_dict(), rank, n) for rank in range(n)]
        ready, _ = ray.wait([a.address.remote() for a in self.actors], num_returns=n, timeout=PLACEMENT_TIMEOUT_S)
        if len(ready) < n:  # other actors hold the resources: Ray would wait for ever
            free = ray.available_resources()
            for a in self.actors:
                ray.kill(a)
            raise RuntimeError(
                f"only {len(ready)} of {n} learners started in {PLACEMENT_TIMEOUT_S} s; the Ray cluster has "
                f"{free.get('CPU', 0):g} CPUs and {free.get('GPU', 0):g} GPUs free: end other Ray jobs or actors, "
                "or use fewer --num-learners"
            )
        master = ray.get(self.actors[0].address.remote())  # rank 0's node and a free port on it
        weights = ray.put({k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()})
        optim_state = ray.put(_to_cpu(optimizer.state_dict()))
        setup = [a.setup.remote(master, weights, optim_state) for a in self.actors]
        self.backend = ray.get(setup)[0]
        if cfg.shard and checkpoint is not None and (Path(checkpoint) / SHARDS).is_dir():
            # a sharded checkpoint: every learner reads its part of the shards (DCP reshards to N)
            self.ray.get([a.load_shards.remote(str(Path(checkpoint) / SHARDS)) for a in self.actors])
        # the driver's optimiser never steps (the learners do); its scheduler sets the LR the
        # learners use, so tell torch not to warn that the scheduler steps first
        optimizer._opt_called = True  # type: ignore[attr-defined]

    def update(self, model: torch.nn.Module, batch: RowBatch, group_sizes: list[int]) -> dict[str, Any]:
        """One GRPO update of the learners on the global ``batch`` (module docstring); the driver's
        ``model`` gets the new weights (with learner_rollouts only when :meth:`fetch_weights` asks).
        Returns the statistics of the in-process ``update``."""
        cfg = self.cfg
        num_episodes = sum(group_sizes)
        weights = row_weights(batch.mask, batch.episode, num_episodes, cfg.loss_type, cfg.max_new_tokens)
        shards = [
            micro_batches(batch, weights, start, stop, cfg.micro_batch_size)
            for start, stop in shard_rows(batch, group_sizes, len(self.actors))
        ]
        count = max(len(s) for s in shards)
        filler = (batch.rows(0, 1), torch.zeros(1), False)  # zero weight: no gradient, same collectives
        shards = [s + [filler] * (count - len(s)) for s in shards]
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        send = not cfg.learner_rollouts  # the driver's copy samples the next step
        results = self.ray.get([a.update.remote(s, lrs, send) for a, s in zip(self.actors, shards, strict=True)])
        stats = results[0]
        new_weights = stats.pop("weights")
        if send:
            model.load_state_dict(new_weights)
        self.stale = not send
        return stats

    def fetch_weights(self) -> None:
        """Loads the learners' current weights into the driver's model (learner_rollouts leaves it
        behind between checkpoints)."""
        if self.stale:
            weights = self.ray.get([a.weights.remote() for a in self.actors])[0]
            self.model.load_state_dict(weights)
            self.stale = False

    def optimizer_state(self) -> dict:
        """The learners' optimiser state in ``torch.optim`` form (gathered to rank 0 under FSDP2)."""
        return self.ray.get([a.optimizer_state.remote() for a in self.actors])[0]

    def write_state(self, folder: Path) -> dict[str, Any]:
        """A checkpoint's learner state (``save_checkpoint``'s ``write``): under FSDP2 every learner
        writes its shard into ``folder/shards`` and nothing is gathered; under DDP rank 0's
        optimiser state goes into ``state.pt``. The driver's model gets the current weights first."""
        self.fetch_weights()
        lrs = [group["lr"] for group in self.optimizer.param_groups]  # the next step's (the scheduler stepped)
        if not self.cfg.shard:
            state = self.optimizer_state()
            for group, lr in zip(state["param_groups"], lrs, strict=True):
                group["lr"] = lr
            return {"optimizer": state}
        self.ray.get([a.save_shards.remote(str(Path(folder) / SHARDS), lrs) for a in self.actors])
        return {"optimizer": None, "sharded": {"num_learners": len(self.actors), "lrs": lrs}}

    def rollouts(self) -> LearnerRollouts:
        """The trainer's rollout interface over the learners' own replicas (learner_rollouts)."""
        return LearnerRollouts(self)

    def close(self) -> None:
        self.ray.get([a.shutdown.remote() for a in self.actors])
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []


def split_groups(seeds: list[int], parts: int) -> list[list[int]]:
    """``seeds`` cut into ``parts`` contiguous runs of whole groups (a group = consecutive equal
    seeds), as equal in group count as possible; the first ``len % parts`` parts get one more."""
    starts = [i for i in range(len(seeds)) if i == 0 or seeds[i] != seeds[i - 1]] + [len(seeds)]
    groups = len(starts) - 1
    cuts = [starts[r * (groups // parts) + min(r, groups % parts)] for r in range(parts + 1)]
    return [seeds[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


class LearnerRollouts:
    """Rollouts from the learners (``learner_rollouts``): each plays a contiguous share of whole
    groups with its own DDP replica, which holds the newest weights already, so nothing is synced.
    Learner r samples with ``step_seed(seed, r)``: the same episodes as ``num_rollout_workers = N``
    Ray workers whenever the groups divide evenly over N (both then cut the same chunks)."""

    def __init__(self, group: LearnerGroup) -> None:
        self.group = group

    def sync(self, model: torch.nn.Module) -> None:
        """Nothing to send: the learners sample with the weights they trained."""

    def play(
        self,
        seeds: list[int],
        *,
        temperature: float,
        seed: int,
        options: dict[str, Any] | None = None,
    ) -> list:
        ray, actors = self.group.ray, self.group.actors
        futures = [
            actor.play.remote(part, temperature, seed, options)
            for actor, part in zip(actors, split_groups(seeds, len(actors)), strict=True)
            if part
        ]
        return [episode for part in ray.get(futures) for episode in part]

    def close(self) -> None:
        """The learners' env pools close with the learners (:meth:`LearnerGroup.close`)."""


def make_learners(
    cfg: GRPOConfig, model: torch.nn.Module, optimizer: torch.optim.Optimizer, checkpoint: Path | None = None
) -> LearnerGroup | None:
    """A :class:`LearnerGroup` when ``cfg.num_learners > 1``, else None (the in-process learner).
    ``optimizer`` is the driver's: its state seeds the learners', and its LR (set by the driver's
    scheduler) is the one they use. ``checkpoint``: the one resumed from; sharded learners read
    its shards, if it has any."""
    return LearnerGroup(cfg, model, optimizer, checkpoint) if cfg.num_learners > 1 else None
