import pytest

from rag.evaluate import contains_answer, normalize, rank_of, recall_and_mrr


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
