"""ONNX Runtime: the fast tokenizer gives the transformers tokenizer's pieces and offsets, and a
sentence-transformers folder runs on ONNX Runtime with the vectors sentence-transformers gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.encoders import runtime
from rag.encoders.embedder import OnnxEmbedder, SentenceTransformerEmbedder, load_embedder, resolve_model

TEXTS = ["What sanctions did the UK impose on Xinjiang officials?", "Café naïve — “quoted” 12,000 £ (2019).",
         "", "a " * 300, "Straße Ελληνικά 中文 emoji 🙂 end."]


def test_the_fast_tokenizer_matches_transformers_on_the_packaged_model():
    from transformers import AutoTokenizer

    folder = resolve_model("sentence-transformers/all-MiniLM-L6-v2")
    ours, theirs = runtime.Tokenizer(folder), AutoTokenizer.from_pretrained(folder, local_files_only=True)
    theirs.model_max_length = 1 << 30
    for text in TEXTS:
        a = ours(text, add_special_tokens=False, return_offsets_mapping=True)
        b = theirs(text, add_special_tokens=False, return_offsets_mapping=True)
        assert a["input_ids"] == b["input_ids"]
        assert [tuple(o) for o in a["offset_mapping"]] == [tuple(o) for o in b["offset_mapping"]]
    assert (ours.cls_token_id, ours.sep_token_id) == (theirs.cls_token_id, theirs.sep_token_id)
    assert ours.batch(TEXTS, max_length=256) == theirs(TEXTS, truncation=True, max_length=256)["input_ids"]


@pytest.fixture(scope="module")
def tiny_sentence_model(tmp_path_factory):
    """A 2-layer BERT saved as a sentence-transformers folder (transformer, mean pooling, normalize)."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    base = tmp_path_factory.mktemp("tiny-bert")
    words = sorted({w for t in TEXTS for w in t.lower().replace(",", " , ").split()})
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer = BertTokenizerFast(vocab={w: i for i, w in enumerate(special + words)})
    tokenizer.save_pretrained(base)
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=128)).save_pretrained(base)
    transformer = models.Transformer(str(base), max_seq_length=64)
    folder = tmp_path_factory.mktemp("tiny-sentence-model")
    SentenceTransformer(modules=[transformer, models.Pooling(32, "mean"), models.Normalize()]).save(str(folder))
    return folder


def test_a_plain_sentence_transformers_folder_runs_on_onnx_runtime_with_the_same_vectors(tiny_sentence_model):
    onnx = load_embedder(str(tiny_sentence_model))
    torch = SentenceTransformerEmbedder(str(tiny_sentence_model))
    assert isinstance(onnx, OnnxEmbedder)
    # The packaged model is in sentence-transformers' older folder format; it fits too.
    assert OnnxEmbedder.fits(Path(resolve_model("sentence-transformers/all-MiniLM-L6-v2")))
    assert (onnx.dimension, onnx.max_tokens) == (torch.dimension, torch.max_tokens) == (32, 62)
    a, b = onnx.encode(TEXTS, batch_size=2), torch.encode(TEXTS)
    assert a.dtype == np.float32 and a.shape == (len(TEXTS), 32)
    assert np.abs(a - b).max() < 1e-5
    assert onnx.count_tokens(TEXTS) == torch.count_tokens(TEXTS)
    assert onnx.encode([]).shape == (0, 32)


def test_a_folder_of_another_shape_stays_on_sentence_transformers(tiny_sentence_model, tmp_path, monkeypatch):
    import json
    import shutil

    folder = shutil.copytree(tiny_sentence_model, tmp_path / "model")
    config = json.loads((folder / "1_Pooling" / "config.json").read_text())
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({**config, "pooling_mode": "max"}))
    assert not OnnxEmbedder.fits(folder)
    assert isinstance(load_embedder(str(folder)), SentenceTransformerEmbedder)
    monkeypatch.setenv("RAG_RUNTIME", "torch")
    assert isinstance(load_embedder(str(tiny_sentence_model)), SentenceTransformerEmbedder)


def test_a_huge_text_is_tokenized_only_as_far_as_its_kept_pieces(tmp_path):
    """What `batch` keeps of a 2 MB text is what it keeps of the whole text, without tokenizing all of it."""
    from tokenizers import Tokenizer as RustTokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    vocab = {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "the": 3, "harbour": 4, "opens": 5}
    rust = RustTokenizer(WordLevel(vocab, unk_token="[UNK]"))
    rust.pre_tokenizer = Whitespace()
    rust.save(str(tmp_path / "tokenizer.json"))
    tokenizer = runtime.Tokenizer(tmp_path)
    text = "the harbour opens " * 120_000
    cut = tokenizer.batch([text], max_length=10, special=False)[0]
    assert cut == tokenizer.batch([text[:2000]], max_length=10, special=False)[0]
    assert len(cut) == 10



@pytest.fixture
def notes_said(caplog, monkeypatch):
    """The messages said on rag's notes logger (whether or not `notes.show()` ran in this process)."""
    import logging

    monkeypatch.setattr(logging.getLogger("rag.notes"), "propagate", True)
    caplog.set_level(logging.INFO, logger="rag.notes")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "rag.notes"]


def test_the_first_export_says_what_it_prepares_and_a_cached_graph_says_nothing(tiny_sentence_model, tmp_path,
                                                                                 monkeypatch, notes_said, caplog):
    monkeypatch.setenv("RAG_CACHE", str(tmp_path / "cache"))
    load_embedder(str(tiny_sentence_model))
    assert notes_said() == [f"preparing the embedder for this machine, once (an ONNX export of a few seconds, "
                            f"kept in {tmp_path / 'cache' / 'onnx'})"]
    caplog.clear()
    load_embedder(str(tiny_sentence_model))
    assert notes_said() == []


def test_notes_print_as_one_line_each_on_stderr(capsys, monkeypatch):
    import logging

    from rag import notes

    logger = logging.getLogger("rag.notes")
    monkeypatch.setattr(logger, "handlers", [h for h in logger.handlers if not getattr(h, "_rag_notes", False)])
    notes.show()
    notes.show()  # a second call adds no second handler
    notes.say("preparing the reader")
    assert capsys.readouterr().err == "rag: preparing the reader\n"
