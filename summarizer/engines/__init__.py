"""Ways to run the pipeline beyond one process: the Ray engine (ray_engine) and its benchmark (ray_bench).

Nothing here imports Ray at package import time, so the local engine never pays for it.
"""
