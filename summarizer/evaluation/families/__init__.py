"""The built-in metric families, one module each (see summarizer.evaluation.registry)."""
