"""Loopback API server: request latency through the kubernetes client, state file cost, change latency.

Baselines in the same run: the same requests with Nagle's algorithm left on (the http.server default), and
the same create/update load on an in-memory server (no state file).
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from lab.sandbox.kubeapi import KubeAPIServer

N = 200


def _load(server: KubeAPIServer) -> float:
    started = time.perf_counter()
    for i in range(N):
        server.put(
            {
                "apiVersion": "image.toolkit.fluxcd.io/v1",
                "kind": "ImageRepository",
                "metadata": {"name": f"repo-{i}", "namespace": "flux-system"},
                "spec": {"image": f"library/app{i}", "interval": "5m"},
            }
        )
        server.update_status("ImageRepository", f"repo-{i}", "flux-system", {"observedGeneration": 1})
    return time.perf_counter() - started


def _watch_latency(server: KubeAPIServer) -> float:
    since = server.resource_version
    seen = threading.Event()
    stamps: list[float] = []

    def waiter() -> None:
        server.wait_for_change(since, 5)
        stamps.append(time.perf_counter())
        seen.set()

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.05)
    started = time.perf_counter()
    server.update_status("ImageRepository", "repo-0", "flux-system", {"observedGeneration": 2})
    seen.wait(5)
    t.join()
    return stamps[0] - started


def _list_latency(nodelay: bool, rounds: int = 40) -> float:
    import lab.sandbox.kubeapi.server as server_module
    from lab.adapters.cluster import ClusterClient

    saved = server_module._Handler.disable_nagle_algorithm
    server_module._Handler.disable_nagle_algorithm = nodelay
    try:
        with tempfile.TemporaryDirectory() as d, KubeAPIServer() as srv:
            kc = srv.write_kubeconfig(Path(d) / "kc")
            with ClusterClient.from_kubeconfig(str(kc)) as c:
                c.list("Deployment")
                started = time.perf_counter()
                for _ in range(rounds):
                    c.list("Deployment")
                return (time.perf_counter() - started) / rounds
    finally:
        server_module._Handler.disable_nagle_algorithm = saved


def main() -> None:
    nagle = _list_latency(False)
    nodelay = _list_latency(True)
    print(f"list via kubernetes client: {nodelay * 1000:.1f} ms (Nagle on: {nagle * 1000:.1f} ms)")
    print(f"TCP_NODELAY speed-up: {nagle / nodelay:.0f}x")
    with KubeAPIServer() as memory:
        baseline = _load(memory)
        latency = _watch_latency(memory)
    with tempfile.TemporaryDirectory() as d, KubeAPIServer(Path(d) / "state.json") as durable:
        persisted = _load(durable)
    print(f"{2 * N} writes in memory: {baseline * 1000:.0f} ms ({baseline / (2 * N) * 1e6:.0f} us/write)")
    print(f"{2 * N} writes with atomic state file: {persisted * 1000:.0f} ms")
    print(f"state file cost ratio: {persisted / baseline:.1f}x the in-memory baseline")
    print(f"in-process change notification latency: {latency * 1e6:.0f} us")
