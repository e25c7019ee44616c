"""Reading time per MB of adversarial inputs, per format, from 10 KB to 10 MB: it must stay flat (within 2x).

    python benchmarks/bench_parsers.py [--max-mb 10] [--formats text,markdown,html,json,pdf,docx] [--out FILE.json]

Each (format, shape, size) is read in a fresh process (`python -c`), timing the format's loader alone
(`metadata.json` through `read_metadata` for json), under the time budget `rag index` gives a file of
that size (rag.ingest.sandbox.budget_seconds): a case that passes it is reported as over the budget, which
`rag index` turns into a skipped file with its reason. The growth is the seconds per MB at the largest
size over the smallest seconds per MB at any size of at least 100 KB (below that, timer resolution and
starting the loader dominate): about 1 when reading is linear, about 10 per tenfold size when quadratic.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.ingest.sandbox import budget_seconds, readable_size  # noqa: E402

SHAPES = {
    "text": {"prose": "The harbour was fortified after the siege of 1565, and its walls still stand. ",
             "control characters": "\x01a ", "terminal escapes": "\x1b[31mred\x1b[0m ", "one word": "a"},
    "markdown": {"prose": "The harbour was fortified after the siege of 1565. ", "unclosed links": "[a](",
                 "open brackets": "[", "emphasis runs": "*a ", "table rows": "| a | b |\n", "backticks": "`a "},
    "html": {"prose": "<p>The harbour was fortified after the siege of 1565.</p>", "unclosed tags": "<a ",
             "nested divs": "<div>", "unclosed paragraphs": "<p>x", "unclosed comments": "<!--",
             "character references": "&#", "table cells": "<tr><td>x"},
    "json": {"nested lists": "[", "many titles": None},
    "pdf": {"pages of prose": None},
    "docx": {"paragraphs of prose": None},
}
SUFFIX = {"text": ".txt", "markdown": ".md", "html": ".html", "pdf": ".pdf", "docx": ".docx"}
PROSE = "The harbour was fortified after the siege of 1565, and its walls are still standing today."


def make(fmt: str, shape: str, size: int) -> bytes:
    unit = SHAPES[fmt][shape]
    if fmt == "json":
        if shape == "nested lists":
            return ("[" * (size // 2) + "]" * (size // 2)).encode()
        entries, n = [], 0
        while n < size:
            entry = f'"doc{len(entries)}.txt": {{"title": "A title for document {len(entries)}"}}'
            entries.append(entry)
            n += len(entry) + 2
        return ("{" + ", ".join(entries) + "}").encode()
    if fmt == "pdf":
        from benchmarks.made_files import make_pdf

        paragraphs = [PROSE] * max(1, size // 60)  # a compressed PDF holds about 60 bytes per sentence
        return make_pdf(paragraphs)
    if fmt == "docx":
        return _docx_of_paragraphs(max(1, size // 130))  # its document.xml is about `size` bytes
    return (unit * max(1, size // len(unit))).encode("utf-8")


def _docx_of_paragraphs(count: int) -> bytes:
    """A Word file of `count` paragraphs, its XML written directly (python-docx takes minutes to add 100,000)."""
    import io
    import zipfile

    from benchmarks.made_files import make_docx

    template = zipfile.ZipFile(io.BytesIO(make_docx([("p", "x")])))
    paragraph = f'<w:p><w:r><w:t>{PROSE}</w:t></w:r></w:p>'
    body = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
            '"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            + paragraph * count + "</w:body></w:document>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in template.infolist():
            archive.writestr(info.filename, body if info.filename == "word/document.xml" else template.read(info))
    return out.getvalue()


CHILD = """
import json, sys, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
path = Path(sys.argv[1])
if path.name == "metadata.json":
    from rag.ingest.documents import read_metadata
    start = time.perf_counter(); read_metadata(path.parent); took = time.perf_counter() - start
else:
    from rag.ingest.formats import DEFAULT_LOADERS
    from rag.ingest.formats.base import UnreadableFile
    loader = next(l for l in DEFAULT_LOADERS if path.suffix in l.extensions)
    data = path.read_bytes()
    try:  # the format library's import is not the file's cost
        loader.load(b"warm up", "warm" + path.suffix)
    except Exception:
        pass
    start = time.perf_counter()
    try:
        loader.load(data, path.name)
    except UnreadableFile:
        pass
    took = time.perf_counter() - start
print(json.dumps({"seconds": took}))
"""


def measure(fmt: str, data: bytes, folder: Path) -> float | None:
    """Seconds the loader took, or None past the budget for this size."""
    path = folder / ("metadata.json" if fmt == "json" else f"input{SUFFIX[fmt]}")
    path.write_bytes(data)
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                              timeout=budget_seconds(readable_size(path.name, data)) + 10, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise SystemExit(f"{fmt}: the loader failed: {done.stderr[-400:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-mb", type=float, default=10.0)
    parser.add_argument("--formats", default=",".join(SHAPES))
    parser.add_argument("--out")
    args = parser.parse_args()
    sizes = [s for s in (10 * 2**10, 100 * 2**10, 2**20, 10 * 2**20) if s <= args.max_mb * 2**20]
    report = {"measured": time.strftime("%Y-%m-%d"), "cpu": cpu_name(), "python": platform.python_version(),
              "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            for shape in SHAPES[fmt]:
                row = {}
                for size in sizes:
                    data = make(fmt, shape, size)
                    took = measure(fmt, data, Path(tmp))
                    mb = readable_size(f"input{SUFFIX.get(fmt, '.json')}", data) / 2**20  # a Word file: unpacked
                    row[f"{size // 2**10} KB"] = {"bytes": int(mb * 2**20), "seconds": took,
                                                  "seconds_per_mb": None if took is None else took / mb}
                per_mb = [c["seconds_per_mb"] for size, c in zip(sizes, row.values()) if size >= 100 * 2**10]
                over = [k for k, c in row.items() if c["seconds"] is None]
                ratio = growth(per_mb)
                report["cases"][f"{fmt}: {shape}"] = {"sizes": row, "growth": ratio, "over_budget": over}
                cells = "  ".join(f"{k} {cell(c['seconds'])}" for k, c in row.items())
                flat = "n/a" if ratio is None else f"{ratio:.2f}"
                print(f"{fmt + ': ' + shape:34} {cells}  growth {flat}", flush=True)
                if args.out:  # after every case: a long run stopped midway keeps what it measured
                    Path(args.out).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def growth(per_mb: list[float | None]) -> float | None:
    """Seconds per MB at the largest size over the smallest seen (None when a size went over the budget)."""
    if not per_mb or None in per_mb:
        return None
    return per_mb[-1] / max(min(per_mb), 1e-9)


def cell(seconds: float | None) -> str:
    return "over budget" if seconds is None else f"{seconds:.3f} s"


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


if __name__ == "__main__":
    main()
