"""Instruction-tuned chat models (Qwen2.5, Llama, SmolLM...) through ``AutoModelForCausalLM``.

The article goes into the shared bullet prompt (summarizer.prompts), rendered with the tokenizer's
chat template. Prompts are left-padded so that every row of a batch ends where generation starts,
and only the newly generated tokens are decoded.
"""

from __future__ import annotations

import logging
from dataclasses import replace
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
from summarizer.prompts import build_messages
from summarizer.specs import ModelSpec

log = logging.getLogger(__name__)

# input_limit() has no bullet count; the prompt's instructions cost the same tokens for any small n.
OVERHEAD_BULLETS = 6
# Tokens merge differently across the article's edges (title separator, fence) than when the article
# is counted alone; this slack keeps an article that input_limit() accepts inside the context.
BOUNDARY_SLACK_TOKENS = 8
MAX_TRIM_ROUNDS = 3


class CausalLMOptions(TransformersOptions):
    # For a decoder-only model the prompt and the generated tokens share one context window.
    max_input_tokens: int | None = Field(
        None, ge=16, description="context size (prompt + generated tokens); None = the model's own"
    )
    max_new_tokens: int = Field(256, ge=1)
    temperature: float = Field(0.0, ge=0.0, description="0 = greedy decoding")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="used only when sampling (temperature > 0)")
    repetition_penalty: float | None = Field(None, gt=0.0)


def plain_prompt(messages: list[dict[str, str]]) -> str:
    """Prompt for tokenizers without a chat template: the messages in order, then an answer cue."""
    return "\n\n".join(message["content"] for message in messages) + "\n\nAssistant:"


class CausalLMBackend(TransformersBackend):
    backend_id = "hf-causal"
    Options = CausalLMOptions
    auto_model_class = "AutoModelForCausalLM"

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        self.has_chat_template = False
        self._prompt_overhead: int | None = None

    def prepare(self) -> None:
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.has_chat_template = bool(getattr(self.tokenizer, "chat_template", None))
        if not self.has_chat_template:
            log.warning("%s has no chat template: using a plain 'system, user, Assistant:' prompt",
                        self.options.model)

    # --- prompts ---------------------------------------------------------------------------------
    def render_prompt(self, article: Article, n_bullets: int) -> str:
        self.ensure_loaded()
        messages = build_messages(article, n_bullets)
        if not self.has_chat_template:
            return plain_prompt(messages)
        return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def prompt_length(self, prompt: str) -> int:
        # Chat templates write their own BOS and role tokens; the plain prompt needs the tokenizer's.
        return self.encoded_length(prompt, add_special_tokens=not self.has_chat_template)

    def prompt_budget(self) -> int | None:
        """Most prompt tokens that still leave room for max_new_tokens in the context."""
        self.ensure_loaded()
        if self.max_model_tokens is None:
            return None
        return self.max_model_tokens - self.options.max_new_tokens

    def prompt_overhead(self) -> int:
        """Tokens the prompt costs without an article (instructions, fence, chat template)."""
        if self._prompt_overhead is None:
            empty = self.render_prompt(Article(id="", text=""), OVERHEAD_BULLETS)
            self._prompt_overhead = self.prompt_length(empty)
        return self._prompt_overhead

    def input_limit(self) -> int | None:
        budget = self.prompt_budget()
        if budget is None:
            return None
        limit = budget - self.prompt_overhead() - BOUNDARY_SLACK_TOKENS
        if limit <= 0:
            raise ValueError(
                f"{self.options.model}: a context of {self.max_model_tokens} tokens has no room for an "
                f"article after the prompt ({self.prompt_overhead()} tokens) and max_new_tokens "
                f"({self.options.max_new_tokens}); lower max_new_tokens or raise max_input_tokens"
            )
        return limit

    def prepare_prompt(self, article: Article, n_bullets: int) -> str:
        """The prompt for one article; if it overflows the context, cut the article's end, loudly."""
        prompt = self.render_prompt(article, n_bullets)
        if self.input_limit() is None:
            return prompt
        budget = self.prompt_budget()
        for _ in range(MAX_TRIM_ROUNDS):
            excess = self.prompt_length(prompt) - budget
            if excess <= 0:
                break
            article_ids = self.tokenizer(article.text, add_special_tokens=False, verbose=False)["input_ids"]
            keep = max(len(article_ids) - excess - BOUNDARY_SLACK_TOKENS, 0)
            self.record_truncation(article.id, len(article_ids) - keep, budget)
            article = replace(article, text=self.tokenizer.decode(article_ids[:keep]))
            prompt = self.render_prompt(article, n_bullets)
        return prompt

    # --- generation ------------------------------------------------------------------------------
    def generation_kwargs(self) -> dict[str, Any]:
        options = self.options
        kwargs: dict[str, Any] = {
            "max_new_tokens": options.max_new_tokens,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if options.temperature > 0:
            kwargs |= {"do_sample": True, "temperature": options.temperature, "top_p": options.top_p}
        else:
            # Chat models ship sampling defaults in generation_config.json; greedy must override them.
            kwargs |= {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        if options.repetition_penalty is not None:
            kwargs["repetition_penalty"] = options.repetition_penalty
        return kwargs

    def summarize_batch(self, articles: list[Article], n_bullets: int) -> list[str]:
        import torch

        self.ensure_loaded()
        prompts = [self.prepare_prompt(article, n_bullets) for article in articles]
        lengths = [self.prompt_length(prompt) for prompt in prompts]
        outputs = [""] * len(prompts)
        for indices in self.sub_batches(lengths):
            encoded = self.tokenizer(
                [prompts[i] for i in indices],
                add_special_tokens=not self.has_chat_template,
                padding=True,
                return_tensors="pt",
            ).to(self.device)
            with generation_context(self.device, torch):
                generated = self.model.generate(**encoded, **self.generation_kwargs())
            new_tokens = generated[:, encoded["input_ids"].shape[1] :]
            decoded = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            at_limit = rows_at_token_limit(new_tokens, self.model.generation_config.eos_token_id,
                                           self.options.max_new_tokens)
            for index, text, cut in zip(indices, decoded, at_limit, strict=True):
                outputs[index] = GeneratedText(text.strip(), cut)
        return outputs
