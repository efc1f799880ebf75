from summarizer.articles import parse_seed_text


def test_seed_parsed(seed_file):
    article = parse_seed_text(seed_file.read_text(encoding="utf-8"), "seed")
    assert len(article.reference_bullets) == 5
    assert article.reference_bullets[0].startswith("North Korea plans to send engineering troops")
    assert article.title == "North Korea will send engineering troops to Donbas already in July"
    assert article.text.startswith("North Korea will send construction and engineering troops")
    assert "Points of attention" not in article.text
    for bullet in article.reference_bullets:
        assert bullet not in article.text  # the model must never see the human answer
    assert "mutual defence agreement of the 1960s" in article.text
    assert article.references == [article.reference_bullets]


def test_plain_text_without_block():
    article = parse_seed_text("A headline\nThe body says something. And more.", "plain")
    assert article.reference_bullets == []
    assert article.title == "A headline"
    assert article.text.startswith("A headline")


def test_single_paragraph_has_no_title():
    article = parse_seed_text("Just one sentence of news.", "x")
    assert article.title == "" and article.text == "Just one sentence of news."
