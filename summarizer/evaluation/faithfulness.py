"""Cheap faithfulness proxies: claims the article does not support, and how extractive a summary is.

Neither needs a model. ``unsupported_items`` flags numbers and name-like spans of each bullet that
do not occur in the article: a hallucinated figure or person is the most harmful error a news
summary can make, and usually the easiest to spot by string matching. ``fragment_stats`` measures
how much of the summary is copied from the article (Grusky et al. 2018), which tells an abstractive
model that paraphrases from one that pastes sentences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from summarizer.text import content_tokens, split_sentences

UNIT_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}
NUMBER_WORDS = UNIT_WORDS | {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
TENS_WORDS = {"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
SCALE_WORDS = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
# Scale suffixes written onto the digits ("$115m", "3bn"); any other suffix ("20%", "19th", "1960s")
# leaves the value as written.
SCALE_SUFFIXES = {"k": 1e3, "m": 1e6, "mn": 1e6, "mln": 1e6, "b": 1e9, "bn": 1e9, "tn": 1e12}

# Words that start a sentence with a capital without naming anything; dropped from the front of a
# sentence-initial capitalized run ("The Kremlin said" -> "Kremlin").
SENTENCE_OPENERS = {
    "the", "a", "an", "this", "that", "these", "those", "in", "on", "at", "after", "before", "while",
    "as", "but", "and", "however", "meanwhile", "also", "according", "since", "during", "if", "when",
    "its", "his", "her", "their", "our", "it", "he", "she", "they", "we", "there", "then", "now",
}
# Lowercase words allowed inside a name when a capitalized word follows ("Institute for the Study of War").
# Not "and": "Russia and North Korea" are two names.
NAME_CONNECTORS = {"of", "for", "the", "de", "la", "le", "del", "der", "von", "van", "al", "bin"}

_NUMBER_TOKEN = re.compile(r"(?P<digits>\d+(?:,\d{3})*(?:\.\d+)?)(?P<suffix>[%a-z]*)", re.IGNORECASE)
_TOKEN = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?[%a-z]*|[^\W\d_]+(?:['’][^\W\d_]+)*", re.IGNORECASE)
_NAME_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_WORD_JOINER = re.compile(r"[ \t-]+")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)


@dataclass(frozen=True)
class NumberMention:
    text: str
    value: float


def _numeric_value(digits: str, suffix: str) -> float:
    value = float(digits.replace(",", ""))
    return value * SCALE_SUFFIXES.get(suffix.lower(), 1.0)


def extract_numbers(text: str) -> list[NumberMention]:
    """Numbers written with digits or as words, scaled by a following "million" etc.

    "one" alone is skipped: it is mostly a pronoun or determiner ("one of the", "no one"), and would
    flag almost every bullet; it still counts before a scale word ("one million").
    """
    tokens = list(_TOKEN.finditer(text))
    mentions: list[NumberMention] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        word = token.group(0).lower()
        start, end = token.start(), token.end()
        value: float | None = None
        digits = _NUMBER_TOKEN.fullmatch(token.group(0))
        if digits:
            value = _numeric_value(digits.group("digits"), digits.group("suffix"))
        elif word in NUMBER_WORDS:
            value = float(NUMBER_WORDS[word])
            following = tokens[index + 1].group(0).lower() if index + 1 < len(tokens) else ""
            if word in TENS_WORDS and following in UNIT_WORDS:  # "twenty-five", "twenty five"
                value += UNIT_WORDS[following]
                index += 1
                end = tokens[index].end()
        elif word == "one" and index + 1 < len(tokens) and tokens[index + 1].group(0).lower() in SCALE_WORDS:
            value = 1.0
        elif word in SCALE_WORDS:  # "a million", "hundred"
            value = SCALE_WORDS[word]
        if value is not None:
            following = tokens[index + 1].group(0).lower() if index + 1 < len(tokens) else ""
            if following in SCALE_WORDS and word not in SCALE_WORDS:
                value *= SCALE_WORDS[following]
                index += 1
                end = tokens[index].end()
            mentions.append(NumberMention(text[start:end], value))
        index += 1
    return mentions


def _value_key(value: float) -> float:
    return round(value, 6)


def article_number_values(article: str) -> set[float]:
    """Every value the article states, also unscaled ("115 million" supports "115" too)."""
    values = {_value_key(mention.value) for mention in extract_numbers(article)}
    for token in _TOKEN.finditer(article):
        digits = _NUMBER_TOKEN.fullmatch(token.group(0))
        if digits:
            values.add(_value_key(float(digits.group("digits").replace(",", ""))))
    return values


@dataclass(frozen=True)
class EntityMention:
    words: tuple[str, ...]
    # Opens its sentence: the first word's capital says nothing, it may be an ordinary word.
    sentence_initial: bool

    @property
    def text(self) -> str:
        return " ".join(self.words)


def _words_with_gaps(sentence: str) -> list[tuple[str, bool]]:
    """Words (possessive 's removed), each flagged when only spaces or a hyphen part it from the last word."""
    words: list[tuple[str, bool]] = []
    previous_end: int | None = None
    for match in _NAME_WORD.finditer(sentence):
        joined = previous_end is not None and _WORD_JOINER.fullmatch(sentence[previous_end : match.start()])
        words.append((_POSSESSIVE.sub("", match.group(0)), bool(joined)))
        previous_end = match.end()
    return words


def _is_acronym(word: str) -> bool:
    return len(word) >= 2 and word.isupper()


def _is_capitalized(word: str) -> bool:
    return word[:1].isupper()


def _capitalized_runs(words: list[tuple[str, bool]]) -> list[tuple[int, list[str]]]:
    """(start index, words) of each run of capitalized words, connectors allowed inside."""
    runs: list[tuple[int, list[str]]] = []
    position = 0
    while position < len(words):
        if not _is_capitalized(words[position][0]):
            position += 1
            continue
        start = position
        run = [words[position][0]]
        position += 1
        while position < len(words) and words[position][1]:
            if _is_capitalized(words[position][0]):
                run.append(words[position][0])
                position += 1
                continue
            after = position
            while after < len(words) and words[after][1] and words[after][0] in NAME_CONNECTORS:
                after += 1
            if after == position or after == len(words) or not words[after][1]:
                break
            if not _is_capitalized(words[after][0]):
                break
            run.extend(word for word, _ in words[position:after])
            position = after
        runs.append((start, run))
    return runs


def extract_entities(text: str) -> list[EntityMention]:
    """Name-like spans: runs of capitalized words, and acronyms.

    A single capitalized word that opens a sentence is skipped (every sentence starts with one);
    runs of two or more words, or acronyms, are kept wherever they are. A regex heuristic: it
    needs no model download and errs towards the spans a reader would check.
    """
    entities: list[EntityMention] = []
    for sentence in split_sentences(text):
        for start, run in _capitalized_runs(_words_with_gaps(sentence)):
            if start == 0:
                while run and run[0].lower() in SENTENCE_OPENERS and not _is_acronym(run[0]):
                    run.pop(0)
                    start += 1
            if not run or (start == 0 and len(run) == 1 and not _is_acronym(run[0])):
                continue
            entities.append(EntityMention(tuple(run), sentence_initial=start == 0))
    return entities


def _entity_supported(entity: EntityMention, article_words: set[str]) -> bool:
    words = [word.lower() for word in entity.words if word not in NAME_CONNECTORS]
    if all(word in article_words for word in words):
        return True
    # "Direct North Korean support...": the opening word may be an ordinary word, not part of the name.
    return entity.sentence_initial and all(word in article_words for word in words[1:])


def unsupported_items(bullets: Iterable[str], article: str) -> dict[str, Any]:
    """Numbers and name-like spans in the bullets that the article does not contain.

    A number is supported when its value occurs in the article (after removing thousands
    separators and applying scale words, so "1,000" matches "one thousand"); a name when each of
    its words occurs in the article, ignoring case. The flat float keys go to per-article
    metrics; ``unsupported_numbers`` / ``unsupported_entities`` (one list per bullet) are for
    reading which claims were flagged.
    """
    bullets = list(bullets)
    numbers_in_article = article_number_values(article)
    article_words = {_POSSESSIVE.sub("", match.group(0)).lower() for match in _NAME_WORD.finditer(article)}
    unsupported_numbers: list[list[str]] = []
    unsupported_entities: list[list[str]] = []
    numbers_checked = entities_checked = 0
    for bullet in bullets:
        numbers = extract_numbers(bullet)
        entities = extract_entities(bullet)
        numbers_checked += len(numbers)
        entities_checked += len(entities)
        unsupported_numbers.append(
            [mention.text for mention in numbers if _value_key(mention.value) not in numbers_in_article]
        )
        unsupported_entities.append(
            [entity.text for entity in entities if not _entity_supported(entity, article_words)]
        )
    per_bullet_counts = [
        len(numbers) + len(entities)
        for numbers, entities in zip(unsupported_numbers, unsupported_entities, strict=True)
    ]
    n_bullets = len(bullets)
    return {
        "unsupported_per_bullet": sum(per_bullet_counts) / n_bullets if n_bullets else 0.0,
        "share_bullets_with_unsupported": (
            sum(1 for count in per_bullet_counts if count) / n_bullets if n_bullets else 0.0
        ),
        "unsupported_numbers_total": sum(len(nums) for nums in unsupported_numbers),
        "unsupported_entities_total": sum(len(ents) for ents in unsupported_entities),
        "numbers_checked": numbers_checked,
        "entities_checked": entities_checked,
        "unsupported_numbers": unsupported_numbers,
        "unsupported_entities": unsupported_entities,
    }


# --- Extractive fragments --------------------------------------------------------------------------
# Grusky, Naaman and Artzi (2018), "Newsroom: A Dataset of 1.3 Million Summaries with Diverse
# Extractive Strategies", NAACL, section 4.1. Reproduces the greedy matching of the authors'
# `newsroom.analyze.Fragments`, on lowercased word tokens instead of spaCy tokens (no model
# download; punctuation is not counted as a copied token).


@dataclass(frozen=True)
class Fragment:
    summary_start: int
    article_start: int
    length: int


def extractive_fragments(article_tokens: list[str], summary_tokens: list[str]) -> list[Fragment]:
    """Greedy shared fragments: from each summary position, the longest run also found in the article.

    As in the reference implementation, after a run is found the article scan resumes at the end
    of that run (not one token later), and the summary jumps past the best run found.
    """
    fragments: list[Fragment] = []
    summary_pos = 0
    while summary_pos < len(summary_tokens):
        best: Fragment | None = None
        article_pos = 0
        while article_pos < len(article_tokens):
            if summary_tokens[summary_pos] != article_tokens[article_pos]:
                article_pos += 1
                continue
            length = 0
            while (summary_pos + length < len(summary_tokens) and article_pos + length < len(article_tokens)
                   and summary_tokens[summary_pos + length] == article_tokens[article_pos + length]):
                length += 1
            if best is None or length > best.length:
                best = Fragment(summary_pos, article_pos, length)
            article_pos += length
        if best is None:
            summary_pos += 1
        else:
            fragments.append(best)
            summary_pos += best.length
    return fragments


def fragment_stats(article: str, summary: str) -> dict[str, float]:
    """Extractive fragment coverage, density and compression of a summary (all 0 for an empty one).

    coverage = sum |f| / |S| (share of summary words inside copied fragments, in [0, 1]);
    density = sum |f|^2 / |S| (average length of the copied fragment a summary word belongs to);
    compression = |A| / |S| (article words per summary word).
    """
    article_tokens = content_tokens(article)
    summary_tokens = content_tokens(summary)
    if not summary_tokens:
        return {"fragment_coverage": 0.0, "fragment_density": 0.0, "compression_ratio": 0.0}
    lengths = [fragment.length for fragment in extractive_fragments(article_tokens, summary_tokens)]
    n_summary = len(summary_tokens)
    return {
        "fragment_coverage": sum(lengths) / n_summary,
        "fragment_density": sum(length * length for length in lengths) / n_summary,
        "compression_ratio": len(article_tokens) / n_summary,
    }
