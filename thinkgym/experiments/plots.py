"""Plots of sweep results (matplotlib, headless Agg backend; imported only when plotting)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_sweep"]


def plot_sweep(results: dict[str, list[dict[str, Any]]], path: str | Path, title: str = "") -> Path:
    """Three panels, one line per policy (``results`` maps a policy name to its sweep rows):
    pass@1 and pass@k by level; pass@1 against the difficulty estimate with a least-squares line
    and its R^2 (SATURN's Fig. 3 check of D); mean response length by level."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_pass, ax_d, ax_len) = plt.subplots(1, 3, figsize=(15, 4.2))
    for name, rows in results.items():
        levels = [r["level"] for r in rows]
        pass_cols = sorted((c for c in rows[0] if c.startswith("pass@")), key=lambda c: int(c[5:]))
        for col in dict.fromkeys((pass_cols[0], pass_cols[-1])):
            ax_pass.plot(levels, [r[col] for r in rows], marker="o", label=f"{name} {col}")
        d = np.array([r["difficulty"] for r in rows], dtype=float)
        p1 = np.array([r["pass@1"] for r in rows], dtype=float)
        (line,) = ax_d.plot(d, p1, "o", label=name)
        if len(rows) > 2 and np.ptp(d) > 0:
            slope, intercept = np.polyfit(d, p1, 1)
            fit = slope * d + intercept
            ss_tot = float(((p1 - p1.mean()) ** 2).sum())
            if ss_tot > 0:  # a constant pass rate has no R^2 to show
                r2 = 1 - float(((p1 - fit) ** 2).sum()) / ss_tot
                xs = np.linspace(d.min(), d.max(), 2)
                ax_d.plot(xs, slope * xs + intercept, "--", color=line.get_color(), label=f"{name} fit, R²={r2:.2f}")
        ax_len.plot(levels, [r["mean_response_chars"] for r in rows], marker="o", label=name)
    ticks = [r["level"] for r in next(iter(results.values()))]
    for ax in (ax_pass, ax_len):
        ax.set_xticks(ticks)
        ax.set_xlabel("level")
    ax_d.set_xlabel("difficulty estimate D")
    for ax in (ax_pass, ax_d, ax_len):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax_pass.set_ylim(-0.03, 1.03)
    ax_d.set_ylim(-0.03, 1.03)
    ax_pass.set_ylabel("pass@k")
    ax_d.set_ylabel("pass@1")
    ax_len.set_ylabel("mean response length (chars)")
    fig.suptitle(title or "thinkgym sweep")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
