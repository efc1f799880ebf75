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
