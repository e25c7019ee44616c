"""Speed of answering with the reader, against the bare floor and the readers users pick instead.

    python benchmarks/bench_reader.py [--index DIR] [--squad FILE --limit N] [--rounds 3] [--json]

Measured in one process, question by question, interleaved so that machine noise hits all alike:
  floor            encode the question + one FAISS search (what no extractive QA over this index avoids),
                   with the embedder rag uses (ONNX Runtime)
  floor, torch     the same with the sentence-transformers (torch) embedder, as before ONNX Runtime
  ask, no reader   `qa.ask` with reader=False (retrieval + evidence scoring)
  ask, reader      `qa.ask` with the bundled reader as rag.load gives it (bf16 on torch where the CPU has
                   AMX, else fp32 on ONNX Runtime; the run prints which): the best passage read alone
                   first, more only while those read score below `reader_stops`
  ask, reader, no stop   the same reading all `reader_passages` in one pass (reader_stops=None)
  ask, reader ONNX fp32  the reader in fp32 on ONNX Runtime (the default where the CPU has no AMX)
  ask, reader torch      the same reader on torch fp32 (the path before ONNX Runtime)
  ask, reader int8 torch the reader on torch with int8 dynamic quantization (faster, less accurate)
  ask, reader bf16 torch the reader on torch in bfloat16 (fast where the CPU has bf16 matrix units, AMX)
  roberta-base     Haystack's default ExtractiveReader architecture (deepset/roberta-base-squad2 is a
                   roberta-base), one batched forward pass over the top-10 retrieved passages
                   (question + passage, up to 384 word pieces each, as its default max_seq_length)
  distilbert-base  the architecture of the transformers SQuAD pipeline's default model, same inputs
The two baselines are built from their architectures' default configs with random weights: the cost of
a forward pass does not depend on the weights, and no hub is reachable here. Their inputs are the
passages' lengths in our word pieces (the BPE of roberta gives lengths within a few per cent).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

import rag
from rag.answering.retrieval import retrieve

ROOT = Path(__file__).resolve().parent.parent


def summary(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)), "mean": float(ms.mean()),
            "n": len(ms)}


def baseline(kind: str):
    import torch
    from transformers import (
        DistilBertConfig,
        DistilBertForQuestionAnswering,
        RobertaConfig,
        RobertaForQuestionAnswering,
    )

    torch.manual_seed(0)
    if kind == "roberta-base":
        return RobertaForQuestionAnswering(RobertaConfig(vocab_size=50265, max_position_embeddings=514,
                                                         type_vocab_size=1)).eval()
    return DistilBertForQuestionAnswering(DistilBertConfig()).eval()


def baseline_forward(model, tokenizer, question: str, passages: list[str], max_length: int = 384) -> None:
    import torch

    q = len(tokenizer(question, add_special_tokens=False)["input_ids"])
    lengths = [min(max_length, q + len(tokenizer(p, add_special_tokens=False)["input_ids"]) + 3) for p in passages]
    width = max(lengths)
    ids = torch.full((len(passages), width), 5, dtype=torch.long)
    mask = torch.zeros((len(passages), width), dtype=torch.long)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    with torch.inference_mode():
        model(input_ids=ids, attention_mask=mask)


def txtai_search(qa):
    """txtai's hybrid search (BM25 + dense, the same embedding model) over the same passages."""
    from txtai import Embeddings

    from rag.encoders.embedder import resolve_model

    embeddings = Embeddings(path=resolve_model(qa.embedder.name), hybrid=True, content=False)
    embeddings.index([(p.id, p.text, None) for p in qa.index.passages])
    return lambda q: embeddings.search(q, 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default=None, help="index folder (default: the bundled seeds index)")
    parser.add_argument("--questions", default=str(ROOT / "benchmarks" / "seeds_questions.jsonl"))
    parser.add_argument("--squad", default=None, help="take questions from this SQuAD file instead")
    parser.add_argument("--limit", type=int, default=200, help="questions from --squad (seeded sample)")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions of every question")
    parser.add_argument("--baseline-questions", type=int, default=12,
                        help="questions the (slow) baseline readers are timed on, once each")
    parser.add_argument("--txtai", action="store_true",
                        help="also time txtai's hybrid search (BM25 + dense, same model) over the same passages "
                             "(pip install txtai)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    qa = rag.load(args.index, reader=True)
    if args.squad:
        from rag.eval.squad import load_squad, sample

        questions = [q.text for q in sample(load_squad(args.squad, Path(".rag-eval") / "bench-corpus"), args.limit)]
    else:
        questions = [json.loads(line)["question"] for line in Path(args.questions).read_text("utf-8").splitlines()]
    plain = rag.QA(qa.index, qa.embedder, reader=None, retrieval=qa.retrieval, answering=qa.answering)
    int8 = rag.QA(qa.index, qa.embedder, reader=rag.Reader.load(quantize=True), retrieval=qa.retrieval,
                  answering=qa.answering)
    bf16 = rag.QA(qa.index, qa.embedder, reader=rag.Reader.load(bf16=True), retrieval=qa.retrieval,
                  answering=qa.answering)
    on_torch = rag.QA(qa.index, qa.embedder, reader=rag.Reader.load(onnx=False, bf16=False),
                      retrieval=qa.retrieval, answering=qa.answering)
    on_onnx = rag.QA(qa.index, qa.embedder, reader=rag.Reader.load(bf16=False), retrieval=qa.retrieval,
                     answering=qa.answering)
    torch_embedder = rag.SentenceTransformerEmbedder(qa.embedder.name)
    read_all = rag.QA(qa.index, qa.embedder, reader=qa.reader, retrieval=qa.retrieval,
                      answering=replace(qa.answering, reader_stops=None))
    runners = {"ask, no reader": plain.ask, "ask, reader": qa.ask, "ask, reader, no stop": read_all.ask,
               "ask, reader ONNX fp32": on_onnx.ask, "ask, reader torch": on_torch.ask,
               "ask, reader int8 torch": int8.ask, "ask, reader bf16 torch": bf16.ask}
    if args.txtai:
        runners["txtai hybrid search"] = txtai_search(qa)
    for q in questions[:5]:  # warm-up
        for run in runners.values():
            run(q)
    floors = {"floor": qa.embedder, "floor, torch": torch_embedder}
    times: dict[str, list[float]] = {**{name: [] for name in floors}, **{name: [] for name in runners}}
    for _ in range(args.rounds):
        for q in questions:
            for name, embedder in floors.items():
                start = time.perf_counter()
                vector = embedder.encode([q])
                qa.index.store.search(vector, qa.retrieval.candidates * 2)
                times[name].append(time.perf_counter() - start)
            for name, run in runners.items():
                start = time.perf_counter()
                run(q)
                times[name].append(time.perf_counter() - start)

    tokenizer = on_torch.reader.tokenizer
    baselines = {name: baseline(name) for name in ("roberta-base", "distilbert-base")}
    base_times: dict[str, list[float]] = {"ask, reader (same questions)": [], **{f"{n} top-10": [] for n in baselines}}
    for q in questions[:args.baseline_questions]:
        vector = qa.embedder.encode([q])[0]
        top10 = [qa.index.passages[h.passage_id].text for h in retrieve(qa.index, vector, q, k=10,
                                                                         settings=qa.retrieval).hits]
        start = time.perf_counter()
        qa.ask(q)
        base_times["ask, reader (same questions)"].append(time.perf_counter() - start)
        for name, model in baselines.items():
            start = time.perf_counter()
            baseline_forward(model, tokenizer, q, top10)
            base_times[f"{name} top-10"].append(time.perf_counter() - start)

    result = {name: summary(values) for name, values in {**times, **base_times}.items()}
    floor, reader = result["floor"]["p50"], result["ask, reader"]["p50"]
    ours = result["ask, reader (same questions)"]["p50"]
    result["ratios"] = {
        "ask reader / floor (p50)": reader / floor,
        "ask reader / floor with the torch embedder (p50)": reader / result["floor, torch"]["p50"],
        "ask reader ONNX fp32 / floor (p50)": result["ask, reader ONNX fp32"]["p50"] / floor,
        "reader on torch / reader on ONNX Runtime (ask p50)": result["ask, reader torch"]["p50"]
        / result["ask, reader ONNX fp32"]["p50"],
        "ask reader bf16 torch / floor (p50)": result["ask, reader bf16 torch"]["p50"] / floor,
        "ask reader bf16 torch mean / p50": result["ask, reader bf16 torch"]["mean"]
        / result["ask, reader bf16 torch"]["p50"],
        "ask reader no stop / floor (p50)": result["ask, reader, no stop"]["p50"] / floor,
        "ask no reader / floor (p50)": result["ask, no reader"]["p50"] / floor,
        "reader cost, p50 ms (ask reader - ask no reader)": reader - result["ask, no reader"]["p50"],
        "roberta-base top-10 forward / ask reader (p50)": result["roberta-base top-10"]["p50"] / ours,
        "distilbert-base top-10 forward / ask reader (p50)": result["distilbert-base top-10"]["p50"] / ours,
        "ask reader mean / p50": result["ask, reader"]["mean"] / reader,
    }
    if args.txtai:
        txtai_mean = result["txtai hybrid search"]["mean"]
        result["ratios"]["ask no reader mean / txtai hybrid mean"] = result["ask, no reader"]["mean"] / txtai_mean
        result["ratios"]["ask reader mean / txtai hybrid mean"] = result["ask, reader"]["mean"] / txtai_mean
    result["questions"] = len(questions)
    result["reader runtime"] = qa.reader.runtime
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name, s in result.items():
        if isinstance(s, dict) and "p50" in s:
            print(f"{name:30} p50 {s['p50']:8.1f} ms  p95 {s['p95']:8.1f} ms  mean {s['mean']:8.1f} ms  (n={s['n']})")
    for name, value in result["ratios"].items():
        print(f"{name:52} {value:8.2f}")
    print(f"runtime: {qa.reader.runtime}, embedder {type(qa.embedder).__name__}; torch threads: "
          f"{__import__('torch').get_num_threads()}; baselines timed once on "
          f"{len(base_times['ask, reader (same questions)'])} questions")


if __name__ == "__main__":
    main()
