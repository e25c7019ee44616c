import json
from pathlib import Path

import pytest

import rag
from rag.eval.metrics import (
    contains_answer,
    normalize,
    rank_of,
    recall_and_mrr,
    threshold_answering,
    threshold_declining,
)
from rag.eval.plots import plot
from rag.eval.report import report_table
from rag.eval.squad import evaluate, gold_passages, load_squad, write_rows
from rag.index.build import subset
from tests.conftest import write_corpus


def test_known_ranks_give_known_recall_and_mrr():
    scores = recall_and_mrr([1, 2, 4, None], ks=(1, 3, 5))
    assert scores == {"recall@1": 0.25, "recall@3": 0.5, "recall@5": 0.75, "mrr": pytest.approx((1 + 0.5 + 0.25) / 4)}


def test_rank_of_is_one_based_and_none_when_missing():
    assert rank_of([7, 3, 9], 3) == 2
    assert rank_of([7, 3, 9], 5) is None


def test_squad_normalization_and_containment():
    assert normalize("The  Denver Broncos!") == "denver broncos"
    assert contains_answer("In 2015, the Denver Broncos won.", ["Denver Broncos"])
    assert not contains_answer("The Broncos of Denver won.", ["Denver Broncos"])
    assert not contains_answer("In 20155 they won.", ["2015"])  # whole words only


def test_no_questions_is_a_clear_error():
    with pytest.raises(ValueError, match="no questions to score"):
        recall_and_mrr([])


def test_thresholds_answer_or_decline_the_asked_share():
    scores = [float(s) for s in range(1, 21)]  # 20 questions scoring 1..20
    threshold = threshold_answering(scores, answered=0.95)
    assert threshold == 2.0  # 19 of 20 score >= 2
    assert sum(s >= threshold for s in scores) / len(scores) == 0.95
    threshold = threshold_declining(scores, declined=0.90)
    assert 18.0 < threshold < 18.001  # 1..18 are below it: 18 of 20 declined
    assert sum(s < threshold for s in scores) / len(scores) == 0.90
    with pytest.raises(ValueError, match="no in-corpus questions"):
        threshold_answering([])
    with pytest.raises(ValueError, match="no held-out questions"):
        threshold_declining([])


def _squad(articles: list[list[tuple[str, list[tuple[str, str]]]]]) -> dict:
    return {"version": "1.1", "data": [
        {"title": f"Article {i}", "paragraphs": [
            {"context": context,
             "qas": [{"id": f"{i}-{j}-{k}", "question": q, "answers": [{"text": a, "answer_start": 0}]}
                     for k, (q, a) in enumerate(qas)]}
            for j, (context, qas) in enumerate(paragraphs)]}
        for i, paragraphs in enumerate(articles)]}


TOPICS = ["volcano lava eruption", "glacier ice valley", "desert sand dune", "river delta silt",
          "forest canopy fern", "reef coral fish"]


def _tiny_squad(tmp_path: Path) -> Path:
    articles = []
    for i, topic in enumerate(TOPICS):
        a, b, c = topic.split()
        articles.append([
            (f"The {a} near town {i} is famous for its {b}. Visitors come every summer.",
             [(f"What is the {a} near town {i} famous for?", b)]),
            (f"Scientists measured the {c} of the {a} in {1900 + i}. They published a report.",
             [(f"When did scientists measure the {c} of the {a}?", str(1900 + i))]),
        ])
    path = tmp_path / "tiny-squad.json"
    path.write_text(json.dumps(_squad(articles)), encoding="utf-8")
    return path


def test_load_squad_writes_one_file_per_article_and_maps_gold_paragraphs(tmp_path, embedder):
    questions = load_squad(_tiny_squad(tmp_path), tmp_path / "corpus")
    assert sorted(p.name for p in (tmp_path / "corpus").iterdir())[:2] == ["000_Article_0.txt", "001_Article_1.txt"]
    assert len(questions) == 12
    q = questions[1]
    assert (q.source, q.paragraph, q.answers, q.split, q.held_out) == ("000_Article_0.txt", 2, ("1900",), "tune", False)
    assert questions[-1].split == "report" and [q.article for q in questions if q.held_out] == [4, 4]
    qa = rag.build(tmp_path / "corpus", model=embedder, reader=False)
    gold = gold_passages(qa.index.passages, questions)
    assert [qa.index.passages[g].text for g in gold[:2]] == [
        "The volcano near town 0 is famous for its lava. Visitors come every summer.",
        "Scientists measured the eruption of the volcano in 1900. They published a report."]


def test_evaluate_reports_every_number_on_a_tiny_squad(tmp_path, embedder):
    questions = load_squad(_tiny_squad(tmp_path), tmp_path / "corpus")
    qa = rag.build(tmp_path / "corpus", model=embedder, reader=False)
    report = evaluate(qa, questions)
    everything = report["all"]
    assert report["questions"] == everything["questions"] == 12
    assert everything["retrieval"]["hybrid"]["recall@20"] == 1.0  # 12 passages: gold is always in the top 20
    assert 0 < everything["retrieval"]["hybrid"]["recall@1"] <= 1.0
    assert everything["held_out_questions"] == 2  # article 4 is left out of the second index
    assert report["tune"]["questions"] + report["report"]["questions"] == 12
    assert report["threshold"]["chosen"] is not None and report["threshold"]["answers_95"] is not None
    assert set(report["latency_ms"]) == {"ask", "floor"}
    assert len(report["ranks"]["bm25"]) == 12
    rows = [json.loads(line) for line in write_rows(report, tmp_path / "out" / "rows.jsonl").read_text().splitlines()]
    assert len(rows) == 12 + 2  # every question, then the held-out ones again against the index without them
    assert [r["asked_without_article"] for r in rows].count(True) == 2
    assert all(r["held_out"] for r in rows if r["asked_without_article"])
    assert rows[1]["id"] == questions[1].id and rows[1]["split"] == "tune"
    assert sum(r["correct_if_answered"] for r in rows[:12]) / 12 == everything["answer_accuracy_never_declining"]
    assert not list((tmp_path / "out").glob("*.tmp"))
    table = report_table(report)
    assert "SQuAD-open: 12 questions against 12 passages" in table
    assert "held-out-article questions declined" in table and "all hybrid" in table
    png = plot(report, tmp_path / "recall.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_subset_reuses_vectors_and_keeps_answers(tmp_path, embedder):
    qa = rag.build(write_corpus(tmp_path / "docs"), model=embedder, reader=False)
    calls = embedder.calls
    small = subset(qa.index, lambda source: source != "cats.txt")
    assert embedder.calls == calls  # nothing re-embedded
    assert {p.source for p in small.passages} == {"rivers.md", "volcano.txt"}
    assert [p.id for p in small.passages] == list(range(len(small.passages)))
    assert small.manifest.counts["passages"] == len(small.passages)
    reduced = rag.QA(small, embedder)
    assert reduced.ask("Where does the Rhine rise?").answer == qa.ask("Where does the Rhine rise?").answer
    assert not reduced.ask("What is a group of cats called?").answered
