"""Distributed embedding with Ray Data: `rag index --workers N` (or `build(..., workers=N)`).

The texts of a build are embedded by N Ray workers, each holding its own copy of the model (Ray Data
`map_batches` with the embedder as a class); order is preserved, so the index is the one a single
process builds. Ray starts locally with N CPUs, or joins the cluster at $RAY_ADDRESS (e.g.
ray://head:10001). Everything else (reading, chunking, the store) stays in this process.
Needs `pip install 'rag-quotes[ray]'`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from ..config import ENCODE_BATCH, ray_address
from ..errors import RagError
from .embedder import Embedder

TEXTS_PER_CALL = 20_000  # texts the builder hands over at once: enough to keep every worker busy
BATCH = 256  # texts per model call in a worker


class _EmbedBatch:
    """One Ray worker: loads the embedder once, then embeds batches of texts."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def __call__(self, batch: dict) -> dict:
        return {"vector": self.embedder.encode(list(batch["text"]), batch_size=BATCH)}


class RayEmbedder:
    """An Embedder that spreads `encode` over Ray workers; `local` is the same model in this process
    (for counting tokens and embedding questions)."""

    def __init__(self, local: Embedder, workers: int, address: str | None = None) -> None:
        if workers < 1:
            raise ValueError(f"--workers must be at least 1, not {workers}")
        try:
            import ray
        except ImportError:
            raise RagError("distributed embedding needs Ray: pip install 'rag-quotes[ray]'") from None
        self.local, self.workers = local, workers
        self.name, self.dimension, self.max_tokens = local.name, local.dimension, local.max_tokens
        self.texts_per_call = TEXTS_PER_CALL
        address = address or ray_address()
        if not ray.is_initialized():
            ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                     log_to_driver=False, configure_logging=False)
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)

    def encode(self, texts: Sequence[str], *, batch_size: int = ENCODE_BATCH, progress: bool = False) -> np.ndarray:
        import ray

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        dataset = ray.data.from_items([{"text": t} for t in texts], override_num_blocks=self.workers * 4)
        embedded = dataset.map_batches(_EmbedBatch, fn_constructor_kwargs={"embedder": self.local},
                                       batch_size=BATCH, concurrency=self.workers, num_cpus=1,
                                       batch_format="numpy")
        vectors = [row["vector"] for row in embedded.iter_rows()]
        return np.ascontiguousarray(np.stack(vectors), dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.local.count_tokens(texts)
