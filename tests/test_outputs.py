"""Issue 37 item 8 for `summarizer run --format md|csv|jsonl`: hostile titles, URLs and bullets
cannot inject markup or spreadsheet formulas; JSONL keeps the text as it is."""

import csv
import io
import json
import re

from summarizer.articles import Summary
from summarizer.outputs import SummaryWriter

BREAKOUT_URL = 'https://evil.example/a>"<script>alert(1)</script>'
ENCODED_BREAKOUT_URL = "https://evil.example/a%3E%22%3Cscript%3Ealert(1)%3C/script%3E"


def raw_tags(markdown: str) -> list[str]:
    """Unescaped ``<`` that would open an HTML tag in Markdown (autolinks to http(s) excepted)."""
    return re.findall(r"(?<!\\)<(?!https?://)[A-Za-z/!?]\S*", markdown)


def script_links(markdown: str) -> list[str]:
    """Links or autolinks (unescaped) to a javascript: or data: URL."""
    return re.findall(r"(?i)(?:(?<!\\)\]\(<?|(?<!\\)<)\s*(?:javascript|data):", markdown)


def hostile_summary(**changes) -> Summary:
    fields = {
        "id": "evil`id", "title": "<img src=x onerror=alert(1)>\n# Fake heading", "url": BREAKOUT_URL,
        "bullets": ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1 <script>alert(2)</script>",
                    "-2 [x](javascript:alert(3))", "@SUM(A1:A2)", "A plain bullet."],
        "model": "fake", "error": None, "path": "direct",
    }
    return Summary(**{**fields, **changes})


def render(fmt: str, *summaries: Summary) -> str:
    stream = io.StringIO()
    writer = SummaryWriter(stream, fmt)
    for summary in summaries:
        writer.write(summary)
    return stream.getvalue()


def test_markdown_output_escapes_text_and_encodes_urls():
    text = render("md", hostile_summary(), hostile_summary(id="b", url="javascript:alert(4)", error="<b>bad</b>"),
                  hostile_summary(id="c", url="data:text/html,<script>alert(5)</script>"))
    assert raw_tags(text) == []  # every < is escaped, or opens an http(s) autolink
    assert f"<{ENCODED_BREAKOUT_URL}>" in text
    assert script_links(text) == []
    assert "\n# Fake heading" not in text  # a title cannot start a heading of its own
    assert "- A plain bullet." in text


def test_csv_output_guards_formula_cells():
    rows = list(csv.DictReader(io.StringIO(render("csv", hostile_summary()))))
    bullets = rows[0]["bullets"].split("\n")
    assert bullets[:4] == ["'=HYPERLINK(\"http://evil.example\",\"click\")", "'+1 <script>alert(2)</script>",
                           "'-2 [x](javascript:alert(3))", "'@SUM(A1:A2)"]
    assert bullets[4] == "A plain bullet."
    formula_row = list(csv.DictReader(io.StringIO(render("csv", hostile_summary(title="=1+1", error="@x")))))[0]
    assert formula_row["title"] == "'=1+1" and formula_row["error"] == "'@x"


def test_jsonl_output_keeps_the_text_as_given():
    (record,) = [json.loads(line) for line in render("jsonl", hostile_summary()).splitlines()]
    assert record["url"] == BREAKOUT_URL and record["bullets"][0].startswith("=HYPERLINK")
