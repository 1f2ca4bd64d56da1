"""Plots of sweep results (matplotlib, headless Agg backend; imported only when plotting)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_sweep"]


def plot_sweep(results: dict[str, list[dict[str, Any]]], path: str | Path, title: str = "") -> Path:
    """Up to three panels, one line per policy (``results`` maps a policy name to its sweep rows;
    per-family rows of a mixture, ``part_of`` set, are left out): pass@1 and pass@k by level
    (pass@1 solid with filled dots, pass@k dashed with open squares, so equal values stay visible);
    pass@1 against the difficulty estimate with a least-squares line and its R^2 (SATURN's Fig. 3
    check of D); mean response length by level, drawn only when it tells the policies or the levels
    apart."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = {name: [r for r in rows if not r.get("part_of")] for name, rows in results.items()}
    lengths = {name: [r["mean_response_chars"] for r in rows] for name, rows in results.items()}
    show_len = _informative(list(lengths.values()))
    fig, axes = plt.subplots(1, 3 if show_len else 2, figsize=(15 if show_len else 10.5, 4.2))
    ax_pass, ax_d = axes[0], axes[1]
    for index, (name, rows) in enumerate(results.items()):
        levels = [r["level"] for r in rows]
        pass_cols = sorted((c for c in rows[0] if c.startswith("pass@")), key=lambda c: int(c[5:]))
        color = f"C{index}"
        first, last = pass_cols[0], pass_cols[-1]
        ax_pass.plot(levels, [r[first] for r in rows], "-o", color=color, markersize=5, label=f"{name} {first}")
        if last != first:
            ax_pass.plot(
                levels,
                [r[last] for r in rows],
                "--s",
                color=color,
                markersize=10,
                markerfacecolor="none",
                label=f"{name} {last}",
            )
        d = np.array([r["difficulty"] for r in rows], dtype=float)
        p1 = np.array([r["pass@1"] for r in rows], dtype=float)
        ax_d.plot(d, p1, "o", color=color, label=name)
        if len(rows) > 2 and np.ptp(d) > 0:
            slope, intercept = np.polyfit(d, p1, 1)
            fit = slope * d + intercept
            ss_tot = float(((p1 - p1.mean()) ** 2).sum())
            if ss_tot > 0:  # a constant pass rate has no R^2 to show
                r2 = 1 - float(((p1 - fit) ** 2).sum()) / ss_tot
                xs = np.linspace(d.min(), d.max(), 2)
                ax_d.plot(xs, slope * xs + intercept, "--", color=color, label=f"{name} fit, R²={r2:.2f}")
        if show_len:
            axes[2].plot(levels, lengths[name], "-o", color=color, label=name)
    ticks = [r["level"] for r in next(iter(results.values()))]
    for ax in [ax_pass, *axes[2:]]:
        ax.set_xticks(ticks)
        ax.set_xlabel("level")
    ax_d.set_xlabel("difficulty estimate D")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax_pass.set_ylim(-0.03, 1.05)
    ax_d.set_ylim(-0.03, 1.05)
    ax_pass.set_ylabel("pass@k")
    ax_d.set_ylabel("pass@1")
    if show_len:
        axes[2].set_ylabel("mean response length (chars)")
    fig.suptitle(title or "thinkgym sweep")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _informative(series: list[list[float]]) -> bool:
    """A panel of these lines says something when the lines differ, or one line varies."""
    if len(series) > 1:
        return any(s != series[0] for s in series[1:])
    return bool(series) and len(set(series[0])) > 1
