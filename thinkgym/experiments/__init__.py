"""Sweeps over difficulty, pass@k tables, plots and dataset export."""

from thinkgym.experiments.export import export_problems, find_leaks, saturn_benchmark
from thinkgym.experiments.sweep import sweep

__all__ = ["export_problems", "find_leaks", "saturn_benchmark", "sweep"]
