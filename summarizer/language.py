"""Which language an article is written in: py3langid's naive Bayes model, shipped inside its wheel.

Nothing is downloaded: the model file (``py3langid/data/model.npz.xz``) is read once, on the first
call, and kept for the process. Its LZMA decompression is most of a short run's time, so the
decompressed model is kept in the user cache (``~/.cache/summarizer/langid``) and read from there by
later processes. Codes are ISO 639-1 ("en", "uk", "ru", "de", ...).

The result is cached on the article (``Article.language``), so the backend, the prompt and the record
all see one answer per article.
"""

from __future__ import annotations

import lzma
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from summarizer.paths import cache_dir

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
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
    from py3langid.modelio import _to_array

    try:
        model = decompressed_model(MODEL_DIR / MODEL_FILE)
    except OSError:  # no writable cache: py3langid's own loader decompresses in memory
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    with np.load(model, allow_pickle=False) as data:
        return LanguageIdentifier(data["ptc"], data["pc"], data["classes"].tolist(), _to_array(data["nextmove"]),
                                  data["out_feat"].tolist(), norm_probs=True, tk_row=_to_array(data["nextmove_row"]))


def decompressed_model(compressed: Path) -> Path:
    """The LZMA model file decompressed once into the user cache, named by the source's size and time so
    that an upgraded py3langid gets its own copy; written to a temporary file first, so concurrent first
    runs never read a half-written model."""
    stat = compressed.stat()
    target = cache_dir("langid") / f"{compressed.name.removesuffix('.xz')}-{stat.st_size}-{int(stat.st_mtime)}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False) as partial:
        with lzma.open(compressed) as source:
            shutil.copyfileobj(source, partial, length=1 << 20)
    os.replace(partial.name, target)
    return target


# Plain English prose: a quarter or more of its words are these function words (every article of the
# English dev set), against a few percent in other languages written in Latin letters (the de/es/fr test
# fixtures). Such text is English without loading the statistical model.
ENGLISH_FUNCTION_WORDS = frozenset(
    "the of and to in a is that for on with was as it by at from his he she they have has had be been are "
    "were this said an which not but or its their will would who".split()
)
ENGLISH_SHARE = 0.2
ENGLISH_MIN_WORDS = 40
_ASCII_WORD = re.compile(r"[a-z']+")


def is_clearly_english(sample: str) -> bool:
    """Whether ``sample`` is unmistakably English prose: ASCII letters only and a high share of English
    function words. Anything less clear goes to the model."""
    letters = [character for character in sample if character.isalpha()]
    if not letters or any(not character.isascii() for character in letters):
        return False
    words = _ASCII_WORD.findall(sample.lower())
    if len(words) < ENGLISH_MIN_WORDS:
        return False
    return sum(word in ENGLISH_FUNCTION_WORDS for word in words) / len(words) >= ENGLISH_SHARE


def identify_language(text: str) -> str | None:
    """ISO 639-1 code of the language ``text`` is written in, or None when there is too little text."""
    sample = text[:SAMPLE_CHARS]
    if sum(character.isalpha() for character in sample) < MIN_LETTERS:
        return None
    if is_clearly_english(sample):
        return "en"
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
