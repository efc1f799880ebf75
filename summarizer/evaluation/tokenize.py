"""Tokenizers for ROUGE: injectable objects with `.tokenize(text) -> list[str]` and a `name`.

- `DefaultTokenizer`: exactly rouge-score's tokenizer (Google's `rouge_score.tokenize`).
- `UnicodeTokenizer`: scores non-English text (NFKC, casefold, word characters of any script, CJK
  split per character); the default tokenizer drops every non-ASCII letter and scores such text 0.
- `Rouge155Tokenizer`: the official ROUGE-1.5.5 Perl script's tokenization and stemming (`-m`).

Stems are cached: stemming is most of the cost of tokenizing and the vocabulary repeats a lot.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Protocol

# Bounded so a long-running process scoring an open vocabulary cannot grow without limit.
_STEM_CACHE_SIZE = 1 << 18


class Tokenizer(Protocol):
    """What RougeScorer needs. A tokenizer may also set `lines_are_independent = True` to promise that
    tokenize(a + "\n" + b) == tokenize(a) + tokenize(b); the scorer then tokenizes each line only once."""

    name: str

    def tokenize(self, text: str) -> list[str]: ...


# --- rouge-score (Google) -------------------------------------------------------------------------

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=1)
def _nltk_porter():
    # rouge-score uses NLTK's Porter stemmer in its default NLTK_EXTENSIONS mode; nltk is imported
    # only when stemming is first needed.
    from nltk.stem import porter

    return porter.PorterStemmer()


@lru_cache(maxsize=_STEM_CACHE_SIZE)
def nltk_porter_stem(token: str) -> str:
    """NLTK's Porter stem of `token`, as rouge-score applies it (only to tokens longer than 3)."""
    return _nltk_porter().stem(token) if len(token) > 3 else token


class DefaultTokenizer:
    """rouge-score's tokenizer: lowercase, non-[a-z0-9] -> space, split, NLTK Porter stem if len > 3."""

    lines_are_independent = True  # a newline is a separator like any other non-alphanumeric character

    def __init__(self, use_stemmer: bool = True):
        self.use_stemmer = use_stemmer
        self.name = "rouge-score-default" + ("+porter-nltk" if use_stemmer else "")

    def tokenize(self, text: str) -> list[str]:
        # Unicode lower() first, as rouge-score does: a few non-ASCII letters lowercase to ASCII.
        tokens = _NON_ALNUM.sub(" ", text.lower()).split()
        if self.use_stemmer:
            return [nltk_porter_stem(token) for token in tokens]
        return tokens


# --- Unicode-aware --------------------------------------------------------------------------------

# Chinese and Japanese are written without spaces, so each Han/kana character is a token (the usual
# choice for ROUGE on CJK). Hangul stays in words: Korean separates words with spaces.
_CJK = (
    "\u3005-\u3007\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\U00020000-\U0003134f"
)


_CJK_CHARACTER = re.compile(f"[{_CJK}]")


@lru_cache(maxsize=1)
def _unicode_word_pattern() -> re.Pattern[str]:
    # Python's \w leaves out combining marks (Devanagari vowel signs, Arabic harakat, ...), which would
    # cut words in two, so every mark joins the class. Marks above U+1FFFF are only variation selectors.
    ranges: list[str] = []
    start = None
    for code in range(0x20001):
        is_mark = code < 0x20000 and unicodedata.category(chr(code)).startswith("M")
        if is_mark and start is None:
            start = code
        elif not is_mark and start is not None:
            ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(code - 1))}")
            start = None
    ranges.append("\U000e0100-\U000e01ef")
    return re.compile(f"[\\w{''.join(ranges)}]+")


# NLTK's Snowball stemmers (pure Python, nothing to download), by ISO 639-1 code. A language without
# one (Ukrainian, Polish, Czech, Greek, CJK...) is scored on unstemmed words.
SNOWBALL_LANGUAGES = {
    "ar": "arabic", "da": "danish", "nl": "dutch", "fi": "finnish", "fr": "french", "de": "german",
    "hu": "hungarian", "it": "italian", "no": "norwegian", "nb": "norwegian", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "es": "spanish", "sv": "swedish",
}


@lru_cache(maxsize=len(SNOWBALL_LANGUAGES))
def _snowball(language: str):
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer(SNOWBALL_LANGUAGES[language])


def stemmer_description(language: str | None, use_stemmer: bool = True) -> str:
    """Which stemmer the Unicode tokenizer applies to text in ``language`` (for notices and docs)."""
    if not use_stemmer:
        return "no stemming (--no-stemmer)"
    if language in (None, "en"):
        return "Porter (English) on Latin-letter words only"
    if language in SNOWBALL_LANGUAGES:
        return f"Snowball ({SNOWBALL_LANGUAGES[language]})"
    return f"no stemmer exists here for '{language}': words are compared unstemmed"


class UnicodeTokenizer:
    """NFKC + casefold, tokens are runs of letters/digits/marks of any script, CJK per character.

    Stemming follows ``language`` (ISO 639-1, the references' language): English or not given, NLTK
    Porter (as the default tokenizer) on ASCII words only, since it is an English stemmer and would
    mangle other languages; a language with a Snowball stemmer (SNOWBALL_LANGUAGES), that stemmer on
    every word; any other language, no stemming.
    """

    lines_are_independent = True  # NFKC and casefold never join or produce a newline

    def __init__(self, use_stemmer: bool = True, language: str | None = None):
        self.use_stemmer = use_stemmer
        self.language = language
        # None: no stemming; "porter-ascii": Porter on ASCII words; otherwise a Snowball stem function.
        self._stem = None
        if not use_stemmer:
            suffix = ""
        elif language in (None, "en"):
            suffix, self._stem = "+porter-nltk-ascii", "porter-ascii"
        elif language in SNOWBALL_LANGUAGES:
            suffix = f"+snowball-{SNOWBALL_LANGUAGES[language]}"
            self._stem = lru_cache(maxsize=_STEM_CACHE_SIZE)(_snowball(language).stem)
        else:
            suffix = f"+no-stemmer-{language}"
        self.name = "unicode-nfkc-casefold" + suffix
        self._words = _unicode_word_pattern()

    def tokenize(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text).casefold().replace("_", " ")  # \w includes "_"
        if _CJK_CHARACTER.search(text):
            text = _CJK_CHARACTER.sub(r" \g<0> ", text)
        tokens = self._words.findall(text)
        if self._stem is None:
            return tokens
        if self._stem == "porter-ascii":
            return [nltk_porter_stem(token) if token.isascii() else token for token in tokens]
        return [self._stem(token) for token in tokens]


# --- choosing a tokenizer for the references ----------------------------------------------------

# A text is "mostly non-Latin" when at least this share of its letters is outside the Latin script:
# accented Latin (French, German) stays Latin, a few Cyrillic names inside English text do not count.
NON_LATIN_SHARE = 0.5
# References are switched to the Unicode tokenizer when at least this share of them is mostly
# non-Latin: rouge-score's tokenizer would score those on their digits and ASCII words alone.
NON_LATIN_REFERENCES_SHARE = 0.2
TOKENIZER_CHOICES = ("auto", "default", "unicode")


def _is_latin_letter(character: str) -> bool:
    if character.isascii():
        return True
    # "LATIN SMALL LETTER E WITH ACUTE": every Latin letter's Unicode name says so.
    return unicodedata.name(character, "").startswith("LATIN")


def is_mostly_non_latin(text: str) -> bool:
    """Whether most letters of ``text`` are of a non-Latin script (Cyrillic, Greek, CJK, Arabic...),
    i.e. text that rouge-score's [a-z0-9] tokenizer would reduce to its digits."""
    letters = [character for character in text if character.isalpha()]
    if not letters:
        return False
    non_latin = sum(not _is_latin_letter(character) for character in letters)
    return non_latin / len(letters) >= NON_LATIN_SHARE


def references_language(references: list[str]) -> str | None:
    """The language most references are written in (py3langid, summarizer.language), None if unknown."""
    from summarizer.language import identify_language

    counts: dict[str, int] = {}
    for text in references:
        language = identify_language(text)
        if language:
            counts[language] = counts.get(language, 0) + 1
    return max(counts, key=lambda code: counts[code]) if counts else None


def choose_tokenizer(references: list[str], requested: str = "auto") -> tuple[str, str | None]:
    """The tokenizer to score ``references`` with ("default" or "unicode") and a notice for the user.

    ``requested`` "default" or "unicode" is the user's explicit choice and is kept; "auto" picks the
    Unicode tokenizer when enough references are mostly non-Latin, and says so.
    """
    if requested not in TOKENIZER_CHOICES:
        raise ValueError(f"unknown tokenizer {requested!r}; choose one of {', '.join(TOKENIZER_CHOICES)}")
    if requested != "auto":
        return requested, None
    non_latin = sum(is_mostly_non_latin(text) for text in references)
    if not references or non_latin < NON_LATIN_REFERENCES_SHARE * len(references):
        return "default", None
    notice = (
        f"{non_latin} of {len(references)} references are mostly non-Latin text, which the default ROUGE "
        "tokenizer reduces to digits: scoring with the Unicode tokenizer, as --tokenizer unicode does. "
        "Pass --tokenizer default to keep rouge-score's tokenizer."
    )
    return "unicode", notice


# --- ROUGE-1.5.5 (Perl) ---------------------------------------------------------------------------

# The Perl script lowercases A-Z, pads "-" with spaces, turns every other non-[A-Za-z0-9] character
# (each byte of a non-ASCII character) into a space, splits on whitespace and keeps tokens starting with
# [a-z0-9$]: the "-" tokens are dropped, so hyphens end up as separators like any punctuation.
_PERL_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")

# Porter's algorithm exactly as ROUGE-1.5.5.pl implements it (the original 1980 rules in Martin Porter's
# Perl version, with Chin-Yew Lin's 2004 change to step 4), ported regex for regex.
_c = "[^aeiou]"  # consonant
_v = "[aeiouy]"  # vowel
_C = _c + "[^aeiouy]*"  # consonant sequence
_V = _v + "[aeiou]*"  # vowel sequence
_MGR0 = re.compile(f"^({_C})?{_V}{_C}")  # measure > 0
_MEQ1 = re.compile(f"^({_C})?{_V}{_C}({_V})?$")  # measure == 1
_MGR1 = re.compile(f"^({_C})?{_V}{_C}{_V}{_C}")  # measure > 1
_HAS_VOWEL = re.compile(f"^({_C})?{_v}")
_CVC = re.compile(f"^{_C}{_v}[^aeiouwxy]$")
_STEP1A_IES = re.compile("(ss|i)es$")
_STEP1A_S = re.compile("([^s])s$")
_STEP1B_ED_ING = re.compile("(ed|ing)$")
_STEP1B_ADD_E = re.compile("(at|bl|iz)$")
_STEP1B_DOUBLE = re.compile(r"([^aeiouylsz])\1$")
_STEP2 = {
    "ational": "ate", "tional": "tion", "enci": "ence", "anci": "ance", "izer": "ize", "bli": "ble",
    "alli": "al", "entli": "ent", "eli": "e", "ousli": "ous", "ization": "ize", "ation": "ate",
    "ator": "ate", "alism": "al", "iveness": "ive", "fulness": "ful", "ousness": "ous", "aliti": "al",
    "iviti": "ive", "biliti": "ble", "logi": "log",
}
_STEP3 = {"icate": "ic", "ative": "", "alize": "al", "iciti": "ic", "ical": "ic", "ful": "", "ness": ""}
# Alternation order matters (leftmost match, then first alternative): keep the script's order.
_STEP2_RE = re.compile("(ational|tional|enci|anci|izer|bli|alli|entli|eli|ousli|ization|ation|ator|alism|"
                       "iveness|fulness|ousness|aliti|iviti|biliti|logi)$")
_STEP3_RE = re.compile("(icate|ative|alize|iciti|ical|ful|ness)$")
_STEP4_RE = re.compile("(al|ance|ence|er|ic|able|ible|ant|ement|ou|ism|ate|iti|ous|ive|ize)$")
_STEP4_ION = re.compile("(s|t)(ion)$")


@lru_cache(maxsize=_STEM_CACHE_SIZE)
def perl_porter_stem(word: str) -> str:
    """ROUGE-1.5.5.pl's `stem` subroutine (no WordNet exceptions: see `Rouge155Tokenizer`)."""
    if len(word) < 3:
        return word
    initial_y = word[0] == "y"
    if initial_y:  # an initial y is a consonant: uppercase it so no pattern reads it as a vowel
        word = "Y" + word[1:]

    # Step 1a
    if match := _STEP1A_IES.search(word):
        word = word[: match.start()] + match.group(1)
    elif match := _STEP1A_S.search(word):
        word = word[: match.start()] + match.group(1)
    # Step 1b
    if word.endswith("eed"):
        if _MGR0.search(word[:-3]):
            word = word[:-1]
    elif match := _STEP1B_ED_ING.search(word):
        stem = word[: match.start()]
        if _HAS_VOWEL.search(stem):
            word = stem
            if _STEP1B_ADD_E.search(word):
                word += "e"
            elif _STEP1B_DOUBLE.search(word):
                word = word[:-1]
            elif _CVC.search(word):
                word += "e"
    # Step 1c
    if word.endswith("y") and _HAS_VOWEL.search(word[:-1]):
        word = word[:-1] + "i"
    # Step 2
    if match := _STEP2_RE.search(word):
        stem = word[: match.start()]
        if _MGR0.search(stem):
            word = stem + _STEP2[match.group(1)]
    # Step 3
    if match := _STEP3_RE.search(word):
        stem = word[: match.start()]
        if _MGR0.search(stem):
            word = stem + _STEP3[match.group(1)]
    # Step 4, with Lin's change: "-ement" is tried first, then "-ment" and "-ent" as separate rules.
    if match := _STEP4_RE.search(word):
        stem = word[: match.start()]
        if _MGR1.search(stem):
            word = stem
    if word.endswith("ment") and _MGR1.search(word[:-4]):
        word = word[:-4]
    if word.endswith("ent"):
        if _MGR1.search(word[:-3]):
            word = word[:-3]
    elif match := _STEP4_ION.search(word):
        stem = word[: match.start()] + match.group(1)
        if _MGR1.search(stem):
            word = stem
    # Step 5
    if word.endswith("e"):
        stem = word[:-1]
        if _MGR1.search(stem) or (_MEQ1.search(stem) and not _CVC.search(stem)):
            word = stem
    if word.endswith("ll") and _MGR1.search(word):
        word = word[:-1]

    if initial_y:
        word = "y" + word[1:]
    return word


# ROUGE-1.5.5's WordNet-2.0.exc.db is built from these files; a key listed in several files keeps the
# value of the last one read. Reading them in this order gives the database shipped with ROUGE-1.5.5
# (e.g. best -> well, is -> be) and reproduces all 1,200 official scores in the parity file.
_EXCEPTION_FILES = ("adj.exc", "adv.exc", "noun.exc", "verb.exc")
# Vendored from the ROUGE-1.5.5 release (data/WordNet-2.0-Exceptions/), WordNet licence beside them.
WORDNET_EXCEPTIONS_DIR = Path(__file__).resolve().parent / "data" / "wordnet-2.0-exceptions"


def wordnet_exceptions_dir() -> Path:
    """The WordNet-2.0 exception lists ROUGE-1.5.5.pl consults before Porter stemming (-m)."""
    return WORDNET_EXCEPTIONS_DIR


@lru_cache(maxsize=4)
def load_wordnet_exceptions(directory: Path | None = None) -> Mapping[str, str]:
    """Inflected form -> base form, as ROUGE-1.5.5.pl looks tokens up before Porter stemming."""
    directory = directory or wordnet_exceptions_dir()
    table: dict[str, str] = {}
    for name in _EXCEPTION_FILES:
        for line in (directory / name).read_text(encoding="latin-1").splitlines():
            fields = line.split()
            if len(fields) >= 2:
                table[fields[0]] = fields[1]
    return table


class Rouge155Tokenizer:
    """Tokenization and `-m` stemming of the official ROUGE-1.5.5.pl, for one unit (sentence) of text.

    With stemming, tokens longer than 3 characters are looked up in the WordNet-2.0 exception table
    (`were` -> `be`, `children` -> `child`) and otherwise Porter-stemmed by the script's own stemmer.
    `exceptions` replaces that table (tests use a small one; `{}` disables the lookup).
    """

    lines_are_independent = True

    def __init__(self, use_stemmer: bool = True, exceptions: Mapping[str, str] | None = None):
        self.use_stemmer = use_stemmer
        if not use_stemmer:
            self.name = "rouge155-perl"
        elif exceptions is None:
            self.name = "rouge155-perl+porter-perl+wordnet2.0-exceptions"
        else:
            self.name = "rouge155-perl+porter-perl" + (f"+custom-exceptions({len(exceptions)})" if exceptions else "")
        # Loaded now, so a missing table fails when the scorer is built rather than mid-run.
        self._exceptions = load_wordnet_exceptions() if use_stemmer and exceptions is None else exceptions or {}
        # Per instance, because the result depends on the exception table.
        self._stem = lru_cache(maxsize=_STEM_CACHE_SIZE)(self._morph_stem)

    def _morph_stem(self, token: str) -> str:
        if len(token) <= 3:
            return token
        base = self._exceptions.get(token)
        return base if base is not None else perl_porter_stem(token)

    def tokenize(self, text: str) -> list[str]:
        # After the substitution only ASCII letters and digits are left, so lower() is the script's tr/A-Z/a-z/.
        tokens = _PERL_NON_ALNUM.sub(" ", text).lower().split()
        if self.use_stemmer:
            stem = self._stem
            return [stem(token) for token in tokens]
        return tokens


def clear_caches() -> None:
    """Empty the module-level stem caches (benchmarks time a cold start with this)."""
    nltk_porter_stem.cache_clear()
    perl_porter_stem.cache_clear()

