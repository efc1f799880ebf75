"""Grounding check for generated bullets: drop the ones the article does not support.

A small generative model invents facts: a figure the article never gives, a person it never names,
or a sentence about something else entirely. A bullet is kept only when

- every number and name-like span in it occurs in the article (``unsupported_items``, the same
  check the evaluation reports as unsupported_per_bullet), and
- at least ``min_content_support`` of its content words (stopwords removed, compared by their
  Porter stems so "attacked" matches "attacks") occur in the article.

Only deletion: a bullet is never edited, so what is kept reads as the model wrote it. Backends
call ``ground_text`` on their raw output (one bullet per line, or prose split into sentences)
before it goes to ``summarizer.bullets.to_bullets``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from summarizer.evaluation.faithfulness import unsupported_items
from summarizer.evaluation.tokenize import nltk_porter_stem
from summarizer.extractive.methods import topic_tokens
from summarizer.text import split_sentences

DEFAULT_MIN_CONTENT_SUPPORT = 0.6
# A list marker ("- ", "2. ", "(b) ") is layout: its number is not a claim to check.
_LIST_MARKER = re.compile(r"^\s*(?:[-*•–—·▪►]+|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)](?=\s)|#+)\s*")


@dataclass(frozen=True)
class GroundingVerdict:
    text: str
    unsupported: tuple[str, ...]  # numbers and names not found in the article
    content_support: float  # share of the bullet's content words found in the article
    kept: bool


def _stems(text: str) -> list[str]:
    return [nltk_porter_stem(token) for token in topic_tokens(text)]


def judge_bullets(bullets: list[str], article: str,
                  min_content_support: float = DEFAULT_MIN_CONTENT_SUPPORT) -> list[GroundingVerdict]:
    """One verdict per bullet, in order."""
    if not bullets:
        return []
    found = unsupported_items(bullets, article)
    article_stems = set(_stems(article))
    verdicts = []
    for index, bullet in enumerate(bullets):
        unsupported = (*found["unsupported_numbers"][index], *found["unsupported_entities"][index])
        words = _stems(bullet)
        support = sum(word in article_stems for word in words) / len(words) if words else 0.0
        kept = not unsupported and support >= min_content_support
        verdicts.append(GroundingVerdict(bullet, tuple(unsupported), support, kept))
    return verdicts


def grounded_bullets(bullets: list[str], article: str,
                     min_content_support: float = DEFAULT_MIN_CONTENT_SUPPORT) -> list[str]:
    return [verdict.text for verdict in judge_bullets(bullets, article, min_content_support) if verdict.kept]


def _candidate_lines(raw: str) -> list[str]:
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    # Prose without line breaks (seq2seq style): judge it sentence by sentence.
    return split_sentences(raw) if len(lines) == 1 else lines


def ground_text(raw: str, article: str, min_content_support: float = DEFAULT_MIN_CONTENT_SUPPORT) -> str:
    """``raw`` model output without the lines (or sentences) the article does not support.

    Lines are judged without their list markers and kept with them. A preamble ("Here are the
    points:") has too few content words from the article and goes too.
    """
    lines = _candidate_lines(raw)
    verdicts = judge_bullets([_LIST_MARKER.sub("", line, count=1) for line in lines], article, min_content_support)
    return "\n".join(line for line, verdict in zip(lines, verdicts) if verdict.kept)
