"""End-to-end: `rag eval --limit 200` on SQuAD dev ($SQUAD_DEV, else ../shared/data beside the checkout) with the
real model.

Checks the numbers are sane, not the targets (docs/evaluation.md gives the full run).
Building the index of 2,067 paragraphs takes about 3 minutes on 2 CPU cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
SQUAD = Path(os.environ.get("SQUAD_DEV") or Path(__file__).resolve().parent.parent.parent / "shared" / "data"
             / "squad-dev-v1.1.json")


@pytest.mark.skipif(not SQUAD.exists(), reason=f"{SQUAD} is not on this machine")
def test_rag_eval_limit_200_gives_sane_numbers(tmp_path):
    plot = tmp_path / "recall.png"
    result = subprocess.run([sys.executable, "-m", "rag", "eval", str(SQUAD), "--limit", "200", "--index",
                             str(tmp_path / "work"), "--json", "--plot", str(plot), "--no-reader",
                             "--follow-ups", "20"],
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["questions"] == 200 and report["passages"] >= 2060
    assert report["build_seconds"] > 0
    everything = report["all"]
    for mode, scores in everything["retrieval"].items():
        values = [scores[f"recall@{k}"] for k in (1, 3, 5, 20)]
        assert values == sorted(values), mode  # recall grows with k
        assert 0.5 < scores["recall@1"] <= scores["mrr"] <= 1.0, mode
    hybrid, bm25, dense = (everything["retrieval"][m]["recall@5"] for m in ("hybrid", "bm25", "dense"))
    assert hybrid >= max(bm25, dense) - 0.02  # fusion is not worse than either retriever alone
    assert 0.5 < everything["answer_accuracy"] <= everything["retrieval"]["hybrid"]["recall@3"] + 0.1
    assert everything["answered"] > 0.8
    assert everything["exact_match"] == 0.0 and report["calibration"] is None  # no reader: no short answers
    assert everything["held_out_questions"] > 10 and everything["held_out_answered"] < 0.5
    assert report["latency_ms"]["ask"]["p50"] > 0
    assert plot.read_bytes()[:4] == b"\x89PNG"
    follow = report["follow_ups"]["all"]
    assert follow["conversations"] == 20 and follow["was_rewritten"] > 0.5
    assert 0.0 < follow["original"] <= 1.0 and 0.0 <= follow["rewritten"] <= 1.0
