"""Resolving a semver range over 100k tags, against a loop that only parses the same tags.

The ratio shows what the range check, precedence comparison and stored-order sort add on top of
the unavoidable per-tag version parsing. Goal: the resolve stays well under a second.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from lab.core.policy import PolicySpec, resolve
from lab.core.scan import store_tags
from lab.core.semver import try_parse_version

N_TAGS = 100_000


def generate_tags(n: int, seed: int = 9) -> list[str]:
    """A registry-like mix: releases, variants (prereleases), two-part tags, words, signatures."""
    rng = random.Random(seed)
    tags: set[str] = set()
    variants = ["alpine", "bookworm", "perl", "alpine3.18-slim", "rc.1"]
    while len(tags) < n:
        major, minor, patch = rng.randrange(0, 4), rng.randrange(0, 40), rng.randrange(0, 60)
        roll = rng.random()
        if roll < 0.45:
            tags.add(f"{major}.{minor}.{patch}")
        elif roll < 0.8:
            tags.add(f"{major}.{minor}.{patch}-{rng.choice(variants)}.{rng.randrange(1000)}")
        elif roll < 0.9:
            tags.add(f"v{major}.{minor}.{patch}+build.{rng.randrange(10000)}")
        elif roll < 0.95:
            tags.add(f"{major}.{minor}-{rng.randrange(10**6)}")
        else:
            tags.add(f"sha256-{rng.getrandbits(64):016x}.sig")
    return list(tags)


def best_of(runs: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    tags = generate_tags(N_TAGS)
    stored = store_tags(tags)
    spec = PolicySpec("semver", ">=1.2.0 <3.0.0 || ~0.9")

    def parse_only() -> None:
        for tag in stored:
            try_parse_version(tag)

    outcome = resolve(spec, stored)
    baseline = best_of(3, parse_only)
    resolved = best_of(3, lambda: resolve(spec, stored))
    scanned = best_of(3, lambda: store_tags(tags))
    print(f"tags: {len(tags)} generated, {len(stored)} stored; selected {outcome.tag}")
    print(f"parse only      : {baseline * 1000:8.1f} ms")
    print(f"resolve (semver): {resolved * 1000:8.1f} ms  ratio {resolved / baseline:.2f}x parse-only")
    print(f"store_tags      : {scanned * 1000:8.1f} ms  ratio {scanned / baseline:.2f}x parse-only")


if __name__ == "__main__":
    main()
