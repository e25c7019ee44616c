"""The package metadata: requirements.txt (for the Space) says what pyproject.toml says."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import rag

ROOT = Path(__file__).resolve().parent.parent

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_requirements_txt_lists_exactly_the_dependencies_of_pyproject():
    lines = [line.strip() for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()]
    listed = {line for line in lines if line and not line.startswith(("#", "-"))}
    # torch comes first from the CPU index in the Space; pyproject leaves it to sentence-transformers.
    assert listed - {"torch"} == set(_project()["dependencies"])


def test_plotting_and_scikit_learn_are_not_hard_dependencies():
    names = {re.split(r"[<>=!~ \[]", d, maxsplit=1)[0].lower() for d in _project()["dependencies"]}
    assert "matplotlib" not in names and "scikit-learn" not in names
    assert any(d.startswith("matplotlib") for d in _project()["optional-dependencies"]["plots"])


def test_version_agrees_with_pyproject_and_a_licence_file_ships():
    assert rag.__version__ == _project()["version"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert _project()["license-files"] == ["LICENSE"]


def test_cli_version(capsys):
    from rag.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"rag {rag.__version__}"


def test_plot_without_matplotlib_says_how_to_get_it(monkeypatch, tmp_path):
    from rag.eval import plots

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what an install without the extra looks like
    with pytest.raises(rag.RagError, match=r"plots need matplotlib: pip install 'rag-quotes\[plots\]'"):
        plots.plot({"ranks": {}}, tmp_path / "p.png")


def test_the_space_front_matter_names_and_preloads_the_model_the_index_uses():
    import json

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    front = text.split("---\n")[1]
    model = json.loads((ROOT / "embeddings" / "manifest.json").read_text(encoding="utf-8"))["model"]
    reader = json.loads((ROOT / "rag" / "reader" / "weights" / "config.json").read_text(encoding="utf-8"))
    assert f"models:\n  - {model}\n" in front and f"preload_from_hub:\n  - {model}\n" in front
    assert reader["base_model"] == model  # the reader's base comes from the same preloaded model
    assert "app_file: app.py" in front


def test_the_pypi_page_is_a_short_description_of_its_own_not_the_readme():
    readme = _project()["readme"]
    assert readme["content-type"] == "text/markdown"
    text = readme["text"]
    assert len(text.splitlines()) <= 30 and "---\n" not in text and "make " not in text
    assert 'pip install "rag-quotes[offline]"' in text and "pip install torch==2.13.0" in text
