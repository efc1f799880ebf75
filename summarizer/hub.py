"""Loading Hugging Face models by hub id without hanging when the hub is out of reach.

transformers retries an unreachable hub for ~25 s before giving up. We first try the local cache
(``local_files_only=True``, instant); only when the model is not cached do we probe the hub endpoint
with a short connect timeout, and fail at once with a message that says how to run offline.
Users with network access see exactly the transformers behaviour.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

T = TypeVar("T")

PROBE_TIMEOUT_S = 3.0


class ModelUnavailableError(RuntimeError):
    """A model could not be loaded; the message tells the user what to do instead."""


def is_local_model(name_or_path: str) -> bool:
    return Path(name_or_path).expanduser().exists()


def offline_help(model_id: str) -> str:
    return (
        f"To run '{model_id}' offline: pass a local model directory (--model /path/to/{model_id.split('/')[-1]}), "
        f"or download it once where the hub is reachable (`hf download {model_id}`) so it sits in the HF cache "
        f"(HF_HOME, default ~/.cache/huggingface) and run with HF_HUB_OFFLINE=1; "
        "`summarizer models` lists the models usable offline right now."
    )


def hub_offline_mode() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def hub_reachable(timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether the hub endpoint accepts a TCP connection within ``timeout`` seconds.

    The probe runs in a daemon thread with a deadline because the socket timeout bounds the
    connect but not a slow DNS lookup.
    """
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    parsed = urlparse(endpoint)
    host = parsed.hostname or "huggingface.co"
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    return bool(result and result[0])


def is_cached(model_id: str, filename: str = "config.json") -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    return isinstance(try_to_load_from_cache(model_id, filename), str)


def load_pretrained(loader: Callable[..., T], model_id: str, **kwargs) -> T:
    """Call ``loader(model_id, **kwargs)`` (e.g. AutoModel.from_pretrained) failing fast offline."""
    from transformers.utils import logging as transformers_logging

    # A per-tensor "Loading weights" bar on every load would drown the run's own report on stderr.
    transformers_logging.disable_progress_bar()
    if is_local_model(model_id):
        return loader(str(Path(model_id).expanduser()), **kwargs)
    try:
        return loader(model_id, local_files_only=True, **kwargs)
    except (OSError, ValueError) as cache_miss:
        if hub_offline_mode():
            raise ModelUnavailableError(
                f"Model '{model_id}' is not in the local Hugging Face cache and HF_HUB_OFFLINE is set. "
                + offline_help(model_id)
            ) from cache_miss
    if not hub_reachable():
        raise ModelUnavailableError(
            f"Model '{model_id}' is not in the local Hugging Face cache and the Hugging Face Hub "
            f"({os.environ.get('HF_ENDPOINT', 'https://huggingface.co')}) cannot be reached. "
            + offline_help(model_id)
        )
    return loader(model_id, **kwargs)
