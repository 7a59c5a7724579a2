"""Benchmarks. Each `bench_*.py` module has `main() -> None` printing ratios against a baseline
measured in the same run (never absolute targets: machines differ)."""
