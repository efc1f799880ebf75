"""Ways to run the pipeline beyond one process: the Ray engine (ray_engine).

Nothing here imports Ray at package import time, so the local engine never pays for it.
"""
