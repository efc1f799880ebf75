"""Session-scoped tiny random transformers models (see tiny_models.py), built once per test run."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_bart_dir(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    from tests.backends.tiny_models import build_bart

    return build_bart(tmp_path_factory.mktemp("tiny-bart"))


@pytest.fixture(scope="session")
def tiny_t5_dir(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    from tests.backends.tiny_models import build_t5

    return build_t5(tmp_path_factory.mktemp("tiny-t5"))


@pytest.fixture(scope="session")
def tiny_chat_lm_dir(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    from tests.backends.tiny_models import build_causal_lm

    return build_causal_lm(tmp_path_factory.mktemp("tiny-chat-lm"))


@pytest.fixture(scope="session")
def tiny_plain_lm_dir(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    from tests.backends.tiny_models import build_plain_causal_lm

    return build_plain_causal_lm(tmp_path_factory.mktemp("tiny-plain-lm"))


@pytest.fixture
def restore_torch_threads():
    """tiny_spec sets torch to one thread, a process-wide setting: put it back for the next tests."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_led_dir(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    from tests.backends.tiny_models import build_led

    return build_led(tmp_path_factory.mktemp("tiny-led"))
