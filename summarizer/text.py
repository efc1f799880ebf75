"""Sentence splitting and small text utilities shared by ingest, backends and bullets.

A rule-based splitter: news text is mostly well punctuated, and a model-based splitter would add a
dependency and a download. It handles common abbreviations (English, and per language for German,
French, Spanish, Italian, Portuguese, Ukrainian and Russian), initials in any script, decimal numbers,
closing quotes, CJK full stops (。！？), the Greek question mark, and the pre-tokenized CNN/DailyMail
style ("word . Next"), also lower-cased ("word . next").
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
# Titles and Latin abbreviations used the same way in every language written in Latin script.
INTERNATIONAL_ABBREVIATIONS = {"dr", "prof", "st", "etc", "vs", "inc", "ltd", "corp", "jr", "sr", "mr", "mrs", "ms"}
# Abbreviations followed by a full stop that does not end the sentence (lower case, inner dots kept:
# "z.b" is "z. B." and "z.B."). Initials ("M.", "т.") are recognised in any script without a list.
LANGUAGE_ABBREVIATIONS: dict[str, set[str]] = {
    "de": {"bzw", "ca", "mio", "mrd", "nr", "str", "usw", "vgl", "ggf", "evtl", "bspw", "z.b", "u.a", "d.h",
           "s.o", "hr", "abs", "jh", "tel", "inkl", "zzgl", "max", "min", "ehem", "gegr", "geb", "dipl", "ing"},
    "fr": {"mm", "mme", "mlle", "env", "p.ex", "av", "bd", "cf", "éd", "chap", "hab", "min", "max", "janv",
           "févr", "avr", "juil", "sept", "oct", "nov", "déc", "vol"},
    "es": {"sra", "srta", "sres", "dña", "aprox", "núm", "pág", "ee.uu", "ud", "uds", "avda", "etc", "gral",
           "dcha", "izq", "cía", "tel", "vol", "ene", "feb", "abr", "ago", "dic"},
    "it": {"sig", "sigg", "sig.ra", "dott", "ing", "avv", "on", "pag", "ecc", "gen", "feb", "mar", "apr",
           "ago", "set", "ott", "dic"},
    "pt": {"sra", "srs", "dra", "pág", "aprox", "nº", "av", "ex", "jan", "fev", "abr", "mai", "ago", "set",
           "out", "dez"},
    "uk": {"т.зв", "зв", "т.п", "ст", "вул", "просп", "пл", "обл", "р-н", "м", "р", "рр", "с", "смт", "ім",
           "млн", "млрд", "тис", "грн", "дол", "коп", "див", "напр", "проф", "акад", "доц", "пан", "пані",
           "кв", "км", "кг", "хв", "год", "їх", "тощо", "ін", "інш", "т.д", "н.е", "укр"},
    "ru": {"т.е", "т.к", "т.д", "т.п", "т.н", "ст", "ул", "пр", "просп", "пл", "обл", "г", "гг", "р-н", "им",
           "млн", "млрд", "тыс", "руб", "коп", "долл", "см", "напр", "проф", "акад", "доц", "кв", "км", "кг",
           "мин", "сек", "др", "н.э", "стр", "гос", "св", "ген"},
}
# The year after a number ("у 2019 р.", "в 2018 г."): before a capital it ends the sentence, since a
# sentence that ends with a year is common and a capitalized word right after one inside it is not.
YEAR_ABBREVIATIONS = {"р", "рр", "г", "гг"}
# A number of one or two digits with a full stop before these is an ordinal ("am 3. März"), not an end.
ORDINAL_NOUNS = {
    "januar", "jänner", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober",
    "november", "dezember", "jahrhundert", "jahrhunderts", "bundesliga", "liga", "runde", "platz", "mal",
}
# Text whose language is not known gets the English list plus the other languages' abbreviations that
# no English sentence ends with: non-ASCII ones (Cyrillic, "núm"), dotted ones ("z.b") and these. Not
# "ago", "out", "set", "on" (Spanish, Portuguese, Italian month and title abbreviations): English words.
_NOT_ENGLISH_WORDS = {"bzw", "ca", "mio", "mrd", "nr", "usw", "vgl", "ggf", "evtl", "bspw", "mme", "mlle", "env",
                      "sra", "srta", "aprox", "avda", "dott", "avv", "sigg"}
_UNKNOWN_LANGUAGE = ABBREVIATIONS | _NOT_ENGLISH_WORDS | {
    word for words in LANGUAGE_ABBREVIATIONS.values() for word in words if not word.isascii() or "." in word}

# A sentence ends at . ! ? (or …), possibly followed by closing quotes/brackets, then whitespace and
# an opening quote, bracket, inverted mark (Spanish), letter or digit. Lowercase starts are accepted
# only after ! ? (and in text without capitals, see split_sentences).
_BOUNDARY = re.compile(r"""([.!?…]+)(['"’”»)\]]*)\s+(?=['"‘“«„‚‹(\[¿¡]?\w)""")
# Full stops that need no space after them (Chinese, Japanese; Devanagari's danda), and the Greek
# question mark (";" after NFC) before a capital: each ends a sentence outright.
_UNSPACED_END = re.compile(r"([。！？।]+[」』”’）)]*)\s*(?=\S)")
_GREEK_QUESTION = re.compile(r"(?<=[\u0370-\u03ff\u1f00-\u1fff]);\s+(?=[\u0386-\u038f\u0391-\u03a9])")
_WORD_BEFORE = re.compile(r"(\S+)$")
_NUMBER_BEFORE = re.compile(r"\d[\d.,]*\s*$")
_WHITESPACE = re.compile(r"[ \t\f\v]+")
_INITIALS = re.compile(r"(?:[^\W\d_]\.)*[^\W\d_]")


def normalize_whitespace(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    lines = [_WHITESPACE.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(lines).strip()


def abbreviations_for(language: str | None) -> set[str]:
    """The abbreviation list the splitter uses: English plus the other languages' that are no English
    word when the language is not known, else that language's (English ones such as "no." are words
    elsewhere: Spanish "dijo que no.")."""
    if language is None:
        return _UNKNOWN_LANGUAGE
    if language == "en":
        return ABBREVIATIONS
    if language not in LANGUAGE_ABBREVIATIONS:
        return (_UNKNOWN_LANGUAGE - ABBREVIATIONS) | INTERNATIONAL_ABBREVIATIONS
    return LANGUAGE_ABBREVIATIONS[language] | INTERNATIONAL_ABBREVIATIONS


def _abbreviation_word(token: str) -> str:
    return token.rstrip(".").lstrip("'\"(“‘«„").lower()


def _is_abbreviation(token: str, abbreviations: set[str] = ABBREVIATIONS) -> bool:
    word = _abbreviation_word(token)
    if word in abbreviations:
        return True
    # Initials such as "J.", "J.R." or "М." (single letters separated by dots), in any script.
    return bool(_INITIALS.fullmatch(word))


def is_caseless(text: str) -> bool:
    """Whether ``text`` has letters but no capitals (lower-cased research copies such as CNN/DailyMail's
    tokenized form): a lowercase word after a full stop then says nothing about a sentence going on."""
    return not any(character.isupper() for character in text) and any(character.islower() for character in text)


def split_sentences(text: str, language: str | None = None) -> list[str]:
    """Split text into sentences; paragraph breaks (newlines) always end a sentence.

    ``language`` (ISO 639-1, see summarizer.language) picks the abbreviation list; None uses every
    language's, which suits English and mixed input.
    """
    sentences: list[str] = []
    text = normalize_whitespace(text)
    caseless = is_caseless(text)
    abbreviations = abbreviations_for(language)
    for block in text.split("\n"):
        block = _GREEK_QUESTION.sub(";\n", _UNSPACED_END.sub("\\1\n", block))
        for paragraph in block.split("\n"):
            sentences.extend(_split_paragraph(paragraph.strip(), caseless, abbreviations))
    return sentences


def _continues_after_full_stop(before: str, following_text: str, caseless: bool, abbreviations: set[str]) -> bool:
    """Whether a full stop after ``before`` (the sentence so far) is not a sentence end."""
    following = following_text[:1]
    word_match = _WORD_BEFORE.search(before)
    pre_tokenized = before.endswith(" ")  # CNN/DM style "word . Next"
    word = _abbreviation_word(word_match.group(1)) if word_match and not pre_tokenized else ""
    if word in YEAR_ABBREVIATIONS and following.isupper() and _NUMBER_BEFORE.search(before[: -len(word)]):
        return False  # "... у 2019 р. Депутати ..."
    if word.isdigit() and len(word) <= 2:
        next_word = re.match(r"\w+", following_text)
        if next_word and next_word.group(0).lower() in ORDINAL_NOUNS:
            return True  # "am 3. März"
    if word and _is_abbreviation(word, abbreviations):
        return True
    # A lowercase start continues the sentence ("approx. two hours", "a 2.5 rise"), unless the text
    # has no capitals at all: there a tokenized " . " is the only cue left.
    return following.islower() and not (caseless and pre_tokenized)


def _split_paragraph(paragraph: str, caseless: bool, abbreviations: set[str]) -> list[str]:
    sentences: list[str] = []
    if not paragraph:
        return sentences
    start = 0
    for match in _BOUNDARY.finditer(paragraph):
        if match.group(1) == "." and _continues_after_full_stop(
                paragraph[start : match.start(1)], paragraph[match.end() : match.end() + 40], caseless, abbreviations):
            continue
        sentence = paragraph[start : match.end(2)].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end()
    tail = paragraph[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


# Chinese and Japanese are written without spaces between words; their words average about two
# characters, so word limits (a bullet's minimum length) count two Han/kana characters as one word.
_SPACELESS_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
CHARACTERS_PER_CJK_WORD = 2


def word_count(text: str) -> int:
    """Words as a reader counts them: whitespace-separated tokens, CJK text by CHARACTERS_PER_CJK_WORD."""
    spaceless = len(_SPACELESS_SCRIPT.findall(text))
    if not spaceless:
        return len(text.split())
    others = [token for token in _SPACELESS_SCRIPT.sub(" ", text).split() if any(c.isalnum() for c in token)]
    return len(others) + -(-spaceless // CHARACTERS_PER_CJK_WORD)


def content_tokens(text: str) -> list[str]:
    """Lowercased word tokens (Unicode-aware) for overlap measures such as near-duplicate checks."""
    return re.findall(r"\w+", text.casefold())
