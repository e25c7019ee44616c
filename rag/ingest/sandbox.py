"""Reading files outside the process: the format loaders run in a child process (`rag.ingest.worker`) with
a cap on its memory and a time budget per file, so that no single file — a parser's worst case, a zip
bomb, markup that makes a library allocate without end — can stall or abort an index build or the chat
page that is indexing an upload. A file that exceeds a limit is skipped with the reason; the child is
then replaced and the next file goes on.

One child serves the whole process, one file at a time; it starts on the first file (about half a
second) and is stopped when the process exits. Where it cannot run (no POSIX pipes, or
RAG_PARSE_IN_CHILD=0), files are read in the process itself, without the limits."""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time
import warnings

from .. import config
from ..errors import RagWarning
from .formats.base import Extracted, UnreadableFile
from .worker import HEADER, write_frame


class LoaderFailed(Exception):
    """What a loader raised in the child, as "ExceptionType: message"."""


_lock = threading.Lock()
_child: subprocess.Popen | None = None


def available() -> bool:
    """Whether files are read in the child process (POSIX, and not switched off)."""
    return os.name == "posix" and config.PARSE_IN_CHILD


def budget_seconds(size: int) -> float:
    """The time a file of `size` bytes may take to read."""
    return config.PARSE_SECONDS + config.PARSE_SECONDS_PER_MB * size / 2**20


def readable_size(name: str, data: bytes) -> int:
    """The bytes a loader reads: a Word file's unpacked size (its zip directory's declared sizes, capped at
    the unpacking limit), any other file's own."""
    if not name.lower().endswith(".docx"):
        return len(data)
    import io
    import zipfile

    try:
        declared = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return len(data)  # not a readable zip: its loader says so at once
    return max(len(data), min(declared, config.MAX_UNPACKED_BYTES))


def _start() -> subprocess.Popen:
    global _child
    if _child is not None and _child.poll() is not None:
        _stop()  # it ended between files: its pipes are closed before a new one starts
    if _child is None:
        _child = subprocess.Popen([sys.executable, "-m", "rag.ingest.worker", str(config.PARSE_MEMORY_BYTES)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  env={**os.environ, "PYTHONPATH": _package_root()})
    return _child


def _package_root() -> str:
    """The folder that holds this `rag` package, first on the child's path (a checkout beats an install)."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.pathsep.join([here, *filter(None, [config.python_path()])])


def _stop() -> None:
    global _child
    if _child is not None:
        _child.kill()
        _child.wait()
        _child.stdin.close()
        _child.stdout.close()
        _child = None


atexit.register(_stop)


def _read_reply(child: subprocess.Popen, deadline: float) -> bytes | None:
    """One reply frame from the child, or None if it did not come before `deadline` or the child died."""
    fd = child.stdout.fileno()
    chunks, need, header = [], HEADER.size, True
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return None
        chunk = os.read(fd, need)
        if not chunk:
            return None  # the child is gone: killed for its memory, or aborted
        chunks.append(chunk)
        need -= len(chunk)
        if need == 0:
            body = b"".join(chunks)
            if not header:
                return body
            chunks, need, header = [], HEADER.unpack(body)[0], False
            if need == 0:
                return b""


def extract(name: str, data: bytes) -> Extracted:
    """The file's text as its loader reads it, in the child. UnreadableFile with the reason when the loader
    refuses it or it passes a limit; LoaderFailed for anything else the loader raised."""
    budget = budget_seconds(readable_size(name, data))
    with _lock:
        child = _start()
        try:
            write_frame(child.stdin, json.dumps({"name": name}).encode("utf-8"))
            write_frame(child.stdin, data)
        except (BrokenPipeError, OSError):
            _stop()
            raise UnreadableFile("its reader could not be started") from None
        body = _read_reply(child, time.monotonic() + budget)
        if body is None:
            code = child.poll()
            _stop()
            if code is not None and code < 0:  # ended by a signal: an allocation that failed in C code
                raise UnreadableFile(f"reading it needs more than {config.PARSE_MEMORY_BYTES // 2**20} MB of "
                                     "memory (RAG_PARSE_MEMORY_MB)")
            if code is not None:
                raise UnreadableFile(f"its reader stopped unexpectedly (exit status {code})")
            raise UnreadableFile(f"reading it took over {budget:.3g} s, the limit for a file of its size "
                                 "(RAG_PARSE_SECONDS)")
    reply = json.loads(body)
    for message in reply.get("warnings", []):
        warnings.warn(message, RagWarning, stacklevel=3)
    if "unreadable" in reply:
        raise UnreadableFile(reply["unreadable"])
    if "error" in reply:
        raise LoaderFailed(reply["error"])
    return Extracted(reply["text"], tuple(reply["page_starts"]), bool(reply.get("marked_headings")))
