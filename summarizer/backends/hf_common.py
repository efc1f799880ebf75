"""What the transformers backends share: device and dtype choice, CPU threads, offline-safe loading
(always through ``summarizer.hub.load_pretrained``) and the model's input length limit."""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Literal

from pydantic import Field

from summarizer.backends.base import Backend, BackendOptions
from summarizer.hub import is_cached, is_local_model, load_pretrained
from summarizer.specs import HUB_ID, ModelSpec

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'torch>=2.2' 'transformers>=5.0' (or `pip install -e .` in the project)"

# Tokenizers without a configured limit report int(1e30); anything this large means "unknown".
UNKNOWN_LENGTH_THRESHOLD = 10_000_000

# Config attributes holding a model's input length, most specific first (LED's encoder is longer
# than its decoder; GPT-2 style configs call it n_positions).
CONFIG_LENGTH_ATTRIBUTES = ("max_encoder_position_embeddings", "max_position_embeddings", "n_positions")

DType = Literal["auto", "float32", "bfloat16", "float16"]


class TransformersOptions(BackendOptions):
    model: str = Field(description="hub id or local model directory")
    batch_size: int = Field(4, ge=1)
    device: str = Field("auto", description="auto (cuda, then mps, then cpu), or a torch device string")
    dtype: DType = "auto"
    max_input_tokens: int | None = Field(None, ge=16, description="None = the model's own limit")
    threads: int | None = Field(None, ge=1, description="torch CPU threads; None = torch's default")


def import_torch_transformers(install_hint: str = INSTALL_HINT) -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as missing:
        raise ImportError(f"torch and transformers are needed: {install_hint}") from missing
    return torch, transformers


def pick_device(requested: str, torch: Any) -> str:
    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(requested: DType, device: str, torch: Any) -> Any:
    """float32 on CPU (half precision is slow or unsupported there), bfloat16 on GPUs that have it."""
    if requested != "auto":
        return getattr(torch, requested)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.startswith("mps"):
        return torch.float16
    return torch.float32


def generation_context(device: str, torch: Any) -> Any:
    """``torch.inference_mode`` for a generate() call, and on a CUDA device scaled-dot-product attention
    without cuDNN's kernel. torch sends half-precision attention with a padding mask to cuDNN first on
    Hopper and newer GPUs, and cuDNN builds an execution plan for every new shape: decoding makes one per
    step as the cache grows. On an H200 that made our bf16 seq2seq backend many times slower than fp32
    (git history: eval/bench-nvidia-h200.md); flash, memory-efficient and math kernels need no plans."""
    from contextlib import ExitStack

    stack = ExitStack()
    stack.enter_context(torch.inference_mode())
    attention = getattr(torch.nn, "attention", None)
    if device.startswith("cuda") and hasattr(attention, "sdpa_kernel"):
        backends = attention.SDPBackend
        stack.enter_context(attention.sdpa_kernel(
            [backends.FLASH_ATTENTION, backends.EFFICIENT_ATTENTION, backends.MATH]))
    return stack


def rows_at_token_limit(new_tokens: Any, eos_token_id: Any, max_new_tokens: int) -> list[bool]:
    """For each generated row (new tokens only, padded to the longest row): whether generation ran out of
    max_new_tokens rather than ending with an end-of-sequence token."""
    if new_tokens.shape[1] < max_new_tokens:
        return [False] * new_tokens.shape[0]  # even the longest row stopped early
    eos_ids = [] if eos_token_id is None else ([eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id))
    rows = new_tokens.tolist()
    return [not any(token in eos_ids for token in row) for row in rows]


def known_length(value: Any) -> int | None:
    if isinstance(value, int) and 0 < value < UNKNOWN_LENGTH_THRESHOLD:
        return value
    return None


def model_length_limit(tokenizer: Any, config: Any) -> int | None:
    """The most tokens the model accepts: the smaller of the tokenizer's model_max_length and the
    config's position limit, whichever of them are known."""
    config_limits = [known_length(getattr(config, name, None)) for name in CONFIG_LENGTH_ATTRIBUTES]
    config_limit = next((limit for limit in config_limits if limit), None)
    limits = [limit for limit in (known_length(tokenizer.model_max_length), config_limit) if limit]
    return min(limits) if limits else None


def model_offline_status(model: str) -> tuple[bool, str]:
    if is_local_model(model):
        return True, "local"
    if not HUB_ID.match(model):
        return False, f"local model directory not found: {model}"
    if is_cached(model):
        return True, "HF cache"
    return False, "needs the Hugging Face Hub (not cached)"


class TransformersBackend(Backend):
    """A tokenizer plus an ``AutoModelFor...`` model, loaded lazily on the chosen device."""

    Options: ClassVar[type[BackendOptions]] = TransformersOptions
    supports_batch = True
    install_hint = INSTALL_HINT
    # Name of the transformers auto class that loads the model, e.g. "AutoModelForSeq2SeqLM".
    auto_model_class: ClassVar[str]

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        self.tokenizer: Any = None
        self.model: Any = None
        self.device = "cpu"
        # Set in load(): the most tokens the model takes (max_input_tokens option or the model's limit).
        self.max_model_tokens: int | None = None

    def load(self) -> None:
        torch, transformers = import_torch_transformers(self.install_hint)
        if self.options.threads:
            torch.set_num_threads(self.options.threads)
        self.device = pick_device(self.options.device, torch)
        dtype = pick_dtype(self.options.dtype, self.device, torch)
        auto_model = getattr(transformers, self.auto_model_class)
        self.tokenizer = load_pretrained(transformers.AutoTokenizer.from_pretrained, self.options.model)
        self.model = load_pretrained(auto_model.from_pretrained, self.options.model, dtype=dtype)
        self.model.to(self.device)
        self.model.eval()
        self.max_model_tokens = self.options.max_input_tokens or model_length_limit(
            self.tokenizer, self.model.config
        )
        log.info("loaded %s on %s (%s), max %s input tokens",
                 self.options.model, self.device, dtype, self.max_model_tokens or "unlimited")
        self.prepare()

    def prepare(self) -> None:
        """Backend-specific setup once tokenizer and model are loaded."""

    def count_tokens(self, text: str) -> int:
        return self.encoded_length(text, add_special_tokens=False)

    def encoded_length(self, text: str, add_special_tokens: bool = True) -> int:
        self.ensure_loaded()
        # verbose=False: measuring a long article is expected and must not warn about model length.
        return len(self.tokenizer(text, add_special_tokens=add_special_tokens, verbose=False)["input_ids"])

    def batch_size(self) -> int:
        return self.options.batch_size

    def offline_status(self) -> tuple[bool, str]:
        return model_offline_status(self.options.model)

    def sub_batches(self, lengths: list[int]) -> list[list[int]]:
        """Indices grouped into batches of similar length, so padding wastes little compute."""
        order = sorted(range(len(lengths)), key=lengths.__getitem__)
        size = self.batch_size()
        return [order[start : start + size] for start in range(0, len(order), size)]
