"""The child side of `rag.ingest.sandbox`: `python -m rag.ingest.worker MEMORY_BYTES` reads files with the
default loaders, one request at a time, under a cap on its address space.

Frames on standard input and output are a 4-byte big-endian length and that many bytes. A request is two
frames, a JSON header {"name": file name} and the file's bytes; the reply is one JSON frame: {"text",
"page_starts"} or {"unreadable": reason} or {"error": what was raised}, with "warnings" (the RagWarning
messages the loader gave). JSON only: the parent never unpickles what a parser of hostile input sends."""

from __future__ import annotations

import json
import struct
import sys
import warnings
from pathlib import Path

HEADER = struct.Struct(">I")


def read_frame(stream) -> bytes | None:
    """One frame from `stream`, or None at its end."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    size = HEADER.unpack(head)[0]
    body = stream.read(size)
    return body if len(body) == size else None


def write_frame(stream, body: bytes) -> None:
    stream.write(HEADER.pack(len(body)) + body)
    stream.flush()


def extract(name: str, data: bytes, memory_bytes: int) -> dict:
    from ..errors import RagWarning
    from .formats import DEFAULT_LOADERS
    from .formats.base import UnreadableFile

    suffix = Path(name).suffix.lower()
    loader = next((one for one in DEFAULT_LOADERS if suffix in one.extensions), None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if loader is None:
                reply = {"unreadable": f"no loader reads {suffix or 'files without an extension'}"}
            else:
                extracted = loader.load(data, name)
                reply = {"text": extracted.text, "page_starts": list(extracted.page_starts),
                         "marked_headings": extracted.marked_headings}
        except UnreadableFile as exc:
            reply = {"unreadable": str(exc)}
        except MemoryError:
            reply = {"unreadable": f"reading it needs more than {memory_bytes // 2**20} MB of memory "
                                   "(RAG_PARSE_MEMORY_MB)"}
        except RecursionError:
            reply = {"unreadable": "its markup is nested too deeply to read"}
        except Exception as exc:  # whatever a format library raises: reported for this file alone
            reply = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    reply["warnings"] = [str(w.message) for w in caught if issubclass(w.category, RagWarning)]
    return reply


def main(argv: list[str]) -> int:
    memory_bytes = int(argv[0]) if argv else 0
    if memory_bytes:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        header = read_frame(stdin)
        data = read_frame(stdin) if header is not None else None
        if data is None:
            return 0
        reply = extract(json.loads(header)["name"], data, memory_bytes)
        write_frame(stdout, json.dumps(reply).encode("utf-8"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
