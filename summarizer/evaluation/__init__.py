"""Evaluation: ROUGE (rouge-score- and ROUGE-1.5.5-compatible), statistics, parity checks, reports."""
