from summarizer.text import split_sentences


def test_abbreviations_and_initials():
    text = "Mr. Smith met Dr. J. R. Jones in the U.S. capital. They talked for 2.5 hours. Then they left!"
    assert split_sentences(text) == [
        "Mr. Smith met Dr. J. R. Jones in the U.S. capital.", "They talked for 2.5 hours.", "Then they left!"]


def test_quotes_and_pretokenized_cnn_style():
    text = "'It is over , ' he said . The team lost 2-0 . \"We will be back.\" She agreed."
    assert split_sentences(text) == ["'It is over , ' he said .", "The team lost 2-0 .", '"We will be back."',
                                     "She agreed."]


def test_paragraphs_always_split():
    assert split_sentences("Headline without period\nBody sentence here.") == [
        "Headline without period", "Body sentence here."]


def test_cyrillic():
    assert split_sentences("Первое предложение. Второе предложение.") == ["Первое предложение.", "Второе предложение."]
