"""The one place that maps backend ids to classes.

Entries are "module:Class" strings so that listing backends never imports torch or xllamacpp.
Adding a model family = one module in this package + one line here + one spec in models/.
"""

from __future__ import annotations

import importlib

from summarizer.backends.base import Backend
from summarizer.specs import ModelSpec, resolve_spec

BACKENDS: dict[str, str] = {
    "extractive": "summarizer.backends.extractive:ExtractiveBackend",
    "hf-seq2seq": "summarizer.backends.hf_seq2seq:Seq2SeqBackend",
    "hf-causal": "summarizer.backends.hf_causal:CausalLMBackend",
    "llama-cpp": "summarizer.backends.llama_cpp:LlamaCppBackend",
    "openai-compat": "summarizer.backends.openai_compat:OpenAICompatBackend",
}


def backend_class(backend_id: str) -> type[Backend]:
    try:
        target = BACKENDS[backend_id]
    except KeyError:
        raise ValueError(f"Unknown backend '{backend_id}'; known: {', '.join(sorted(BACKENDS))}") from None
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def create_backend(spec: ModelSpec) -> Backend:
    return backend_class(spec.backend)(spec)


def backend_for(model: str) -> Backend:
    """A backend for a ``--model`` argument (spec name, hub id, model directory or .gguf path)."""
    return create_backend(resolve_spec(model))
