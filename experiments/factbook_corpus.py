"""A second corpus for the conversation and paraphrase sets: 24 country profiles of the CIA World
Factbook (public domain), written as one HTML page per country with its sections as headings.

    python experiments/factbook_corpus.py --factbook PATH --out .rag-factbook/corpus

PATH is a checkout (or a bare git directory) of github.com/factbook/factbook.json. Each page has the
country's name as <h1>, the Factbook's categories as <h2> ("Geography"), its fields as <h3> ("Area")
and one paragraph per field, its sub-fields as "label: text." sentences, so the paragraphs read as the
Factbook prints them. `benchmarks/factbook_questions.jsonl` and `factbook_conversations.jsonl` are
asked against an index of this folder (`experiments/factbook_score.py`).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import subprocess
from pathlib import Path

COUNTRIES = {  # GEC code -> region folder of factbook.json
    "au": "europe", "ja": "east-n-southeast-asia", "br": "south-america", "ke": "africa",
    "ca": "north-america", "in": "south-asia", "as": "australia-oceania", "eg": "africa",
    "no": "europe", "mx": "north-america", "pe": "south-america", "vm": "east-n-southeast-asia",
    "ni": "africa", "ic": "europe", "nz": "australia-oceania", "ci": "south-america", "mo": "africa",
    "mg": "east-n-southeast-asia", "sz": "europe", "ar": "south-america", "gh": "africa",
    "fi": "europe", "np": "south-asia", "po": "europe",
}
_TAG = re.compile(r"<[^>]{0,200}>")


def _read(factbook: Path, path: str) -> dict:
    if (factbook / path).is_file():
        return json.loads((factbook / path).read_text(encoding="utf-8"))
    shown = subprocess.run(["git", "--git-dir", str(factbook), "show", f"HEAD:{path}"],
                           check=True, capture_output=True, text=True)
    return json.loads(shown.stdout)


def _plain(text: str) -> str:
    text = re.sub(r"<br\s*/?>", " ", text)
    return " ".join(html.unescape(_TAG.sub("", text)).split())


def _sentence(text: str) -> str:
    text = _plain(text)
    return text if not text or text[-1] in ".!?" else text + "."


def _field(value: dict) -> str:
    """A field's paragraph: its own text, then each sub-field as 'label: text.'"""
    parts = []
    for key, sub in value.items():
        key = key.strip()
        label = key.split(":")[-1].strip()
        if key == "text" and isinstance(sub, str) or key == "note" and isinstance(sub, str):
            parts.append(_sentence(sub))
        elif isinstance(sub, dict) and isinstance(sub.get("text"), str):
            text = _plain(sub["text"])
            if text:
                parts.append(_sentence(text if text.lower().startswith(label.lower()) else f"{label}: {text}"))
    return " ".join(p for p in parts if p)


def page(profile: dict) -> tuple[str, str]:
    name = _plain(profile["Government"]["Country name"]["conventional short form"]["text"])
    body = [f"<h1>{html.escape(name)}</h1>"]
    for category, fields in profile.items():
        if not isinstance(fields, dict):
            continue
        body.append(f"<h2>{html.escape(category)}</h2>")
        for field, value in fields.items():
            text = _field(value) if isinstance(value, dict) else ""
            if text:
                body.append(f"<h3>{html.escape(field)}</h3>\n<p>{html.escape(text)}</p>")
    head = f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(name)}</title></head>"
    return name, head + "\n<body><main>\n" + "\n".join(body) + "\n</main></body></html>\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factbook", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for code, region in COUNTRIES.items():
        name, text = page(_read(args.factbook, f"{region}/{code}.json"))
        file = args.out / (name.lower().replace(" ", "-") + ".html")
        file.write_text(text, encoding="utf-8")
        print(file, len(text))


if __name__ == "__main__":
    main()
