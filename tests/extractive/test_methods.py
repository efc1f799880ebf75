"""Hand-checkable cases for the extractive scoring and selection functions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from summarizer.extractive import methods

# A star: sentence 2 shares words with every other sentence, the others share nothing with each other.
STAR = [
    "The river flooded the old mill near town.",
    "Farmers lost crops overnight.",
    "Heavy rain flooded the river, farmers lost crops and the mill closed.",
    "Heavy rain kept falling.",
]
CENTER = 2


def test_lead_takes_the_first_k():
    assert methods.lead_indices(5, 3) == [0, 1, 2]
    assert methods.lead_indices(2, 3) == [0, 1]
    assert methods.lead_indices(4, 0) == []


@pytest.mark.parametrize(
    "sentence",
    [
        "Scroll down for video",
        "Scroll down for video of the rescue at the harbour",
        "By JOHN SMITH and MARY JONES FOR THE DAILY MAIL",
        "PUBLISHED: 12:01 EST, 3 March 2014",
        "12 , 34 , 56 , 78 , 90",
        "Too short.",
    ],
)
def test_junk_sentences_are_filtered(sentence):
    assert methods.is_junk_sentence(sentence)


def test_content_sentences_are_kept():
    assert not methods.is_junk_sentence("The NHS said the new rules will start in April next year.")
    assert methods.usable_sentence_indices(["Hi.", "The council approved the budget on Tuesday."]) == [1]


def test_run_on_sentences_are_dropped_only_when_a_cap_is_set():
    run_on = " ".join(["word"] * 30)
    assert not methods.is_junk_sentence(run_on)
    assert methods.is_junk_sentence(run_on, max_words=20)


def test_word_overlap_similarity_matches_the_textrank_formula():
    # Content words: {cats, chase, mice} and {cats, like, mice}: 2 shared, 3 words each.
    similarity = methods.word_overlap_similarity(["Cats chase mice.", "Cats like mice."])
    assert similarity[0, 1] == pytest.approx(2 / (math.log(3) + math.log(3)))
    assert similarity[0, 0] == 0.0


def test_word_overlap_similarity_of_one_word_sentences_is_zero():
    assert methods.word_overlap_similarity(["Cats.", "Cats."])[0, 1] == 0.0


def test_tfidf_cosine_of_identical_and_disjoint_sentences():
    sentences = ["Cats chase mice.", "Cats chase mice.", "Dogs bark loudly."]
    similarity = methods.tfidf_cosine_similarity(sentences)
    assert similarity[0, 1] == pytest.approx(1.0)
    assert similarity[0, 2] == pytest.approx(0.0)


def test_pagerank_of_two_linked_nodes_is_uniform():
    assert methods.pagerank(np.array([[0.0, 1.0], [1.0, 0.0]])) == pytest.approx([0.5, 0.5])


def test_pagerank_favours_the_hub_of_a_star_and_sums_to_one():
    star = np.array([[0, 1, 1, 1], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]], dtype=float)
    scores = methods.pagerank(star)
    assert scores.sum() == pytest.approx(1.0)
    assert int(np.argmax(scores)) == 0
    # The three leaves are symmetric.
    assert scores[1] == pytest.approx(scores[2]) == pytest.approx(scores[3])


def test_pagerank_of_an_empty_graph():
    assert methods.pagerank(np.zeros((0, 0))).shape == (0,)


def test_textrank_picks_the_central_sentence():
    assert int(np.argmax(methods.textrank_scores(STAR))) == CENTER


def test_lexrank_picks_the_central_sentence():
    assert int(np.argmax(methods.lexrank_scores(STAR))) == CENTER


def test_lexrank_threshold_cuts_weak_links():
    # With a threshold above every cosine there are no edges: every sentence is equally central.
    scores = methods.lexrank_scores(STAR, threshold=0.99)
    assert scores == pytest.approx(np.full(len(STAR), 1 / len(STAR)))


def test_centroid_centrality_prefers_the_middle_direction():
    angles = np.radians([0, 40, 50, 90])
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    scores = methods.centroid_centrality(vectors)
    assert set(np.argsort(scores)[-2:]) == {1, 2}


def test_directed_centrality_by_hand():
    similarity = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.8], [0.2, 0.8, 1.0]])
    # beta = 0: edges = sim - min(off-diagonal) = [[., .3, 0], [.3, ., .6], [0, .6, .]]
    scores = methods.directed_centrality(similarity, lambda1=-1.0, lambda2=2.0, beta=0.0)
    # s0: later edges .3 -> 0.6; s1: earlier .3, later .6 -> -.3 + 1.2; s2: earlier 0 + .6 -> -.6
    assert scores == pytest.approx([0.6, 0.9, -0.6])


def test_position_prior_and_mixing():
    assert methods.position_prior(3) == pytest.approx([1.0, 0.5, 1 / 3])
    scores = np.array([0.0, 2.0, 1.0])
    assert methods.with_position(scores, 0.0) == pytest.approx([0.0, 1.0, 0.5])
    assert methods.with_position(scores, 1.0) == pytest.approx([1.0, 0.5, 1 / 3])
    assert methods.with_position(scores, 0.5) == pytest.approx([0.5, 0.75, 0.5 / 2 + 1 / 6])


def test_rescale_of_constant_scores_is_zero():
    assert methods.rescale(np.array([3.0, 3.0])) == pytest.approx([0.0, 0.0])


def test_selection_returns_article_order():
    scores = np.array([0.5, 0.1, 0.2, 0.9])
    assert methods.select_diverse(scores, np.zeros((4, 4)), 2) == [0, 3]


def near_duplicate_similarity() -> np.ndarray:
    # Sentences 0 and 1 say the same thing; 2 is different.
    return np.array([[1.0, 0.97, 0.1], [0.97, 1.0, 0.1], [0.1, 0.1, 1.0]])


def test_similarity_cap_skips_near_duplicates():
    scores = np.array([0.9, 0.85, 0.3])
    assert methods.select_diverse(scores, near_duplicate_similarity(), 2) == [0, 1]
    assert methods.select_diverse(scores, near_duplicate_similarity(), 2, max_similarity=0.9) == [0, 2]


def test_mmr_redundancy_penalty_skips_near_duplicates():
    # Second pick: 0.5 * 0.85 - 0.5 * 0.97 < 0.5 * 0.3 - 0.5 * 0.1.
    scores = np.array([0.9, 0.85, 0.3])
    assert methods.select_diverse(scores, near_duplicate_similarity(), 2, redundancy=0.5) == [0, 2]


def test_similarity_cap_gives_a_shorter_summary_rather_than_a_repetitive_one():
    similarity = np.ones((3, 3))
    assert methods.select_diverse(np.array([0.1, 0.9, 0.5]), similarity, 3, max_similarity=0.9) == [1]
