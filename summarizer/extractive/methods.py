"""Sentence selection for extractive summaries: pure functions over lists of sentences.

Every scorer returns one number per sentence; ``select_diverse`` then picks the best ones while
keeping them different from each other, and returns their indices in article order so the summary
reads in the order the article tells the story.

References: Lead-k (the news baseline), TextRank (Mihalcea & Tarau 2004), LexRank (Erkan & Radev
2004), PACSUM's directed centrality (Zheng & Lapata 2019) and MMR (Carbonell & Goldstein 1998).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

# The candidate filters live in a numpy-free module (Lead-k needs nothing else); their names stay here.
from summarizer.extractive.candidates import depends_on_context as depends_on_context
from summarizer.extractive.candidates import headline_indices as headline_indices
from summarizer.extractive.candidates import is_heading as is_heading
from summarizer.extractive.candidates import is_junk_sentence as is_junk_sentence
from summarizer.extractive.candidates import usable_sentence_indices as usable_sentence_indices
from summarizer.text import content_tokens

# Function words carry no topic: counting them makes every pair of sentences look alike.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves s t said says say""".split()
)

# --- similarity --------------------------------------------------------------------------------

# Decimals kept of scores and similarities that selection compares. Sentences in the same place of a
# graph tie exactly in exact arithmetic, but matrix products sum in an order that depends on the CPU's
# BLAS kernels: their last bits then differ from machine to machine, and so did LexRank's summaries of
# 27 of the 100 dev articles under noise of 1e-15 (its unweighted graphs tie often). Rounded, such ties
# stay ties and go to the earlier sentence everywhere. PageRank converges to 1e-8 only, so nothing
# finer is lost.
STABLE_DECIMALS = 10


def stable(values: np.ndarray) -> np.ndarray:
    """``values`` without the last bits that floating-point summation order changes (STABLE_DECIMALS)."""
    return np.round(values, STABLE_DECIMALS)


def topic_tokens(sentence: str) -> list[str]:
    return [token for token in content_tokens(sentence) if token not in STOPWORDS]


def word_overlap_similarity(sentences: list[str]) -> np.ndarray:
    """TextRank's similarity: shared words / (log|s1| + log|s2|), zero on the diagonal."""
    tokens = [topic_tokens(sentence) for sentence in sentences]
    vocab = [set(t) for t in tokens]
    n = len(sentences)
    similarity = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            overlap = len(vocab[i] & vocab[j])
            # Two one-word sentences would divide by log(1) + log(1) = 0; they share nothing useful.
            norm = math.log(len(tokens[i])) + math.log(len(tokens[j])) if tokens[i] and tokens[j] else 0.0
            if overlap and norm > 0:
                similarity[i, j] = similarity[j, i] = overlap / norm
    return similarity


def tfidf_cosine_similarity(sentences: list[str]) -> np.ndarray:
    """Cosine between TF-IDF vectors, the IDF computed over the article's own sentences.

    IDF is smoothed (log((1 + N) / (1 + df)) + 1) so a word in every sentence still counts a
    little instead of vanishing, which matters for the short articles of a news feed.
    """
    counts = [Counter(topic_tokens(sentence)) for sentence in sentences]
    vocabulary = sorted({word for count in counts for word in count})
    if not vocabulary:
        return np.zeros((len(sentences), len(sentences)))
    column = {word: j for j, word in enumerate(vocabulary)}
    tf = np.zeros((len(sentences), len(vocabulary)))
    for i, count in enumerate(counts):
        for word, value in count.items():
            tf[i, column[word]] = value
    document_frequency = (tf > 0).sum(axis=0)
    idf = np.log((1 + len(sentences)) / (1 + document_frequency)) + 1.0
    vectors = tf * idf
    # Selection compares these against each other and against thresholds (see STABLE_DECIMALS).
    return stable(cosine_matrix(vectors))


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors, dtype=float), where=norms > 0)
    return np.clip(unit @ unit.T, -1.0, 1.0)


# --- centrality --------------------------------------------------------------------------------

def pagerank(weights: np.ndarray, damping: float = 0.85, tolerance: float = 1e-8,
             max_iterations: int = 200) -> np.ndarray:
    """Stationary distribution of a random walk on a weighted graph, by power iteration.

    A node without outgoing edges jumps uniformly, so isolated sentences keep a small score
    instead of absorbing or losing the walk's mass.
    """
    n = weights.shape[0]
    if n == 0:
        return np.zeros(0)
    weights = np.asarray(weights, dtype=float).copy()
    np.fill_diagonal(weights, 0.0)
    out_degree = weights.sum(axis=1, keepdims=True)
    transition = np.divide(weights, out_degree, out=np.full_like(weights, 1.0 / n), where=out_degree > 0)
    scores = np.full(n, 1.0 / n)
    for _ in range(max_iterations):
        updated = (1.0 - damping) / n + damping * (transition.T @ scores)
        converged = np.abs(updated - scores).sum() < tolerance
        scores = updated
        if converged:
            break
    return scores


def textrank_scores(sentences: list[str], damping: float = 0.85) -> np.ndarray:
    return stable(pagerank(word_overlap_similarity(sentences), damping))


def lexrank_scores(sentences: list[str], threshold: float = 0.1, damping: float = 0.85,
                   similarity: np.ndarray | None = None) -> np.ndarray:
    """LexRank: an unweighted graph of sentence pairs whose TF-IDF cosine exceeds ``threshold``,
    degree-normalized (by pagerank's row normalization) and ranked by PageRank."""
    if similarity is None:
        similarity = tfidf_cosine_similarity(sentences)
    return stable(pagerank((stable(similarity) > threshold).astype(float), damping))


def centroid_centrality(embeddings: np.ndarray, lead: int | None = None) -> np.ndarray:
    """Cosine of each (unit-norm) sentence embedding to the document centroid.

    With ``lead``, the centroid is the mean of the first ``lead`` sentences only: news states its
    story up front, so closeness to the opening is closeness to what the article is about, while
    the whole-document mean drifts towards background and quotes in long articles.
    """
    if len(embeddings) == 0:
        return np.zeros(0)
    centroid = embeddings[:lead].mean(axis=0) if lead else embeddings.mean(axis=0)
    norm = np.linalg.norm(centroid)
    return embeddings @ (centroid / norm) if norm > 0 else np.zeros(len(embeddings))


def directed_centrality(similarity: np.ndarray, lambda1: float = -2.0, lambda2: float = 1.0,
                        beta: float = 0.6) -> np.ndarray:
    """PACSUM: edges below ``min + beta * (max - min)`` are dropped, then a sentence's score is
    lambda1 * (edges to earlier sentences) + lambda2 * (edges to later sentences).

    A negative lambda1 rewards sentences that later ones build on, which is how news is written.
    """
    n = similarity.shape[0]
    if n < 2:
        return np.zeros(n)
    off_diagonal = similarity[~np.eye(n, dtype=bool)]
    low, high = off_diagonal.min(), off_diagonal.max()
    edges = np.clip(similarity - (low + beta * (high - low)), 0.0, None)
    np.fill_diagonal(edges, 0.0)
    earlier = np.tril(edges, k=-1).sum(axis=1)
    later = np.triu(edges, k=1).sum(axis=1)
    return lambda1 * earlier + lambda2 * later


def position_prior(n: int, scale: float = 1.0) -> np.ndarray:
    """1 / (1 + position / scale): news puts what matters first, and the benefit fades.

    ``scale`` = 1 is the classic 1 / (position + 1); a larger scale fades more slowly, so the
    second to fifth sentences keep most of the first one's weight.
    """
    return 1.0 / (1.0 + np.arange(n, dtype=float) / scale)


def rescale(scores: np.ndarray) -> np.ndarray:
    """Min-max to [0, 1] so scores of different scales can be mixed; constant scores become 0."""
    if len(scores) == 0:
        return scores
    low, high = float(np.min(scores)), float(np.max(scores))
    return (scores - low) / (high - low) if high > low else np.zeros_like(scores, dtype=float)


def with_position(scores: np.ndarray, position_weight: float, position_scale: float = 1.0) -> np.ndarray:
    if position_weight <= 0:
        return rescale(scores)
    prior = position_prior(len(scores), position_scale)
    return (1.0 - position_weight) * rescale(scores) + position_weight * prior


# --- selection ---------------------------------------------------------------------------------

def lead_indices(n_sentences: int, k: int) -> list[int]:
    return list(range(min(n_sentences, max(k, 0))))


def coverage_gains(similarity: np.ndarray, candidates: list[int], covered: np.ndarray) -> np.ndarray:
    """How much each candidate would raise the article's coverage: the mean over all sentences j of
    max(0, similarity(candidate, j) - covered[j]), where ``covered`` holds each sentence's best
    similarity to the sentences already taken (facility location, Lin & Bilmes 2011)."""
    return np.clip(similarity[candidates] - covered[None, :], 0.0, None).mean(axis=1)


def select_diverse(scores: np.ndarray, similarity: np.ndarray, n: int, redundancy: float = 0.0,
                   max_similarity: float = 1.0, coverage: float = 0.0, coverage_from: int = 0) -> list[int]:
    """Greedy MMR: repeatedly take the sentence maximizing
    (1 - redundancy) * score - redundancy * (max similarity to the sentences already taken)
    + coverage * (its coverage gain, rescaled to [0, 1] over the remaining candidates),
    never taking one whose similarity to a taken sentence exceeds ``max_similarity``.

    The coverage term rewards sentences that represent parts of the article the summary does not
    reach yet, so more bullets spread over the whole article instead of piling up at its top. It
    applies from the ``coverage_from``-th pick on (0: from the first): news tells the story in its
    first sentences, and only the bullets beyond those need to reach into the body.
    Returns indices in article order. If the similarity cap leaves fewer than ``n`` candidates,
    the summary is shorter rather than repetitive.
    """
    chosen: list[int] = []
    remaining = list(range(len(scores)))
    covered = np.zeros(len(scores))
    while remaining and len(chosen) < n:
        if chosen:
            closest = similarity[np.ix_(remaining, chosen)].max(axis=1)
        else:
            closest = np.zeros(len(remaining))
        allowed = closest <= max_similarity
        if not allowed.any():
            break
        value = (1.0 - redundancy) * scores[remaining] - redundancy * closest
        if coverage > 0 and len(chosen) >= coverage_from:
            value = value + coverage * rescale(coverage_gains(similarity, remaining, covered))
        value = np.where(allowed, value, -np.inf)
        best = remaining[int(np.argmax(value))]
        chosen.append(best)
        remaining.remove(best)
        covered = np.maximum(covered, similarity[best])
    return sorted(chosen)
