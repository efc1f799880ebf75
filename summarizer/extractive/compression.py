"""Sentence compression into bullet style: rule-based deletions that keep a sentence grammatical.

An extracted news sentence carries words a "point of attention" does not need: who said it
("..., police said."), the wire-service dateline ("LONDON (CNN) --"), asides in parentheses,
non-restrictive relative clauses (", who joined the club in 2013,") and discourse connectives
that only make sense after the previous sentence ("However, ..."). Each rule deletes one such
span; none adds or reorders words, so a compressed bullet stays grounded in the article.

The rules are separate and named so a model spec can switch each on or off; which ones help was
measured on SummEval CNN/DM (eval/quality/methods.md), since every deletion that removes words a
reference kept costs recall.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# Closing punctuation at the end of a sentence, with any closing quotes after it.
_END = r"(?P<end>\s*[.!?]+\s*(?:['\"’”]|'')*\s*)$"
# Speech verbs that attribute a statement; "found"/"revealed" cover studies and reports.
_SPEECH_VERBS = (
    r"said|says|say|told\s[^,]{1,40}?|tells\s[^,]{1,40}?|reported|reports|claimed|claims|added|adds|"
    r"insisted|insists|warned|warns|confirmed|confirms|explained|explains|stated|states|wrote|writes|"
    r"announced|announces|revealed|has\sfound|have\sfound|found|believes|believe|noted|notes|"
    r"(?:was|were|has\sbeen|have\sbeen)\s(?:revealed|reported|announced|claimed|confirmed|found)"
)
_TIME_TAIL = r"(?:\s(?:on|in|at|last|this|yesterday|today|earlier|later|late|overnight)\b[^,]{0,30}?)?"
# A trailing attribution: at most eight words, a speech verb, an optional time ("on Tuesday").
_TRAILING_ATTRIBUTION = re.compile(
    r"\s*,\s*(?P<quote>(?:['\"’”`]|''|``)?)\s*"
    r"(?:according\sto\s[^,]{1,60}?|(?:[^\s,]+\s){0,7}?(?:" + _SPEECH_VERBS + r")" + _TIME_TAIL + r")"
    + _END
)
# Subjects whose attribution adds nothing a reader needs: generic sources, not named people.
_GENERIC_SOURCE = (
    r"(?:the\s|a\s|an\s)?(?:[a-z][\w-]*\s){0,2}?(?:police|officials?|authorities|researchers|scientists|"
    r"experts|analysts|investigators|prosecutors|witnesses|reports?|study|studies|survey|"
    r"spokesman|spokeswoman|spokesperson|sources?|officers?|doctors|campaigners|critics|"
    r"journalists|the\schannel|media|newspaper)"
)
_LEADING_ATTRIBUTION = re.compile(
    r"^(?:(?:" + _GENERIC_SOURCE + r")\s(?:have\s|has\s)?(?:" + _SPEECH_VERBS + r")\s(?:that\s)?"
    r"|(?:according\sto|as\sreported\sby|as\sreported\sin|citing)\s[^,]{1,120}?\s*,\s*)(?=\S)",
    re.IGNORECASE,
)
# "LONDON, England (CNN) --", "(CNN)", "WASHINGTON (Reuters) -": a place in capitals, an agency.
_DATELINE = re.compile(
    r"^\s*(?:[A-Z][A-Za-z.' -]{0,40}(?:,\s*[A-Z][A-Za-z.' -]{0,30})?\s*)?"
    r"\(\s*(?:CNN|Reuters|AP|AFP|EW\.com|CNN\sStudent\sNews|Mashable|Bloomberg|PA)\s*\)\s*(?:--|-|–|—|:)?\s*"
)
# Asides in parentheses: "(pictured)", "(ISW)", "( file photo )". Long ones may be content, so cap;
# ones without letters are scores or figures ("7-6 ( 3 )"), which are content too.
_PARENTHETICAL = re.compile(r"\s*\((?=[^()]*[^\W\d_])[^()]{0,80}\)")
# Non-restrictive relative clauses, set off by commas: ", who has played there since 2013 ,".
_RELATIVE_INSIDE = re.compile(r"\s*,\s*(?:who|whose|which)\s[^,;:]{1,100}?\s*,\s*")
_RELATIVE_TRAILING = re.compile(r"\s*,\s*(?:who|whose|which)\s[^,;:]{1,100}?" + _END)
# Connectives that lean on the previous sentence; a bullet is read on its own.
_CONNECTIVE = re.compile(
    r"^(?:however|meanwhile|moreover|furthermore|additionally|in\saddition|also|then|later|"
    r"at\sthe\ssame\stime|as\sa\sresult|instead|indeed|still|now|so|but|and|yet)\s*,?\s+(?=\S)",
    re.IGNORECASE,
)
# The tabloid opener "This is the shocking moment a guard slipped": the news is what follows.
_MOMENT = re.compile(
    r"^(?:this|these)\s(?:is|are|was|were)\s(?:the\s)?(?:[\w-]+\s){0,3}?(?:moments?|footage|video|pictures?|"
    r"images?)\s(?:that\s|when\s|in\swhich\s|showing\s)?(?=\S)",
    re.IGNORECASE,
)
# Where a long sentence may end early: a clause boundary (comma, semicolon, dash) followed by a word
# that opens an adjunct (a conjunction, a subordinator, a participle) or a relative clause.
_DETACHABLE = (
    r"and|but|or|yet|so|while|whilst|as|after|before|although|though|despite|amid|because|since|until|"
    r"when|where|with|without|including|according|following|during|however|even|only|just|then|"
    r"in\s(?:a|an|what|which)|for|[a-z]+ing|(?P<relative>who|whose|which)"
)
_CLAUSE_BOUNDARY = re.compile(r"\s*(?:,|;|\s–|\s—|\s-{1,2})\s+(?=(?:" + _DETACHABLE + r")\b)", re.IGNORECASE)
_OPENING_QUOTE = re.compile(r"(?:^|\s)(?:``|[\"“‘]|'(?!(?:s|re|ve|ll|d|m|t)\b))(?=\w)", re.IGNORECASE)
_CLOSING_QUOTE = re.compile(r"(?:''|[\"”’]|(?<=[\w.,!?])\s?')(?=\s|$|[.,;:!?])")
_SPACES = re.compile(r"\s{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])(?=\s|$)")


def _drop_trailing_attribution(sentence: str) -> str:
    def replace(match: re.Match) -> str:
        # Keep a closing quote so a quoted statement stays a closed quotation.
        return match.group("quote") + match.group("end").strip()

    return _TRAILING_ATTRIBUTION.sub(replace, sentence, count=1)


def _drop_leading_attribution(sentence: str) -> str:
    return _LEADING_ATTRIBUTION.sub("", sentence, count=1)


def _drop_dateline(sentence: str) -> str:
    return _DATELINE.sub("", sentence, count=1)


def _drop_parentheticals(sentence: str) -> str:
    return _PARENTHETICAL.sub("", sentence)


def _drop_relative_clauses(sentence: str) -> str:
    sentence = _RELATIVE_INSIDE.sub(" ", sentence)
    return _RELATIVE_TRAILING.sub(lambda match: match.group("end").strip(), sentence, count=1)


def _drop_connective(sentence: str) -> str:
    return _CONNECTIVE.sub("", sentence, count=1)


def _drop_moment_formula(sentence: str) -> str:
    return _MOMENT.sub("", sentence, count=1)


def _is_balanced(text: str) -> bool:
    """No parenthesis or quotation left open: cutting inside one would leave half an aside."""
    if text.count("(") != text.count(")"):
        return False
    return len(_OPENING_QUOTE.findall(text)) <= len(_CLOSING_QUOTE.findall(text))


_OPEN_RELATIVE = re.compile(r"\s*,\s*(?:who|whose|which)\s[^,;]*$", re.IGNORECASE)


def _ends_in_subject_clause(head: str, min_words: int) -> bool:
    """Whether ``head`` stops inside a relative clause hung on a short opening noun phrase
    ("But security officers, who were described as ..."): the main verb would be cut off."""
    opened = _OPEN_RELATIVE.search(head)
    return bool(opened) and len(head[: opened.start()].split()) < min_words


def cut_trailing_clauses(sentence: str, max_words: int, min_words: int) -> str:
    """End a sentence longer than ``max_words`` at its last detachable clause boundary within
    ``max_words`` words, keeping at least ``min_words``; unchanged when there is none.

    The main clause of a news sentence carries the event; what trails after ", as ...",
    ", after ..." or ", saying ..." is background the reference bullets mostly leave out.
    """
    if len(sentence.split()) <= max_words:
        return sentence
    head = None
    for boundary in _CLAUSE_BOUNDARY.finditer(sentence):
        # ", who ..." closed by a later comma sits inside the subject ("The striker, who is 35, will
        # join"): cutting there leaves a noun phrase. Only a relative clause that runs to the end goes.
        if boundary.group("relative") and re.search(r"[,;]", sentence[boundary.end() :]):
            continue
        candidate = sentence[: boundary.start()]
        words = len(candidate.split())
        if words > max_words:
            break
        if words >= min_words and _is_balanced(candidate) and not _ends_in_subject_clause(candidate, min_words):
            head = candidate
    if head is None:
        return sentence
    tokenized = re.search(r"\s[.!?]['\"’”]*\s*$", sentence) is not None
    return head.rstrip(" ,;:–—-") + (" ." if tokenized else ".")


# Applied in this order: the dateline and opener first, so the later rules see the sentence's core.
RULES: dict[str, Callable[[str], str]] = {
    "datelines": _drop_dateline,
    "moment_formula": _drop_moment_formula,
    "connectives": _drop_connective,
    "leading_attributions": _drop_leading_attribution,
    "trailing_attributions": _drop_trailing_attribution,
    "parentheticals": _drop_parentheticals,
    "relative_clauses": _drop_relative_clauses,
}
# Not in RULES: it takes a length budget, see compress().
TRAILING_CLAUSES = "trailing_clauses"
RULE_NAMES = (*RULES, TRAILING_CLAUSES)
# Below this many words what is left is rarely a statement of its own: keep the sentence whole.
MIN_WORDS_LEFT = 5
# trailing_clauses: sentences longer than this are ended at a clause boundary, keeping at least
# CLAUSE_MIN_WORDS. Chosen by cross-validation on SummEval CNN/DM (eval/quality/crossval.md).
CLAUSE_MAX_WORDS = 20
CLAUSE_MIN_WORDS = 10


# Rules whose patterns are not English words: a wire-service dateline ("BERLIN (Reuters) -") and asides
# in parentheses read the same in any language. The others match English speech verbs, connectives
# and clause openers, and are never applied to text in another language.
LANGUAGE_NEUTRAL_RULES = frozenset({"datelines", "parentheticals"})


def rules_for_language(rules: Iterable[str], language: str | None) -> list[str]:
    """The rules of ``rules`` that apply to text in ``language`` (ISO 639-1; None: not identified,
    treated as English as before identification existed)."""
    if language in (None, "en"):
        return list(rules)
    return [rule for rule in rules if rule in LANGUAGE_NEUTRAL_RULES]


def _tidy(text: str, original: str) -> str:
    text = _SPACES.sub(" ", text).strip()
    if original and original[0] != " " and " ," not in original and " ." not in original:
        # Ordinary prose: no space before punctuation. CNN/DM's tokenized text keeps its own style.
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = text.lstrip(",;:–—- ").strip()
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    if text and not re.search(r"[.!?]['\"’”]*$|''$", text):
        text += "."
    return text


def compress(
    sentence: str,
    rules: Iterable[str] = RULE_NAMES,
    min_words_left: int = MIN_WORDS_LEFT,
    clause_max_words: int = CLAUSE_MAX_WORDS,
    clause_min_words: int = CLAUSE_MIN_WORDS,
) -> str:
    """``sentence`` with the spans of the named rules deleted (rules run in RULES order, then
    trailing_clauses with its word budget).

    A rule whose deletion would leave fewer than ``min_words_left`` words is skipped, so a short
    sentence is never reduced to a fragment.
    """
    wanted = set(rules)
    unknown = wanted - set(RULE_NAMES)
    if unknown:
        raise ValueError(f"unknown compression rules {sorted(unknown)}; known: {', '.join(RULE_NAMES)}")
    text = sentence.strip()
    for name, rule in RULES.items():
        if name not in wanted:
            continue
        changed = rule(text)
        if changed == text:
            continue
        shortened = _tidy(changed, text)
        if len(shortened.split()) >= min_words_left:
            text = shortened
    if TRAILING_CLAUSES in wanted:
        text = cut_trailing_clauses(text, clause_max_words, max(clause_min_words, min_words_left))
    return text
