"""Issue 37.14 / 40.4: non-Latin references get the Unicode tokenizer automatically, with a notice.

rouge-score's tokenizer keeps only [a-z0-9]: a Cyrillic pair sharing only the number "21" scored R-1 = 100.
"""

from __future__ import annotations

import json

from summarizer.cli.main import main
from summarizer.evaluation.harness import EvalConfig, Evaluator, PredictionItem, ReferenceItem
from summarizer.evaluation.tokenize import choose_tokenizer, is_mostly_non_latin

CYRILLIC_REFERENCE = "Уряд ухвалив бюджет на 21 мільярд гривень."
CYRILLIC_PREDICTION = "Депутати відклали голосування до 21 числа."


def test_mostly_non_latin_text_is_detected():
    assert is_mostly_non_latin(CYRILLIC_REFERENCE)
    assert is_mostly_non_latin("東京で新しい橋が開通した。")
    assert is_mostly_non_latin("Η κυβέρνηση ενέκρινε τον προϋπολογισμό.")
    assert not is_mostly_non_latin("The government passed the budget on Tuesday.")
    # Accented Latin is still Latin: the default tokenizer keeps most of its words.
    assert not is_mostly_non_latin("La métropole a inauguré une nouvelle ligne de tramway à Lyon.")
    # A few Cyrillic names inside English text do not make it Cyrillic.
    assert not is_mostly_non_latin("President Zelensky (Зеленський) spoke in Kyiv on Monday about the budget.")
    assert not is_mostly_non_latin("2021 - 2022")


def test_choose_tokenizer_switches_only_when_not_asked_for_one():
    name, notice = choose_tokenizer([CYRILLIC_REFERENCE, "English text about a budget."], "auto")
    assert name == "unicode"
    assert notice and "unicode" in notice.lower() and "1 of 2" in notice
    assert choose_tokenizer(["English only, thank you."], "auto") == ("default", None)
    # An explicit choice is respected, even the default one.
    assert choose_tokenizer([CYRILLIC_REFERENCE], "default")[0] == "default"
    assert choose_tokenizer([CYRILLIC_REFERENCE], "unicode") == ("unicode", None)


def test_evaluator_does_not_score_a_cyrillic_pair_on_its_digits():
    references = {"x": ReferenceItem("x", [[CYRILLIC_REFERENCE]])}
    predictions = {"x": PredictionItem("x", [CYRILLIC_PREDICTION])}
    automatic = Evaluator(EvalConfig(faithfulness=False)).evaluate(predictions, references)
    unicode = Evaluator(EvalConfig(tokenizer="unicode", faithfulness=False)).evaluate(predictions, references)
    assert automatic.per_article[0]["rouge1_f"] < 0.5
    assert automatic.per_article[0]["rouge1_f"] == unicode.per_article[0]["rouge1_f"]
    assert automatic.config["rouge"]["tokenizer"] == unicode.config["rouge"]["tokenizer"]


def test_eval_cli_without_flags_matches_tokenizer_unicode_and_says_so(tmp_path, capsys):
    references = tmp_path / "refs.jsonl"
    predictions = tmp_path / "preds.jsonl"
    references.write_text(json.dumps({"id": "x", "reference_bullets": [CYRILLIC_REFERENCE]}, ensure_ascii=False)
                          + "\n", encoding="utf-8")
    predictions.write_text(json.dumps({"id": "x", "bullets": [CYRILLIC_PREDICTION]}, ensure_ascii=False) + "\n",
                           encoding="utf-8")
    assert main(["eval", "--predictions", str(predictions), "--references", str(references)]) == 0
    automatic = capsys.readouterr()
    assert main(["eval", "--predictions", str(predictions), "--references", str(references),
                 "--tokenizer", "unicode"]) == 0
    explicit = capsys.readouterr()
    table = [line for line in automatic.out.splitlines() if line.startswith("rouge")]
    assert table and table == [line for line in explicit.out.splitlines() if line.startswith("rouge")]
    assert "unicode" in automatic.err.lower() and "non-latin" in automatic.err.lower()
    assert "non-latin" not in explicit.err.lower()


def test_unicode_tokenizer_stems_only_where_a_stemmer_exists():
    from summarizer.evaluation.tokenize import UnicodeTokenizer, stemmer_description

    russian = UnicodeTokenizer(language="ru")
    assert russian.tokenize("войска")[0] == russian.tokenize("войсками")[0]
    assert russian.name.endswith("+snowball-russian")
    ukrainian = UnicodeTokenizer(language="uk")
    assert ukrainian.tokenize("військами") == ["військами"] and ukrainian.name.endswith("+no-stemmer-uk")
    # English (or unknown): Porter on ASCII words only, as before.
    assert UnicodeTokenizer().tokenize("running бігом") == ["run", "бігом"]
    assert "unstemmed" in stemmer_description("uk") and "Snowball" in stemmer_description("ru")


def test_evaluator_names_the_stemmer_for_the_references_language():
    russian = "Правительство утвердило бюджет на следующий год."
    references = {"x": ReferenceItem("x", [[russian]])}
    evaluator = Evaluator(EvalConfig(faithfulness=False))
    result = evaluator.evaluate({"x": PredictionItem("x", [russian])}, references)
    assert result.config["rouge"]["tokenizer"].endswith("+snowball-russian")
    assert "Snowball (russian)" in evaluator.tokenizer_notice
