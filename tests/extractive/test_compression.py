"""Hand-checkable cases for the rule-based sentence compression."""

from __future__ import annotations

import pytest

from summarizer.articles import Article
from summarizer.backends.registry import create_backend
from summarizer.extractive.compression import RULE_NAMES, compress, cut_trailing_clauses
from summarizer.specs import ModelSpec


@pytest.mark.parametrize(
    ("rule", "sentence", "expected"),
    [
        ("datelines", "LONDON, England (CNN) -- The bank raised rates on Tuesday.",
         "The bank raised rates on Tuesday."),
        ("datelines", "( CNN ) One of the biggest TV events is being remade .",
         "One of the biggest TV events is being remade ."),
        ("moment_formula", "This is the shocking moment a guard slipped in front of tourists.",
         "A guard slipped in front of tourists."),
        ("connectives", "However, analysts have not yet confirmed the troops' intentions.",
         "Analysts have not yet confirmed the troops' intentions."),
        ("connectives", "At the same time, the institute notes that Russia seeks allies.",
         "The institute notes that Russia seeks allies."),
        ("leading_attributions", "Police said the thief broke the rear window of the car.",
         "The thief broke the rear window of the car."),
        ("leading_attributions", "As reported by the Institute for the Study of War, North Korea is preparing troops.",
         "North Korea is preparing troops."),
        ("trailing_attributions",
         "Babies given antibiotics are more likely to be fat , a large-scale study has found .",
         "Babies given antibiotics are more likely to be fat."),
        ("trailing_attributions",
         "Chelsea have made an offer for the forward, according to club president Naoki Ogane.",
         "Chelsea have made an offer for the forward."),
        ("trailing_attributions", "The suspects fled the scene in a stolen car, police said on Tuesday.",
         "The suspects fled the scene in a stolen car."),
        ("parentheticals", "The Queen's Guard (pictured) slipped on a manhole cover last week.",
         "The Queen's Guard slipped on a manhole cover last week."),
        ("relative_clauses", "The Japan international, who has played there since 2013, will join Vitesse on loan.",
         "The Japan international will join Vitesse on loan."),
    ],
)
def test_each_rule_deletes_its_span(rule, sentence, expected):
    assert compress(sentence, [rule]) == expected


def test_a_rule_only_runs_when_asked():
    sentence = "The suspects fled the scene in a stolen car, police said."
    assert compress(sentence, []) == sentence
    assert compress(sentence, ["parentheticals"]) == sentence


def test_named_people_keep_their_attribution():
    # "Christopher Lawler said ..." is the claim's source, not a generic one: the name is content.
    sentence = "Christopher Lawler said he was pinned to a chair on his first day at Clarence House."
    assert compress(sentence, ["leading_attributions"]) == sentence


def test_parenthesized_figures_are_content():
    sentence = "Williams eventually prevailed 4-6 7-6 ( 3 ) 6-3 against the dogged Italian ."
    assert compress(sentence, ["parentheticals"]) == sentence


def test_a_quoted_statement_keeps_its_closing_quote():
    sentence = "'It was a great goal and I am pleased for him,' Merson said."
    assert compress(sentence, ["trailing_attributions"]) == "'It was a great goal and I am pleased for him'."


def test_a_deletion_that_leaves_a_fragment_is_skipped():
    sentence = "Prices rose, officials said."
    assert compress(sentence, ["trailing_attributions"]) == sentence


def test_unknown_rules_are_rejected():
    with pytest.raises(ValueError, match="unknown compression rules"):
        compress("Anything at all here.", ["drop_adjectives"])


def test_all_rules_together():
    sentence = ("(CNN) -- However, the Japan international (pictured) will join Vitesse on loan next season, "
                "according to club president Naoki Ogane.")
    assert compress(sentence, RULE_NAMES) == "The Japan international will join Vitesse on loan next season."


# --- trailing clauses ---------------------------------------------------------------------------

LONG = ("Dyke wants to increase the minimum number of home-grown players in club squads from eight to 12 , "
        "however he is facing opposition from the Premier League .")


def test_trailing_clause_is_cut_at_the_last_boundary_within_the_budget():
    # 18 words before ", however": within a 20-word budget, and at least 10 words are kept.
    assert cut_trailing_clauses(LONG, 20, 10) == (
        "Dyke wants to increase the minimum number of home-grown players in club squads from eight to 12 ."
    )


def test_short_sentences_and_too_short_heads_are_kept():
    assert cut_trailing_clauses(LONG, 40, 10) == LONG  # under the budget
    assert cut_trailing_clauses(LONG, 20, 19) == LONG  # the head would be shorter than min_words
    assert cut_trailing_clauses(LONG, 15, 10) == LONG  # no boundary within the budget


def test_prose_sentences_end_with_a_plain_full_stop():
    sentence = ("Neymar helped Brazil beat Chile at the Emirates Stadium on Sunday in a feisty contest, "
                "withstanding several brutal challenges from the South American rivals.")
    assert cut_trailing_clauses(sentence, 20, 10) == (
        "Neymar helped Brazil beat Chile at the Emirates Stadium on Sunday in a feisty contest."
    )


def test_a_relative_clause_is_cut_only_when_it_runs_to_the_end():
    trailing = ("The current owner of the famous stadium signage is the Yankee great Reggie Jackson, "
                "who purchased the letters for an undisclosed amount after the final game.")
    assert cut_trailing_clauses(trailing, 20, 10) == (
        "The current owner of the famous stadium signage is the Yankee great Reggie Jackson."
    )
    # Closed by a later comma, the clause sits inside the subject: cutting would lose the main verb.
    inside = ("The four-time Olympic champion and former Tour de France winner from London, who is 35 next month, "
              "will attempt the hour record at the velodrome.")
    assert cut_trailing_clauses(inside, 20, 10) == inside


def test_no_cut_inside_a_subject_relative_clause():
    sentence = ("But security officers, who were described as over-zealous by the boy's father, then took "
                "exception to the harmless toy when it was picked up on the X-ray machines.")
    assert cut_trailing_clauses(sentence, 20, 10) == sentence


def test_no_cut_inside_an_open_quotation():
    sentence = ("Merson wrote in his column that 'if Townsend can get in the team then it opens it up to anybody, "
                "and that is the truth about the squad.'")
    assert cut_trailing_clauses(sentence, 22, 10) == sentence


def test_compress_applies_the_clause_budget_after_the_other_rules():
    sentence = ("(CNN) -- Dyke wants to increase the minimum number of home-grown players in club squads from "
                "eight to twelve, however he is facing opposition from the Premier League.")
    assert compress(sentence, ["datelines", "trailing_clauses"], clause_max_words=20, clause_min_words=10) == (
        "Dyke wants to increase the minimum number of home-grown players in club squads from eight to twelve."
    )


# --- through the backend ---------------------------------------------------------------------------

def test_the_backend_compresses_the_chosen_sentences():
    spec = ModelSpec(name="test", backend="extractive",
                     options={"method": "lead", "k": 2, "compression": ["trailing_attributions", "parentheticals"]})
    article = Article(id="a", text=(
        "The city council approved a new budget on Tuesday, officials said. "
        "The plan (announced in May) adds 200 buses to the network. "
        "Critics said the council had ignored rising rents."
    ))
    [output] = list(create_backend(spec).summarize_many([article], 2))
    assert output.text.splitlines() == [
        "The city council approved a new budget on Tuesday.",
        "The plan adds 200 buses to the network.",
    ]


def test_the_backend_rejects_unknown_rules():
    with pytest.raises(ValueError):
        create_backend(ModelSpec(name="test", backend="extractive", options={"compression": ["everything"]}))
