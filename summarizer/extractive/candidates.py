"""Which sentences of an article may become bullets at all: page furniture, headings, the headline and
sentences addressed to a model are filtered out before any ranking.

Pure Python (no numpy), so that Lead-k, which ranks nothing, starts without the numerical stack.
"""

from __future__ import annotations

import re

from summarizer.injection import is_instruction_to_model
from summarizer.text import content_tokens, word_count

# Page furniture that news scrapes leave between sentences (CNN/DailyMail captions and bylines).
_FURNITURE = re.compile(
    r"^\W*(scroll down|click here|read more|watch the video|see the video|published:|updated:|"
    r"last updated|follow @|share this|sign up|related:|video:|photo:|image:|pictured:)",
    re.IGNORECASE,
)
_LETTER = re.compile(r"[^\W\d_]")
_CLOSED = re.compile(r"[.!?…]\s*(?:['\"’”»)\]]|'')*\s*$")
# Sentence openers that refer back to something said before.
_BACK_REFERENCES = frozenset(
    "this that these those it its they them their he she his her him such there".split()
)


def is_junk_sentence(sentence: str, min_words: int = 5, max_words: int | None = None) -> bool:
    """Whether a sentence is page furniture rather than content a reader should see as a bullet.

    Too short (fragments, datelines), without letters, a caption/byline pattern, or written in
    capitals (bylines such as "By JOHN SMITH and ANNA LEE"). ``max_words`` drops run-on captions
    glued to the text by scrapers, which no reader would accept as one bullet.
    """
    words = word_count(sentence)
    if words < min_words or (max_words is not None and words > max_words):
        return True
    if not _LETTER.search(sentence) or _FURNITURE.search(sentence):
        return True
    letters = [c for c in sentence if c.isalpha()]
    capitals = sum(c.isupper() for c in letters)
    return len(letters) >= 10 and capitals / len(letters) > 0.6


def is_heading(sentence: str) -> bool:
    """A line without closing punctuation: a section heading or a caption, not a statement."""
    return not _CLOSED.search(sentence)


def _headline_key(text: str) -> str:
    return " ".join(content_tokens(text))


def headline_indices(sentences: list[str], title: str) -> list[int]:
    """Indices of the sentences that are the article's headline (its title as a line of the text):
    a headline announces the story, a bullet states one of its points."""
    key = _headline_key(title) if title else ""
    if not key:
        return []
    return [i for i, sentence in enumerate(sentences) if _headline_key(sentence) == key]


def usable_sentence_indices(
    sentences: list[str], min_words: int = 5, max_words: int | None = None, drop_headings: bool = False
) -> list[int]:
    return [
        i for i, sentence in enumerate(sentences)
        if not is_junk_sentence(sentence, min_words, max_words) and not (drop_headings and is_heading(sentence))
        and not is_instruction_to_model(sentence)
    ]


def depends_on_context(sentence: str) -> bool:
    """Whether a sentence opens with a word pointing back at an earlier one ("This will happen in
    July", "It was the first time"): read alone as a bullet, it does not say who or what."""
    words = sentence.split(maxsplit=1)
    return bool(words) and words[0].strip("'\"‘“`").casefold() in _BACK_REFERENCES
