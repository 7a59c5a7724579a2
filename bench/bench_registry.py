"""Registry client: request count per scan, and the cost of listing 100k tags vs a bare HTTP loop.

Both run against the embedded registry on 127.0.0.1, so the numbers measure the client and the
loopback server, not a network. The baseline is the least a client can do: GET each page with httpx,
`json.loads` it, follow `Link`. The ratio shows what names, auth, caps and checks add on top.
"""

from __future__ import annotations

import json
import math
import time

import httpx

from lab.adapters.registry import RegistryClient
from lab.adapters.registry.client import next_link
from lab.sandbox.registry import EmbeddedRegistry, RegistryAuth

REPO = "bench/app"
BIG = 100_000


def _raw_listing(base_url: str, repo: str, page: int) -> int:
    count = 0
    url: str | None = f"{base_url}/v2/{repo}/tags/list?n={page}"
    with httpx.Client() as http:
        while url is not None:
            response = http.get(url)
            count += len(json.loads(response.content)["tags"])
            url = next_link(response.headers.get_list("link"), url)
    return count


def _best_of(runs: int, fn: object) -> float:
    assert callable(fn)
    best = math.inf
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def request_counts() -> None:
    print("request count per scan (page size 1000 asked; embedded registry):")
    print(f"  {'tags':>7} {'server cap':>10} {'auth':>6} {'expected':>8} {'measured':>8}")
    for n_tags in (0, 999, 2345, BIG):
        for cap in (None, 100):
            for auth in (False, True):
                creds = RegistryAuth("bench", "pw", anonymous_pull=("bench",)) if auth else None
                with EmbeddedRegistry(auth=creds, page_cap=cap) as reg:
                    reg.push_tags(REPO, (f"v{i:06d}" for i in range(n_tags)))
                    listed = RegistryClient().list_tags(f"{reg.address}/{REPO}")
                    page = min(1000, cap or 1000)
                    expected = max(1, math.ceil(n_tags / page)) + (2 if auth else 1)
                    flag = "" if expected == listed.request_count else "  MISMATCH"
                    print(
                        f"  {n_tags:>7} {cap or '-':>10} {'token' if auth else 'none':>6} "
                        f"{expected:>8} {listed.request_count:>8}{flag}"
                    )


def listing_speed() -> None:
    with EmbeddedRegistry() as reg:
        reg.push_tags(REPO, (f"1.{i // 1000}.{i % 1000}" for i in range(BIG)))
        client = RegistryClient()
        image = f"{reg.address}/{REPO}"
        assert len(client.list_tags(image).tags) == BIG
        assert _raw_listing(reg.url, REPO, 1000) == BIG
        raw = _best_of(3, lambda: _raw_listing(reg.url, REPO, 1000))
        listed = _best_of(3, lambda: client.list_tags(image))
        scanned = _best_of(3, lambda: client.scan(image))
    print(f"listing {BIG} tags from the embedded registry (best of 3):")
    print(f"  raw httpx loop (baseline)   {raw * 1000:8.1f} ms")
    print(f"  RegistryClient.list_tags    {listed * 1000:8.1f} ms   ratio {listed / raw:5.2f}x")
    print(f"  RegistryClient.scan (+sort) {scanned * 1000:8.1f} ms   ratio {scanned / raw:5.2f}x")


def main() -> None:
    request_counts()
    listing_speed()


if __name__ == "__main__":
    main()
