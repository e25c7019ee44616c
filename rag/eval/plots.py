"""The evaluation's plots (matplotlib, imported when a plot is asked for): recall@k per retrieval mode and the
reader's reliability diagram."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import RagError


def plot(report: dict, path: str | Path, *, max_k: int = 20) -> Path:
    """A PNG of recall@k (k = 1..max_k) for each retrieval mode."""
    plt = _pyplot()
    ks = np.arange(1, max_k + 1)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    labels = {"hybrid": "hybrid (rag default)", "bm25": "BM25 only", "dense": "dense only"}
    for mode, ranks in report["ranks"].items():
        found = np.array([r if r is not None else max_k + 1 for r in ranks])
        ax.plot(ks, [(found <= k).mean() for k in ks], marker="o", markersize=3, label=labels.get(mode, mode))
    ax.set_xlabel("k (passages returned)")
    ax.set_ylabel("recall@k (gold paragraph in top k)")
    ax.set_title(f"SQuAD-open, {report['questions']:,} questions, {report['passages']:,} paragraphs")
    ax.set_xticks([1, 3, 5, 10, 15, 20])
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return _save(fig, path)


def plot_reliability(report: dict, path: str | Path) -> Path:
    """A PNG of the reader's reliability on the report split: stated confidence against share correct."""
    plt = _pyplot()
    points = report["calibration"]["reliability_report"]
    fig, ax = plt.subplots(figsize=(4.8, 4.4), dpi=120)
    ax.plot([0, 1], [0, 1], color="#999", linestyle="--", label="perfect calibration")
    ax.plot([p["confidence"] for p in points], [p["correct"] for p in points], marker="o", label="reader")
    for p in points:
        ax.annotate(f"{p['count']}", (p["confidence"], p["correct"]), fontsize=6, xytext=(3, -8),
                    textcoords="offset points")
    ax.set_xlabel("confidence (calibrated on the tune split)")
    ax.set_ylabel("share of quotes that answer (report split)")
    ax.set_title("Reader reliability, SQuAD-open report split")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    return _save(fig, path)


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise RagError("plots need matplotlib: pip install 'rag-quotes[plots]' (or leave out --plot)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
