"""Who may bind where, and a desk with a token: every API call, page and form needs it."""

from __future__ import annotations

import re

import pytest

from summarizer.cli.main import main as cli_main
from summarizer.desk.app import DeskSettings
from summarizer.desk.security import bind_refusal, is_loopback, safe_link, safe_next
from tests.desk.conftest import running_desk

TOKEN = "s3cret-desk-token"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "desk.example.org"])
def test_non_loopback_bind_without_token_is_refused_at_start_up(host, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SUMMARIZER_DESK_TOKEN", raising=False)
    assert cli_main(["serve", "--store", str(tmp_path / "news.db"), "--host", host, "--model", "lead-3"]) == 2
    error = capsys.readouterr().err
    assert f"refusing to listen on {host} without a token" in error and "--token" in error
    assert not (tmp_path / "news.db").exists()  # refused before anything was opened


@pytest.mark.parametrize(("host", "token", "refused"), [
    ("127.0.0.1", None, False), ("::1", None, False), ("localhost", None, False), ("127.0.0.2", None, False),
    ("0.0.0.0", None, True), ("0.0.0.0", "t", False), ("10.0.0.5", "", True),
])
def test_bind_refusal(host, token, refused):
    assert (bind_refusal(host, token) is not None) == refused


def test_is_loopback():
    assert is_loopback("[::1]") and is_loopback("LOCALHOST") and not is_loopback("127.0.0.1.example.org")


@pytest.mark.parametrize(("url", "expected"), [
    ("https://news.example/a?b=1", "https://news.example/a?b=1"),
    ("http://news.example", "http://news.example"),
    ("javascript:alert(1)", None), ("JaVaScRiPt:alert(1)", None), (" javascript:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None), ("vbscript:msgbox", None),
    ("//evil.example/x", None), ("http:evil", None), ("https://x.example/\"onmouseover=alert(1)", None),
    ("", None), (None, None),
])
def test_safe_link(url, expected):
    assert safe_link(url) == expected


def test_safe_next_stays_on_the_desk():
    assert safe_next("/feeds?x=1") == "/feeds?x=1"
    assert safe_next("//evil.example") == "/" and safe_next("https://evil.example") == "/"
    assert safe_next("/\\evil.example") == "/"


@pytest.fixture(scope="module")
def token_desk(desk):
    settings = DeskSettings(store_path=desk.store_path, model=desk.settings.model, token=TOKEN, title="Locked desk")
    with running_desk(settings) as base:
        yield base


def client_for(base, **kwargs):
    import httpx

    return httpx.Client(base_url=base, trust_env=False, timeout=30.0, **kwargs)


def test_token_desk_api_needs_the_bearer_token(token_desk):
    with client_for(token_desk) as client:
        anonymous = client.get("/api/articles")
        wrong = client.get("/api/articles", headers={"Authorization": "Bearer nope"})
        query = client.get("/api/articles", params={"token": TOKEN})
        right = client.get("/api/articles", headers={"Authorization": f"Bearer {TOKEN}"})
        summarize = client.post("/api/summarize", json={"text": "One. Two. Three."})
    assert anonymous.status_code == 401 and "Bearer" in anonymous.json()["error"]
    assert wrong.status_code == 401 and query.status_code == 401
    assert right.status_code == 200 and right.json()["total"] == 5
    assert summarize.status_code == 401


def test_token_desk_pages_need_a_login_or_the_token_once(token_desk):
    with client_for(token_desk) as client:
        page = client.get("/feeds")
        assert page.status_code == 303 and page.headers["location"].startswith("/login?next=%2Ffeeds")
        feed = client.get("/feed.atom")
        assert feed.status_code == 401
        assert client.get("/feed.atom", params={"token": TOKEN}).status_code == 200
        once = client.get("/", params={"token": TOKEN, "q": "terminal"})
        assert once.status_code == 303 and once.headers["location"] == "/?q=terminal"  # token dropped from the URL
        assert client.get("/").status_code == 200  # the session cookie carries it from now on
        assert client.get("/api/articles").status_code == 200


def test_token_desk_login_form(token_desk):
    with client_for(token_desk) as client:
        form = client.get("/login", params={"next": "/feeds"})
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        no_csrf = client.post("/login", data={"token": TOKEN, "next": "/feeds"})
        wrong = client.post("/login", data={"token": "guess", "next": "/feeds", "csrf_token": csrf})
        right = client.post("/login", data={"token": TOKEN, "next": "/feeds", "csrf_token": csrf})
        assert (no_csrf.status_code, wrong.status_code) == (403, 403) and "wrong token" in wrong.text
        assert right.status_code == 303 and right.headers["location"] == "/feeds"
        assert client.get("/feeds").status_code == 200
        logout_csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/feeds").text).group(1)
        assert client.post("/logout", data={"csrf_token": logout_csrf}).status_code == 303
        assert client.get("/feeds").status_code == 303
