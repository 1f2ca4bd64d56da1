"""R2R (Roads to Rome, arXiv 2505.21600): small–large token routing as a thinkgym policy, with the
router's label pipeline judged by thinkgym's exact verifiers. Needs the ``train`` extra."""

from thinkgym.agents.r2r.evaluate import routing_sweep
from thinkgym.agents.r2r.labels import RouterExample, label_divergences
from thinkgym.agents.r2r.policy import RoutedPolicy, RoutingStats
from thinkgym.agents.r2r.router import Router, choose_threshold, train_router

__all__ = [
    "RoutedPolicy",
    "Router",
    "RouterExample",
    "RoutingStats",
    "choose_threshold",
    "label_divergences",
    "routing_sweep",
    "train_router",
]
