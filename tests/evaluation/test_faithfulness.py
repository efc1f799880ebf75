import pytest

from summarizer.articles import parse_seed_text
from summarizer.evaluation.faithfulness import (
    Fragment,
    extract_entities,
    extract_numbers,
    extractive_fragments,
    fragment_stats,
    unsupported_items,
)


def _values(text: str) -> list[float]:
    return [mention.value for mention in extract_numbers(text)]


def _entities(text: str) -> list[str]:
    return [entity.text for entity in extract_entities(text)]


# --- numbers --------------------------------------------------------------------------------------


def test_numbers_written_with_digits():
    assert _values("1,000 troops, 3.5 tonnes, 20% more and 1,250,000.75 euros in 2024.") == [
        1000, 3.5, 20, 1250000.75, 2024,
    ]


def test_numbers_with_scale_words_and_suffixes():
    assert _values("115 million dollars, $3bn, $115m and 2.5 billion") == [115e6, 3e9, 115e6, 2.5e9]


def test_number_words():
    assert _values("three or four brigades, twenty-five officers, a million people, one million more") == [
        3, 4, 25, 1e6, 1e6,
    ]


def test_one_as_a_pronoun_is_not_a_number():
    assert _values("One of the officials said no one was hurt.") == []


def test_the_mention_text_spans_the_scale_word():
    assert [mention.text for mention in extract_numbers("up to 115 million dollars")] == ["115 million"]


def test_unsupported_numbers_by_hand():
    article = "The army has 10 brigades and receives 115 million dollars a year, 1,000 per soldier."
    bullets = [
        "The army has ten brigades.",  # word vs digits
        "It receives $115m a year.",  # suffix vs scale word
        "Each soldier costs one thousand dollars.",
        "It has 12 brigades.",  # not in the article
    ]
    result = unsupported_items(bullets, article)
    assert result["unsupported_numbers"] == [[], [], [], ["12"]]
    assert result["numbers_checked"] == 4
    assert result["unsupported_numbers_total"] == 1
    assert result["unsupported_per_bullet"] == pytest.approx(1 / 4)
    assert result["share_bullets_with_unsupported"] == pytest.approx(1 / 4)


def test_an_unscaled_number_is_supported_by_its_scaled_form():
    assert unsupported_items(["North Korea may get 115 from Russia."], "up to 115 million dollars")[
        "unsupported_numbers"
    ] == [[]]


# --- entities -------------------------------------------------------------------------------------


def test_entities_are_capitalized_runs_and_acronyms():
    text = (
        "Officials in Kyiv met the ISW and Vladimir Putin. "
        "The Kremlin said the Institute for the Study of War lied."
    )
    assert _entities(text) == ["Kyiv", "ISW", "Vladimir Putin", "Kremlin", "Institute for the Study of War"]


def test_a_lone_capitalized_sentence_opener_is_not_an_entity():
    assert _entities("Police said the fire was out. Analysts agree.") == []


def test_punctuation_and_numbers_end_a_name():
    assert _entities("He cited TV Chosun, North Korea and Russia. On June 19, Russian troops left.") == [
        "TV Chosun", "North Korea", "Russia", "June", "Russian",
    ]


def test_possessives_are_stripped():
    assert _entities("He praised Russia's army.") == ["Russia"]


def test_unsupported_entities_by_hand():
    article = "Russian dictator Vladimir Putin visited north korea on June 19. North Korean engineers follow."
    bullets = [
        "Vladimir Putin visited North Korea in June.",  # case-insensitive support
        "Joe Biden met Putin in Beijing.",
        "Direct North Korean help is likely.",  # "Direct" is an ordinary word that opens the sentence
    ]
    result = unsupported_items(bullets, article)
    assert result["unsupported_entities"] == [[], ["Joe Biden", "Beijing"], []]
    assert result["entities_checked"] == 3 + 3 + 1
    assert result["unsupported_per_bullet"] == pytest.approx(2 / 3)
    assert result["share_bullets_with_unsupported"] == pytest.approx(1 / 3)


def test_no_bullets_means_nothing_unsupported():
    result = unsupported_items([], "Some article.")
    assert result["unsupported_per_bullet"] == result["share_bullets_with_unsupported"] == 0.0


def test_the_seed_human_bullets_are_supported_by_their_article(seed_file):
    article = parse_seed_text(seed_file.read_text(encoding="utf-8"), "seed")
    result = unsupported_items(article.reference_bullets, f"{article.title}\n{article.text}")
    assert result["entities_checked"] > 5
    assert result["unsupported_per_bullet"] == 0.0


def test_an_invented_figure_and_name_in_the_seed_are_flagged(seed_file):
    article = parse_seed_text(seed_file.read_text(encoding="utf-8"), "seed")
    bullets = ["North Korea will receive 300 million dollars from China, Kim Jong Un said."]
    result = unsupported_items(bullets, f"{article.title}\n{article.text}")
    assert result["unsupported_numbers"] == [["300 million"]]
    assert result["unsupported_entities"] == [["China", "Kim Jong Un"]]


# --- extractive fragments (Grusky et al. 2018) -----------------------------------------------------


def test_a_verbatim_summary_is_one_fragment():
    article = "The cat sat on the mat. It was warm and the dog slept."
    summary = "the cat sat on the mat"
    stats = fragment_stats(article, summary)
    assert stats["fragment_coverage"] == 1.0
    assert stats["fragment_density"] == 6.0  # one fragment of |S| = 6 words: 6^2 / 6
    assert stats["compression_ratio"] == pytest.approx(13 / 6)


def test_fragments_by_hand():
    # "a b" and "e f" are copied, "x" is novel: coverage 4/5, density (2^2 + 2^2)/5, compression 6/5.
    stats = fragment_stats("a b c d e f", "a b x e f")
    assert stats == {"fragment_coverage": 4 / 5, "fragment_density": 8 / 5, "compression_ratio": 6 / 5}


def test_the_longest_shared_run_is_chosen():
    article = "the cat sat on the mat".split()
    expected = [Fragment(summary_start=0, article_start=4, length=2)]
    assert extractive_fragments(article, ["the", "mat"]) == expected


def test_the_article_scan_resumes_after_a_run_as_in_the_reference_implementation():
    # newsroom's Fragments jumps past a run before looking for the next start, so in "a a a b" the
    # run "a a b" at position 1 is never tried: the summary "a a b" splits into "a a" + "b".
    fragments = extractive_fragments("a a a b".split(), "a a b".split())
    assert [fragment.length for fragment in fragments] == [2, 1]


def test_a_novel_or_empty_summary():
    assert fragment_stats("a b c", "x y")["fragment_coverage"] == 0.0
    assert fragment_stats("a b c", "x y")["compression_ratio"] == 1.5
    assert set(fragment_stats("a b c", "").values()) == {0.0}


def test_tokens_are_lowercased_words():
    stats = fragment_stats("North Korea's army, said ISW.", "north korea s ARMY")
    assert stats["fragment_coverage"] == 1.0
    assert stats["fragment_density"] == 4.0
