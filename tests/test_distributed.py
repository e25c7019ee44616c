"""Distributed embedding: `workers=N` embeds with Ray Data on a local Ray (2 CPUs here) and builds the
same index as one process."""

from __future__ import annotations

import numpy as np
import pytest

import rag
from rag.index.storage import load_index

pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    import sys

    import ray
    from conftest import HashingEmbedder
    from ray import cloudpickle

    # The test embedder's module is pytest's, not importable by the workers: send its code with it.
    cloudpickle.register_pickle_by_value(sys.modules[HashingEmbedder.__module__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_a_ray_build_is_the_single_process_build(local_ray, corpus, tmp_path, embedder):
    single = rag.build(corpus, tmp_path / "single", model=embedder, reader=False).index
    spread = rag.build(corpus, tmp_path / "ray", model=embedder, reader=False, workers=2)
    assert spread.embedder is embedder  # questions are embedded here, not on the cluster
    index = load_index(tmp_path / "ray")
    assert index.passages == single.passages
    assert np.array_equal(index.window_ids, single.window_ids)
    assert np.allclose(index.sentence_vectors, single.sentence_vectors)
    assert np.allclose(index.store.fetch(index.window_ids), single.store.fetch(single.window_ids))
    question = "How many countries does the Danube flow through?"
    assert spread.ask(question).to_dict() == rag.QA(single, embedder).ask(question).to_dict()


def test_workers_must_be_positive(local_ray, embedder):
    from rag.encoders.distributed import RayEmbedder

    with pytest.raises(ValueError, match="--workers must be at least 1, not -1"):
        RayEmbedder(embedder, -1)
