from pathlib import Path

import pytest

from summarizer.text import split_sentences

LANGUAGE_FIXTURES = Path(__file__).parent / "fixtures" / "languages"


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


# --- languages other than English (issue 40) ------------------------------------------------------

def test_cyrillic_abbreviations_and_initials_do_not_end_sentences():
    text = ("Міст відкрили на вул. Городоцькій у Львові. Він розвантажить т. зв. західний в'їзд. "
            "Згідно зі ст. 31 закону, його обстежать. Автор проєкту Т. Шевченко задоволений.")
    assert split_sentences(text, "uk") == [
        "Міст відкрили на вул. Городоцькій у Львові.", "Він розвантажить т. зв. західний в'їзд.",
        "Згідно зі ст. 31 закону, його обстежать.", "Автор проєкту Т. Шевченко задоволений."]
    assert split_sentences("Завод им. Куйбышева закрыли в 2018 г. Однако цех остался.", "ru") == [
        "Завод им. Куйбышева закрыли в 2018 г.", "Однако цех остался."]


def test_latin_script_languages_abbreviations():
    german = "Die Kosten liegen bei ca. 48 Mio. Euro. Der Bau beginnt am 3. März in St. Pauli."
    assert split_sentences(german, "de") == [
        "Die Kosten liegen bei ca. 48 Mio. Euro.", "Der Bau beginnt am 3. März in St. Pauli."]
    spanish = "Habló el Sr. Ortega. ¿Será suficiente? La Sra. Gil dijo que no. Nadie más habló."
    assert split_sentences(spanish, "es") == [
        "Habló el Sr. Ortega.", "¿Será suficiente?", "La Sra. Gil dijo que no.", "Nadie más habló."]
    assert split_sentences("M. Lefèvre a salué le projet. Mme Rousseau, p. ex. le regrette.", "fr") == [
        "M. Lefèvre a salué le projet.", "Mme Rousseau, p. ex. le regrette."]


def test_english_no_stays_an_abbreviation_in_english_only():
    assert split_sentences("He wore the No. 9 shirt. It suited him.", "en") == ["He wore the No. 9 shirt.",
                                                                                 "It suited him."]
    assert split_sentences("Dijo que no. El alcalde respondió.", "es") == ["Dijo que no.", "El alcalde respondió."]


def test_cjk_and_greek_sentence_ends():
    assert split_sentences("東京で新しい橋が開通した。工事は二年かかった！費用は？") == [
        "東京で新しい橋が開通した。", "工事は二年かかった！", "費用は？"]
    # The Greek question mark (U+037E) becomes ";" under NFC.
    assert split_sentences("Τι θα γίνει τώρα\u037e Η κυβέρνηση ενέκρινε τον νόμο.") == [
        "Τι θα γίνει τώρα;", "Η κυβέρνηση ενέκρινε τον νόμο."]


FIXTURE_SENTENCES = {"uk": 14, "ru": 14, "de": 12, "es": 13, "fr": 12}


@pytest.mark.parametrize("language", sorted(FIXTURE_SENTENCES))
def test_fixture_articles_split_into_their_sentences(language):
    text = (LANGUAGE_FIXTURES / f"{language}.txt").read_text(encoding="utf-8")
    sentences = split_sentences(text, language)
    # Headline + the body's sentences, as written (each fixture's sentences were counted by hand).
    assert len(sentences) == FIXTURE_SENTENCES[language]
    assert all(sentence.endswith((".", "?", "!")) for sentence in sentences[1:])
    assert " ".join(sentences) == " ".join(text.split())


def test_unknown_language_keeps_english_words_as_words():
    # Portuguese "out." (outubro) and Spanish "ago." (agosto) are English words that end sentences.
    assert split_sentences("Police said the fire was out. Analysts agree. It began two years ago. Nobody knew.") == [
        "Police said the fire was out.", "Analysts agree.", "It began two years ago.", "Nobody knew."]
    # Cyrillic abbreviations need no language: no English word is spelled like them.
    assert split_sentences("Завод им. Куйбышева закрыли. Цех остался.") == ["Завод им. Куйбышева закрыли.",
                                                                             "Цех остался."]


def test_word_count_reads_chinese_and_japanese_without_spaces():
    from summarizer.text import word_count

    assert word_count("The council met on Tuesday.") == 5
    assert word_count("东京市政府周二宣布开通新的跨河大桥。") == 9  # 17 Han characters, about 2 per word
    assert word_count("NHKによると、新しい橋が開通した。") == 1 + 7
