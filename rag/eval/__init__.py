"""Measuring rag (`rag eval`): a tool beside the product, which the answering path never imports.

`squad` (SQuAD-open: questions, metrics, the evaluation loop, calibration, plots), `followups`
(two-turn conversations made from SQuAD), `report` (the printed table). It imports the product
(`rag.api`, `rag.answering`, `rag.index`)."""
