"""The reader's network: the base model's encoder with a sentence head and a span head (torch).

A sentence's score comes from the mean of its tokens' final states (so each sentence is judged with the
question, the title and the sentences around it); the short answer from start/end logits over its
tokens. torch is imported only when a network is built."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ..encoders.embedder import resolve_model
from .rows import sentence_members


def _module():
    """The torch module class, defined on first use so that importing rag does not import torch."""
    import torch
    from torch import nn

    class ReaderModel(nn.Module):
        def __init__(self, encoder) -> None:
            super().__init__()
            self.encoder = encoder
            hidden = encoder.config.hidden_size
            self.sentence_head = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 1))
            self.span_head = nn.Linear(hidden, 2)

        def forward(self, input_ids, token_type_ids, attention_mask, sentence_of):
            """Sentence logits (rows, sentences in the row), each row's first sentence, and start/end logits
            (rows, tokens)."""
            first, member = sentence_members(sentence_of.cpu().numpy())
            sentence_logits, starts, ends = self.heads(input_ids, token_type_ids, attention_mask,
                                                       torch.from_numpy(member).to(input_ids.device))
            return sentence_logits, torch.from_numpy(first).to(input_ids.device), starts, ends

        def heads(self, input_ids, token_type_ids, attention_mask, member):
            """The model proper (what is exported to ONNX): `member` is `sentence_members`' matrix."""
            states = self.encoder(input_ids=input_ids, token_type_ids=token_type_ids,
                                  attention_mask=attention_mask).last_hidden_state
            member = member.to(states.dtype)
            pooled = member.transpose(1, 2) @ states / member.sum(1).clamp(min=1)[:, :, None]
            sentence_logits = self.sentence_head(pooled).squeeze(-1)
            span = self.span_head(states)
            return sentence_logits, span[..., 0], span[..., 1]

    return ReaderModel


def keep_layers(model, layers: int):
    """The reader with `layers` of its encoder's layers, evenly spaced with the first and the last kept
    (0, or as many as it has: unchanged)."""
    from torch import nn

    stack = model.encoder.encoder.layer
    if layers and layers < len(stack):
        keep = sorted({round(i * (len(stack) - 1) / max(1, layers - 1)) for i in range(layers)})
        model.encoder.encoder.layer = nn.ModuleList(stack[i] for i in keep)
        model.encoder.config.num_hidden_layers = len(keep)
    return model


def new_model(base: str, layers: int = 0):
    """A reader with fresh heads on the base model's encoder (the starting point of training), keeping
    `layers` of its layers (0: all)."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    location = resolve_model(base)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the base's unused pooler would be reported as "unexpected" keys
    try:
        encoder = AutoModel.from_pretrained(location, add_pooling_layer=False, local_files_only=Path(location).is_dir())
    finally:
        hf_logging.set_verbosity(verbosity)
    return keep_layers(_module()(encoder), layers)


def embeddings_digest(model) -> str:
    weight = model.encoder.embeddings.word_embeddings.weight.detach().float().cpu().numpy()
    return hashlib.sha256(np.ascontiguousarray(weight).tobytes()).hexdigest()
