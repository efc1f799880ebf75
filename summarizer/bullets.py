"""Model text -> clean "points of attention".

Models answer in many shapes: numbered lists, "Here are the key points:" preambles, one paragraph of
sentences (seq2seq models trained on CNN/DM), repeated bullets, a last bullet cut off by the token
limit. This module turns all of them into at most N complete, distinct sentences.
"""

from __future__ import annotations

import re

from summarizer.injection import is_instruction_to_model
from summarizer.text import content_tokens, normalize_whitespace, split_sentences, word_count

DEFAULT_MAX_CHARS = 300
MIN_WORDS = 4
# Two bullets sharing this share of their words (Jaccard over word sets) say the same thing.
NEAR_DUPLICATE_JACCARD = 0.7

_LIST_MARKER = re.compile(r"^\s*(?:[-*•–—·▪►]+|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)](?=\s)|#+)\s*")
_PREAMBLE = re.compile(
    r"^(?:here (?:are|is)|below (?:are|is)|sure|certainly|okay|ok|summary|key (?:points|takeaways)|"
    r"points of attention|main points|the (?:key|main) points|bullet points|in summary)\b",
    re.IGNORECASE,
)
_TERMINAL = (".", "!", "?", "…", '"', "”", "'", "’", ")", "。", "！", "？")
_CODE_FENCE = re.compile(r"^```\w*\s*$")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?%])")
# English words a shortened sentence must not end on ("... approved the plan for the."): articles,
# prepositions, conjunctions, auxiliaries, possessives. The cut moves back before them.
_DANGLING = frozenset(
    "a an the of to in on at by for from with into onto over under about after before since until "
    "between against during without within through and or but nor as than that which who whom whose "
    "where when while if because although its their his our your my this these those is are was "
    "were be been being has have had will would can could should may might must not no".split()
)


def _strip_markup(line: str) -> str:
    line = _LIST_MARKER.sub("", line, count=1)
    line = _EMPHASIS.sub(r"\2", line)
    return line.strip().strip("*").strip()


def _is_preamble(line: str) -> bool:
    """A line introducing the list rather than stating a fact."""
    if _PREAMBLE.match(line) and (line.endswith(":") or len(line.split()) <= 8):
        return True
    return line.endswith(":") and len(line.split()) <= 12


def _candidate_lines(raw: str) -> list[tuple[str, bool]]:
    """Split model text into candidate bullets; the flag says whether a line was a list item."""
    lines = [line for line in normalize_whitespace(raw).split("\n") if not _CODE_FENCE.match(line)]
    candidates: list[tuple[str, bool]] = []
    for line in lines:
        if not line.strip():
            continue
        was_item = bool(_LIST_MARKER.match(line))
        cleaned = _strip_markup(line)
        if cleaned and not _is_preamble(cleaned):
            candidates.append((cleaned, was_item))
    return candidates


def _is_complete(sentence: str) -> bool:
    return sentence.endswith(_TERMINAL)


def _shorten(bullet: str, max_chars: int) -> str:
    """Fit a bullet under max_chars, keeping whole sentences or a whole leading clause."""
    if len(bullet) <= max_chars:
        return bullet
    kept = ""
    for sentence in split_sentences(bullet):
        if len(kept) + len(sentence) + 1 > max_chars:
            break
        kept = f"{kept} {sentence}".strip()
    if kept:
        return kept
    # One very long sentence: cut at the last clause boundary that fits, and close the sentence.
    window = bullet[: max_chars - 1]
    cut = max(window.rfind(", "), window.rfind("; "), window.rfind(" – "), window.rfind(" - "))
    if cut < max_chars // 3:
        cut = window.rfind(" ")
    return _without_dangling_end(window[:cut]) + "."


_CLAUSE_END = ",;:–- "


def _without_dangling_end(text: str) -> str:
    """``text`` without its trailing clause punctuation and the function words it ends on, unless nothing
    else would be left."""
    words = text.rstrip(_CLAUSE_END).split(" ")
    # A word is dangling with its clause punctuation too ("... the harbour and, the.").
    while len(words) > 1 and words[-1].lower().strip(_CLAUSE_END + "\"'“”‘’(") in _DANGLING:
        words.pop()
    return " ".join(words).rstrip(_CLAUSE_END)


def is_near_duplicate(candidate: str, kept: list[str], threshold: float = NEAR_DUPLICATE_JACCARD) -> bool:
    words = set(content_tokens(candidate))
    for other in kept:
        other_words = set(content_tokens(other))
        if not words or not other_words:
            continue
        overlap = len(words & other_words)
        if overlap / len(words | other_words) >= threshold or overlap == min(len(words), len(other_words)):
            return True
    return False


def to_bullets(
    raw: str,
    n_bullets: int,
    max_chars: int = DEFAULT_MAX_CHARS,
    min_words: int = MIN_WORDS,
    drop_unfinished_last: bool = True,
) -> list[str]:
    """Turn raw model output into at most ``n_bullets`` clean, distinct, complete sentences.

    ``drop_unfinished_last`` is for generated text, whose last line without final punctuation was
    most likely cut by the token limit; sentences selected from an article are kept whole.
    """
    candidates = _candidate_lines(raw)
    sentences: list[str] = []
    for index, (line, was_item) in enumerate(candidates):
        # A paragraph of prose (no list markers) is split into sentences: each is a bullet.
        parts = [line] if was_item else split_sentences(line)
        is_last_line = index == len(candidates) - 1
        for part_index, part in enumerate(parts):
            part = _SPACE_BEFORE_PUNCT.sub(r"\1", part).strip()
            if word_count(part) < min_words or is_instruction_to_model(part):
                continue  # a fragment, or an injection the model obeyed or copied
            is_last = is_last_line and part_index == len(parts) - 1
            if not _is_complete(part):
                if is_last and drop_unfinished_last and sentences:
                    continue  # most likely cut off by the generation limit: an unfinished thought
                if is_last and drop_unfinished_last:
                    # The only thing the model said, cut off: keep its leading complete clauses.
                    part = _shorten(part, min(len(part) - 1, max_chars))
                else:
                    part += "."
            sentences.append(part[0].upper() + part[1:])
    bullets: list[str] = []
    for sentence in sentences:
        sentence = _shorten(sentence, max_chars)
        if not is_near_duplicate(sentence, bullets):
            bullets.append(sentence)
        if len(bullets) == n_bullets:
            break
    return bullets
