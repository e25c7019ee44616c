"""Measuring rag (`rag eval`): a tool beside the product, which the answering path never imports.

`squad` (SQuAD-open: questions and the evaluation loop), `metrics` (answer matching, recall, thresholds,
calibration), `plots`, `followups` (two-turn conversations made from SQuAD) and `report` (the printed
table). It imports the product (`rag.api`, `rag.answering`, `rag.index`)."""
