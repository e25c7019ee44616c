"""Text to vectors: the sentence-transformers embedder, its ONNX Runtime path, and Ray for many workers.

`runtime` (ONNX export, cache and threads; which path a CPU runs) <- `embedder` (load a model by hub
name or folder, encode) <- `distributed` (the same encoder on Ray workers). It imports only
`rag.config` and `rag.errors`."""
