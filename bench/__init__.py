"""Benchmarks (`make bench`): every figure is compared with a peer measured in the same run."""
