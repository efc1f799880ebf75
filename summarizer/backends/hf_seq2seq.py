"""Encoder-decoder summarizers (BART, PEGASUS, T5, LED) through ``AutoModelForSeq2SeqLM``.

These models were fine-tuned to write a short abstract, not bullets: they get the article alone
(plus T5's task prefix) and their sentences become the bullets downstream.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import Field

from summarizer.articles import Article
from summarizer.backends.base import GeneratedText
from summarizer.backends.hf_common import (
    TransformersBackend,
    TransformersOptions,
    generation_context,
    rows_at_token_limit,
)
from summarizer.specs import ModelSpec

log = logging.getLogger(__name__)

T5_FAMILY = {"t5", "mt5", "umt5"}
T5_PREFIX = "summarize: "


class Seq2SeqOptions(TransformersOptions):
    num_beams: int = Field(4, ge=1)
    max_new_tokens: int = Field(160, ge=1)
    # None leaves the model's own generation config in charge of these.
    min_new_tokens: int | None = Field(None, ge=0)
    length_penalty: float | None = None
    no_repeat_ngram_size: int | None = Field(3, ge=0)
    early_stopping: bool | None = True
    # None = automatic: "summarize: " for T5-family models, else the config's summarization prefix or "".
    prefix: str | None = None
    # A token the model writes for a line break (PEGASUS: "<n>"), turned back into one.
    newline_token: str | None = None
    # The encoder reads a batch in length-sorted groups of this many articles, each group padded only to
    # its own longest; the decoder then runs on the whole batch. Padding news articles of very different
    # lengths to the longest of a large batch made a BART encoder clearly slower than groups of 8 on a
    # 2-core CPU, and groups of 4 and 16 were no faster than 8 (the experiment is in git history:
    # eval/seq2seq-encoder-groups.md).
    encoder_batch_size: int | None = Field(
        8, ge=1, description="articles encoded together (None = the whole batch at once)"
    )


def automatic_prefix(config: Any) -> str:
    task_params = getattr(config, "task_specific_params", None) or {}
    configured = (task_params.get("summarization") or {}).get("prefix")
    if configured is not None:
        return configured
    return T5_PREFIX if getattr(config, "model_type", "") in T5_FAMILY else ""


class Seq2SeqBackend(TransformersBackend):
    backend_id = "hf-seq2seq"
    Options = Seq2SeqOptions
    auto_model_class = "AutoModelForSeq2SeqLM"

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        self._prefix = ""

    def prepare(self) -> None:
        self._prefix = self.options.prefix if self.options.prefix is not None else automatic_prefix(
            self.model.config
        )

    @property
    def prefix(self) -> str:
        """Text put before every input; the automatic choice needs the model's config."""
        self.ensure_loaded()
        return self._prefix

    def input_limit(self) -> int | None:
        self.ensure_loaded()
        if self.max_model_tokens is None:
            return None
        overhead = self.encoded_length(self.prefix, add_special_tokens=False) + (
            self.tokenizer.num_special_tokens_to_add()
        )
        return self.max_model_tokens - overhead

    def prepare_input(self, article: Article) -> str:
        """The exact text the model reads: prefix, then title and body as counted by article_tokens."""
        body = f"{article.title}\n{article.text}" if article.title else article.text
        return self.prefix + body

    def generation_kwargs(self) -> dict[str, Any]:
        options = self.options
        kwargs: dict[str, Any] = {"num_beams": options.num_beams, "max_new_tokens": options.max_new_tokens}
        optional = {
            "min_new_tokens": options.min_new_tokens,
            "no_repeat_ngram_size": options.no_repeat_ngram_size,
        }
        if options.num_beams > 1:
            # Beam-only settings; transformers warns when they come with greedy search.
            optional |= {"length_penalty": options.length_penalty, "early_stopping": options.early_stopping}
        kwargs |= {name: value for name, value in optional.items() if value is not None}
        return kwargs

    def summarize_batch(self, articles: list[Article], n_bullets: int) -> list[str]:
        import torch

        self.ensure_loaded()
        texts = [self.prepare_input(article) for article in articles]
        lengths = [self.encoded_length(text) for text in texts]
        self.warn_truncation(articles, lengths)
        outputs = [""] * len(texts)
        for indices in self.sub_batches(lengths):
            encoded = self.tokenizer(
                [texts[i] for i in indices],
                padding=True,
                truncation=self.max_model_tokens is not None,
                max_length=self.max_model_tokens,
                return_tensors="pt",
            ).to(self.device)
            inputs = {**encoded, **self.global_attention(encoded)}
            with generation_context(self.device, torch):
                encoder_outputs = self.encode_in_groups(inputs)
                generated = self.model.generate(**inputs, **encoder_outputs, **self.generation_kwargs())
            decoded = self.tokenizer.batch_decode(generated, skip_special_tokens=True)
            # generate() returns the decoder start token first; the rest is what it generated.
            at_limit = rows_at_token_limit(generated[:, 1:], self.model.generation_config.eos_token_id,
                                           self.options.max_new_tokens)
            for index, text, cut in zip(indices, decoded, at_limit, strict=True):
                outputs[index] = GeneratedText(self.restore_newlines(text).strip(), cut)
        return outputs

    def encode_in_groups(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """``encoder_outputs`` for generate(), computed ``encoder_batch_size`` rows at a time, each group cut
        to its own longest input and padded back after (the decoder masks those positions), or nothing
        (generate() encodes the batch itself) when the batch is one group. Rows come length-sorted."""
        import torch
        from transformers.modeling_outputs import BaseModelOutput

        mask = inputs["attention_mask"]
        size = self.options.encoder_batch_size
        if size is None or mask.shape[0] <= size:
            return {}
        width, left = mask.shape[1], self.tokenizer.padding_side == "left"
        encoder = self.model.get_encoder()
        states = []
        for start in range(0, mask.shape[0], size):
            length = int(mask[start : start + size].sum(dim=1).max())
            columns = slice(width - length, width) if left else slice(0, length)
            group = {name: tensor[start : start + size, columns] for name, tensor in inputs.items()}
            hidden = encoder(**group).last_hidden_state
            padding = (width - length, 0) if left else (0, width - length)
            states.append(torch.nn.functional.pad(hidden, (0, 0, *padding)))
        return {"encoder_outputs": BaseModelOutput(last_hidden_state=torch.cat(states))}

    def global_attention(self, encoded: Any) -> dict[str, Any]:
        """LED's sparse encoder attends globally only where told; its summarization recipe marks the
        first token. Other models take no such input."""
        if self.model.config.model_type != "led":
            return {}
        mask = encoded["attention_mask"].new_zeros(encoded["attention_mask"].shape)
        mask[:, 0] = 1
        return {"global_attention_mask": mask}

    def restore_newlines(self, text: str) -> str:
        if not self.options.newline_token:
            return text
        return "\n".join(line.strip() for line in text.split(self.options.newline_token))

    def warn_truncation(self, articles: list[Article], lengths: list[int]) -> None:
        """Long articles are chunked before they get here; any leftover overflow is cut, loudly."""
        if self.max_model_tokens is None:
            return
        for article, length in zip(articles, lengths, strict=True):
            if length > self.max_model_tokens:
                self.record_truncation(article.id, length - self.max_model_tokens, self.max_model_tokens)
