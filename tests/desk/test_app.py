"""The desk's pages, JSON twins and feeds, against the real server over a store filled from fixture feeds."""

from __future__ import annotations

import re

import feedparser
import pytest

from summarizer.cli.main import main as cli_main

FIXTURE_TITLES = {
    "Harbor City opens its first offshore wind terminal", "City council approves night bus network",
    "Library extends weekend opening hours", "Researchers map glacier retreat & meltwater lakes",
    "New seed bank stores 40,000 samples",
}


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_desk_lists_every_summarized_article_newest_first(desk):
    with desk.client() as client:
        page = client.get("/")
        api = client.get("/api/articles").json()
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for title in FIXTURE_TITLES:
        assert title.replace("&", "&amp;") in page.text
    assert api["total"] == len(FIXTURE_TITLES) == len(api["articles"])
    assert {article["title"] for article in api["articles"]} == FIXTURE_TITLES
    published = [article["published"] for article in api["articles"]]
    assert published == sorted(published, reverse=True)
    assert all(len(article["bullets"]) == 3 and article["model"] == "lead-3" for article in api["articles"])


def test_filters_search_and_paging(desk):
    with desk.client() as client:
        found = client.get("/api/articles", params={"q": "meltwater"}).json()
        by_bullet = client.get("/api/articles", params={"q": "turbine blades"}).json()
        nothing = client.get("/api/articles", params={"q": "zeppelin"}).json()
        hostile_query = client.get("/api/articles", params={"q": 'NEAR("a" OR) *'})
        gazette = client.get("/api/articles", params={"feed": "1"}).json()
        window = client.get("/api/articles", params={"since": "2025-03-04", "until": "2025-03-04"}).json()
        first = client.get("/api/articles", params={"per_page": "2"}).json()
        third = client.get("/api/articles", params={"per_page": "2", "page": "3"}).json()
        by_day = client.get("/", params={"group": "day"})
    assert [article["title"] for article in found["articles"]] == ["Researchers map glacier retreat & meltwater lakes"]
    assert [article["title"] for article in by_bullet["articles"]] == [
        "Harbor City opens its first offshore wind terminal"]
    assert nothing["total"] == 0
    assert hostile_query.status_code == 200  # FTS syntax in the query is searched as words, not parsed
    assert {article["feed_name"] for article in gazette["articles"]} == {"Harbor City Gazette"}
    assert {article["title"] for article in window["articles"]} == {
        "Harbor City opens its first offshore wind terminal", "New seed bank stores 40,000 samples"}
    assert (first["pages"], len(first["articles"]), len(third["articles"])) == (3, 2, 1)
    assert ">2025-03-05</h2>" in by_day.text and ">2025-03-02</h2>" in by_day.text


def test_pager_links_keep_the_filters(desk):
    with desk.client() as client:
        first = client.get("/", params={"per_page": "2", "q": "the"}).text
        second = client.get("/", params={"per_page": "2", "q": "the", "page": "2"}).text
    assert 'href="/?q=the&amp;per_page=2&amp;page=2"' in first and 'rel="prev"' not in first
    assert 'href="/?q=the&amp;per_page=2&amp;page=1"' in second and 'href="/?q=the&amp;per_page=2&amp;page=3"' in second


@pytest.mark.parametrize(("params", "named"), [
    ({"since": "last tuesday"}, "since"), ({"until": "soon"}, "until"), ({"feed": "x"}, "feed"),
    ({"page": "0"}, "page"), ({"group": "author"}, "group"), ({"per_page": "100000"}, "per_page"),
])
def test_bad_filters_are_400_naming_the_parameter(desk, params, named):
    with desk.client() as client:
        api = client.get("/api/articles", params=params)
        page = client.get("/", params=params)
    assert api.status_code == 400 and named in api.json()["error"]
    assert page.status_code == 400 and named in page.text and "Traceback" not in page.text


def test_article_page_and_its_json_twin(desk):
    with desk.client() as client:
        article_id = client.get("/api/articles", params={"q": "terminal"}).json()["articles"][0]["id"]
        page = client.get(f"/articles/{article_id}")
        twin = client.get(f"/api/articles/{article_id}").json()
        missing = client.get("/api/articles/" + "0" * 64)
        malformed = client.get("/articles/..%2F..%2Fetc%2Fpasswd")
    assert page.status_code == 200
    assert twin["model"] == "lead-3" and twin["settings"] == {"bullet_max_chars": 300, "n_bullets": 3}
    assert twin["run"]["status"] == "finished" and twin["run"]["id"] == twin["run_id"]
    evidence = twin["evidence"]
    # lead-3 copies the first three sentences: each bullet is supported by its own sentence first.
    assert [bullet["support"][0] for bullet in evidence["bullets"]] == [0, 1, 2]
    assert 'data-support="0' in page.text and 'id="sentence-0"' in page.text
    assert f"#{twin['run_id']}" in page.text
    assert missing.status_code == 404 and "no article" in missing.json()["error"]
    assert malformed.status_code == 404


def test_unsupported_numbers_and_names_are_marked(desk):
    from summarizer.desk.evidence import align_bullets

    text = "The port authority said the terminal cost 310 million dollars. Mayor Ines Calder opened it."
    evidence = align_bullets(["The terminal cost 420 million dollars, said Mayor John Smith."], text)
    assert evidence.bullets[0].unsupported == ["420 million", "Mayor John Smith"]
    flagged = [piece for piece, is_flagged in evidence.bullets[0].segments if is_flagged]
    assert flagged == ["420 million", "Mayor John Smith"]
    assert evidence.bullets[0].support == [0]


@pytest.mark.parametrize("path", ["/feed.atom", "/feed.rss"])
def test_feeds_parse_without_bozo_one_entry_per_summarized_article(desk, path):
    with desk.client() as client:
        response = client.get(path)
    parsed = feedparser.parse(response.content)
    assert response.status_code == 200 and not parsed.bozo, parsed.get("bozo_exception")
    assert {entry.title for entry in parsed.entries} == FIXTURE_TITLES
    assert len(parsed.entries) == len(FIXTURE_TITLES)
    terminal = next(entry for entry in parsed.entries if "wind terminal" in entry.title)
    assert terminal.link == desk.feeds["/rss.xml"].removesuffix("/rss.xml") + "/news/wind-terminal"
    content = terminal.content[0].value if "content" in terminal else terminal.description
    assert "<li>The port authority said the terminal cost 310 million dollars" in content


def test_per_feed_atom_and_unknown_format(desk):
    with desk.client() as client:
        science = feedparser.parse(client.get("/feeds/2/feed.atom").content)
        unknown = client.get("/feed.json")
        no_feed = client.get("/feeds/999/feed.atom")
    assert not science.bozo
    assert {entry.title for entry in science.entries} == {
        "Researchers map glacier retreat & meltwater lakes", "New seed bank stores 40,000 samples"}
    assert unknown.status_code == 404 and no_feed.status_code == 404


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_digest_command_writes_the_same_entries(desk, tmp_path, fmt, capsys):
    out = tmp_path / f"digest.{fmt}"
    assert cli_main(["digest", "--store", str(desk.store_path), "--since", "3650d", "--format", fmt,
                     "--out", str(out), "--title", "Test desk"]) == 0
    with desk.client() as client:
        served = feedparser.parse(client.get(f"/feed.{fmt}").content)
    written = feedparser.parse(out.read_bytes())
    assert not written.bozo

    def entries(parsed):
        return [(entry.id, entry.title, entry.get("link"), (entry.content[0].value if "content" in entry
                 else entry.description)) for entry in parsed.entries]

    assert entries(written) == entries(served)
    assert written.feed.title == served.feed.title


def test_feeds_page_add_remove_with_csrf(desk):
    with desk.client() as client:
        page = client.get("/feeds")
        assert "Harbor City Gazette" in page.text and "Valley Science Notes" in page.text
        token = csrf_of(page.text)
        refused = client.post("/feeds", data={"url": "https://news.example/feed.xml"})
        added = client.post("/feeds", data={"url": "https://news.example/feed.xml", "csrf_token": token})
        not_web = client.post("/feeds", data={"url": "javascript:alert(1)", "csrf_token": token},
                              follow_redirects=True)
        feeds = client.get("/api/feeds").json()["feeds"]
        new_id = next(feed["id"] for feed in feeds if feed["url"] == "https://news.example/feed.xml")
        assert next(feed for feed in feeds if feed["id"] == new_id)["status"] == "never polled"
        removed = client.post(f"/feeds/{new_id}/remove", data={"csrf_token": token})
        after = client.get("/api/feeds").json()["feeds"]
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert added.status_code == 303
    assert "not an http(s) URL" in not_web.text
    assert removed.status_code == 303
    assert all(feed["id"] != new_id for feed in after) and len(after) == 2


def test_poll_now_from_the_feeds_page(desk):
    with desk.client() as client:
        token = csrf_of(client.get("/feeds").text)
        response = client.post("/feeds/1/poll", data={"csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200 and "polling" in response.text


def test_static_files_only_from_the_static_folder(desk):
    with desk.client() as client:
        css = client.get("/static/desk.css")
        traversals = [client.get(path) for path in (
            "/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2Fapp.py", "/static/%2e%2e/%2e%2e/store.py",
            "/static/..%5Capp.py", "/templates/base.html")]
    assert css.status_code == 200
    for response in traversals:
        assert response.status_code == 404, response.url
        assert "import" not in response.text


def test_security_headers_and_host_check(desk):
    with desk.client() as client:
        response = client.get("/")
        rebinding = client.get("/", headers={"Host": "attacker.example"})
        lookalike = client.get("/", headers={"Host": "127.0.0.1.attacker.example:80"})
        by_name = client.get("/", headers={"Host": "localhost:8000"})
        ipv6 = client.get("/", headers={"Host": "[::1]:8000"})
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert rebinding.status_code == 400 and lookalike.status_code == 400
    assert by_name.status_code == 200 and ipv6.status_code == 200


def test_digest_format_follows_the_out_suffix(desk, tmp_path):
    out = tmp_path / "summaries.rss"
    assert cli_main(["digest", "--store", str(desk.store_path), "--since", "3650d", "--out", str(out)]) == 0
    parsed = feedparser.parse(out.read_bytes())
    assert parsed.version == "rss20" and len(parsed.entries) == len(FIXTURE_TITLES)
