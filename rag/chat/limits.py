"""Limits for serving rag over HTTP: how large a request may be, whatever route it takes.

`BodyLimit` is a plain ASGI middleware (used by rag.chat.page through Gradio's FastAPI app): a request whose
declared Content-Length is over the limit is refused with 413 before any of it is read; one that
streams without declaring its length is cut off with 413 as soon as it passes the limit. Uploads
(Gradio's /upload route) get the per-file limit of indexing; everything else, questions included,
a small one.
"""

from __future__ import annotations

import json

from ..config import REQUEST_LIMIT_BYTES, UPLOAD_LIMIT_BYTES


class BodyLimit:
    def __init__(self, app, request_limit: int = REQUEST_LIMIT_BYTES, upload_limit: int = UPLOAD_LIMIT_BYTES) -> None:
        self.app, self.request_limit, self.upload_limit = app, request_limit, upload_limit

    def limit_for(self, path: str) -> int:
        return self.upload_limit if path.rstrip("/").endswith("/upload") else self.request_limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, limit)
            return
        seen, started, refused = 0, False, False

        async def counted_receive():
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # answer now, and tell the app the client has gone
                    refused = True
                    if not started:
                        await _refuse(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message):
            nonlocal started
            if refused:
                return  # the 413 has been sent; whatever the app answers is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except Exception:
            if not refused:
                raise


async def _refuse(send, limit: int) -> None:
    body = json.dumps({"error": f"request too large: the limit is {limit:,} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
