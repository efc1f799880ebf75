"""POST /api/summarize: the pipeline of `summarizer run` behind a JSON API; bad input is a clear 4xx."""

from __future__ import annotations

import json

import pytest

from summarizer.desk.security import MAX_BODY_BYTES

ARTICLE = ("The city council voted on Monday to build a new tram line to the airport. "
           "Construction starts in June and should take three years. "
           "The line will have nine stops and cost 640 million euros. "
           "Critics say the money would be better spent on buses.")


def test_summarize_text(desk):
    with desk.client() as client:
        response = client.post("/api/summarize", json={"text": ARTICLE, "title": "Tram line", "url": None})
    body = response.json()
    assert response.status_code == 200, body
    assert body["bullets"] == [
        "The city council voted on Monday to build a new tram line to the airport.",
        "Construction starts in June and should take three years.",
        "The line will have nine stops and cost 640 million euros.",
    ]
    assert body["model"] == "lead-3" and body["title"] == "Tram line"
    assert body["settings"]["n_bullets"] == 3 and body["backend"] == "extractive"


def test_summarize_url_from_the_fixture_server(desk, fixture_server):
    url = fixture_server + "/articles/solar-farm.html"
    with desk.client() as client:
        response = client.post("/api/summarize", json={"url": url})
    body = response.json()
    assert response.status_code == 200, body
    assert len(body["bullets"]) == 3 and body["url"] == url
    assert any("solar" in bullet.lower() for bullet in body["bullets"])


@pytest.mark.parametrize(("payload", "status", "message"), [
    (b'{"text": "unterminated', 400, "not valid JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (b"\xff\xfe", 400, "UTF-8"),
    (json.dumps({"title": "nothing else"}).encode(), 400, "send"),
    (json.dumps({"text": "   "}).encode(), 400, "text is empty"),
    (json.dumps({"text": 42}).encode(), 400, "text must be a string"),
    (json.dumps({"text": ARTICLE, "colour": "red"}).encode(), 400, "unknown field(s) colour"),
    (json.dumps({"url": "javascript:alert(1)"}).encode(), 400, "http(s) URL"),
    (json.dumps({"url": "file:///etc/passwd"}).encode(), 400, "http(s) URL"),
    (json.dumps({"text": "x. " * 10_000}).encode(), 413, "article too long: 30,000 characters"),
])
def test_bad_input_is_a_clear_json_error(desk, payload, status, message):
    with desk.client() as client:
        response = client.post("/api/summarize", content=payload, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert message in response.json()["error"]
    assert "Traceback" not in response.text


def test_oversized_body_is_413_before_it_is_read_whole(desk):
    body = json.dumps({"text": "word " * (MAX_BODY_BYTES // 4)}).encode()
    with desk.client() as client:
        declared = client.post("/api/summarize", content=body, headers={"Content-Type": "application/json"})

        def chunks():  # no Content-Length: the limit applies while streaming
            for start in range(0, len(body), 65536):
                yield body[start:start + 65536]

        streamed = client.post("/api/summarize", content=chunks(), headers={"Content-Type": "application/json"})
    assert declared.status_code == 413 and "limit" in declared.json()["error"]
    assert streamed.status_code == 413 and "limit" in streamed.json()["error"]


def test_form_posts_and_wrong_content_types_are_refused(desk):
    with desk.client() as client:
        form = client.post("/api/summarize", data={"text": ARTICLE})
        plain = client.post("/api/summarize", content=json.dumps({"text": ARTICLE}),
                            headers={"Content-Type": "text/plain"})
        get = client.get("/api/summarize")
    assert form.status_code == 415 and plain.status_code == 415
    assert "application/json" in plain.json()["error"]
    assert get.status_code == 405


def test_unreachable_url_is_502_naming_it(desk, fixture_server):
    url = fixture_server + "/articles/no-such-page.html"
    with desk.client() as client:
        response = client.post("/api/summarize", json={"url": url})
    assert response.status_code == 502 and url in response.json()["error"]
