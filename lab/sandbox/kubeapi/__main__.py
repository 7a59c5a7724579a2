"""Run the loopback API server on its own: `python -m lab.sandbox.kubeapi --kubeconfig K [--state F]`.

Prints the URL once it is listening, then serves until SIGINT/SIGTERM and shuts down cleanly.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from lab.sandbox.kubeapi import KubeAPIServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.sandbox.kubeapi", description=__doc__)
    parser.add_argument("--state", type=Path, help="JSON state file (resumed when it exists)")
    parser.add_argument("--kubeconfig", type=Path, help="write a kubeconfig for the server here")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--image-api-versions", default="v1", help="served image.toolkit.fluxcd.io versions")
    parser.add_argument("--no-image-controllers", action="store_true", help="leave the image CRDs out")
    args = parser.parse_args(argv)
    versions = tuple(v.strip() for v in args.image_api_versions.split(",") if v.strip())
    server = KubeAPIServer(
        args.state,
        image_api_versions=versions,
        image_controllers=not args.no_image_controllers,
        port=args.port,
    )
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    url = server.start()
    try:
        if args.kubeconfig:
            server.write_kubeconfig(args.kubeconfig)
        print(url, flush=True)
        done.wait()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
