"""The training loop of the reader on SQuAD v1.1 train (`rag train-reader`): seeded, logged, CPU or GPU.

Data. A seeded sample of training articles is indexed with rag's own pipeline (the default model
and chunking), and every question of those articles is asked of that index, as at inference:
  - the gold passage (its sentences that contain the answer are positives, the others negatives);
  - the best-ranked other passage (a hard negative: what the retriever ranks at or above the gold);
  - the best-ranked passage of another article (teaches declining: nothing there answers).
Sentences of other passages of the gold article that contain the answer text are left unlabelled.

Loss, per question: binary cross-entropy on every labelled sentence (the score that declines), a
softmax over all the question's sentences towards the answering one (the choice), and start/end
cross-entropy on the answer's word pieces (the short answer). With `residual` weights the softmax
ranks each sentence's logit plus the evidence term inference adds (`rag.answering.evidence.reader_evidence`).
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..eval.metrics import contains_answer, short_answer_scores
from ..eval.squad import Question
from ..reader import Reader, ReaderConfig
from ..reader.files import load_trainable, save
from ..reader.network import embeddings_digest, keep_layers, new_model
from ..reader.rows import batch_tensors
from .card import write_card
from .examples import build_examples, rows_for, targets
from .settings import TrainSettings


def _loss(model, batch, device):
    import torch
    import torch.nn.functional as F

    rows, labels, evidence, starts, ends, owner = batch
    tensors = [t.to(device) for t in batch_tensors(rows)]
    sentence_logits, first, start_logits, end_logits = model(*tensors)
    # The loss in fp32 whatever the forward pass ran in (bf16 autocast leaves bf16 logits).
    sentence_logits, start_logits, end_logits = (t.float() for t in (sentence_logits, start_logits, end_logits))
    width = sentence_logits.shape[1]
    target = torch.full((len(rows), width), -1.0, device=device)
    added = torch.zeros((len(rows), width), device=device)
    for r, (lab, ev) in enumerate(zip(labels, evidence)):
        target[r, :len(lab)] = torch.tensor(lab, dtype=torch.float, device=device)
        added[r, :len(ev)] = torch.tensor(ev, dtype=torch.float, device=device)
    known = target >= 0
    bce = F.binary_cross_entropy_with_logits(sentence_logits[known], target[known])
    # The choice: a softmax over each question's sentences (all its rows) towards the answering ones.
    owner = torch.tensor(owner, device=device)
    listwise = []
    for q in owner.unique():
        mine = owner == q
        logits, t = (sentence_logits + added)[mine][known[mine]], target[mine][known[mine]]
        if (t > 0).any():
            listwise.append(torch.logsumexp(logits, 0) - torch.logsumexp(logits[t > 0], 0))
    listwise = torch.stack(listwise).mean() if listwise else sentence_logits.sum() * 0
    context = tensors[3] >= 0
    start_t = torch.tensor(starts, device=device)
    end_t = torch.tensor(ends, device=device)
    has = start_t >= 0
    if has.any():
        masked_s = start_logits.masked_fill(~context, -1e4)[has]
        masked_e = end_logits.masked_fill(~context, -1e4)[has]
        span = (F.cross_entropy(masked_s, start_t[has]) + F.cross_entropy(masked_e, end_t[has])) / 2
    else:
        span = sentence_logits.sum() * 0
    parts = {"bce": bce.item(), "listwise": listwise.item(), "span": span.item()}
    return bce + listwise + span, parts


def validate(reader: Reader, questions: Sequence[Question], index, embedder, passages: int = 3) -> dict:
    """Sentence accuracy, short-answer exact match and F1 on validation questions asked of the index
    of the sampled articles, with the reader reading the top `passages` retrieved passages."""
    from ..answering.retrieval import retrieve

    vectors = embedder.encode([q.text for q in questions], batch_size=128)
    correct, em, f1 = [], [], []
    for q, vector in zip(questions, vectors):
        hits = retrieve(index, vector, q.text, k=passages).hits
        chosen = [index.passages[h.passage_id] for h in hits]
        reads = reader.read(q.text, [(p.title, p.text, p.sentences) for p in chosen])
        best = max(reads, key=lambda r: r.logit)
        p = chosen[best.passage]
        sentence = p.sentence_text(best.sentence)
        short = sentence[best.span[0]:best.span[1]]
        correct.append(contains_answer(sentence, q.answers))
        exact, overlap = short_answer_scores(short, q.answers)
        em.append(exact)
        f1.append(overlap)
    return {"sentence_accuracy": float(np.mean(correct)), "exact_match": float(np.mean(em)),
            "f1": float(np.mean(f1)), "questions": len(questions)}


def train(settings: TrainSettings) -> dict:
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoTokenizer

    from ..encoders.embedder import resolve_model

    started = time.perf_counter()
    out = Path(settings.out)
    work = Path(settings.work)
    work.mkdir(parents=True, exist_ok=True)
    log_path = work / "train-log.jsonl"
    log_file = log_path.open("a", encoding="utf-8")

    def log(message: str | dict) -> None:
        record = message if isinstance(message, dict) else {"message": message}
        record = {"t": round(time.perf_counter() - started, 1), **record}
        log_file.write(json.dumps(record) + "\n")
        log_file.flush()
        tqdm.write(json.dumps(record))

    random.seed(settings.seed)
    np.random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if settings.device == "auto" else settings.device
    log({"settings": asdict(settings), "device": device, "threads": torch.get_num_threads()})
    groups, validation, (index, embedder) = build_examples(settings, log)
    model = load_trainable(settings.init) if settings.init else new_model(settings.base_model)
    model = keep_layers(model, settings.layers)
    previous = None  # the training record of the reader this run continues, kept in its own
    if settings.init and (Path(settings.init) / "training.json").is_file():
        previous = json.loads((Path(settings.init) / "training.json").read_text(encoding="utf-8"))
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(settings.base_model))
    tokenizer.model_max_length = 1 << 30  # passages are cut into rows by make_rows, not by the tokenizer
    config = ReaderConfig(base_model=settings.base_model, max_length=settings.max_length,
                             word_embeddings_sha256=embeddings_digest(model),
                             layers=len(model.encoder.encoder.layer))
    model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    model.to(device)
    heads = [p for n, p in model.named_parameters() if not n.startswith("encoder.") and p.requires_grad]
    body = [p for n, p in model.named_parameters() if n.startswith("encoder.") and p.requires_grad]
    optimizer = torch.optim.AdamW([{"params": body, "lr": settings.lr}, {"params": heads, "lr": settings.head_lr}],
                                  weight_decay=0.01)
    steps = settings.epochs * math.ceil(len(groups) / settings.batch_questions)
    warmup = max(1, int(steps * settings.warmup))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    rng = random.Random(settings.seed)
    step, running = 0, []
    bar = tqdm(total=steps, desc="Training", unit="step")
    for epoch in range(settings.epochs):
        order = list(range(len(groups)))
        rng.shuffle(order)
        for b in range(0, len(order), settings.batch_questions):
            rows, labels, evidence, starts, ends, owner = [], [], [], [], [], []
            for qi, g in enumerate(order[b:b + settings.batch_questions]):
                for example in groups[g]:
                    row = rows_for(tokenizer, config, example)
                    lab, ev, s, e = targets(row, example)
                    rows.append(row)
                    labels.append(lab)
                    evidence.append(ev)
                    starts.append(s)
                    ends.append(e)
                    owner.append(qi)
            model.train()
            with torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16, enabled=settings.bf16):
                loss, parts = _loss(model, (rows, labels, evidence, starts, ends, owner), device)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            running.append(parts)
            bar.update(1)
            if step % 50 == 0 or step == steps:
                mean = {k: round(float(np.mean([r[k] for r in running])), 4) for k in running[0]}
                bar.set_postfix(mean)
                log({"step": step, "epoch": epoch, "lr": scheduler.get_last_lr()[0], **mean})
                running = []
            if step % 500 == 0 and step < steps:
                save(model, config, work / "checkpoint")
    bar.close()
    train_seconds = time.perf_counter() - started
    model.eval()
    save(model.to("cpu"), config, out)
    log(f"saved the reader to {out}")
    metrics = {"train_seconds": round(train_seconds, 1), "steps": steps, "questions": len(groups),
               "rows": sum(len(g) for g in groups)}
    for quantize in (False, True):
        reader = Reader.load(out, quantize=quantize)
        metrics["validation_int8" if quantize else "validation_fp16"] = validate(reader, validation, index, embedder)
        log({"validation": metrics["validation_int8" if quantize else "validation_fp16"], "int8": quantize})
    if settings.init:  # what this stage added: the weights it started from, on the same questions and index
        metrics["validation_init"] = validate(Reader.load(settings.init), validation, index, embedder)
        log({"validation_init": metrics["validation_init"]})
    record = {"settings": asdict(settings), "device": device, **metrics}
    if previous is not None:
        record["previous_stage"] = previous
    (out / "training.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    write_card(out)
    return metrics
