"""Hand-checkable cases for summarizer.escaping, the rules every output format uses."""

import pytest

from summarizer.escaping import csv_cell, escape_markdown, link_url, markdown_code


@pytest.mark.parametrize(("url", "expected"), [
    ("https://news.example/a?b=1&c=2#top", "https://news.example/a?b=1&c=2#top"),
    ('https://evil.example/a>"<x>', "https://evil.example/a%3E%22%3Cx%3E"),
    ("https://news.example/caf%C3%A9", "https://news.example/caf%C3%A9"),  # not encoded twice
    ("https://news.example/café story", "https://news.example/caf%C3%A9%20story"),
    ("  HTTP://news.example/x\n", "HTTP://news.example/x"),
    ("javascript:alert(1)", None),
    ("data:text/html,<b>x</b>", None),
    ("file:///etc/passwd", None),
    ("/relative/path", None),
    ("https:///no-host", None),
    ("", None),
    (None, None),
])
def test_link_url(url, expected):
    assert link_url(url) == expected


def test_escape_markdown_makes_one_inert_line():
    escaped = escape_markdown("a [link](x) <b>*bold*</b>\n# heading")
    assert escaped == "a \\[link\\](x) \\<b\\>\\*bold\\*\\</b\\> \\# heading"


def test_markdown_code_cannot_be_closed_from_inside():
    assert markdown_code("plain") == "`plain`"
    assert markdown_code("a`b") == "``a`b``"
    assert markdown_code("`edge`") == "`` `edge` ``"


def test_csv_cell_guards_each_line_that_starts_a_formula():
    assert csv_cell("=1+1") == "'=1+1"
    assert csv_cell("ok\n@SUM(A1)\n-2") == "ok\n'@SUM(A1)\n'-2"
    assert csv_cell("plain text, with = inside") == "plain text, with = inside"
