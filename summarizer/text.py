"""Sentence splitting and small text utilities shared by ingest, backends and bullets.

A rule-based splitter: news text is mostly well punctuated, and a model-based splitter would add a
dependency and a download. It handles common abbreviations, initials, decimal numbers, closing quotes
and the pre-tokenized CNN/DailyMail style ("word . Next").
"""

from __future__ import annotations

import re
import unicodedata

ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "gen", "col", "lt", "sgt", "capt", "cmdr",
    "gov", "maj", "sen", "rep", "pres", "rev", "hon", "inc", "ltd", "co", "corp", "vs", "etc", "no", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n",
    "e.g", "i.e", "a.m", "p.m", "fig", "approx", "dept", "est", "ft", "mln", "bn",
}

# A sentence ends at . ! ? (or …), possibly followed by closing quotes/brackets, then whitespace and
# an opening quote, bracket, capital letter or digit. Lowercase starts are accepted only after ! ?
_BOUNDARY = re.compile(r"""([.!?…]+)(['"’”»)\]]*)\s+(?=['"‘“«(\[]?[\w\u0400-\u04FF])""")
_WORD_BEFORE = re.compile(r"(\S+)$")
_WHITESPACE = re.compile(r"[ \t\f\v]+")


def normalize_whitespace(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    lines = [_WHITESPACE.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(lines).strip()


def _is_abbreviation(token: str) -> bool:
    word = token.rstrip(".").lstrip("'\"(“‘").lower()
    if word in ABBREVIATIONS:
        return True
    # Initials such as "J." or "J.R." (single letters separated by dots).
    return bool(re.fullmatch(r"(?:[a-z]\.)*[a-z]", word))


def is_caseless(text: str) -> bool:
    """Whether ``text`` has letters but no capitals (lower-cased research copies such as CNN/DailyMail's
    tokenized form): a lowercase word after a full stop then says nothing about a sentence going on."""
    return not any(character.isupper() for character in text) and any(character.islower() for character in text)


def split_sentences(text: str) -> list[str]:
    """Split text into sentences; paragraph breaks (newlines) always end a sentence."""
    sentences: list[str] = []
    text = normalize_whitespace(text)
    caseless = is_caseless(text)
    for paragraph in text.split("\n"):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        start = 0
        for match in _BOUNDARY.finditer(paragraph):
            end = match.end(2)
            candidate = paragraph[start:end]
            punct = match.group(1)
            following = paragraph[match.end() : match.end() + 1]
            if punct == ".":
                before = paragraph[start : match.start(1)]
                word = _WORD_BEFORE.search(before)
                pre_tokenized = before.endswith(" ")  # CNN/DM style "word . Next"
                if not pre_tokenized and word and _is_abbreviation(word.group(1) + "."):
                    continue
                # A lowercase start continues the sentence ("approx. two hours", "a 2.5 rise"), unless
                # the text has no capitals at all: there a tokenized " . " is the only cue left.
                if following.islower() and not (caseless and pre_tokenized):
                    continue
            sentence = candidate.strip()
            if sentence:
                sentences.append(sentence)
            start = match.end()
        tail = paragraph[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences


def word_count(text: str) -> int:
    return len(text.split())


def content_tokens(text: str) -> list[str]:
    """Lowercased word tokens (Unicode-aware) for overlap measures such as near-duplicate checks."""
    return re.findall(r"\w+", text.casefold())
