"""`summarizer bench`: throughput, memory and cold-start measurements against the usual baselines.

One module per section (seq2seq, gguf, rouge, coldstart), plus the machine description and the report
writer. Every timed variant runs in a fresh child process (``child.py``), so each one's peak RSS is
its own and no variant inherits another's warm caches or thread pools. Variants of a section take
turns over the same inputs (ABBA order, see ``rounds.py``) so that load from other jobs on a shared
machine falls on all of them alike, and every ratio is computed from numbers of the same run.
"""
