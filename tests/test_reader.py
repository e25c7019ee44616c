"""The reader with a tiny model built here (random weights, a vocabulary of the test corpus):
input rows, span offsets, save/load, the answer contract and the decline path."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, replace

import numpy as np
import pytest
from conftest import TINY, write_corpus

import rag
from rag import reader as rd
from rag.answering.retrieval import retrieve
from rag.errors import ModelLoadError
from rag.eval.metrics import fit_calibration, reliability, short_answer_scores
from rag.reader.config import CONFIG, FROZEN, WEIGHTS
from rag.reader.files import load_trainable, save, write_calibration
from rag.reader.network import embeddings_digest, keep_layers, new_model
from rag.reader.rows import TOKEN_BUCKET, batch_arrays, pad_to_buckets, sentence_members

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    """A 2-layer, 32-wide BERT and a word-level vocabulary, saved as a base model folder."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-base")
    words = sorted({w for text in TINY.values() for w in re.findall(r"\w+|[^\w\s]", text.lower())})
    words += ["where", "does", "what", "is", "how", "many", "who", "|"]
    tokenizer = BertTokenizerFast(vocab={w: i for i, w in enumerate(SPECIAL + sorted(set(words)))})
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_reader_dir(tiny_base, tmp_path_factory):
    import torch

    torch.manual_seed(1)
    model = new_model(str(tiny_base))
    config = rd.ReaderConfig(base_model=str(tiny_base), max_length=48, question_tokens=12,
                             word_embeddings_sha256=embeddings_digest(model))
    folder = save(model, config, tmp_path_factory.mktemp("reader"))
    return folder


@pytest.fixture(scope="module")
def tiny_reader(tiny_reader_dir):
    return rd.Reader.load(tiny_reader_dir, quantize=False, bf16=False)  # the same runtime on every CPU


PASSAGE = ("Rivers of Europe", "The Danube flows through ten countries. The Rhine rises in the Swiss Alps.",
           ((0, 39), (40, 73)))


def test_rows_map_every_word_piece_back_to_its_sentence(tiny_reader):
    rows = rd.make_rows(tiny_reader.tokenizer, tiny_reader.config, "Where does the Rhine rise?", [PASSAGE])
    assert len(rows) == 1
    row = rows[0]
    _, text, spans = PASSAGE
    for sentence, (start, end) in zip(row.sentence_of, row.offsets):
        if sentence >= 0:
            s, e = spans[sentence]
            assert s <= start < end <= e
    assert sorted({s for s in row.sentence_of if s >= 0}) == [0, 1]
    tokenizer = tiny_reader.tokenizer
    assert row.input_ids[0] == tokenizer.cls_token_id and row.input_ids[-1] == tokenizer.sep_token_id


def test_a_long_passage_is_cut_into_rows_at_sentence_boundaries(tiny_reader):
    sentence = "The Danube flows through ten countries."
    text = " ".join([sentence] * 12)
    spans = tuple((i * (len(sentence) + 1), i * (len(sentence) + 1) + len(sentence)) for i in range(12))
    long_question = "Where does the Danube flow " + "how many " * 40 + "?"
    rows = rd.make_rows(tiny_reader.tokenizer, tiny_reader.config, long_question, [("Rivers", text, spans)])
    assert len(rows) > 1
    assert all(len(r.input_ids) <= tiny_reader.config.max_length for r in rows)
    seen = [s for r in rows for s in dict.fromkeys(x for x in r.sentence_of if x >= 0)]
    assert seen == list(range(12))  # every sentence once, in order: no sentence is split across rows


def test_a_huge_passage_is_read_for_at_most_the_row_limit(tiny_reader, monkeypatch):
    from rag.reader import rows

    monkeypatch.setattr(rows, "MAX_ROWS_PER_PASSAGE", 3)
    sentence = "The Danube flows through ten countries."
    text = " ".join([sentence] * 5000)
    spans = tuple((i * (len(sentence) + 1), i * (len(sentence) + 1) + len(sentence)) for i in range(5000))
    made = rd.make_rows(tiny_reader.tokenizer, tiny_reader.config, "Where?", [("Rivers", text, spans)])
    assert len(made) == 3
    assert [s for r in made for s in dict.fromkeys(x for x in r.sentence_of if x >= 0)] == \
        list(range(len({s for r in made for s in r.sentence_of if s >= 0})))  # the first sentences, in order


def test_read_scores_every_sentence_with_a_span_inside_it(tiny_reader):
    other = ("Cats", "A group of cats is called a clowder.", ((0, 36),))
    reads = tiny_reader.read("Where does the Rhine rise?", [PASSAGE, other])
    assert [(r.passage, r.sentence) for r in reads] == [(0, 0), (0, 1), (1, 0)]
    for r in reads:
        s, e = (PASSAGE if r.passage == 0 else other)[2][r.sentence]
        assert 0 <= r.span[0] < r.span[1] <= e - s
        assert np.isfinite(r.logit)


def test_saved_weights_leave_out_the_base_word_embeddings_and_load_back_exactly(tiny_reader_dir, tiny_base):
    import torch
    from safetensors.torch import load_file

    stored = load_file(str(tiny_reader_dir / WEIGHTS))
    assert FROZEN not in stored and all(t.dtype == torch.float16 for t in stored.values())
    fp32 = rd.Reader.load(tiny_reader_dir, quantize=False, bf16=False)
    int8 = rd.Reader.load(tiny_reader_dir, quantize=True)
    question = "Where does the Rhine rise?"
    a = [r.logit for r in fp32.read(question, [PASSAGE])]
    b = [r.logit for r in int8.read(question, [PASSAGE])]
    assert np.allclose(a, b, atol=0.25)


def test_a_reader_with_fewer_layers_saves_and_loads_back_with_them(tiny_base, tmp_path):
    import torch

    assert [len(keep_layers(new_model(str(tiny_base)), n).encoder.encoder.layer) for n in (0, 1, 2, 5)] == \
        [2, 1, 2, 2]
    torch.manual_seed(2)
    model = new_model(str(tiny_base), layers=1)
    config = rd.ReaderConfig(base_model=str(tiny_base), max_length=48, question_tokens=12, layers=1,
                             word_embeddings_sha256=embeddings_digest(model))
    folder = save(model, config, tmp_path / "one-layer")
    again = load_trainable(folder)
    assert len(again.encoder.encoder.layer) == 1 and again.encoder.config.num_hidden_layers == 1
    reads = rd.Reader.load(folder, onnx=False, bf16=False).read("Where does the Rhine rise?", [PASSAGE])
    assert len(reads) == 2 and all(np.isfinite(r.logit) for r in reads)
    # The same weights under a config that keeps every layer do not fit: refused, naming the keys.
    (folder / CONFIG).write_text(json.dumps({**asdict(config), "layers": 0}), encoding="utf-8")
    with pytest.raises(ModelLoadError, match=r"do not fit its model \(missing \['encoder.encoder.layer.1"):
        load_trainable(folder)


def test_a_bfloat16_reader_reads_like_the_fp32_one(tiny_reader_dir):
    fp32 = rd.Reader.load(tiny_reader_dir, onnx=False, bf16=False)
    bf16 = rd.Reader.load(tiny_reader_dir, bf16=True)
    question = "Where does the Rhine rise?"
    a, b = fp32.read(question, [PASSAGE]), bf16.read(question, [PASSAGE])
    assert [(r.passage, r.sentence) for r in a] == [(r.passage, r.sentence) for r in b]
    assert np.allclose([r.logit for r in a], [r.logit for r in b], atol=0.25)
    assert bf16.runtime == "torch-bf16" and fp32.runtime == "torch"
    with pytest.raises(ValueError, match="choose int8 .* or bfloat16 .*, not both"):
        rd.Reader.load(tiny_reader_dir, quantize=True, bf16=True)


def test_padding_to_a_few_shapes_leaves_every_output_unchanged(tiny_reader_dir):
    fp32 = rd.Reader.load(tiny_reader_dir, onnx=False, bf16=False)
    rows = rd.make_rows(fp32.tokenizer, fp32.config, "Where does the Rhine rise?", [PASSAGE] * 5)
    ids, types, mask, sentence_of = batch_arrays(rows)
    member = sentence_members(sentence_of)[1]
    padded = pad_to_buckets(ids, types, mask, member)
    assert len(rows) == 5 and padded[0].shape == (6, -(-ids.shape[1] // TOKEN_BUCKET) * TOKEN_BUCKET)
    assert padded[2][5].sum() == 1 and padded[3][:, ids.shape[1]:].sum() == 0
    plain, bucketed = fp32._run(ids, types, mask, member), fp32._run(*padded)
    for a, b in zip(plain, bucketed):
        b = b[:len(rows), :a.shape[1]]
        assert np.allclose(a, b, atol=1e-4)


def test_rag_runtime_bf16_asks_for_the_bfloat16_reader(tiny_reader_dir, monkeypatch):
    import torch

    monkeypatch.setenv("RAG_RUNTIME", "bf16")
    reader = rd.Reader.load(tiny_reader_dir)
    assert reader.session is None and reader.model.encoder.embeddings.word_embeddings.weight.dtype == torch.bfloat16
    assert reader.runtime == "torch-bf16"
    assert rd.Reader.load(tiny_reader_dir, bf16=False).runtime == "onnxruntime"  # ONNX Runtime is not switched off


def test_by_default_the_reader_runs_in_bfloat16_where_the_cpu_has_amx_and_on_onnx_elsewhere(tiny_reader_dir,
                                                                                               monkeypatch):
    from rag.encoders import runtime

    monkeypatch.delenv("RAG_RUNTIME", raising=False)
    monkeypatch.setattr(runtime, "bf16_matrix_units", lambda: True)
    assert rd.Reader.load(tiny_reader_dir).runtime == "torch-bf16"
    assert rd.Reader.load(tiny_reader_dir, quantize=True).runtime == "torch"  # int8 asked for: not bf16
    # A process that answers a few questions and ends (`rag ask`) keeps ONNX Runtime's fast start.
    few, many = runtime.BF16_PAYS_FROM_QUESTIONS - 1, runtime.BF16_PAYS_FROM_QUESTIONS
    assert (runtime.reader_bf16(few), runtime.reader_bf16(many), runtime.reader_bf16()) == (False, True, True)
    monkeypatch.setenv("RAG_RUNTIME", "bf16")  # asked for: whatever the count
    assert runtime.reader_bf16(1)
    monkeypatch.setenv("RAG_RUNTIME", "onnx")  # fp32 everywhere, AMX or not
    assert rd.Reader.load(tiny_reader_dir).runtime == "onnxruntime" and not runtime.reader_bf16(many)
    monkeypatch.setenv("RAG_RUNTIME", "auto")
    monkeypatch.setattr(runtime, "bf16_matrix_units", lambda: False)
    assert rd.Reader.load(tiny_reader_dir).runtime == "onnxruntime"


def test_amx_is_read_from_the_cpu_flags_and_a_missing_file_means_none(tmp_path):
    from rag.encoders import runtime

    amx, avx = tmp_path / "amx", tmp_path / "avx"
    amx.write_text("processor\t: 0\nflags\t\t: fpu avx512f amx_bf16 amx_tile\n\nprocessor\t: 1\n")
    avx.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16\nbugs\t\t: amx_bf16_fake\n")
    assert runtime.bf16_matrix_units(str(amx)) is True
    assert runtime.bf16_matrix_units(str(avx)) is False
    assert runtime.bf16_matrix_units(str(tmp_path / "missing")) is False


def test_an_unknown_rag_runtime_is_refused_with_the_choices(tiny_reader_dir, monkeypatch):
    monkeypatch.setenv("RAG_RUNTIME", "bfloat16")
    with pytest.raises(rag.RagError, match=r"RAG_RUNTIME='bfloat16' is not one of auto, onnx, torch, bf16"):
        rd.Reader.load(tiny_reader_dir)


def test_answering_runs_blas_on_one_thread_and_restores_it_after():
    from threadpoolctl import threadpool_info

    from rag.encoders import runtime

    before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    with runtime.one_blas_thread():
        assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
    assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == before


def test_qa_with_the_reader_gives_the_short_answer_inside_the_quote(corpus, embedder, tiny_reader):
    qa = rag.build(corpus, model=embedder, reader=tiny_reader)
    assert qa.reader is tiny_reader
    always = rag.QA(qa.index, embedder, reader=tiny_reader, answering=rag.AnswerSettings(reader_threshold=0.0))
    answer = always.ask("Where does the Rhine rise?")
    assert answer.answered and answer.citations[0].context[answer.citations[0].start:answer.citations[0].end] == \
        answer.answer
    start, end = answer.answer_span
    assert answer.answer[start:end] == answer.short_answer and answer.short_answer
    data = json.loads(json.dumps(answer.to_dict()))
    assert data["answer"][data["answer_span"][0]:data["answer_span"][1]] == data["short_answer"]
    assert 0.0 <= data["confidence"] <= 1.0


def test_the_reader_declines_below_its_threshold(corpus, embedder, tiny_reader):
    index = rag.build(corpus, model=embedder, reader=False).index
    never = rag.QA(index, embedder, reader=tiny_reader, answering=rag.AnswerSettings(reader_threshold=1.01))
    answer = never.ask("Where does the Rhine rise?")
    assert not answer.answered and answer.answer == "" and answer.answer_span is None
    assert answer.short_answer == "" and answer.citations == []
    assert answer.message.startswith("The documents don't say")
    assert answer.alternatives  # the nearest sentences are still offered to read


def test_reader_false_keeps_the_evidence_path(corpus, embedder):
    answer = rag.build(corpus, model=embedder, reader=False).ask("Where does the Rhine rise?")
    assert answer.answer == "The Rhine rises in the Swiss Alps and ends in the North Sea."
    assert answer.answer_span is None and answer.short_answer == ""


def test_a_missing_reader_says_what_to_do(tmp_path):
    with pytest.raises(ModelLoadError, match=r"no reader at .* \(it needs config.json and reader.safetensors\): "
                                             r"the bundled reader ships with rag"):
        rd.Reader.load(tmp_path / "nowhere")


def test_weights_that_do_not_fit_are_refused_with_the_keys(tiny_reader_dir, tmp_path):
    from safetensors.torch import load_file, save_file

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / CONFIG).write_text((tiny_reader_dir / CONFIG).read_text())
    tensors = load_file(str(tiny_reader_dir / WEIGHTS))
    tensors.pop("span_head.weight")
    save_file(tensors, str(broken / WEIGHTS))
    with pytest.raises(ModelLoadError, match=r"do not fit its model \(missing \['span_head.weight'\]"):
        rd.Reader.load(broken)


def test_a_reader_trained_on_other_word_embeddings_is_refused(tiny_reader_dir, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    config = json.loads((tiny_reader_dir / CONFIG).read_text())
    (other / CONFIG).write_text(json.dumps(dict(config, word_embeddings_sha256="0" * 64)))
    (other / WEIGHTS).write_bytes((tiny_reader_dir / WEIGHTS).read_bytes())
    with pytest.raises(ModelLoadError, match="was trained on other word embeddings"):
        rd.Reader.load(other)


def test_a_damaged_config_is_refused(tiny_reader_dir, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / CONFIG).write_text('{"base_model": "x", "colour": 3}')
    (bad / WEIGHTS).write_bytes(b"")
    with pytest.raises(ModelLoadError, match="config.json in .* is not valid"):
        rd.Reader.load(bad)


def test_best_span_is_ordered_and_bounded():
    start = np.array([0.0, 5.0, 0.0, 0.0, 0.0])
    end = np.array([0.0, 0.0, 0.0, 0.0, 9.0])
    assert rd.best_span(start, end, max_tokens=10) == (1, 4)
    assert rd.best_span(start, end, max_tokens=2) in {(1, 2), (1, 1), (3, 4), (4, 4)}
    assert rd.best_span(np.array([0.0, 0.0, 3.0]), np.array([4.0, 0.0, 0.0]), 5) != (2, 0)


def test_calibration_recovers_a_known_curve_and_bins_it():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, 20000)
    truth = rng.random(20000) < 1 / (1 + np.exp(-(0.5 * logits - 1.0)))
    scale, bias = fit_calibration(logits, truth)
    assert abs(scale - 0.5) < 0.05 and abs(bias + 1.0) < 0.08
    bins = reliability(1 / (1 + np.exp(-(scale * logits + bias))), truth)
    assert sum(b["count"] for b in bins) == 20000
    assert all(abs(b["confidence"] - b["correct"]) < 0.05 for b in bins if b["count"] > 500)
    # Large, shifted scores (a logit plus evidence, say) must not make the fit diverge.
    scale, bias = fit_calibration(20 + 8 * logits, truth)
    assert abs(scale - 0.5 / 8) < 0.01 and abs(bias - (-1.0 - 0.5 * 20 / 8)) < 0.15
    with pytest.raises(ValueError, match="both correct and wrong"):
        fit_calibration([1.0, 2.0], [True, True])


def test_short_answer_scores_follow_squad():
    assert short_answer_scores("the Swiss Alps", ["Swiss Alps"]) == (1.0, 1.0)
    em, f1 = short_answer_scores("in the Swiss Alps mountains", ["Swiss Alps"])
    assert em == 0.0 and f1 == pytest.approx(2 * (2 / 4) * 1 / (2 / 4 + 1))
    assert short_answer_scores("", ["Swiss Alps"]) == (0.0, 0.0)


def test_the_tiny_tokenizer_knows_the_corpus_words(tiny_reader):
    assert tiny_reader.tokenizer.tokenize("The Swiss Alps.") == ["the", "swiss", "alps", "."]


def _rhine_row(reader):
    """A training row for 'Where does the Rhine rise?' over PASSAGE, with its targets."""
    from rag.training.examples import Example, rows_for, targets

    title, text, spans = PASSAGE
    answer = text.index("Swiss Alps")
    example = Example("Where does the Rhine rise?", ("Swiss Alps",), title, text, spans, (0, 1),
                      (answer, answer + len("Swiss Alps")))
    row = rows_for(reader.tokenizer, reader.config, example)
    return (row, *targets(row, example))


def test_training_targets_mark_the_answer_word_pieces(tiny_reader):
    row, labels, evidence, start, end = _rhine_row(tiny_reader)
    assert labels == [0, 1] and evidence == [0.0, 0.0]
    assert tiny_reader.tokenizer.decode(row.input_ids[start:end + 1]) == "swiss alps"


def test_the_training_loss_in_bf16_autocast_is_fp32_and_close_to_the_fp32_loss(tiny_reader_dir, tiny_reader):
    import torch

    from rag.training.loop import _loss

    model = load_trainable(tiny_reader_dir)
    row, labels, evidence, start, end = _rhine_row(tiny_reader)
    batch = ([row, row], [labels, labels], [evidence, evidence], [start, start], [end, end], [0, 1])
    fp32, _ = _loss(model, batch, "cpu")
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        bf16, parts = _loss(model, batch, "cpu")
    assert bf16.dtype == torch.float32 and abs(bf16.item() - fp32.item()) < 0.05 * fp32.item()
    bf16.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads)
    assert set(parts) == {"bce", "listwise", "span"}


def test_a_residual_evidence_term_enters_only_the_choice_between_sentences(tiny_reader_dir, tiny_reader):
    from rag.training.loop import _loss

    model = load_trainable(tiny_reader_dir)
    row, labels, evidence, start, end = _rhine_row(tiny_reader)

    def parts(added):
        return _loss(model, ([row], [labels], [added], [start], [end], [0]), "cpu")[1]

    plain, towards, away = parts([0.0, 0.0]), parts([0.0, 5.0]), parts([5.0, 0.0])
    # Evidence for the answering sentence leaves the reader less to learn, evidence against it more.
    assert towards["listwise"] < plain["listwise"] < away["listwise"]
    assert towards["bce"] == plain["bce"] == away["bce"] and towards["span"] == plain["span"]


class _WordCountReader:
    """Scores each sentence by how often a word occurs in it: a reader whose judgment a test can predict."""

    def __init__(self, word: str) -> None:
        self.word = word

    def read(self, question, passages):
        return [rd.SentenceRead(p, j, float(text[s:e].lower().count(self.word)), (0, 0))
                for p, (_, text, spans) in enumerate(passages) for j, (s, e) in enumerate(spans)]


def test_mined_negatives_are_the_passage_the_reader_is_most_drawn_to():
    from types import SimpleNamespace

    from rag.training.examples import _confusing

    def passage(id_, text):
        return SimpleNamespace(id=id_, title="t", text=text, sentences=((0, len(text)),))

    passages = [passage(7, "A river."), passage(3, "A river river river."), passage(9, "A river river.")]
    assert _confusing(_WordCountReader("river"), "Where?", passages) == 3  # the id, not the position
    assert _confusing(_WordCountReader("lake"), "Where?", passages) == 7  # all equal: the best-ranked


def test_mining_negatives_needs_the_reader_training_starts_from():
    from rag.errors import RagError
    from rag.training.examples import _miner
    from rag.training.settings import TrainSettings

    assert _miner(TrainSettings()) is None
    with pytest.raises(RagError, match="give --init READER_FOLDER"):
        _miner(TrainSettings(negatives="reader"))
    with pytest.raises(RagError, match="'retriever' or 'reader', not 'llm'"):
        _miner(TrainSettings(negatives="llm", init="x"))


def test_a_large_evidence_weight_makes_the_reader_follow_the_evidence(corpus, embedder, tiny_reader):
    index = rag.build(corpus, model=embedder, reader=False).index
    evidence = rag.QA(index, embedder).ask("Where does the Rhine rise?")
    led = rag.QA(index, embedder, reader=tiny_reader,
                 answering=rag.AnswerSettings(reader_threshold=0.0, reader_evidence=(1000.0, 1000.0, 1000.0, 1000.0)))
    answer = led.ask("Where does the Rhine rise?")
    assert answer.answer == evidence.answer and answer.short_answer in answer.answer


# ONNX Runtime: the reader is exported once into the cache and gives torch's numbers.

QUESTIONS = ["Where does the Rhine rise?", "How many countries does the Danube flow through?"]
PASSAGES = [PASSAGE, ("Cats", "Cats are small domesticated carnivorous mammals. A group of cats is called a clowder.",
                      ((0, 48), (49, 84)))]


def test_the_reader_runs_on_onnx_runtime_with_the_numbers_of_torch(tiny_reader_dir):
    on_onnx = rd.Reader.load(tiny_reader_dir, bf16=False)
    on_torch = rd.Reader.load(tiny_reader_dir, onnx=False, bf16=False)
    assert on_onnx.runtime == "onnxruntime" and on_onnx.model is None
    assert on_torch.runtime == "torch"
    for question in QUESTIONS:
        a, b = on_onnx.read(question, PASSAGES), on_torch.read(question, PASSAGES)
        assert [(r.passage, r.sentence, r.span) for r in a] == [(r.passage, r.sentence, r.span) for r in b]
        assert np.allclose([r.logit for r in a], [r.logit for r in b], atol=1e-4)


def test_the_onnx_export_is_cached_and_a_damaged_one_is_made_again(tiny_reader_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_CACHE", str(tmp_path))
    expected = rd.Reader.load(tiny_reader_dir, bf16=False).read(QUESTIONS[0], PASSAGES)
    [graph] = (tmp_path / "onnx").glob("reader-*.onnx")
    made = graph.stat().st_ino
    rd.Reader.load(tiny_reader_dir, bf16=False)
    assert graph.stat().st_ino == made  # reused, not exported again (an export renames a new file in)
    graph.write_bytes(graph.read_bytes()[:1000])  # truncated (a crash mid-write elsewhere, a full disk)
    again = rd.Reader.load(tiny_reader_dir, bf16=False)
    assert again.runtime == "onnxruntime"
    assert [r.logit for r in again.read(QUESTIONS[0], PASSAGES)] == pytest.approx([r.logit for r in expected])
    assert not list((tmp_path / "onnx").glob("*.tmp"))


def test_graphs_unused_for_a_month_leave_the_cache_when_another_is_exported(tiny_reader_dir, tmp_path,
                                                                             monkeypatch):
    import os
    import time

    from rag.encoders import runtime

    monkeypatch.setenv("RAG_CACHE", str(tmp_path))
    folder = tmp_path / "onnx"
    folder.mkdir()
    month = runtime.STALE_DAYS * 86400
    old, recent, other = folder / "reader-old.onnx", folder / "embedder-recent.onnx", folder / "notes.txt"
    for path, age in ((old, month + 3600), (recent, month - 3600), (other, 2 * month)):
        path.write_bytes(b"x")
        os.utime(path, (time.time() - age, time.time() - age))
    rd.Reader.load(tiny_reader_dir, bf16=False)  # exports a new graph
    assert not old.exists() and recent.exists() and other.exists()
    [graph] = folder.glob("reader-*.onnx")  # the new one
    os.utime(graph, (time.time() - 2 * month, time.time() - 2 * month))
    rd.Reader.load(tiny_reader_dir, bf16=False)  # opens the cached graph: used now, so it stays
    assert time.time() - graph.stat().st_mtime < 60


def test_an_unwritable_cache_falls_back_to_torch_with_one_warning(tiny_reader_dir, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("RAG_CACHE", str(blocker))
    with pytest.warns(rag.RagWarning, match=r"cannot write the ONNX cache at .*not-a-folder.*running the model "
                                            r"with torch \(set RAG_CACHE to a writable folder\)"):
        reader = rd.Reader.load(tiny_reader_dir, bf16=False)
    assert reader.runtime == "torch" and reader.read(QUESTIONS[0], PASSAGES)


def test_rag_runtime_torch_switches_onnx_off(tiny_reader_dir, monkeypatch):
    monkeypatch.setenv("RAG_RUNTIME", "torch")
    assert rd.Reader.load(tiny_reader_dir).runtime == "torch"


def test_damaged_weights_are_refused_on_the_onnx_path_too(tiny_reader_dir, tmp_path):
    import shutil

    folder = shutil.copytree(tiny_reader_dir, tmp_path / "reader")
    (folder / WEIGHTS).write_bytes(b"not safetensors")
    with pytest.raises(ModelLoadError, match=r"cannot load the reader from .*Fix: the bundled reader ships"):
        rd.Reader.load(folder)


class _CountingReader:
    """The tiny reader, recording how many passages each forward pass was given."""

    def __init__(self, reader):
        self.reader, self.passes = reader, []

    def read(self, question, passages):
        self.passes.append(len(passages))
        return self.reader.read(question, passages)

    def __getattr__(self, name):
        return getattr(self.reader, name)


class _FirstWordReader:
    """The tiny reader's reads, ranked to prefer the sentence starting with `first` and with each short
    answer moved onto its sentence's first word."""

    def __init__(self, reader, first):
        self.reader, self.first = reader, first

    def read(self, question, passages):
        out = []
        for r in self.reader.read(question, passages):
            start, end = passages[r.passage][2][r.sentence]
            text = passages[r.passage][1][start:end]
            word = len(text.split()[0])
            out.append(replace(r, logit=10.0 if text.startswith(self.first) else -10.0, span=(0, word)))
        return out

    def __getattr__(self, name):
        return getattr(self.reader, name)


def test_a_short_answer_that_is_only_a_pronoun_is_not_marked(corpus, embedder, tiny_reader):
    index = rag.build(corpus, model=embedder, reader=False).index

    def ask(first):
        qa = rag.QA(index, embedder, reader=_FirstWordReader(tiny_reader, first),
                    answering=rag.AnswerSettings(reader_threshold=0.0, reader_stops=None))
        return qa.ask("What do cats do?")  # asks for no time or number: any sentence may answer

    they = ask("They")
    assert they.answered and they.answer == "They sleep for sixteen hours a day."
    assert they.short_answer == "" and they.answer_span is None  # "They" points at a name, it is not one
    cats = ask("Cats are")
    assert cats.answer.startswith("Cats are") and cats.short_answer == "Cats" and cats.answer_span == (0, 4)


def test_a_sentence_that_only_restates_the_question_is_never_the_quote(corpus, embedder, tiny_reader):
    index = rag.build(corpus, model=embedder, reader=False).index
    qa = rag.QA(index, embedder, reader=_FirstWordReader(tiny_reader, "They"),
                answering=rag.AnswerSettings(reader_threshold=0.0, reader_stops=None))
    assert qa.ask("How long do cats sleep?").answer == "They sleep for sixteen hours a day."
    # Every word of that sentence is the question's own: the reader's favourite says nothing new.
    restated = qa.ask("Do they sleep for sixteen hours a day?")
    assert restated.answered and restated.answer != "They sleep for sixteen hours a day."
    # A follow-up's rewrite that carries the last answer ("When was that? They sleep ...") is not the
    # user's question: what the user asked ("When was that?") is what a quote must not merely restate.
    follow = qa.ask("When was that?", history=[qa.ask("How long do cats sleep?")])
    assert "They sleep for sixteen hours a day." in follow.searched
    assert follow.answer == "They sleep for sixteen hours a day."


def test_restating_counts_numbers_and_one_letter_symbols_the_stemmed_words_leave_out():
    from rag.answering.evidence import restates

    terms = {"bla": 1.0, "fix": 1.0}
    assert restates("The BLAS fix.", "What does the BLAS fix do?", frozenset({"bla", "fix"}), terms)
    assert not restates("The BLAS fix runs BLAS on one thread.", "What does the BLAS fix do?",
                        frozenset({"bla", "fix", "run", "thread"}), terms)
    question = "What factorial must be divisible by n if an integer n > 4 is composite?"
    terms = {"factori": 1.0, "divis": 1.0, "integ": 1.0, "composit": 1.0}
    assert not restates("An integer n > 4 is composite if (n - 1)! is divisible by p.", question,
                        frozenset({"integ", "composit", "divis"}), terms)  # "1" and "p" are new: an answer
    assert restates("An integer n > 4 is composite.", question, frozenset({"integ", "composit"}), terms)


def test_pronouns_name_nothing_in_every_language():
    from rag.answering.evidence import names_nothing
    from rag.ingest.language import LANGUAGES

    assert names_nothing("I", LANGUAGES["en"].pronouns) and names_nothing(" they, ", LANGUAGES["en"].pronouns)
    assert not names_nothing("one", LANGUAGES["en"].pronouns)  # a number answers "how many"
    assert not names_nothing("US", LANGUAGES["en"].pronouns) and not names_nothing("IT", LANGUAGES["en"].pronouns)
    assert not names_nothing("He Jiankui", LANGUAGES["en"].pronouns) and not names_nothing("", LANGUAGES["en"].pronouns)
    assert names_nothing("Elle", LANGUAGES["fr"].pronouns) and names_nothing("sie", LANGUAGES["de"].pronouns)
    assert all(lang.pronouns for lang in LANGUAGES.values())


def test_the_reader_reads_in_stages_and_stops_once_the_best_so_far_is_enough(corpus, embedder, tiny_reader):
    index = rag.build(corpus, model=embedder, reader=False).index
    question = "Where does the Rhine rise?"

    def ask(stops, passages=4):
        reader = _CountingReader(tiny_reader)
        qa = rag.QA(index, embedder, reader=reader,
                    answering=rag.AnswerSettings(reader_threshold=0.0, reader_passages=passages, reader_stops=stops))
        return qa.ask(question), reader.passes

    together, passes = ask(None)
    assert passes == [4]  # one forward pass over the four passages
    unsure, passes = ask(((1, float("inf")), (3, float("inf"))))
    assert passes == [1, 2, 1]  # the best passage alone, then two more, then the last
    assert (unsure.answer, unsure.short_answer) == (together.answer, together.short_answer)
    assert unsure.score == pytest.approx(together.score, abs=1e-3)  # rows are read independently
    assert ask(((1, float("inf")), (3, float("-inf"))))[1] == [1, 2]  # three were enough
    assert ask(((1, float("inf")), (9, float("-inf"))))[1] == [1, 3]  # a stage past the passages: all read
    assert ask(((1, float("inf")),), passages=1)[1] == [1]
    sure, passes = ask(((1, float("-inf")), (3, float("-inf"))))
    assert passes == [1]
    first = retrieve(index, embedder.encode([question])[0], question, k=1).hits[0].passage_id
    assert sure.citations[0].source == index.passages[first].source
    assert sure.answer in index.passages[first].text and len(sure.citations) == 1


def test_reading_stops_when_the_first_passage_leads_what_the_next_one_gets_for_its_retrieval_score(
        corpus, embedder, tiny_reader):
    from rag.answering.evidence import reader_evidence, reader_inputs, unread_lead
    from rag.answering.extraction import read

    index = rag.build(corpus, model=embedder, reader=False).index
    question = "Where does the Rhine rise?"
    vector = embedder.encode([question])[0]
    retrieved = retrieve(index, vector, question, k=4)
    settings = rag.AnswerSettings(reader_threshold=0.0, reader_passages=4, reader_evidence=(1.0, 50.0, 1.0, 1.0))
    first = index.passages[retrieved.hits[0].passage_id]
    added = reader_evidence(index, retrieved.terms, vector, retrieved.hits[:1], settings)[0]
    best = max(r.logit + added[r.sentence] for r in tiny_reader.read(question, reader_inputs(index, [first])))
    unread = unread_lead(retrieved.hits[1], settings)
    assert unread == pytest.approx(50.0 * retrieved.hits[1].score) and unread > 1.0
    lead = best - unread

    def passes(enough):
        reader = _CountingReader(tiny_reader)
        read(index, reader, question, vector, retrieved, replace(settings, reader_stops=((1, enough),)))
        return reader.passes

    assert passes(lead - 0.5) == [1]
    # The best sentence's own score is above lead + 0.5, but the second passage, still unread, would get
    # more than that for its retrieval score alone: reading goes on.
    assert best > lead + 0.5 and passes(lead + 0.5) == [1, 3]


def test_the_model_card_lists_every_stage_its_command_and_what_the_last_one_added(tiny_reader_dir, tmp_path):
    import shutil

    from rag.training.card import write_card
    from rag.training.settings import TrainSettings

    folder = tmp_path / "reader"
    shutil.copytree(tiny_reader_dir, folder)
    write_calibration(folder, 0.5, -2.5, 0.2)

    def scores(accuracy):
        return {"sentence_accuracy": accuracy, "exact_match": 0.4, "f1": 0.6, "questions": 300}

    def stage(settings, accuracy, previous=None):
        record = {"settings": settings, "device": "cpu", "train_seconds": 600.0, "steps": 100, "questions": 800,
                  "rows": 1900, "validation_fp16": scores(accuracy), "validation_int8": scores(accuracy - 0.03)}
        return record if previous is None else {**record, "previous_stage": previous}

    first = stage(asdict(TrainSettings(articles=90)), 0.79)
    second = stage(asdict(TrainSettings(articles=50, skip_articles=90, init="rag/models/reader", lr=4e-5, bf16=True)),
                   0.81, first)
    second["validation_init"] = scores(0.783)
    (folder / "training.json").write_text(json.dumps(second), encoding="utf-8")
    card = write_card(folder).read_text(encoding="utf-8")
    assert "1. `rag train-reader --squad train-v1.1.json`: articles 7-96 of the order" in card
    assert ("2. `rag train-reader --squad train-v1.1.json --init PREVIOUS_STAGE --skip-articles 90 --articles 50 "
            "--questions 16000 --lr 4e-05 --head-lr 0.0005 --bf16`: articles 97-146 of the order") in card
    assert "10 minutes on cpu (bf16 autocast), starting from stage 1; validation sentence accuracy 0.810" in card
    assert "minutes on cpu, from the base model" in card
    assert "| the weights this stage started from (fp32), same questions | 0.783 | 0.400 | 0.600 |" in card
    assert "sigmoid(0.5 × logit + -2.5)" in card and "rag declines below\n  0.2." in card


def test_residual_training_examples_carry_the_evidence_term_inference_adds(corpus, embedder):
    from rag.answering.evidence import reader_evidence
    from rag.eval.squad import Question
    from rag.training.examples import _example, _with_evidence

    index = rag.build(corpus, model=embedder, reader=False).index
    question = "Where does the Rhine rise?"
    vector = embedder.encode([question])[0]
    retrieved = retrieve(index, vector, question, k=2)
    top, second = retrieved.hits
    below = next(p.id for p in index.passages if p.id not in (top.passage_id, second.passage_id))
    q = Question("q", question, index.passages[top.passage_id].source, 1, 0, ("Swiss Alps",))
    weights = (2.0, 4.0, 0.5, 2.0)
    settings = rag.AnswerSettings(reader_evidence=weights)
    group = [_example(q, index.passages[i], kind) for i, kind in ((top.passage_id, "gold"), (below, "other"))]
    done = _with_evidence(group, [top.passage_id, below], index, retrieved, vector, weights)
    assert [e.labels for e in done] == [e.labels for e in group]
    expected = reader_evidence(index, retrieved.terms, vector, [top], settings)[0]
    assert done[0].evidence == pytest.approx(tuple(expected)) and len(done[0].evidence) == len(group[0].sentences)
    # A passage ranked below the hits is given the lowest hit's fused score (here the second's).
    stand_in = type(top)(below, second.score, 0.0, 0.0, 0.0)
    assert done[1].evidence == pytest.approx(tuple(reader_evidence(index, retrieved.terms, vector, [stand_in],
                                                                   settings)[0]))


def test_the_reader_quotes_only_a_sentence_holding_what_the_question_asks_for(corpus, embedder, tiny_reader):
    index = rag.build(corpus, model=embedder, reader=False).index
    qa = rag.QA(index, embedder, reader=_FirstWordReader(tiny_reader, "Cats are"),
                answering=rag.AnswerSettings(reader_threshold=0.0, reader_stops=None))
    # The reader prefers "Cats are small ...", which holds no number: "how many" is not answered by it.
    answer = qa.ask("How many hours a day do cats sleep?")
    assert answer.answered and answer.answer == "They sleep for sixteen hours a day."



def test_the_reader_declines_a_when_question_that_no_sentence_read_can_date(tmp_path, embedder, tiny_reader):
    harbour = {"harbour.md": "# The harbour\n\nThe harbour is large and busy. The harbour was opened by the town "
                             "council.\n"}
    index = rag.build(write_corpus(tmp_path / "docs", harbour), model=embedder, reader=False).index
    qa = rag.QA(index, embedder, reader=_FirstWordReader(tiny_reader, "The harbour was"),
                answering=rag.AnswerSettings(reader_threshold=0.0, reader_stops=None))
    assert qa.ask("Who opened the harbour?").answer == "The harbour was opened by the town council."
    declined = qa.ask("When was the harbour opened?")  # an undated sentence does not answer "when"
    assert not declined.answered and declined.message
    assert declined.alternatives[0].answer == "The harbour was opened by the town council."  # the nearest


def test_a_follow_up_asking_who_else_does_not_get_the_same_quote_again(corpus, embedder, tiny_reader):
    index = rag.build(corpus, model=embedder, reader=False).index
    qa = rag.QA(index, embedder, reader=_FirstWordReader(tiny_reader, "The Rhine"),
                answering=rag.AnswerSettings(reader_threshold=0.0, reader_stops=None))
    first = qa.ask("Which river rises in the Swiss Alps?")
    assert first.answer == "The Rhine rises in the Swiss Alps and ends in the North Sea."
    again = qa.ask("Which other river rises in the Alps?", history=[first])
    assert again.answer != first.answer
    assert qa.ask("Which river rises in the Alps?", history=[first]).answer == first.answer  # without "other"
