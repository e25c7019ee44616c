"""The index: passages, their vectors and a BM25 index, saved to and loaded from a folder.

`value` (the `Index` value) <- `build` (documents to an index, incrementally) -> `storage` (atomic save,
checked load, the write lock) with `manifest` (what the folder holds and whether it is stale),
`lexical` (BM25) and `stores/` (where the vectors live: FAISS, Milvus). It imports `rag.ingest`,
`rag.encoders`, `rag.config` and `rag.errors`."""
