"""Making untrusted text safe in the outputs we write: Markdown, HTML links, CSV cells.

Titles, URLs, bullets and error messages come from feeds, web pages and models, so every output
treats them as data: Markdown gets its special characters escaped, a URL becomes a link only when it
is http(s) and then percent-encoded (a ``>`` or ``"`` can no longer end the link), and a CSV cell
that a spreadsheet would run as a formula gets a leading apostrophe. JSON needs none of this.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

WEB_SCHEMES = frozenset({"http", "https"})
# Characters kept as they are in a link: RFC 3986's reserved and unreserved ones, and '%' so that an
# already encoded URL is not encoded twice. Everything else (< > " ` space \ ^ { } |, controls,
# non-ASCII) is percent-encoded.
URL_SAFE_CHARACTERS = "!#$%&'()*+,/:;=?@[]~"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")
_BACKTICK_RUN = re.compile(r"`+")
# What a spreadsheet reads as the start of a formula (OWASP's CSV injection list).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def link_url(url: str | None) -> str | None:
    """``url`` percent-encoded for use as a link target, or None when it must not be a link (not
    http(s): ``javascript:``, ``data:``, ``file:``, relative or empty)."""
    if not url:
        return None
    candidate = url.strip()
    parts = urlsplit(candidate)
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.netloc:
        return None
    return quote(candidate, safe=URL_SAFE_CHARACTERS)


def escape_markdown(text: str) -> str:
    """One line of literal Markdown text: whitespace (newlines too) collapsed so that nothing starts a
    heading or list of its own, and the characters that make links, emphasis, code or HTML escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def markdown_code(text: str) -> str:
    """``text`` as a Markdown code span whose fence no backtick inside can close."""
    text = " ".join(text.split())
    fence = "`" * (max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0) + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def csv_cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ' when it would start a formula, on every line
    (a multi-line cell is often split into rows)."""
    return "\n".join("'" + line if line.startswith(FORMULA_PREFIXES) else line for line in text.split("\n"))
