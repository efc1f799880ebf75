"""Bytes -> text, refusing what is not text and saying why.

Order of checks: empty, byte-order mark (UTF-8/16/32), binary content, UTF-8. A file that is not
UTF-8 is most often an old Windows-1252/Latin-1 export; when it decodes as cp1252 into plausible
Western text we accept it with a warning instead of failing, because the alternative (asking users to
re-encode a folder of articles) is worse than a recorded, visible guess. Anything else is an error
that names the first bad byte so the user can find it.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

# Sniffing looks at the start of the file only: enough to tell text from binary, cheap on big files.
SNIFF_BYTES = 65_536
# Text has practically no C0 control characters besides tab/newlines; binary formats have many.
MAX_CONTROL_SHARE = 0.05
# Western European text in a legacy code page is mostly ASCII; mojibake from CJK or Cyrillic
# code pages read as cp1252 is mostly not.
MAX_LEGACY_NON_ASCII_SHARE = 0.3
MIN_LEGACY_WORDLIKE_SHARE = 0.7

BINARY_SIGNATURES = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or .docx/.xlsx/.epub)"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
# UTF-32 marks first: the UTF-32-LE mark starts with the UTF-16-LE one.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ALLOWED_CONTROLS = b"\t\n\r\f\v\x1b"
_CONTROL_BYTES = bytes(b for b in [*range(0x20), 0x7F] if b not in _ALLOWED_CONTROLS)
_HIGH_BYTES = bytes(range(0x80, 0x100))
_VALID_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]"
    rb"|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_TYPOGRAPHIC = set("“”‘’„‚«»‹›–—…•·€£¥¢°§©®™±×÷½¼¾¹²³µ¶¿¡\xa0")


class UnreadableTextError(ValueError):
    """The bytes are not usable text; the message names the problem for the user."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    # Set when the encoding was guessed: the caller records it next to the article.
    warning: str | None = None


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def binary_problem(data: bytes) -> str | None:
    """Why ``data`` looks binary (a message), or None when it may be text."""
    for signature, kind in BINARY_SIGNATURES:
        if data.startswith(signature):
            return f"looks like a binary file ({kind}), not text"
    if b"\x00" in data:
        return "looks like a binary file (contains NUL bytes), not text"
    sample = data[:SNIFF_BYTES]
    control_count = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if sample and control_count / len(sample) > MAX_CONTROL_SHARE:
        share = control_count / len(sample)
        return f"looks like a binary file ({share:.0%} control characters), not text"
    return None


def decode_bytes(data: bytes) -> DecodedText:
    """Decode file contents to text with ``\\n`` newlines, or raise UnreadableTextError."""
    if not data:
        raise UnreadableTextError("empty file")
    for mark, encoding in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            try:
                return DecodedText(normalize_newlines(data.decode(encoding)), encoding)
            except UnicodeDecodeError as error:
                raise UnreadableTextError(
                    f"starts with a {encoding} byte-order mark but is not valid {encoding} "
                    f"(byte 0x{data[error.start]:02x} at offset {error.start})"
                ) from None
    problem = binary_problem(data)
    if problem:
        raise UnreadableTextError(problem)
    try:
        return DecodedText(normalize_newlines(data.decode("utf-8")), "utf-8")
    except UnicodeDecodeError as error:
        first_bad = error.start
    legacy = _decode_legacy(data)
    if legacy is not None:
        return legacy
    hint = (
        "it looks like UTF-8 with damaged bytes"
        if _mostly_utf8(data)
        else "nor does it read as plausible Windows-1252/Latin-1 text; re-save it as UTF-8"
    )
    raise UnreadableTextError(f"not valid UTF-8 (byte 0x{data[first_bad]:02x} at offset {first_bad}); {hint}")


def length_problem(length: int, max_chars: int, unit: str = "characters") -> str | None:
    if length <= max_chars:
        return None
    return (
        f"article too long: {length:,} {unit}, over the limit of {max_chars:,} characters "
        "(raise it with --max-chars)"
    )


def _decode_legacy(data: bytes) -> DecodedText | None:
    # A mostly-UTF-8 file with a few broken bytes would turn every accented letter into mojibake.
    if _mostly_utf8(data):
        return None
    try:
        # Latin-1 text without C1 control bytes decodes identically as cp1252; with them it is not text.
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    if not _plausible_western_text(text):
        return None
    return DecodedText(
        normalize_newlines(text),
        "cp1252",
        warning="not valid UTF-8; decoded as Windows-1252 (Latin-1), check accented characters",
    )


def _mostly_utf8(data: bytes) -> bool:
    high_bytes = len(data) - len(data.translate(None, _HIGH_BYTES))
    covered = sum(len(match) for match in _VALID_UTF8_MULTIBYTE.findall(data))
    return high_bytes > 0 and covered >= high_bytes / 2


def _plausible_western_text(text: str) -> bool:
    non_ascii = [char for char in text if ord(char) > 0x7F]
    if not non_ascii:
        return True
    if len(non_ascii) > MAX_LEGACY_NON_ASCII_SHARE * len(text):
        return False
    wordlike = sum(1 for char in non_ascii if char.isalpha() or char in _TYPOGRAPHIC)
    return wordlike >= MIN_LEGACY_WORDLIKE_SHARE * len(non_ascii)
