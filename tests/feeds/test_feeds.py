from pathlib import Path

import pytest

from summarizer.ingest.feeds import (
    FeedError,
    UnsafeFeedError,
    handles_source,
    is_teaser,
    iter_source_articles,
    load_feed_articles,
    load_feed_list,
    load_source_articles,
    looks_like_feed,
    open_url,
    parse_feed,
    read_feed_file,
)
from summarizer.ingest.http import FetchTimeoutError, HTTPStatusError, UnsupportedSchemeError
from summarizer.ingest.webpage import drop_leading_title, extract_article, html_to_text
from summarizer.store import Store
from tests.conftest import PROJECT_ROOT
from tests.feeds.conftest import FIXTURES

# Every failure mode must end quickly; a hang fails the test instead of stalling the suite.
pytestmark = pytest.mark.timeout(60)


def test_rss2_entries_become_articles(feed_server, fetcher):
    articles = list(load_feed_articles(feed_server.url("/rss.xml"), fetcher))
    assert [a.title for a in articles] == [
        "Harbor City opens its first offshore wind terminal",
        "City council approves night bus network",
        "Library extends weekend opening hours",
    ]
    wind, buses, library = articles
    # Canonical ids: tracking parameters, trailing slash and fragment removed.
    assert wind.id == wind.url == feed_server.url("/news/wind-terminal")
    assert library.id == feed_server.url("/news/library-hours")
    assert wind.published == "2025-03-04T09:30:00+00:00"
    assert {a.source for a in articles} == {"Harbor City Gazette"}
    # Full text comes from content:encoded, stripped of markup and scripts.
    assert "450 people" in wind.text and "<p>" not in wind.text and "tracking pixel" not in wind.text
    assert "3,000 passengers per night" in buses.text
    assert buses.text.count("\n") == 2  # one line per paragraph
    # Full-length entries are not completed from their pages.
    assert not [r for r in feed_server.requests if r.path.startswith("/news/")]
    assert all(a.error is None and a.metadata["warnings"] == [] for a in articles)


def test_atom_entries_become_articles(feed_server, fetcher):
    glacier, seeds = load_feed_articles(feed_server.url("/atom.xml"), fetcher)
    assert glacier.title == "Researchers map glacier retreat & meltwater lakes"
    assert glacier.url == feed_server.url("/science/glacier-map")
    assert glacier.published == "2025-03-05T08:00:00+00:00"
    assert "meltwater lakes more than doubled" in glacier.text
    assert seeds.published == "2025-03-04T15:00:00+00:00"  # no <published>: <updated> is used
    assert seeds.source == "Valley Science Notes"


def test_teaser_is_completed_from_the_linked_page(feed_server, fetcher):
    solar, battery = load_feed_articles(feed_server.url("/teaser.xml"), fetcher)
    assert "85-megawatt" in solar.text and "ground-nesting birds" in solar.text
    assert solar.text.startswith("A solar farm built on the runways")  # the page's headline is the title
    # Page boilerplate (navigation, footer) is not part of the article.
    assert "Subscribe to our newsletter" not in solar.text and "Cookie settings" not in solar.text
    assert solar.metadata["full_text_from"] == feed_server.url("/articles/solar-farm.html")
    # The linked page of the second entry is a 404 and its one-sentence teaser is too short to
    # summarize: an error record that says both (issue 37.3).
    assert battery.text.startswith("The company behind the proposed battery plant")
    assert "teaser too short to summarize (13 words)" in battery.error and "404" in battery.error


def test_malformed_feed_is_a_clear_error(feed_server, fetcher):
    with pytest.raises(FeedError, match="not a well-formed RSS/Atom feed"):
        list(load_feed_articles(feed_server.url("/malformed.xml"), fetcher))


def test_malformed_feed_with_entries_is_still_read():
    data = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>A & B</title>'
            b"<description>Text of the item.</description></item></channel></rss>")
    parsed = parse_feed(data, "inline")
    assert parsed.bozo and [entry.title for entry in parsed.entries] == ["A & B"]


def test_billion_laughs_is_refused_before_parsing(feed_server, fetcher):
    with pytest.raises(UnsafeFeedError, match="declares XML entities"):
        list(load_feed_articles(feed_server.url("/billion-laughs.xml"), fetcher))


def test_billion_laughs_in_a_local_file_is_refused(fetcher):
    with pytest.raises(UnsafeFeedError):
        list(load_feed_articles(str(FIXTURES / "billion_laughs.xml"), fetcher))


def test_entity_declaration_behind_malformed_prolog_is_refused():
    data = b'<?xml version="1.0"?>\n<<<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><rss>&e;</rss>'
    with pytest.raises(UnsafeFeedError):
        parse_feed(data, "inline")


def test_rss091_doctype_without_entities_is_accepted():
    data = (b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
            b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel>'
            b"<title>Old</title><item><title>Item</title><link>https://example.org/a</link>"
            b"<description>Body.</description></item></channel></rss>")
    assert [entry.title for entry in parse_feed(data, "inline").entries] == ["Item"]


def test_http_500_html_page_is_a_recorded_error(feed_server, fetcher, tmp_path):
    with Store(tmp_path / "store.db") as store:
        with pytest.raises(HTTPStatusError, match="HTTP 500"):
            list(load_feed_articles(feed_server.url("/error500.xml"), fetcher, store))
        state = store.feed_state(feed_server.url("/error500.xml"))
        assert state is not None and "HTTP 500" in state.last_error


def test_slow_feed_times_out(feed_server, fetcher):
    with pytest.raises(FetchTimeoutError):
        list(load_feed_articles(feed_server.url("/slow.xml"), fetcher))


def test_local_file_links_are_never_followed(feed_server, fetcher):
    teaser_only, no_teaser = load_feed_articles(feed_server.url("/passwd.xml"), fetcher)
    assert teaser_only.error is None and teaser_only.url is None
    assert teaser_only.text.startswith("Officials confirmed the bridge")
    assert teaser_only.metadata["teaser_only"] is True
    assert any("not http(s)" in warning for warning in teaser_only.metadata["warnings"])
    assert no_teaser.error and "no http(s) link" in no_teaser.error
    assert teaser_only.id.endswith("suspicious-1")  # the guid, as there is no web link
    passwd = Path("/etc/passwd")
    if passwd.is_file():
        first_line = passwd.read_text(errors="replace").splitlines()[0]
        for article in (teaser_only, no_teaser):
            assert first_line not in repr(article.to_dict())
    assert "root:x:" not in repr([teaser_only.to_dict(), no_teaser.to_dict()])


def test_feed_url_with_another_scheme_is_refused(fetcher):
    with pytest.raises(UnsupportedSchemeError):
        list(load_feed_articles("file:///etc/passwd", fetcher))
    with pytest.raises(UnsupportedSchemeError):
        list(load_source_articles("ftp://example.org/feed.xml", fetcher))


def test_single_web_page_is_an_input(feed_server, fetcher):
    (article,) = load_source_articles(feed_server.url("/articles/solar-farm.html"), fetcher)
    assert article.title == "Solar farm on old airfield starts delivering power"
    assert "85-megawatt" in article.text and article.error is None
    assert article.url == feed_server.url("/articles/solar-farm.html")


def test_source_dispatch_reads_feeds_too(feed_server, fetcher):
    articles = list(load_source_articles(feed_server.url("/atom.xml"), fetcher))
    assert len(articles) == 2


def test_local_feed_file(tmp_path, fetcher):
    path = tmp_path / "feed.rss"
    path.write_text((FIXTURES / "rss2.xml").read_text().replace("{{BASE}}", "https://gazette.example"))
    articles = list(load_source_articles(str(path), fetcher))
    assert [a.id for a in articles][0] == "https://gazette.example/news/wind-terminal"
    assert all(a.metadata["feed_url"] == str(path.resolve()) for a in articles)


def test_missing_local_feed_file_is_an_os_error(tmp_path, fetcher):
    with pytest.raises(OSError):
        list(load_feed_articles(str(tmp_path / "missing.xml"), fetcher))


def test_handles_source():
    assert handles_source("https://example.org/feed")
    assert handles_source("http://example.org/page.html")
    assert handles_source("news/feed.xml") and handles_source("a.rss") and handles_source("b.ATOM")
    assert not handles_source("article.txt") and not handles_source("data.jsonl")
    assert not handles_source("file:///etc/passwd") and not handles_source("hf:cnn_dailymail")


def test_looks_like_feed():
    assert looks_like_feed(b'<?xml version="1.0"?>\n<!-- c --><rss version="2.0">')
    assert looks_like_feed(b'<feed xmlns="http://www.w3.org/2005/Atom">')
    assert looks_like_feed(b"<rdf:RDF xmlns:rdf='x'>")
    assert not looks_like_feed(b"<!DOCTYPE html><html><body>", "application/xml")
    assert not looks_like_feed(b"plain words", "text/plain")
    assert looks_like_feed(b"", "application/atom+xml")


def test_is_teaser():
    assert is_teaser("Short.")
    assert is_teaser("x" * 500 + " Read more")
    assert is_teaser("y" * 500 + "…")
    assert not is_teaser("z" * 500 + ".")


def test_html_to_text():
    assert html_to_text("<p>One &amp; two.</p><p>Three <b>four</b>.</p>") == "One & two.\nThree four."
    assert html_to_text("<div>Keep<script>drop()</script><style>p{}</style> this</div>") == "Keep this"
    assert html_to_text("Plain &lt;text&gt;") == "Plain <text>"


def test_drop_leading_title():
    assert drop_leading_title("Big News\nFirst line.", "big news") == "First line."
    assert drop_leading_title("First line.\nBig News", "Big News") == "First line.\nBig News"


def test_page_without_text_is_an_error_record():
    article = extract_article("<html><body><script>x()</script></body></html>", "https://example.org/empty")
    assert article.error and "no article text" in article.error


def test_example_feed_list_is_valid():
    sources = load_feed_list(PROJECT_ROOT / "configs" / "feeds.yaml")
    assert len(sources) >= 3 and all(source.url.startswith("https://") for source in sources)


def test_feed_list_rejects_other_schemes(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - file:///etc/passwd\n")
    with pytest.raises(UnsupportedSchemeError):
        load_feed_list(path)


def test_several_sources_keep_going_past_a_broken_one(feed_server, fetcher, tmp_path):
    sources = [feed_server.url("/error500.xml"), feed_server.url("/billion-laughs.xml"), feed_server.url("/atom.xml")]
    with Store(tmp_path / "s.db") as store:
        articles = list(iter_source_articles(sources, fetcher, store))
        assert "HTTP 500" in store.feed_state(sources[0]).last_error
        assert "entities" in store.feed_state(sources[1]).last_error
    broken, unsafe, *atom = articles
    assert broken.id == sources[0] and "HTTP 500" in broken.error and broken.url is None
    assert unsafe.error and "declares XML entities" in unsafe.error
    assert [a.error for a in atom] == [None, None]


def test_dispatcher_adapters(feed_server, tmp_path):
    (page,) = open_url(feed_server.url("/articles/solar-farm.html"))
    assert "85-megawatt" in page.text
    (error,) = read_feed_file(FIXTURES / "malformed.xml", "malformed.xml")
    assert error.id == "malformed.xml" and "not a well-formed" in error.error
    local = tmp_path / "feed.atom"
    local.write_text((FIXTURES / "atom.xml").read_text().replace("{{BASE}}", "https://science.example"))
    assert len(list(read_feed_file(local, "feed.atom"))) == 2


def test_oversized_looping_and_slow_sources_become_error_records(feed_server, fetcher):
    sources = [feed_server.url(path) for path in ("/big", "/loop-a", "/slow.xml", "/redirect-to-file")]
    big, loop, slow, to_file = iter_source_articles(sources, fetcher)
    assert "limit" in big.error
    assert "redirect loop" in loop.error
    assert "timed out" in slow.error
    assert "only http:// and https://" in to_file.error
