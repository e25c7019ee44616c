"""Command-line argument types shared by `rag` and `python app.py`: each refuses a bad value with the range
it takes, so argparse answers with one usage line instead of a traceback later."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path


def whole(least: int, most: int | None = None):
    """An argparse type: a whole number from `least` (to `most`), refused with the range otherwise."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least or (most is not None and value > most):
            span = f"from {least} to {most}" if most is not None else f"of at least {least}"
            raise argparse.ArgumentTypeError(f"{value} is out of range: give a whole number {span}")
        return value
    return parse


def positive(text: str) -> float:
    """An argparse type: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is out of range: give a finite number above 0")
    return value


PORT = whole(1, 65535)


def read_bounded(name: str, limit: int, what: str) -> str:
    """A regular file's text (or standard input's, for '-'), refused past `limit` bytes or when the path
    is not a regular file (a device, a FIFO, a folder), with ValueError saying which."""
    if name == "-":
        text = sys.stdin.read(limit + 1)
    else:
        path = Path(name)
        try:
            if not path.is_file():
                kind = "a folder" if path.is_dir() else "not a regular file" if path.exists() else "missing"
                raise ValueError(f"cannot read {what} from {name!r}: it is {kind}")
            with path.open(encoding="utf-8") as handle:
                text = handle.read(limit + 1)
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read {what} from {name!r}: {exc}") from exc
    if len(text) > limit:
        raise ValueError(f"{what} in {name!r} are over {limit // 2**20} MB: give a smaller file")
    return text
