"""One GGUF model and its context in ik_llama.cpp, through the ctypes API of ``ik-llama-cpp-python``.

ik_llama.cpp is a llama.cpp fork with faster CPU matrix kernels (and "run-time repacking" of
quantized weights into interleaved rows). Its Python package binds the C API with ctypes; this module
adds the few calls it leaves out (KV-cache trimming, chat templates, metadata, logging) and wraps them
in a small session object: tokenize, evaluate tokens at positions, read logits, trim the cache.

Only one sequence (id 0) is used. ik_llama.cpp keeps every sequence in one KV cache, and its CPU flash
attention decides which blocks of cells a group of query rows visits from the last row's mask, looking
at the first cell of each block only (iqk_fa_templates.h, compute_helper). That holds for one sequence;
with several, a block often starts with another sequence's cell, so rows skip cells they should see.
Measured with SmolLM2 and two sequences decoded together: the first sequence wrote "1.\n1\n1\n..."
where alone it wrote a sentence about the article, the second was unchanged (silently wrong); a third
sequence's prompt aborted the process with GGML_ASSERT(S > 0). Without flash attention every token
attends over all sequences' cells: 8 sequences decoded 1.2x slower per token than one sequence with
flash attention, and their prompts took 3.6x longer (eval/gguf-parallel.md).
"""

from __future__ import annotations

import ctypes
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install ik-llama-cpp-python  (Linux x86-64 wheels; other platforms build from source)"
SEQ = 0
# ggml log levels (ggml.h): 3 = warning, 4 = error. Lower levels are the loader's chatter.
GGML_LOG_WARN = 3
GGML_LOG_ERROR = 4
TEMPLATE_KEY = b"tokenizer.chat_template"


class _ChatMessage(ctypes.Structure):
    _fields_ = [("role", ctypes.c_char_p), ("content", ctypes.c_char_p)]


_LOG_CALLBACK_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


@_LOG_CALLBACK_TYPE
def _forward_log(level: int, text: bytes | None, _user_data: Any) -> None:
    # Without a callback the library prints every tensor it loads to stderr. Its warnings go to debug:
    # on CPU it warns on every load that "device 0" has 0 MiB free, which means nothing there.
    if text and level in (GGML_LOG_WARN, GGML_LOG_ERROR):
        log.log(logging.ERROR if level == GGML_LOG_ERROR else logging.DEBUG,
                "ik_llama.cpp: %s", text.decode("utf-8", "replace").rstrip())


_API: Any = None


def api() -> Any:
    """The ctypes module, with the extra functions bound and logging routed to Python (once)."""
    global _API
    if _API is not None:
        return _API
    try:
        from ik_llama_cpp import _ctypes_api as C
    except ImportError as missing:
        raise ImportError(f"ik_llama.cpp is needed for ik-llama-cpp models: {INSTALL_HINT}") from missing
    lib = C._lib
    bindings = {
        "llama_log_set": ([_LOG_CALLBACK_TYPE, ctypes.c_void_p], None),
        "llama_kv_cache_seq_rm": ([ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, ctypes.c_int32], ctypes.c_bool),
        "llama_model_meta_val_str": ([ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t],
                                     ctypes.c_int32),
        "llama_chat_apply_template": ([ctypes.c_char_p, ctypes.POINTER(_ChatMessage), ctypes.c_size_t, ctypes.c_bool,
                                       ctypes.c_char_p, ctypes.c_int32], ctypes.c_int32),
    }
    for name, (argtypes, restype) in bindings.items():
        function = getattr(lib, name)
        function.argtypes, function.restype = argtypes, restype
    lib.llama_log_set(_forward_log, None)
    C.llama_backend_init()
    _API = C
    return C


class IkSession:
    """A loaded model with a one-sequence context; positions are managed by the caller."""

    def __init__(self, path: Path, *, n_ctx: int, n_threads: int | None, flash_attn: bool, repack: bool,
                 n_batch: int = 512):
        C = api()
        self._C, self._lib = C, C._lib
        self.path = path
        model_params = C.llama_model_default_params()
        model_params.repack_tensors = repack
        self._model = C.llama_model_load_from_file(str(path).encode("utf-8"), model_params)
        if not self._model:
            raise RuntimeError(f"ik_llama.cpp could not load {path} (is it a GGUF file?)")
        threads = n_threads or os.cpu_count() or 1
        context_params = C.llama_context_default_params()
        context_params.n_ctx = n_ctx
        context_params.n_batch = n_batch
        context_params.n_ubatch = n_batch
        context_params.n_seq_max = 1
        context_params.n_threads = threads
        context_params.n_threads_batch = threads
        context_params.flash_attn = flash_attn
        self._ctx = C.llama_init_from_model(self._model, context_params)
        if not self._ctx:
            C.llama_free_model(self._model)
            self._model = None
            raise RuntimeError(f"ik_llama.cpp could not create a {n_ctx}-token context for {path}")
        self.n_ctx, self.n_batch = n_ctx, n_batch
        self.n_vocab = C.llama_vocab_n_tokens(C.llama_model_get_vocab(self._model))
        self._batch = C.llama_batch_init(n_batch, 0, 1)
        self._template = self._metadata(TEMPLATE_KEY)
        self._piece = ctypes.create_string_buffer(256)

    # --- text <-> tokens -------------------------------------------------------------------------
    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        """Token ids of ``text``; special tokens written in it (chat markers) are parsed as such."""
        data = text.encode("utf-8")
        capacity = len(data) + 8
        tokens = (ctypes.c_int32 * capacity)()
        count = self._C.llama_tokenize(self._model, data, len(data), tokens, capacity, add_special, True)
        if count < 0:
            raise RuntimeError(f"ik_llama.cpp: tokenizing {len(data)} bytes needs {-count} tokens")
        return list(tokens[:count])

    def detokenize(self, tokens: Sequence[int]) -> str:
        """Text of generated tokens; bytes are joined first so characters split across tokens survive."""
        pieces = bytearray()
        for token in tokens:
            size = self._C.llama_token_to_piece(self._model, token, self._piece, len(self._piece), 0, False)
            if size < 0:
                buffer = ctypes.create_string_buffer(-size)
                size = self._C.llama_token_to_piece(self._model, token, buffer, -size, 0, False)
                pieces += buffer.raw[:size]
            else:
                pieces += self._piece.raw[:size]
        return pieces.decode("utf-8", errors="replace")

    def is_end(self, token: int) -> bool:
        return bool(self._C.llama_token_is_eog(self._model, token))

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        """The model's chat template applied by llama.cpp (its built-in formats, no Jinja)."""
        if self._template is None:
            raise ValueError(f"{self.path.name} has no chat template (tokenizer.chat_template)")
        encoded = [(m["role"].encode("utf-8"), m["content"].encode("utf-8")) for m in messages]
        chat = (_ChatMessage * len(encoded))(*[_ChatMessage(role, content) for role, content in encoded])
        size = 2 * sum(len(role) + len(content) for role, content in encoded) + 256
        for _ in range(2):
            buffer = ctypes.create_string_buffer(size)
            needed = self._lib.llama_chat_apply_template(self._template, chat, len(encoded), True, buffer, size)
            if needed < 0:
                raise ValueError(f"llama.cpp does not support the chat template of {self.path.name}")
            if needed <= size:
                return buffer.raw[:needed].decode("utf-8")
            size = needed
        raise RuntimeError("llama_chat_apply_template kept asking for a larger buffer")

    def _metadata(self, key: bytes) -> bytes | None:
        size = 1 << 16
        while True:
            buffer = ctypes.create_string_buffer(size)
            length = self._lib.llama_model_meta_val_str(self._model, key, buffer, size)
            if length < 0:
                return None
            if length < size:
                return buffer.value
            size = length + 1

    # --- evaluation ------------------------------------------------------------------------------
    def evaluate(self, tokens: Sequence[int], start: int) -> None:
        """Add ``tokens`` at positions ``start``...; the logits of the last one become available.

        Chunks are always cut at multiples of ``n_batch`` counted from ``start``, so the same tokens at
        the same positions are computed the same way every time (greedy output stays reproducible).
        """
        if start + len(tokens) > self.n_ctx:
            raise ValueError(f"{start + len(tokens)} tokens do not fit the {self.n_ctx}-token context")
        batch = self._batch
        for offset in range(0, len(tokens), self.n_batch):
            chunk = tokens[offset : offset + self.n_batch]
            batch.n_tokens = len(chunk)
            for i, token in enumerate(chunk):
                batch.token[i] = token
                batch.pos[i] = start + offset + i
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = SEQ
                batch.logits[i] = 0
            batch.logits[len(chunk) - 1] = 1
            status = self._C.llama_decode(self._ctx, batch)
            if status != 0:
                raise RuntimeError(f"ik_llama.cpp: llama_decode returned {status} at position {start + offset}")

    def logits(self) -> np.ndarray:
        """The last evaluated token's logits (a view: valid until the next evaluate)."""
        pointer = self._C.llama_get_logits_ith(self._ctx, -1)
        return np.ctypeslib.as_array(pointer, shape=(self.n_vocab,))

    def forget_from(self, position: int) -> bool:
        """Drop cached positions >= ``position``, keeping the ones before (a shared prompt prefix).

        Returns False when only the whole cache could be dropped.
        """
        if position > 0 and self._lib.llama_kv_cache_seq_rm(self._ctx, SEQ, position, -1):
            return True
        self._C.llama_kv_cache_clear(self._ctx)
        return False

    def clear(self) -> None:
        self._C.llama_kv_cache_clear(self._ctx)

    def close(self) -> None:
        if self._ctx:
            self._C.llama_batch_free(self._batch)
            self._C.llama_free(self._ctx)
            self._ctx = None
        if self._model:
            self._C.llama_free_model(self._model)
            self._model = None
