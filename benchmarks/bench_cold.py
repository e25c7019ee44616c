"""Cold start of the command line: wall time of fresh processes, median of N runs each.

    python benchmarks/bench_cold.py [--runs 5] [--json]

Timed, interleaved so that machine noise hits all alike:
  python -c pass   the interpreter alone (the floor no command avoids)
  rag --help       argument parsing only: must not load torch, faiss or the format libraries
  rag ask "Q"      one question on the bundled index: load the index, the embedding model and the
                   reader, answer (the default)
  rag ask --no-reader "Q"  the same without the reader

Before timing, one `rag ask` runs untimed so that the ONNX cache holds both encoders (the first run
on a machine exports them with torch, once; see rag/runtime.py); its time is reported as
`first_run_s`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "What sanctions did the UK impose on Xinjiang officials?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rag = [sys.executable, "-m", "rag"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "rag --help": [*rag, "--help"],
        "rag ask": [*rag, "ask", QUESTION],
        "rag ask --no-reader": [*rag, "ask", "--no-reader", QUESTION],
    }
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    start = time.perf_counter()
    subprocess.run(commands["rag ask"], cwd=ROOT, env=env, check=True, capture_output=True)
    first = time.perf_counter() - start
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    result = {name: {"median_s": statistics.median(values), "min_s": min(values), "runs": len(values)}
              for name, values in times.items()}
    result["first_run_s"] = first
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'first rag ask':20} {first:6.2f} s (untimed warm-up: fills the ONNX cache if empty)")
    for name, r in ((n, r) for n, r in result.items() if n != "first_run_s"):
        print(f"{name:20} median {r['median_s']:6.2f} s  min {r['min_s']:6.2f} s  (n={r['runs']})")


if __name__ == "__main__":
    main()
