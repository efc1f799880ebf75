"""Which article sentences back each bullet, and which numbers and names in a bullet the article lacks.

Both come from the evaluation code: sentences are aligned to a bullet by ROUGE-1 F (stemmed), the
similarity ``bullet_metrics`` aligns bullets with, and a sentence counts as support when it reaches
the same match threshold; unsupported numbers and names are ``faithfulness.unsupported_items``, the
check the grounding filter and the evaluation report use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from summarizer.evaluation.bullet_metrics import ALIGNMENT_ROUGE_TYPE, ROUGE_MATCH_THRESHOLD, rouge_similarity_matrix
from summarizer.evaluation.faithfulness import unsupported_items
from summarizer.evaluation.rouge import RougeScorer
from summarizer.text import split_sentences

# A bullet lists at most this many supporting sentences (the best first): a highlight of half the
# article would tell the reader nothing.
MAX_SUPPORT_SENTENCES = 3


@dataclass
class BulletEvidence:
    text: str
    support: list[int]  # indices of supporting sentences, best first
    scores: list[float]  # their similarity, same order
    unsupported: list[str]  # numbers and names the article does not contain
    segments: list[tuple[str, bool]] = field(default_factory=list)  # (text, is unsupported), in order

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "support": self.support, "scores": [round(s, 4) for s in self.scores],
                "unsupported": self.unsupported}


@dataclass
class ArticleEvidence:
    sentences: list[str]
    bullets: list[BulletEvidence]
    config: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"sentences": self.sentences, "bullets": [bullet.to_json() for bullet in self.bullets],
                "alignment_config": self.config}


def mark_segments(text: str, spans: list[str]) -> list[tuple[str, bool]]:
    """``text`` cut into pieces, each flagged when it is one of ``spans`` (every occurrence)."""
    if not spans:
        return [(text, False)]
    pattern = re.compile("|".join(re.escape(span) for span in sorted(set(spans), key=len, reverse=True)))
    segments: list[tuple[str, bool]] = []
    position = 0
    for match in pattern.finditer(text):
        if match.start() > position:
            segments.append((text[position:match.start()], False))
        segments.append((match.group(0), True))
        position = match.end()
    if position < len(text):
        segments.append((text[position:], False))
    return segments


def align_bullets(bullets: list[str], article_text: str) -> ArticleEvidence:
    sentences = split_sentences(article_text)
    scorer = RougeScorer(rouge_types=(ALIGNMENT_ROUGE_TYPE,), use_stemmer=True)
    # rows: sentences, columns: bullets
    similarity = rouge_similarity_matrix(sentences, bullets, scorer) if sentences and bullets else None
    found = unsupported_items(bullets, article_text)
    evidence = []
    for column, bullet in enumerate(bullets):
        ranked = []
        if similarity is not None:
            ranked = sorted(((float(similarity[row, column]), row) for row in range(len(sentences))), reverse=True)
        support = [(score, row) for score, row in ranked if score >= ROUGE_MATCH_THRESHOLD][:MAX_SUPPORT_SENTENCES]
        unsupported = [*found["unsupported_numbers"][column], *found["unsupported_entities"][column]]
        evidence.append(BulletEvidence(text=bullet, support=[row for _, row in support],
                                       scores=[score for score, _ in support], unsupported=unsupported,
                                       segments=mark_segments(bullet, unsupported)))
    config = {"similarity": f"{ALIGNMENT_ROUGE_TYPE}_f", "threshold": ROUGE_MATCH_THRESHOLD,
              "max_sentences": MAX_SUPPORT_SENTENCES, "unsupported": "faithfulness.unsupported_items"}
    return ArticleEvidence(sentences=sentences, bullets=evidence, config=config)
