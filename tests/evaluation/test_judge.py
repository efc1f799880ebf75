"""The LLM judge metric: scores parsed from answers, parse failures counted (never 0), answers cached."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from summarizer.cli.main import main
from summarizer.evaluation.harness import EvalConfig, Evaluator, PredictionItem, ReferenceItem
from summarizer.evaluation.judge import DIMENSIONS, load_prompts, parse_score, render_prompt
from tests.conftest import shared_data_file


@pytest.mark.parametrize("reply, expected", [
    ("4", 4.0), ("Score: 5/5", 5.0), (" 2\n", 2.0), ("4.5", 4.5), ("3.", 3.0), ("4 out of 5", 4.0),
    ("Coherence score (1-5): 4", 4.0), ("4\nThe summary is clear.", 4.0),
    # A model reciting the prompt's numbered steps has not answered: not a 1.
    ("1. Read the news article carefully and", None), ("I would say 3.", None),
    ("7", None), ("0", None), ("", None), ("excellent", None),
])
def test_parse_score(reply, expected):
    assert parse_score(reply) == expected


def test_prompts_are_versioned_files_with_both_placeholders():
    prompts = load_prompts("v1")
    assert set(prompts) == set(DIMENSIONS)
    assert all("{summary}" in text for text in prompts.values())
    assert "{article}" in prompts["consistency"]
    rendered = render_prompt(prompts["consistency"], "An {odd} article.", "A summary.")
    assert "An {odd} article." in rendered and "{summary}" not in rendered


class FakeJudgeServer:
    """An OpenAI-compatible endpoint on 127.0.0.1 answering from a queue; it records every request and
    stops after `max_requests` (a bounded loop)."""

    def __init__(self, replies, max_requests=50):
        self.replies = list(replies)
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, body))
                reply = outer.replies.pop(0) if outer.replies else "3"
                data = json.dumps({"choices": [{"message": {"role": "assistant", "content": reply}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.server.timeout = 0.2
        self.stop = threading.Event()
        self.max_requests = max_requests
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop.is_set() and len(self.requests) < self.max_requests:
            self.server.handle_request()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}/v1"

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        self.server.server_close()


@pytest.fixture
def fake_server():
    server = FakeJudgeServer(["4", "5", "no idea", "3",  # article a: fluency answer unparseable
                              "2", "2", "2", "2"])
    yield server
    server.close()


def judge_config(url, cache_dir):
    return EvalConfig(bootstrap_resamples=10, metrics=("rouge", "judge"),
                      metric_options={"judge": {"url": url, "model": "fake-judge", "cache_dir": str(cache_dir)}})


def evaluate(config):
    references = {key: ReferenceItem(key, [["The cat sat on the mat."]], f"Article {key}: the cat sat on the mat.")
                  for key in ("a", "b")}
    predictions = {key: PredictionItem(key, [f"The cat sat ({key})."]) for key in ("a", "b")}
    return Evaluator(config).evaluate(predictions, references)


def test_judge_scores_counts_parse_failures_and_serves_a_second_run_from_cache(fake_server, tmp_path):
    result = evaluate(judge_config(fake_server.url, tmp_path / "cache"))
    rows = {row["id"]: row for row in result.per_article}
    assert rows["a"]["judge_coherence"] == 4.0 and rows["a"]["judge_consistency"] == 5.0
    assert "judge_fluency" not in rows["a"], "a parse failure is a missing value, not 0"
    assert rows["a"]["judge_parse_failures"] == 1.0
    assert result.aggregates["judge_fluency"]["n"] == 1 and result.aggregates["judge_fluency"]["mean"] == 2.0
    answers = result.config["metrics"]["judge"]["scorer"]["answers"]
    assert answers == {"requests": 8, "cache_hits": 0, "parse_failures": 1, "scored": 7}
    path, body = fake_server.requests[0]
    assert path == "/v1/chat/completions" and body["model"] == "fake-judge" and body["temperature"] == 0.0
    assert "Coherence" in body["messages"][0]["content"]

    again = evaluate(judge_config(fake_server.url, tmp_path / "cache"))
    assert again.config["metrics"]["judge"]["scorer"]["answers"]["cache_hits"] == 8
    assert again.config["metrics"]["judge"]["scorer"]["answers"]["requests"] == 0
    assert len(fake_server.requests) == 8  # nothing new was asked
    assert again.per_article == result.per_article


def test_judge_server_down_is_a_clear_error(tmp_path, capsys):
    references = tmp_path / "r.jsonl"
    references.write_text(json.dumps({"id": "a", "article": "A cat.", "reference_bullets": ["A cat."]}) + "\n")
    predictions = tmp_path / "p.jsonl"
    predictions.write_text(json.dumps({"id": "a", "bullets": ["A cat."]}) + "\n")
    # Port 9 on loopback (discard): nothing listens there in the test environment.
    code = main(["eval", "--predictions", str(predictions), "--references", str(references), "--metrics", "judge",
                 "--judge-url", "http://127.0.0.1:9/v1", "--resamples", "10"])
    assert code == 2
    assert "judge at http://127.0.0.1:9/v1 could not be reached" in capsys.readouterr().err


@pytest.mark.slow
def test_local_smollm2_judge_end_to_end_with_cache(tmp_path, monkeypatch, capsys):
    """The packaged SmolLM2 served by xllamacpp on 127.0.0.1 judges 10 dev summaries (5 documents x 2
    systems) inside meta-eval; the second run is served from the cache. Only fluency is asked, the
    dimension whose prompt holds no article, to keep this test short on a CPU."""
    pytest.importorskip("xllamacpp")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    out = tmp_path / "meta"
    arguments = ["meta-eval", "--dataset", str(shared_data_file("summeval_cnndm100.jsonl")), "--out", str(out),
                 "--metrics", "rouge", "judge", "--judge-dimensions", "fluency", "--limit-docs", "5",
                 "--systems", "M0", "M23", "--resamples", "50", "--permutations", "20"]
    assert main(arguments) == 0
    first = json.loads((out / "meta_eval.json").read_text())
    answers = first["config"]["scoring"]["metrics"]["judge"]["scorer"]["answers"]
    assert answers["requests"] == 10 and answers["cache_hits"] == 0
    assert answers["scored"] + answers["parse_failures"] == 10
    assert "judge_fluency" in first["correlations"]
    assert main(arguments) == 0
    second = json.loads((out / "meta_eval.json").read_text())
    answers = second["config"]["scoring"]["metrics"]["judge"]["scorer"]["answers"]
    assert answers["cache_hits"] == 10 and answers["requests"] == 0
    assert "| judge_fluency |" in capsys.readouterr().out
