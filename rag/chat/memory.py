"""Giving freed memory back to the system while the chat page runs.

A long-running server frees most of what each request allocates, but glibc's allocator keeps freed
pages in its per-thread arenas, so the process's resident size creeps up with the number of threads
that have served a request rather than with what is live. `start_trimming` runs a daemon thread that,
every `interval` seconds, collects Python's garbage and asks glibc to return free pages
(`malloc_trim(0)`). On a C library without `malloc_trim` (musl, macOS, Windows) it collects garbage only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def release() -> bool:
    """Collect garbage and return free heap pages to the system; True when glibc's trim ran."""
    gc.collect()
    if _TRIM is None:
        return False
    _TRIM(0)
    return True


def start_trimming(interval: float) -> threading.Event:
    """Call `release` every `interval` seconds in a daemon thread; set the returned event to stop it."""
    if interval <= 0:
        raise ValueError(f"the trimming interval must be positive, not {interval}")
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(interval):
            release()

    threading.Thread(target=run, name="rag-memory-trim", daemon=True).start()
    return stop
