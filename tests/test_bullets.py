from summarizer.bullets import to_bullets


def test_strips_markers_and_preamble():
    raw = "Here are the key points:\n1. The council approved the budget on Monday.\n2) Taxes will rise by 2%.\n"
    assert to_bullets(raw, 5) == ["The council approved the budget on Monday.", "Taxes will rise by 2%."]


def test_markdown_bullets_and_emphasis():
    raw = "**Summary:**\n- **Floods** hit the northern region overnight.\n* Thousands of homes lost power."
    assert to_bullets(raw, 3) == ["Floods hit the northern region overnight.", "Thousands of homes lost power."]


def test_prose_is_split_into_sentences():
    raw = "The mayor resigned on Friday. She cited health reasons. A new election is set for May."
    assert to_bullets(raw, 3) == ["The mayor resigned on Friday.", "She cited health reasons.",
                                  "A new election is set for May."]


def test_exact_and_near_duplicates_dropped():
    raw = ("- The storm killed 12 people in the city.\n- The storm killed 12 people in the city.\n"
           "- The storm killed 12 people in the city on Monday.\n- Power was restored by Wednesday evening.")
    assert to_bullets(raw, 5) == ["The storm killed 12 people in the city.", "Power was restored by Wednesday evening."]


def test_count_enforced():
    topics = ["rates", "floods", "elections", "football", "vaccines", "bridges", "strikes", "films"]
    raw = "\n".join(f"- A new report about {topic} was published by agency {i}." for i, topic in enumerate(topics))
    assert len(to_bullets(raw, 3)) == 3


def test_cut_off_last_bullet_dropped_but_kept_for_extracts():
    raw = "- The bank raised rates to 5 percent.\n- Analysts expect another rise before the end of"
    assert to_bullets(raw, 5) == ["The bank raised rates to 5 percent."]
    kept = to_bullets(raw, 5, drop_unfinished_last=False)
    assert kept[-1] == "Analysts expect another rise before the end of."


def test_unfinished_middle_line_gets_a_period_and_fragments_dropped():
    raw = "- The vote passed with a large majority\n- Yes\n- Turnout was the highest since 1990."
    assert to_bullets(raw, 5) == ["The vote passed with a large majority.", "Turnout was the highest since 1990."]


def test_long_bullet_shortened_to_whole_sentences():
    raw = "- " + "The first sentence is short. " + "Second sentence " + "goes on and on " * 30 + "."
    bullets = to_bullets(raw, 1, max_chars=120)
    assert bullets == ["The first sentence is short."]


def test_long_single_sentence_cut_at_clause():
    raw = "- The plan, which was approved after a long debate, " + "includes many provisions " * 20 + "."
    (bullet,) = to_bullets(raw, 1, max_chars=80)
    assert len(bullet) <= 80 and bullet.endswith(".")
    assert bullet.startswith("The plan")


def test_empty_and_non_english():
    assert to_bullets("", 3) == []
    assert to_bullets("   \n\n", 3) == []
    raw = "- Северная Корея направит инженерные войска в Донецкую область.\n- 北朝鮮は7月に工兵部隊を派遣する予定です。"
    bullets = to_bullets(raw, 3, min_words=1)
    assert len(bullets) == 2


def test_sole_cut_off_bullet_is_shortened_to_complete_clauses():
    raw = ("1. United's win was a highlight of the season, but it was also a highlight of the 2013 World Cup, and a "
           "highlight of the 2014 World Cup, and a highlight of the 202")
    (bullet,) = to_bullets(raw, 3)
    assert bullet.endswith(".") and "202." not in bullet
    assert bullet.startswith("United's win was a highlight of the season")


def test_a_sentence_cut_between_words_does_not_end_on_a_function_word():
    raw = "- The committee reviewed " + "the long list of proposals for the new harbour " * 8 + "."
    for max_chars in range(60, 120):
        (bullet,) = to_bullets(raw, 1, max_chars=max_chars)
        last = bullet.rstrip(".").split()[-1].lower()
        assert len(bullet) <= max_chars and bullet.endswith(".")
        assert last not in {"the", "of", "for"}, bullet


def test_a_function_word_before_a_comma_is_dangling_too():
    # The cut lands after "and, the": both words go, and the comma with them.
    raw = "- Ministers approved the budget for the harbour and, the " + "x" * 200 + " remainder."
    (bullet,) = to_bullets(raw, 1, max_chars=70)
    assert bullet == "Ministers approved the budget for the harbour."
