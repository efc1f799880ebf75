"""Tiny random transformers models, built on the spot so backend tests run the real code path offline.

Each builder trains a small tokenizer on a few news-like sentences, creates a 1-2 layer model with random
weights and saves both with ``save_pretrained``, so the directory loads exactly like a downloaded model.
The models write gibberish; the tests check the plumbing (batching, limits, chunking, prompts), not
the summaries.
"""

from __future__ import annotations

from pathlib import Path

from summarizer.prompts import SYSTEM_PROMPT, USER_TEMPLATE

NEWS_SENTENCES = [
    "The city council approved a new budget on Tuesday after a long debate.",
    "Officials said the plan would add 200 buses to the public transport network by 2026.",
    "The central bank raised interest rates by a quarter of a percentage point.",
    "Inflation fell to 3.1 percent in March, the lowest level in two years.",
    "Rescue teams searched the flooded valley for missing residents throughout the night.",
    "The company reported record profits and announced plans to hire 1,500 workers.",
    "Scientists published a study showing that the glacier lost a third of its mass.",
    "The minister resigned on Friday, citing health reasons and family commitments.",
    "Voters in the northern region will choose a new governor in November.",
    "Police arrested two men suspected of stealing paintings from the national museum.",
    "The hospital opened a new wing for children with rare diseases.",
    "Farmers warned that the drought could cut the wheat harvest by half this year.",
    "The football club signed a young striker from Brazil for a fee of 40 million euros.",
    "Protesters gathered outside parliament to demand higher wages for nurses.",
    "A powerful earthquake struck the coast early on Sunday, damaging hundreds of homes.",
    "The airline cancelled dozens of flights because of a strike by air traffic controllers.",
    "Researchers said the new vaccine was safe and effective in early trials.",
    "The president met foreign leaders at the summit to discuss trade and climate policy.",
    "Schools will remain closed on Monday as the storm moves across the country.",
    "The court ruled that the merger of the two telecom groups could go ahead.",
]

BART_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
T5_SPECIALS = ["<pad>", "</s>", "<unk>"]
CHAT_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# ChatML, as used by Qwen2.5 instruct models.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def training_corpus(extra: list[str] | None = None) -> list[str]:
    return NEWS_SENTENCES * 3 + (extra or [])


def article_text(n_sentences: int, offset: int = 0) -> str:
    """A plausible article body made of the corpus sentences (cycled)."""
    return " ".join(NEWS_SENTENCES[(offset + i) % len(NEWS_SENTENCES)] for i in range(n_sentences))


def byte_level_bpe(specials: list[str], vocab_size: int, extra_corpus: list[str] | None = None):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token=None))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(training_corpus(extra_corpus), trainer=trainer)
    return tokenizer


def bart_tokenizer():
    """Byte-level BPE with BART's special tokens; no model_max_length, like many hub tokenizers."""
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    backend = byte_level_bpe(BART_SPECIALS, vocab_size=400)
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", backend.token_to_id("<s>")), ("</s>", backend.token_to_id("</s>"))],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>", mask_token="<mask>",
    )


def build_bart(directory: Path) -> Path:
    """A 2+2-layer BART whose only length limit is config.max_position_embeddings (64)."""
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    tokenizer = bart_tokenizer()
    config = BartConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=64,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        forced_eos_token_id=tokenizer.eos_token_id,
        # Tied random embeddings make the decoder repeat its start token (EOS) and stop at once.
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    BartForConditionalGeneration(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def build_led(directory: Path) -> Path:
    """A 1+1-layer LED (Longformer encoder) limited by max_encoder_position_embeddings (96)."""
    import torch
    from transformers import LEDConfig, LEDForConditionalGeneration

    tokenizer = bart_tokenizer()
    config = LEDConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_encoder_position_embeddings=96,
        max_decoder_position_embeddings=32,
        attention_window=8,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    LEDForConditionalGeneration(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def build_t5(directory: Path) -> Path:
    """A 2+2-layer T5 (relative positions) limited by the tokenizer's model_max_length (64)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

    backend = Tokenizer(models.Unigram())
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(
        vocab_size=300, special_tokens=T5_SPECIALS, unk_token="<unk>", show_progress=False
    )
    backend.train_from_iterator(training_corpus(), trainer=trainer)
    backend.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", backend.token_to_id("</s>"))]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token="</s>", pad_token="<pad>", unk_token="<unk>", model_max_length=64
    )
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=16,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=2,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    T5ForConditionalGeneration(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def build_causal_lm(directory: Path, max_positions: int = 384) -> Path:
    """A 2-layer Qwen2-style chat model with a ChatML template.

    The tokenizer also learns the prompt's wording so the instructions cost few tokens and an
    ordinary short article fits in the small context.
    """
    import torch
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    prompt_words = [SYSTEM_PROMPT, USER_TEMPLATE] * 3
    backend = byte_level_bpe(CHAT_SPECIALS, vocab_size=700, extra_corpus=prompt_words)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=max_positions,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        # Tied random embeddings make the model repeat the prompt's last token instead of writing.
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config)
    # Sampling defaults as shipped by Qwen2.5-Instruct: greedy decoding must override them.
    model.generation_config.update(do_sample=True, temperature=0.7, top_p=0.8, top_k=20)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def build_plain_causal_lm(directory: Path, max_positions: int = 384) -> Path:
    """A 2-layer GPT-2 like a base (non-chat) model: no chat template and no pad token."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    backend = byte_level_bpe(["<|endoftext|>"], vocab_size=700, extra_corpus=[SYSTEM_PROMPT, USER_TEMPLATE] * 3)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<|endoftext|>", eos_token="<|endoftext|>"
    )
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_embd=32,
        n_layer=2,
        n_head=2,
        n_positions=max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def tiny_spec(model_dir: Path, **options):
    """The spec ``--model <dir>`` resolves to, with test options (short outputs, one CPU thread:
    on a shared 2-core machine torch's default of 2 threads makes tiny matmuls ~100x slower)."""
    from summarizer.specs import resolve_spec

    spec = resolve_spec(str(model_dir))
    return spec.model_copy(update={"options": {**spec.options, "threads": 1, **options}})


def articles_around_limit(backend, n_short: int = 2):
    """Short articles that fit the backend's input limit in one pass, plus one far longer than it."""
    from summarizer.articles import Article

    limit = backend.input_limit()
    short = [Article(id=f"short-{i}", text=article_text(1, offset=i)) for i in range(n_short)]
    n_sentences = 2
    while backend.count_tokens(article_text(n_sentences)) <= 3 * limit:
        n_sentences += 2
    long = Article(id="long", title="Budget approved", text=article_text(n_sentences))
    assert all(backend.article_tokens(article) <= limit for article in short), "short articles must fit"
    assert backend.article_tokens(long) > limit
    return [short[0], long, *short[1:]]
