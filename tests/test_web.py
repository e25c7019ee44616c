"""The request-size limit, on a bare Starlette app (the same ASGI middleware rag.chat.page gives Gradio)."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from rag.chat.limits import BodyLimit


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"bytes": len(await request.body())})


@pytest.fixture
def client():
    app = Starlette(routes=[Route("/gradio_api/call/ask", echo, methods=["POST"]),
                            Route("/gradio_api/upload", echo, methods=["POST"])])
    return TestClient(BodyLimit(app, request_limit=1000, upload_limit=5000))


def test_requests_under_the_limit_pass(client):
    assert client.post("/gradio_api/call/ask", content=b"x" * 1000).json() == {"bytes": 1000}
    assert client.post("/gradio_api/upload", content=b"x" * 5000).json() == {"bytes": 5000}


def test_a_declared_oversize_body_is_refused_before_it_is_read(client):
    response = client.post("/gradio_api/call/ask", content=b"x" * 1001)
    assert response.status_code == 413
    assert response.json() == {"error": "request too large: the limit is 1,000 bytes"}
    assert client.post("/gradio_api/upload", content=b"x" * 5001).status_code == 413


def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(client):
    def chunks():
        for _ in range(100):
            yield b"x" * 100

    response = client.post("/gradio_api/call/ask", content=chunks())
    assert response.status_code == 413
    assert response.json() == {"error": "request too large: the limit is 1,000 bytes"}
