"""From a question to a quoted answer or a decline.

`types` (Answer, Citation, Alternative) and `settings` (every weight and threshold) at the bottom;
`retrieval` (dense + BM25 + sentence scores, fused) -> `evidence` (what retrieval says of each sentence)
-> `extraction` (the reader's or the evidence's choice, citations, declines); `conversation` rewrites a
follow-up to stand on its own; `qa` holds the `QA` object that runs them. It imports `rag.index`,
`rag.reader`, `rag.encoders`, `rag.ingest` and `rag.config`, never `rag.chat`, `rag.eval` or
`rag.training`."""
