"""Which language an article is written in: py3langid's naive Bayes model, shipped inside its wheel.

Nothing is downloaded: the model file (``py3langid/data/model.npz.xz``) is read once, on the first
call, and kept for the process. Codes are ISO 639-1 ("en", "uk", "ru", "de", ...).

The result is cached on the article (``Article.language``), so the backend, the prompt and the record
all see one answer per article.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from summarizer.articles import Article

# Below this many letters the identifier guesses (a title, a teaser of a few words): say nothing.
MIN_LETTERS = 20
# The identifier reads this much of the article: the language does not change after the lede, and the
# cost grows with the text.
SAMPLE_CHARS = 2000

_LOCK = threading.Lock()

# Where `summarizer run --language` puts the language generative models should write the bullets in.
BULLET_LANGUAGE_KEY = "bullet_language"

# English names for the languages this project meets most; others are shown by their code.
LANGUAGE_NAMES = {
    "en": "English", "uk": "Ukrainian", "ru": "Russian", "be": "Belarusian", "pl": "Polish", "de": "German",
    "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese", "nl": "Dutch", "tr": "Turkish",
    "ar": "Arabic", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "th": "Thai", "el": "Greek",
    "cs": "Czech", "ro": "Romanian", "hu": "Hungarian", "sv": "Swedish", "bg": "Bulgarian",
}


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def identify_language(text: str) -> str | None:
    """ISO 639-1 code of the language ``text`` is written in, or None when there is too little text."""
    sample = text[:SAMPLE_CHARS]
    if sum(character.isalpha() for character in sample) < MIN_LETTERS:
        return None
    identifier = _identifier()
    # The identifier keeps scratch arrays between calls: one thread at a time.
    with _LOCK:
        code, _probability = identifier.classify(sample)
    # "und": no feature of any language seen (symbols, numbers only).
    return None if code == "und" else str(code)


def article_language(article: Article) -> str | None:
    """The article's language, identified once (from its title and text) and kept on the article."""
    if article.language is None and not article.error:
        article.language = identify_language(f"{article.title}\n{article.text}" if article.title else article.text)
    return article.language


def language_name(code: str | None) -> str:
    if code is None:
        return "unknown"
    return LANGUAGE_NAMES.get(code, code)


def is_language_code(code: str) -> bool:
    """An ISO 639-1 code (two lowercase letters), as identify_language returns and --language takes."""
    return re.fullmatch(r"[a-z]{2}", code) is not None


def with_bullet_language(articles: Iterable[Article], code: str | None) -> Iterator[Article]:
    """``articles``, each asking for bullets in ``code`` (None: in its own language)."""
    for article in articles:
        if code:
            article.metadata[BULLET_LANGUAGE_KEY] = code
        yield article


def bullet_language(article: Article) -> str | None:
    """The language the bullets of ``article`` should be written in: the one asked for with --language,
    else the article's own (None when it could not be identified)."""
    return article.metadata.get(BULLET_LANGUAGE_KEY) or article_language(article)
