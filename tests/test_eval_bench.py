"""The benchmark's own logic (eval/bench.py), on tiny inputs: no timing is asserted, only what it counts
and writes. The benchmark itself is run by hand: `python -m eval.bench`."""

from __future__ import annotations

import pytest

from eval import bench


def test_rounds_alternate_the_variant_order():
    calls = []
    results = bench.interleave(["a", "b"], 3, lambda variant: calls.append(variant) or {"variant": variant})
    assert calls == ["a", "b", "b", "a", "a", "b"]
    assert [len(runs) for runs in results.values()] == [3, 3]


def test_totals_and_ratio_come_from_summed_rounds():
    runs = [{"items": 4, "wall_seconds": 2.0, "cpu_seconds": 1.0, "load_average": 0.5},
            {"items": 4, "wall_seconds": 6.0, "cpu_seconds": 3.0, "load_average": 1.5}]
    total = bench.totals(runs)
    assert (total["items"], total["items_per_second"], total["items_per_cpu_second"]) == (8, 1.0, 2.0)
    assert bench.ratio({"items_per_second": 3.0}, {"items_per_second": 1.5}) == 2.0
    assert bench.ratio({"items_per_second": 3.0}, {"items_per_second": 0.0}) == 0.0


def test_our_rouge_equals_rouge_score_on_dev_pairs(summeval_path):
    result = bench.worker_rouge({"pairs": 30})
    assert result["mismatches"] == 0
    assert result["variants"]["ours"]["items"] == result["variants"]["rouge-score"]["items"] == 30
    assert result["config"]["mode"] == "rouge-score"


def test_every_variant_of_the_speed_section_has_a_model_and_a_neighbour_setting():
    variants = bench.speed_variants("points")
    assert len(variants) == 6
    assert {v["threads"] for v in variants.values() if v["model"] == "points"} == {"spec", None}
    assert sum(v["neighbour"] for v in variants.values()) == 3


def test_the_report_starts_with_its_command_and_names_skipped_and_failed_sections(tmp_path):
    out = tmp_path / "bench.md"
    results = {"_started": "2026-01-01 00:00 UTC", "ingest": {"skipped": "eval/bench_ingest.py is absent"},
               "rouge": {"error": "FileNotFoundError: dev set not found"}}
    bench.write_report(out, "python -m eval.bench --sections ingest,rouge", results, 1.0)
    text = out.read_text(encoding="utf-8")
    assert text.index("python -m eval.bench --sections ingest,rouge") < text.index("## Feed ingest")
    assert "skipped: eval/bench_ingest.py is absent" in text and "FAILED: `FileNotFoundError" in text


def test_unknown_sections_are_refused(capsys):
    with pytest.raises(SystemExit):
        bench.parse_args(["--sections", "speed,gguf"])
    assert "unknown section(s) gguf" in capsys.readouterr().err


def test_the_speed_worker_summarizes_every_article_with_the_thread_setting_applied():
    texts = ["The council approved the budget on Tuesday after a long debate in the town hall. "
             "Officials said the plan adds buses to the network next year. Critics called it rushed."] * 2
    result = bench.worker_speed({"model": "lead-3", "threads": "spec", "texts": texts})
    assert result["items"] == 2 and result["texts"][0] == result["texts"][1]
    assert result["texts"][0].startswith("The council approved the budget")
    unlimited = bench.worker_speed({"model": "points", "threads": None, "texts": texts[:1]})
    assert unlimited["items"] == 1 and unlimited["texts"][0]
