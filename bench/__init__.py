"""Benchmarks of reelforge: workload W against MoviePy 2.x and the encode-only floor (`python -m bench`)."""
