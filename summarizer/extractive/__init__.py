"""Extractive summarization: pick the article's own sentences (lead-k, TextRank, LexRank, MiniLM).

``methods`` holds the pure scoring and selection functions; ``embeddings`` the sentence encoder;
the backend that wires them to the pipeline is ``summarizer.backends.extractive``.
"""
