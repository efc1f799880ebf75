"""ROUGE-N, ROUGE-L and ROUGE-Lsum, reproducing either of the two references papers report against.

mode="rouge-score": numbers identical to Google's rouge-score package (`rouge_scorer.RougeScorer`).
mode="rouge155":    numbers identical to the official ROUGE-1.5.5.pl run through pyrouge with
                    `-c 95 -n 2 -a -r 1000 -m -d` (one reference): its tokenizer, its Porter stemmer with
                    the WordNet-2.0 exception table, pyrouge's sentence files, and its 5-decimal rounding.

In both modes rougeL is the LCS over the whole text and rougeLsum the summary-level (union) LCS over
newline-separated sentences; ROUGE-1.5.5's "ROUGE-L" is the latter, i.e. rougeLsum here.

Speed: n-grams are Counters, stems are cached, and LCS uses a bit-parallel algorithm (one big-integer
step per token instead of one Python step per DP cell), with the exact backtrack rouge-score and
ROUGE-1.5.5 use for the union LCS.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, NamedTuple

from summarizer import __version__
from summarizer.evaluation.tokenize import DefaultTokenizer, Rouge155Tokenizer, Tokenizer

MODES = ("rouge-score", "rouge155")
DEFAULT_ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
_ROUGE_N = re.compile(r"rouge([1-9])$")
_REFERENCE = {
    "rouge-score": "rouge-score 0.1.2 (google-research/rouge) RougeScorer",
    "rouge155": "ROUGE-1.5.5.pl -c 95 -n 2 -a -r 1000 -m -d via pyrouge (SEE files, one reference)",
}


class Score(NamedTuple):
    precision: float
    recall: float
    fmeasure: float


class _Text(NamedTuple):
    tokens: list[str]  # the whole text (rouge-N, rougeL)
    sentences: list[list[str]]  # one token list per sentence (rougeLsum)


# --- counting -------------------------------------------------------------------------------------


def ngram_counts(tokens: Sequence[str], n: int) -> Counter:
    if n == 1:
        return Counter(tokens)
    return Counter(zip(*(tokens[i:] for i in range(n))))


def ngram_overlap(a: Counter, b: Counter) -> int:
    """Clipped n-gram matches: sum over n-grams of min(count in a, count in b)."""
    if len(a) > len(b):
        a, b = b, a
    return sum(min(count, b[gram]) for gram, count in a.items() if gram in b)


def _match_masks(tokens: Sequence[str]) -> dict[str, int]:
    """token -> bitmask of its positions in `tokens`."""
    masks: dict[str, int] = {}
    for position, token in enumerate(tokens):
        masks[token] = masks.get(token, 0) | (1 << position)
    return masks


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Allison-Dix / Hyyro).

    Bit j of `row` is 0 where the LCS of the prefix of `a` seen so far and b[:j+1] grows at j+1, so the
    LCS is the number of zero bits. Each token of `a` costs a few big-integer operations.
    """
    if len(a) > len(b):  # loop over the shorter sequence: Python steps cost more than wider integers
        a, b = b, a
    if not a:
        return 0
    masks = _match_masks(b)
    row = full = (1 << len(b)) - 1
    for token in a:
        match = masks.get(token)
        if match:
            hits = row & match
            row = (row + hits) | (row - hits)
    return len(b) - (row & full).bit_count()


def _lcs_reference_positions(reference: Sequence[str], candidate_masks: dict[str, int], n: int) -> int:
    """Bitmask of the positions in `reference` on the LCS with the candidate (length n) that rouge-score's
    `_backtrack_norec` and ROUGE-1.5.5's `markLCS` pick: diagonal on a match, else left only when the
    cell to the left is strictly greater than the cell above, else up.

    The DP table is kept as one bit-parallel row per reference token, cell (i, j) being
    j - popcount(rows[i] & (2**j - 1)), and runs of left moves are taken in one step.
    """
    token_masks = [candidate_masks.get(token, 0) for token in reference]
    row = (1 << n) - 1
    rows = [row]
    for match in token_masks:
        if match:
            hits = row & match
            row = (row + hits) | (row - hits)
        rows.append(row)
    i, j = len(reference), n
    length = n - (row & rows[0]).bit_count()  # cell (i, j)
    positions = 0
    while length:  # once the cell is 0 no match is left on the path
        match = token_masks[i - 1]
        if not match:  # this row equals the one above, so "above" is never smaller: go up
            i -= 1
            continue
        if not (match >> (j - 1)) & 1:
            if j - (rows[i - 1] & ((1 << j) - 1)).bit_count() == length:  # above == here: go up
                i -= 1
                continue
            # Above is length-1 from here leftwards, so the path goes left while the cell to the left is
            # still `length` (bit set in this row) and there is no match: stop at the highest position
            # below j that is a match or where this row's value steps down.
            stop = (match | ~rows[i]) & ((1 << j) - 1)
            j = stop.bit_length()
            if not (match >> (j - 1)) & 1:  # the value steps down at j-1: go up, to length-1
                i -= 1
                length -= 1
                continue
        i -= 1  # diagonal
        j -= 1
        positions |= 1 << i
        length -= 1
    return positions


def union_lcs_hits(reference_sentences: Sequence[Sequence[str]], candidate_sentences: Sequence[Sequence[str]]) -> int:
    """Summary-level LCS hits (ROUGE paper 3.2) without double counting, as ROUGE-1.5.5 and rouge-score:
    for each reference sentence, the union of its LCS positions with every candidate sentence, each
    token counted only while unused occurrences remain in both summaries."""
    reference_left = Counter(token for sentence in reference_sentences for token in sentence)
    candidate_left = Counter(token for sentence in candidate_sentences for token in sentence)
    candidates = [(_match_masks(sentence), len(sentence)) for sentence in candidate_sentences if sentence]
    hits = 0
    for reference in reference_sentences:
        union = 0
        for masks, n in candidates:
            union |= _lcs_reference_positions(reference, masks, n)
        position = 0
        while union:
            if union & 1:
                token = reference[position]
                if candidate_left[token] > 0 and reference_left[token] > 0:
                    hits += 1
                    candidate_left[token] -= 1
                    reference_left[token] -= 1
            union >>= 1
            position += 1
    return hits


# --- turning counts into scores -------------------------------------------------------------------


def _score_rouge_score(hits: int, target_count: int, prediction_count: int) -> Score:
    # Same operations in the same order as rouge-score, so the floats are bit-identical.
    precision = hits / max(prediction_count, 1)
    recall = hits / max(target_count, 1)
    if precision + recall > 0:
        return Score(precision, recall, 2 * precision * recall / (precision + recall))
    return Score(precision, recall, 0.0)


def _round5(value: float) -> float:
    # ROUGE-1.5.5 keeps every per-document number as sprintf("%7.5f"); C and Python both round the exact
    # binary value, so this is the same decimal.
    return float(f"{value:.5f}")


def _score_rouge155(hits: int, target_count: int, prediction_count: int, alpha: float = 0.5) -> Score:
    recall = _round5(hits / target_count) if target_count else 0.0
    precision = _round5(hits / prediction_count) if prediction_count else 0.0
    # The script computes F from the already rounded P and R, with this exact expression.
    denominator = (1 - alpha) * precision + alpha * recall
    fmeasure = _round5((precision * recall) / denominator) if denominator > 0 else 0.0
    return Score(precision, recall, fmeasure)


def _pyrouge_sentences(text: str) -> list[str]:
    """The sentences ROUGE-1.5.5 reads back from pyrouge's SEE-format file.

    pyrouge writes each line as `<a ...>[i]</a> <a ... id=i>LINE</a>` and the script captures `[^<]+`,
    so a line is cut at its first '<' and a line that is then empty is skipped.
    """
    sentences = []
    for line in text.split("\n"):
        line = line.split("<", 1)[0]
        if line:
            sentences.append(line)
    return sentences


class RougeScorer:
    """`score(target, prediction) -> {rouge_type: Score}` for rouge1..rouge9, rougeL and rougeLsum."""

    def __init__(
        self,
        rouge_types: Sequence[str] = DEFAULT_ROUGE_TYPES,
        mode: str = "rouge-score",
        use_stemmer: bool = True,
        tokenizer: Tokenizer | None = None,
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if isinstance(rouge_types, str):
            raise TypeError("rouge_types must be a sequence of names, e.g. ('rouge1', 'rougeL')")
        for rouge_type in rouge_types:
            if rouge_type not in ("rougeL", "rougeLsum") and not _ROUGE_N.match(rouge_type):
                raise ValueError(f"invalid rouge type {rouge_type!r}: use rouge1..rouge9, rougeL or rougeLsum")
        self.rouge_types = tuple(rouge_types)
        self.mode = mode
        self.use_stemmer = use_stemmer
        if tokenizer is None:
            tokenizer = Rouge155Tokenizer(use_stemmer) if mode == "rouge155" else DefaultTokenizer(use_stemmer)
        self.tokenizer = tokenizer
        self._needs_tokens = any(t != "rougeLsum" for t in self.rouge_types)
        self._needs_sentences = "rougeLsum" in self.rouge_types
        self._finish = _score_rouge155 if mode == "rouge155" else _score_rouge_score

    def config(self) -> dict[str, Any]:
        """What to record next to every number this scorer produces."""
        return {
            "implementation": "summarizer.evaluation.rouge",
            "version": __version__,
            "mode": self.mode,
            "reproduces": _REFERENCE[self.mode],
            "rouge_types": list(self.rouge_types),
            "use_stemmer": self.use_stemmer,
            "tokenizer": self.tokenizer.name,
            "rougeLsum_sentences": "newline-separated",
            "f_measure": "F1 (alpha=0.5)",
            "rounding": "5 decimals, as ROUGE-1.5.5 prints" if self.mode == "rouge155" else None,
        }

    def _prepare(self, text: str) -> _Text:
        tokenize = self.tokenizer.tokenize
        if self.mode == "rouge155":
            # The script joins a summary's sentences with spaces for ROUGE-N, so the whole-text tokens are
            # the sentences' tokens in order.
            sentences = [tokenize(line) for line in _pyrouge_sentences(text)]
            return _Text([token for sentence in sentences for token in sentence], sentences)
        tokens = tokenize(text) if self._needs_tokens else []
        # rouge-score drops empty lines only; a line of punctuation stays as an empty sentence.
        sentences = [tokenize(line) for line in text.split("\n") if line] if self._needs_sentences else []
        return _Text(tokens, sentences)

    def _score_prepared(self, target: _Text, prediction: _Text) -> dict[str, Score]:
        finish = self._finish
        result: dict[str, Score] = {}
        for rouge_type in self.rouge_types:
            if rouge_type == "rougeL":
                hits = lcs_length(target.tokens, prediction.tokens)
                result[rouge_type] = finish(hits, len(target.tokens), len(prediction.tokens))
            elif rouge_type == "rougeLsum":
                hits = union_lcs_hits(target.sentences, prediction.sentences)
                target_count = sum(map(len, target.sentences))
                prediction_count = sum(map(len, prediction.sentences))
                result[rouge_type] = finish(hits, target_count, prediction_count)
            else:
                n = int(rouge_type[5:])
                target_ngrams = ngram_counts(target.tokens, n)
                prediction_ngrams = ngram_counts(prediction.tokens, n)
                hits = ngram_overlap(target_ngrams, prediction_ngrams)
                result[rouge_type] = finish(
                    hits, max(len(target.tokens) - n + 1, 0), max(len(prediction.tokens) - n + 1, 0)
                )
        return result

    def score(self, target: str, prediction: str) -> dict[str, Score]:
        return self._score_prepared(self._prepare(target), self._prepare(prediction))

    def score_multi(self, targets: Sequence[str], prediction: str, combine: str = "max") -> dict[str, Score]:
        """Score against several references.

        combine="max": per rouge type, the Score of the reference with the highest F (the first on ties),
        as rouge-score's `score_multi`. combine="mean": precision, recall and F each averaged over the
        references. (ROUGE-1.5.5's own multi-reference average, `-f A`, pools counts instead.)
        """
        if combine not in ("max", "mean"):
            raise ValueError(f"combine must be 'max' or 'mean', not {combine!r}")
        if not targets:
            raise ValueError("score_multi needs at least one target")
        prepared_prediction = self._prepare(prediction)
        per_target = [self._score_prepared(self._prepare(target), prepared_prediction) for target in targets]
        combined: dict[str, Score] = {}
        for rouge_type in self.rouge_types:
            scores = [scores[rouge_type] for scores in per_target]
            if combine == "max":
                combined[rouge_type] = max(scores, key=lambda score: score.fmeasure)
            else:
                combined[rouge_type] = Score(*(sum(values) / len(values) for values in zip(*scores)))
        return combined
