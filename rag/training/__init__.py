"""Training the reader (`rag train-reader`): a tool beside the product, which the answering path never imports.

`settings` (one run's settings) -> `examples` (training examples asked of an index, as at inference) ->
`loop` (the loss, validation and the seeded loop that writes a reader folder) -> `card` (its model card).
It imports the product (index, reader, answering) and `rag.eval`; nothing in the product imports it."""

from .card import write_card
from .loop import train, validate
from .settings import TrainSettings

__all__ = ["TrainSettings", "train", "validate", "write_card"]
