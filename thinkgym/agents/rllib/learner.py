"""``ReferenceKLPPOLearner``: RLlib's PPO learner plus a KL penalty to a frozen reference model.

RLlib's own ``kl_coeff`` penalises the KL to the *previous* policy (PPO's trust region). RLHF-style
training also anchors the policy to the model it started from, so that reward hacking and drift
are paid for. This learner adds, per sampled token ``a_t`` with log-ratio
``d_t = log pi_ref(a_t|s_t) - log pi_theta(a_t|s_t)``, one of Schulman's estimators of
``KL(pi_theta || pi_ref)`` (J. Schulman, "Approximating KL divergence", 2020; the k3 form is the
one DeepSeekMath's GRPO uses, Shao et al. 2024, Eq. 4):

* ``k1 = -d_t``  (unbiased, can be negative per token),
* ``k3 = exp(d_t) - d_t - 1``  (unbiased, always >= 0, lower variance),

averaged over the batch's tokens and added to PPO's loss times ``ref_kl_coeff``. The reference is
the checkpoint the module started from (``model_config["model"]``), loaded once per learner,
frozen, on the learner's device. The mean estimate is logged as ``ref_kl`` under the module's
learner results. Settings go in ``config.learner_config_dict``: ``ref_kl_coeff`` (default 0:
off) and ``ref_kl_estimator`` (``"k3"`` default, or ``"k1"``).
"""

from __future__ import annotations

from typing import Any

import torch
from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.core.columns import Columns

from thinkgym.agents.models import load_model
from thinkgym.agents.rllib.module import last_hidden

__all__ = ["ReferenceKLPPOLearner", "reference_kl"]

ESTIMATORS = ("k1", "k3")


def reference_kl(logp: torch.Tensor, ref_logp: torch.Tensor, estimator: str = "k3") -> torch.Tensor:
    """Per-token estimate of KL(pi_theta || pi_ref) from the sampled tokens' log-probabilities."""
    d = ref_logp - logp
    if estimator == "k1":
        return -d
    if estimator == "k3":
        return torch.exp(d) - d - 1
    raise ValueError(f"ref_kl_estimator must be one of {ESTIMATORS}, got {estimator!r}")


class ReferenceKLPPOLearner(PPOTorchLearner):
    """PPO (RLlib's torch learner) with ``ref_kl_coeff * KL(pi_theta || pi_ref)`` added to the loss."""

    def build(self) -> None:
        super().build()
        settings = self.config.learner_config_dict
        self.ref_kl_coeff = float(settings.get("ref_kl_coeff", 0.0))
        self.ref_kl_estimator = str(settings.get("ref_kl_estimator", "k3"))
        if self.ref_kl_coeff < 0:
            raise ValueError(f"ref_kl_coeff must be >= 0, got {self.ref_kl_coeff}")
        reference_kl(torch.zeros(1), torch.zeros(1), self.ref_kl_estimator)  # validates the name
        self._references: dict[str, Any] = {}

    def _reference(self, module_id: str, module: Any) -> Any:
        if module_id not in self._references:
            ref, _ = load_model(module.model_config["model"], dtype=torch.float32)
            ref.requires_grad_(False)
            self._references[module_id] = ref.eval().to(next(module.parameters()).device)
        return self._references[module_id]

    def compute_loss_for_module(
        self, *, module_id: str, config: Any, batch: dict[str, Any], fwd_out: dict[str, Any]
    ) -> torch.Tensor:
        loss = super().compute_loss_for_module(module_id=module_id, config=config, batch=batch, fwd_out=fwd_out)
        if self.ref_kl_coeff == 0:
            return loss
        module = self.module[module_id].unwrapped()
        actions = batch[Columns.ACTIONS].long().unsqueeze(-1)
        logp = torch.log_softmax(fwd_out[Columns.ACTION_DIST_INPUTS], dim=-1).gather(-1, actions).squeeze(-1)
        with torch.no_grad():
            ref = self._reference(module_id, module)
            ref_logits = ref.get_output_embeddings()(last_hidden(ref, batch[Columns.OBS]))[:, : module.action_space.n]
            ref_logp = torch.log_softmax(ref_logits, dim=-1).gather(-1, actions).squeeze(-1)
        per_token = reference_kl(logp, ref_logp, self.ref_kl_estimator)
        if Columns.LOSS_MASK in batch:
            mask = batch[Columns.LOSS_MASK]
            kl = per_token[mask].sum() / mask.sum()
        else:
            kl = per_token.mean()
        self.metrics.log_value((module_id, "ref_kl"), kl.detach(), window=1)
        return loss + self.ref_kl_coeff * kl
