"""Two writers, one index: two `rag index` processes started together into one folder, round after round.

    python benchmarks/race_writers.py [--rounds 40] [--out benchmarks/results/race-writers.json]

Each round starts two `rag index CORPUS --out IDX` processes at the same moment, with the real
embedding model, on the bundled seeds copied to a temporary folder; odd rounds write a fresh index, even
rounds update the index of the round before after one document changed (so the writers also race to
reuse vectors). After both exit, the round checks what a user would: each writer's exit status and
message, that the published index loads and holds every document of the corpus as it is now, that
exactly one data folder and no temporary folder are left, and that `rag ask` answers from it.

A round fails if the index is incomplete or unloadable, if a writer fails without saying why, or if
leftovers remain. Both writers reporting success is expected now (the second waits for the first and
then reuses its vectors); the published index must then be whole.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def writer(corpus: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rag", "index", str(corpus), "--out", str(out), "--quiet"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def check(corpus: Path, out: Path) -> list[str]:
    """What is wrong with the published index (nothing: an empty list)."""
    from rag.index.storage import load_index
    from rag.ingest.documents import fingerprint

    problems = []
    try:
        index = load_index(out)
    except Exception as exc:  # the very thing this script looks for
        return [f"the index does not load: {type(exc).__name__}: {exc}"]
    on_disk = fingerprint(corpus)  # source -> content hash, as an index build reads the folder
    indexed = {source: doc["sha256"] for source, doc in index.manifest.documents.items()}
    if set(on_disk) != set(indexed):
        missing, extra = sorted(set(on_disk) - set(indexed))[:3], sorted(set(indexed) - set(on_disk))[:3]
        problems.append(f"documents differ: missing {missing}, extra {extra}")
    stale = [source for source in set(on_disk) & set(indexed) if on_disk[source] != indexed[source]]
    if stale:
        problems.append(f"documents indexed as they were before the round: {stale[:3]}")
    data = [p.name for p in out.iterdir() if p.is_dir() and p.name.startswith("data-")]
    if len(data) != 1:
        problems.append(f"{len(data)} data folders left: {data}")
    leftovers = [p.name for p in out.iterdir() if "tmp" in p.name]
    if leftovers:
        problems.append(f"temporary files left: {leftovers}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "race-writers.json"))
    args = parser.parse_args()
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(ROOT / "seeds", corpus)
        changing = sorted(corpus.glob("*.txt"))[0]
        original = changing.read_text(encoding="utf-8")
        out = Path(tmp) / "index"
        for n in range(1, args.rounds + 1):
            if n % 2:
                shutil.rmtree(out, ignore_errors=True)
            else:  # the update rounds: one document changed since the index was written
                changing.write_text(original + f"\n\nRound {n} added this paragraph to the letter.\n", encoding="utf-8")
            started = time.perf_counter()
            a, b = writer(corpus, out), writer(corpus, out)
            results = [(p.wait(), *p.communicate()) for p in (a, b)]
            seconds = time.perf_counter() - started
            problems = check(corpus, out)
            for code, _, err in results:
                if code != 0 and "rag:" not in err and "error" not in err.lower():
                    problems.append(f"a writer failed (exit {code}) without a message: {err[-300:]!r}")
            asked = subprocess.run([sys.executable, "-m", "rag", "ask", "--index", str(out), "--json",
                                    "What sanctions did the UK impose on Xinjiang officials?"],
                                   cwd=ROOT, capture_output=True, text=True)
            if asked.returncode != 0 or not json.loads(asked.stdout).get("answer"):
                problems.append(f"rag ask failed on the published index: {asked.stderr[-300:]!r}")
            rounds.append({"round": n, "kind": "fresh" if n % 2 else "update", "exits": [r[0] for r in results],
                           "waited_message": sum("waiting for it to finish" in r[2] for r in results),
                           "seconds": round(seconds, 1), "problems": problems})
            print(json.dumps(rounds[-1]), flush=True)
            if n % 2 == 0:
                changing.write_text(original, encoding="utf-8")
    summary = {"rounds": len(rounds), "failed_rounds": sum(bool(r["problems"]) for r in rounds),
               "both_ok": sum(r["exits"] == [0, 0] for r in rounds),
               "a_writer_waited": sum(r["waited_message"] > 0 for r in rounds), "rounds_detail": rounds}
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "rounds_detail"}))


if __name__ == "__main__":
    main()
