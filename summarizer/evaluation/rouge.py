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


def _match_masks(tokens: Sequence[str], first_bit: int = 0) -> dict[str, int]:
    """token -> bitmask of its positions in `tokens`, position k at bit first_bit + k."""
    masks: dict[str, int] = {}
    get = masks.get
    bit = 1 << first_bit
    for token in tokens:
        masks[token] = get(token, 0) | bit
        bit <<= 1
    return masks


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Allison-Dix, Hyyro).

    Bit j of `row` is 0 where the LCS of the prefix of `a` seen so far with b[:j+1] is one longer than
    with b[:j], so the LCS is the number of zero bits. Each token of `a` costs a few integer operations
    instead of len(b) Python steps.
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


class _Segments(NamedTuple):
    """Candidate sentences side by side in one bit vector, one guard bit between neighbours.

    A zero guard bit absorbs the carry of the bit-parallel update, and is cleared again after it, so one
    pass over a reference sentence computes its LCS table with every candidate sentence at once.
    """

    masks: dict[str, int]  # token -> its positions in all sentences
    spans: list[tuple[int, int]]  # (first bit, length) per non-empty sentence
    keep: int  # all sentence bits, no guard bits


def _segments(sentences: Sequence[Sequence[str]]) -> _Segments:
    masks: dict[str, int] = {}
    spans = []
    keep = 0
    first = 0
    for sentence in sentences:
        if not sentence:
            continue
        for token, positions in _match_masks(sentence, first).items():
            masks[token] = masks.get(token, 0) | positions
        spans.append((first, len(sentence)))
        keep |= ((1 << len(sentence)) - 1) << first
        first += len(sentence) + 1
    return _Segments(masks, spans, keep)


def _union_lcs_positions(reference: Sequence[str], segments: _Segments) -> int:
    """Bitmask of the positions of `reference` in the union of its LCS with each candidate sentence.

    Each LCS is the one rouge-score's `_backtrack_norec` and ROUGE-1.5.5's `markLCS` pick: diagonal on
    a match, else left only when the cell to the left is strictly greater than the cell above, else up.
    In sentence coordinates cell (i, j) is j - popcount(rows[i] & first j bits of the sentence), and a
    run of left moves is taken in one step.
    """
    token_masks = [segments.masks.get(token, 0) for token in reference]
    keep = segments.keep
    row = keep
    rows = [row]
    for match in token_masks:
        if match:
            hits = row & match
            row = ((row + hits) | (row - hits)) & keep
        rows.append(row)
    positions = 0
    for first, n in segments.spans:
        sentence_bits = ((1 << n) - 1) << first
        i, end = len(reference), first + n  # end: absolute bit just past column j
        length = n - (row & sentence_bits).bit_count()  # cell (i, n)
        while length:  # once the cell is 0 no match is left on the path
            match = token_masks[i - 1] & sentence_bits
            if not match:  # this row equals the one above, so "above" is never smaller: go up
                i -= 1
                continue
            if not (match >> (end - 1)) & 1:
                prefix = (1 << end) - (1 << first)
                if (end - first) - (rows[i - 1] & prefix).bit_count() == length:  # above == here: up
                    i -= 1
                    continue
                # Above stays length-1 leftwards, so the path goes left while the cell to the left is still
                # `length` (bit set in this row) and there is no match: jump to the highest position below
                # that is a match or where this row's value steps down.
                end = ((match | ~rows[i]) & prefix).bit_length()
                if not (match >> (end - 1)) & 1:  # the value steps down at this column: up, to length-1
                    i -= 1
                    length -= 1
                    continue
            i -= 1  # diagonal
            end -= 1
            positions |= 1 << i
            length -= 1
    return positions


def union_lcs_hits(reference_sentences: Sequence[Sequence[str]], candidate_sentences: Sequence[Sequence[str]]) -> int:
    """Summary-level LCS hits (ROUGE paper 3.2) without double counting, as ROUGE-1.5.5 and rouge-score:
    for each reference sentence, the union of its LCS positions with every candidate sentence, each
    token counted only while unused occurrences remain in both summaries."""
    reference_left = Counter(token for sentence in reference_sentences for token in sentence)
    candidate_left = Counter(token for sentence in candidate_sentences for token in sentence)
    segments = _segments(candidate_sentences)
    hits = 0
    for reference in reference_sentences:
        union = _union_lcs_positions(reference, segments)
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
        # rouge-score drops empty lines only; a line of punctuation stays as an empty sentence.
        lines = [line for line in text.split("\n") if line] if self._needs_sentences else []
        if self._needs_sentences and getattr(self.tokenizer, "lines_are_independent", False):
            # The text's tokens are its lines' tokens in order, so tokenize each line once.
            sentences = [tokenize(line) for line in lines]
            tokens = [token for sentence in sentences for token in sentence] if self._needs_tokens else []
        else:
            tokens = tokenize(text) if self._needs_tokens else []
            sentences = [tokenize(line) for line in lines]
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
