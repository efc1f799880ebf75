from summarizer.articles import Article
from summarizer.backends.base import chunk_text
from summarizer.pipeline import RunSettings, run, summarize_articles
from tests.fakes import fake_spec


def make_backend(registry, **options):
    return registry.create_backend(fake_spec(**options))


def article(i: int, text: str | None = None, **kw) -> Article:
    default = f"Article {i} first fact is here. Second fact follows now. Third one."
    return Article(id=f"a{i}", text=text or default, **kw)


def test_every_article_yields_one_summary_in_order(fake_backend_registered):
    backend = make_backend(fake_backend_registered, replies=["- Reply one is a full sentence."])
    articles = [article(i) for i in range(6)]
    # The canned reply is not in the article: grounding off, so it is kept as the model wrote it.
    summaries = list(summarize_articles(articles, backend, RunSettings(n_bullets=2, grounding=False)))
    assert [s.id for s in summaries] == [a.id for a in articles]
    assert summaries[0].bullets == ["Reply one is a full sentence."]
    assert summaries[1].bullets == ["Article 1 first fact is here.", "Second fact follows now."]
    assert backend.calls == [["a0", "a1", "a2", "a3"], ["a4", "a5"]]  # batch_size 4


def test_failing_article_isolated_and_batch_goes_on(fake_backend_registered):
    backend = make_backend(fake_backend_registered, fail_on=["a2"])
    articles = [article(i) for i in range(4)] + [Article(id="bad", text="", error="empty file")]
    collected = []
    stats = run(articles, backend, collected.append, RunSettings(n_bullets=2))
    assert [s.id for s in collected] == ["a0", "a1", "a2", "a3", "bad"]
    assert collected[2].error and "fake failure on a2" in collected[2].error
    assert collected[4].error == "empty file" and collected[4].bullets == []
    assert all(s.bullets for s in collected if s.id not in {"a2", "bad"})
    assert stats.articles == 5 and stats.failed == 2
    assert [e[0] for e in stats.errors] == ["a2", "bad"]


def test_failure_returned_in_place_fails_only_its_article_without_a_rerun(fake_backend_registered):
    backend = make_backend(fake_backend_registered, fail_on=["a1"], fail_in_place=True)
    collected = []
    stats = run([article(i) for i in range(3)], backend, collected.append, RunSettings(n_bullets=2))
    assert [s.id for s in collected] == ["a0", "a1", "a2"]
    assert collected[1].error == "RuntimeError: fake failure on a1" and collected[1].bullets == []
    assert collected[0].bullets and collected[2].bullets
    assert stats.failed == 1
    # The batch ran once: nothing was rerun one by one.
    assert backend.calls == [["a0", "a1", "a2"]]


def test_long_article_goes_through_map_reduce(fake_backend_registered):
    long_text = " ".join(f"Sentence number {i} carries one more fact." for i in range(40))
    backend = make_backend(fake_backend_registered, input_limit=80)
    summaries = list(summarize_articles([article(0), article(1, long_text)], backend, RunSettings(n_bullets=2)))
    assert summaries[0].path == "direct" and summaries[0].n_chunks == 1
    assert summaries[1].path == "chunked" and summaries[1].n_chunks > 1
    assert summaries[1].bullets
    # map calls (one per chunk) then a reduce call over the merged chunk bullets
    chunk_calls = [call for call in backend.calls if any("#chunk" in i for i in call)]
    assert chunk_calls and backend.calls[-1] == ["a1"]


def test_model_output_without_bullets_is_an_error(fake_backend_registered):
    backend = make_backend(fake_backend_registered, replies=["Sure:"])
    (summary,) = summarize_articles([article(0)], backend, RunSettings(n_bullets=3, fallback="none"))
    assert summary.bullets == [] and "no usable bullet" in summary.error
    assert summary.raw_output == "Sure:"


def test_chunk_text_keeps_every_word():
    text = " ".join(f"Word{i}" for i in range(300)) + ". Short tail sentence."
    chunks = chunk_text(text, 40, lambda t: len(t.split()))
    assert all(len(c.split()) <= 40 for c in chunks)
    assert " ".join(chunks).split() == text.split()


def test_no_usable_output_falls_back_to_lead_with_a_warning(fake_backend_registered):
    garbage = "<article>\n<sub>"
    backend = make_backend(fake_backend_registered, replies=[garbage])
    (summary,) = summarize_articles([article(0)], backend, RunSettings(n_bullets=2))
    assert summary.bullets == ["Article 0 first fact is here.", "Second fact follows now."]
    assert summary.path == "direct+fallback-lead" and "lead sentences" in summary.warning and not summary.error
    assert summary.raw_output == garbage


def test_extractive_or_fake_model_with_fewer_bullets_than_asked_says_so(fake_backend_registered):
    """Issue 37.15: a record with fewer bullets than asked carries a warning saying how many."""
    backend = make_backend(fake_backend_registered, replies=["- Article 0 first fact is here."])
    (summary,) = summarize_articles([article(0)], backend, RunSettings(n_bullets=4))
    assert summary.bullets == ["Article 0 first fact is here."]
    assert summary.warning == "the model wrote 1 of the 4 bullets asked"


ARTICLE_TEXT = ("The city council approved a budget of 40 million euros on Tuesday. "
                "Mayor Anna Berg said the money would repair three bridges. Work starts in May.")
INVENTED = "- The council approved a budget of 95 million euros.\n" \
           "- Mayor Anna Berg said the money would repair three bridges.\n" \
           "- President Obama praised the council for its courage.\n"


def test_generated_bullets_the_article_does_not_support_are_left_out_and_named(fake_backend_registered):
    backend = make_backend(fake_backend_registered, replies=[INVENTED])
    (summary,) = summarize_articles([Article(id="g", text=ARTICLE_TEXT)], backend, RunSettings(n_bullets=3))
    assert summary.bullets == ["Mayor Anna Berg said the money would repair three bridges."]
    assert "left out 2 generated bullet(s) the article does not support" in summary.warning
    assert "not in the article: 95" in summary.warning and "Obama" in summary.warning
    assert summary.warning.startswith("the model wrote 1 of the 3 bullets asked")


def test_grounding_off_keeps_what_the_model_wrote(fake_backend_registered):
    backend = make_backend(fake_backend_registered, replies=[INVENTED])
    settings = RunSettings(n_bullets=3, grounding=False)
    (summary,) = summarize_articles([Article(id="g", text=ARTICLE_TEXT)], backend, settings)
    assert len(summary.bullets) == 3 and not summary.warning
    assert settings.output_params()["grounding"] is False
    assert "grounding" not in RunSettings(n_bullets=3).output_params()  # stored keys stay as they were
