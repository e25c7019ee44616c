"""The chat page (Gradio): `page` (the Blocks and its handlers, thin), `render` (answers and documents as
escaped HTML), `uploads` (a visitor's own documents), `feedback` (the 👍/👎 log) and `limits` (HTTP
request sizes). It imports `rag.api` and what answering returns; nothing below it imports it."""

from .. import config as _config

_config.gradio_defaults()  # before any module of this package imports Gradio
