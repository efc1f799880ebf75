"""summarizer: news articles in, points-of-attention bullets out."""
__version__ = "0.1.0"
