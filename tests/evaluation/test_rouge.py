"""ROUGE in three tiers: cases checkable on paper, golden numbers, equality with Google's rouge-score."""

from __future__ import annotations

import json
import random

import pytest
from rouge_score import rouge_scorer

from summarizer.evaluation.parity import load_parity_records, texts
from summarizer.evaluation.rouge import RougeScorer, Score, lcs_length, union_lcs_hits
from summarizer.evaluation.tokenize import (
    DefaultTokenizer,
    Rouge155Tokenizer,
    UnicodeTokenizer,
    nltk_porter_stem,
    perl_porter_stem,
)

ALL_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
# ROUGE-1.5.5 stemming without the WordNet exception table, to show what the table is worth.
PERL_NO_TABLE = Rouge155Tokenizer(exceptions={})


def prf(score: Score) -> tuple[float, float, float]:
    return (score.precision, score.recall, score.fmeasure)


# --- tier 1: by hand -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["rouge-score", "rouge155"])
def test_four_token_example(mode):
    # target: the cat sat down / prediction: the cat lay down
    # unigrams: the, cat, down match -> 3/4 both ways; bigrams: only "the cat" -> 1/3;
    # LCS "the cat down" = 3 -> 3/4.
    scorer = RougeScorer(ALL_TYPES, mode=mode, use_stemmer=False)
    scores = scorer.score("the cat sat down", "the cat lay down")
    assert prf(scores["rouge1"]) == (0.75, 0.75, 0.75)
    third = 1 / 3 if mode == "rouge-score" else 0.33333  # ROUGE-1.5.5 keeps 5 decimals
    assert (scores["rouge2"].precision, scores["rouge2"].recall) == (third, third)
    assert scores["rouge2"].fmeasure == pytest.approx(third, abs=1e-15)
    assert prf(scores["rougeL"]) == (0.75, 0.75, 0.75)
    assert prf(scores["rougeLsum"]) == (0.75, 0.75, 0.75)


@pytest.mark.parametrize("mode", ["rouge-score", "rouge155"])
def test_rougeL_is_one_lcs_and_rougeLsum_a_union_over_lines(mode):
    # Whole text: "police arrested two men" vs "two men police arrested" share an LCS of 2 tokens.
    # Per line, the one reference sentence has LCS "two men" with line 1 and "police arrested" with
    # line 2: their union covers all 4 tokens.
    tokenizer = PERL_NO_TABLE if mode == "rouge155" else None
    scorer = RougeScorer(("rougeL", "rougeLsum"), mode=mode, tokenizer=tokenizer)
    scores = scorer.score("police arrested two men", "two men\npolice arrested")
    assert prf(scores["rougeL"]) == (0.5, 0.5, 0.5)
    assert prf(scores["rougeLsum"]) == (1.0, 1.0, 1.0)


def test_union_lcs_example_from_the_rouge_paper():
    # Lin (2004), section 3.2: r = w1..w5, c1 = w1 w2 w6 w7 w8, c2 = w1 w3 w8 w9 w5.
    # LCS(r, c1) = w1 w2, LCS(r, c2) = w1 w3 w5, union = w1 w2 w3 w5 -> 4 hits of 5 (recall 0.8),
    # out of 10 candidate tokens (precision 0.4).
    reference = [["w1", "w2", "w3", "w4", "w5"]]
    candidates = [["w1", "w2", "w6", "w7", "w8"], ["w1", "w3", "w8", "w9", "w5"]]
    assert union_lcs_hits(reference, candidates) == 4
    scores = RougeScorer(("rougeLsum",), use_stemmer=False).score(
        "w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5"
    )
    assert prf(scores["rougeLsum"]) == pytest.approx((0.4, 0.8, 2 * 0.4 * 0.8 / 1.2))


def test_union_lcs_counts_each_token_once():
    # Both reference sentences match "x y" fully, but the candidate has one x and one y: 2 hits, not 4.
    assert union_lcs_hits([["x", "y"], ["x", "y"]], [["x", "y"]]) == 2
    scores = RougeScorer(("rougeLsum",), use_stemmer=False).score("x y\nx y", "x y")
    assert prf(scores["rougeLsum"]) == (1.0, 0.5, pytest.approx(2 / 3))


def test_lcs_length_matches_textbook_dynamic_programming():
    def reference_lcs(a, b):
        table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
        for i in range(1, len(a) + 1):
            for j in range(1, len(b) + 1):
                table[i][j] = (table[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1]
                               else max(table[i - 1][j], table[i][j - 1]))
        return table[-1][-1]

    rng = random.Random(0)
    for _ in range(300):
        a = [rng.choice("abcd") for _ in range(rng.randint(0, 90))]
        b = [rng.choice("abcd") for _ in range(rng.randint(0, 90))]
        assert lcs_length(a, b) == reference_lcs(a, b)


def test_empty_texts_score_zero():
    for mode in ("rouge-score", "rouge155"):
        scorer = RougeScorer(ALL_TYPES, mode=mode, tokenizer=PERL_NO_TABLE if mode == "rouge155" else None)
        for target, prediction in (("", "a b"), ("a b", ""), ("", ""), ("!!", "?")):
            assert all(prf(score) == (0.0, 0.0, 0.0) for score in scorer.score(target, prediction).values())


def test_stemming_matches_inflections():
    assert prf(RougeScorer(("rouge1",)).score("dogs running", "dog runs")["rouge1"]) == (1.0, 1.0, 1.0)
    assert RougeScorer(("rouge1",), use_stemmer=False).score("dogs running", "dog runs")["rouge1"].fmeasure == 0


def test_cyrillic_needs_the_unicode_tokenizer():
    target, prediction = "Кошка сидит на окне", "Кошка сидит на полу"
    default = RougeScorer(("rouge1",)).score(target, prediction)["rouge1"]
    unicode = RougeScorer(("rouge1",), tokenizer=UnicodeTokenizer()).score(target, prediction)["rouge1"]
    assert prf(default) == (0.0, 0.0, 0.0)  # every letter is outside [a-z0-9]
    assert prf(unicode) == (0.75, 0.75, 0.75)  # кошка, сидит, на match; окне != полу


def test_unicode_tokenizer_details():
    tokenizer = UnicodeTokenizer(use_stemmer=True)
    assert tokenizer.tokenize("我爱北京 天安门") == ["我", "爱", "北", "京", "天", "安", "门"]
    assert tokenizer.tokenize("STRASSE ﬁle Café") == tokenizer.tokenize("straße file café")  # NFKC + casefold
    assert tokenizer.tokenize("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]  # vowel signs stay inside words
    assert tokenizer.tokenize("running Бегущие snake_case") == ["run", "бегущие", "snake", "case"]
    assert UnicodeTokenizer(use_stemmer=False).tokenize("running") == ["running"]


def test_default_tokenizer_is_rouge_scores():
    text = "The cat's toys were well-known!\nKelvin: \u212a, naïve 1990s"
    for stem in (True, False):
        google = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=stem)._tokenizer
        assert DefaultTokenizer(stem).tokenize(text) == google.tokenize(text)


def test_perl_porter_stemmer_on_porters_examples():
    # Expected stems printed by ROUGE-1.5.5.pl's own `stem` subroutine (Porter 1980's examples plus
    # words where it differs from NLTK's default mode, which rouge-score uses).
    expected = {
        "caresses": "caress", "ponies": "poni", "ties": "ti", "agreed": "agre", "plastered": "plaster",
        "motoring": "motor", "conflated": "conflat", "hopping": "hop", "filing": "file", "happy": "happi",
        "relational": "relat", "conditional": "condit", "generalization": "gener", "hopeful": "hope",
        "goodness": "good", "adjustment": "adjust", "controlling": "control", "replacement": "replac",
        "yelling": "yell", "dying": "dy", "hopefully": "hopefulli", "days": "dai",
    }
    assert {word: perl_porter_stem(word) for word in expected} == expected
    assert (nltk_porter_stem("dying"), nltk_porter_stem("days")) == ("die", "day")


def test_rouge155_tokenizer():
    tokenizer = Rouge155Tokenizer(exceptions={"were": "be", "children": "child"})
    assert tokenizer.tokenize("Children were well-known co-stars!") == ["child", "be", "well", "known", "co", "star"]
    assert tokenizer.tokenize("Café \u212a don't") == ["caf", "don", "t"]  # non-ASCII characters separate
    assert Rouge155Tokenizer(use_stemmer=False).tokenize("Running DOGS") == ["running", "dogs"]


def test_rouge155_reads_sentences_as_pyrouge_writes_them():
    # pyrouge puts each line between HTML tags and ROUGE-1.5.5 reads up to the first '<': the target
    # keeps only "alpha", so recall is 1/1 and precision 1/3.
    scorer = RougeScorer(("rouge1",), mode="rouge155", tokenizer=PERL_NO_TABLE)
    assert prf(scorer.score("alpha <beta> gamma", "alpha beta gamma")["rouge1"]) == (0.33333, 1.0, 0.5)


def test_score_multi_max_and_mean():
    scorer = RougeScorer(("rouge1",), use_stemmer=False)
    targets = ["a b x y", "a b c d", "a b c d"]
    best = scorer.score_multi(targets, "a b c d")["rouge1"]
    assert prf(best) == (1.0, 1.0, 1.0)
    mean = scorer.score_multi(targets, "a b c d", combine="mean")["rouge1"]
    assert mean.fmeasure == pytest.approx((0.5 + 1.0 + 1.0) / 3)


def test_config_records_what_produced_the_numbers():
    config = RougeScorer(mode="rouge155", tokenizer=PERL_NO_TABLE).config()
    assert config["mode"] == "rouge155"
    assert config["tokenizer"] == "rouge155-perl+porter-perl"
    assert config["rouge_types"] == list(ALL_TYPES)
    assert "ROUGE-1.5.5" in config["reproduces"] and config["version"]
    assert RougeScorer().config()["tokenizer"] == "rouge-score-default+porter-nltk"


def test_invalid_arguments():
    with pytest.raises(ValueError):
        RougeScorer(mode="perl")
    with pytest.raises(ValueError):
        RougeScorer(("rouge0",))
    with pytest.raises(TypeError):
        RougeScorer("rouge1")
    with pytest.raises(ValueError):
        RougeScorer().score_multi(["a"], "a", combine="median")


# --- tier 2: golden numbers and equality with Google's package -----------------------------------

# Official ROUGE-1.5.5 per-document (P, R, F) copied from shared/data/rouge155_parity_dev.jsonl
# (REALSumm, Bhandari et al. 2020: ROUGE-1.5.5 via pyrouge, -c 95 -n 2 -a -r 1000 -m -d).
GOLDEN = {
    # "were" -> "be" through the WordNet exception table gives one more unigram match.
    ("realsumm-0", "abs:unilm_out_v1"): {
        "rouge1": (0.31148, 0.46341, 0.37255), "rouge2": (0.15, 0.225, 0.18), "rougeLsum": (0.31148, 0.46341, 0.37255),
    },
    # F from the rounded P and R: 22/52 and 22/44 give 0.45833 exactly but the script prints 0.45834.
    ("realsumm-1", "abs:unilm_out_v2"): {
        "rouge1": (0.42308, 0.5, 0.45834), "rouge2": (0.11765, 0.13953, 0.12766),
        "rougeLsum": (0.38462, 0.45455, 0.41667),
    },
    # Non-breaking spaces in the reference and "found" -> "find" in the prediction.
    ("realsumm-1", "abs:semsim_out"): {
        "rouge1": (0.29808, 0.70455, 0.41892), "rouge2": (0.09709, 0.23256, 0.13699),
        "rougeLsum": (0.26923, 0.63636, 0.37838),
    },
}


def test_rouge155_golden_numbers(parity_path):
    records = {(r["doc"], r["system"]): r for r in load_parity_records(parity_path)}
    scorer = RougeScorer(("rouge1", "rouge2", "rougeLsum"), mode="rouge155")
    for key, expected in GOLDEN.items():
        scores = scorer.score(*texts(records[key]))
        assert {name: prf(score) for name, score in scores.items()} == expected, key


def _summeval_pairs(path, articles: int) -> list[tuple[str, str]]:
    """(reference, system output) for the first articles: original highlights one per line, and a second
    human reference as one line."""
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for _, line in zip(range(articles), handle):
            record = json.loads(line)
            references = ["\n".join(record["reference_bullets"]), record["references"][1]]
            pairs.extend((ref, output) for ref in references for output in record["system_outputs"].values())
    return pairs


@pytest.mark.parametrize("use_stemmer", [True, False])
def test_identical_to_rouge_score_on_summeval(summeval_path, use_stemmer):
    google = rouge_scorer.RougeScorer(list(ALL_TYPES), use_stemmer=use_stemmer)
    ours = RougeScorer(ALL_TYPES, use_stemmer=use_stemmer)
    for target, prediction in _summeval_pairs(summeval_path, 12 if use_stemmer else 4):
        assert ours.score(target, prediction) == google.score(target, prediction)


def test_identical_to_rouge_score_on_adversarial_text():
    # Tiny vocabularies make LCS ties everywhere (the backtrack must break them as rouge-score does);
    # newlines, punctuation-only lines and non-ASCII letters exercise the tokenizer and line split.
    google = rouge_scorer.RougeScorer(list(ALL_TYPES), use_stemmer=True)
    ours = RougeScorer(ALL_TYPES)
    rng = random.Random(7)
    words = ["a", "b", "c", "the", "cats", "running", "x-y", "é", "K", "İ", ".", "\n", "<", "ﬁ"]

    def text() -> str:
        vocabulary = words[: rng.randint(2, len(words))]
        return " ".join(rng.choice(vocabulary) for _ in range(rng.choice([0, 4, 15, 70])))

    for _ in range(600):
        target, prediction = text(), text()
        assert ours.score(target, prediction) == google.score(target, prediction), (target, prediction)
