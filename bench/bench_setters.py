"""Setters speed: a generated 10k-file repository, and one 2 MB manifest.

Repository: one Setters run (dry run) against `git grep` for the marker. `git grep -l '"$imagepolicy"'`
is the floor for finding the marked files; the ratio shows what the Flux-compatible walk, screening,
parsing and yaml.v3-style re-serialisation of the few hundred marked files add on top. Goal: one
simulated automation run stays around a second.

2 MB manifest (`lab setters`/`lab simulate` on one big file): CPU seconds of one rewrite of a
multi-document manifest with markers (as generated, with blank lines, with comment lines), and of
one flat mapping of ~100k keys, against libyaml's event parse of the same text. Documents in
lab.core.setters.verbatim's line grammar are not parsed; the others are.
"""

from __future__ import annotations

import gc
import random
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from lab.adapters.setters import apply_to_tree
from lab.core.diff import file_diff
from lab.core.refs import ImageRef
from lab.core.setters import rewrite

N_FILES = 10_000
N_MARKED = 300

DEPLOYMENT = """\
# {i}: generated
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: team-{team}
  labels:
    app: app-{i}   # label
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: app-{i}
  template:
    metadata:
      labels:
        app: app-{i}
    spec:
      containers:
        - name: app
          image: {image}{marker}
          args: ["--port", "8080"]
          env:
            - name: MODE
              value: "production"
          resources:
            limits: {{cpu: 100m, memory: 128Mi}}
---
apiVersion: v1
kind: Service
metadata:
  name: app-{i}
spec:
  ports:
  - port: 80
"""


def generate_repo(root: Path, seed: int = 7) -> None:
    rng = random.Random(seed)
    marked = set(rng.sample(range(N_FILES), N_MARKED))
    for i in range(N_FILES):
        folder = root / f"team-{i % 40}" / f"app-{i}"
        folder.mkdir(parents=True, exist_ok=True)
        marker = ' # {"$imagepolicy": "flux-system:nginx"}' if i in marked else ""
        text = DEPLOYMENT.format(
            i=i, team=i % 40, replicas=rng.randrange(1, 5), image="nginx:1.25.0", marker=marker
        )
        name = "deployment.yaml" if i % 3 else "deploy.yml"
        (folder / name).write_text(text)
        if i % 10 == 0:
            (folder / "README.md").write_text(f"app {i}\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)


MANIFEST_BYTES = 2_000_000


def large_manifest(size: int = MANIFEST_BYTES, marked_every: int = 10) -> bytes:
    """Documents like DEPLOYMENT (every `marked_every`th marked) up to `size` bytes."""
    parts: list[str] = []
    total = i = 0
    while total < size:
        marker = ' # {"$imagepolicy": "flux-system:nginx"}' if i % marked_every == 0 else ""
        doc = DEPLOYMENT.format(i=i, team=i % 40, replicas=i % 5 + 1, image="nginx:1.25.0", marker=marker)
        doc = doc if i == 0 else "---\n" + doc
        parts.append(doc)
        total += len(doc)
        i += 1
    return "".join(parts).encode()


def flat_mapping(keys: int) -> bytes:
    """One ConfigMap whose `data` has `keys` keys, the last one marked (~24 bytes a key)."""
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: big", "data:"]
    lines += [f"  key{i:06d}: value{i}" for i in range(keys)]
    lines.append('  image: nginx:1.25.0 # {"$imagepolicy": "flux-system:nginx"}')
    return ("\n".join(lines) + "\n").encode()


def cpu_best(fn: Callable[[], object], runs: int = 3) -> float:
    """Best CPU seconds of this process over `runs` calls (a loaded machine distorts CPU least)."""
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def libyaml_floor(content: bytes) -> float:
    """CPU seconds of libyaml's event parse of `content`, the part of a rewrite no change can remove."""
    text = content.decode()

    def parse() -> None:
        was = gc.isenabled()
        gc.disable()
        try:
            list(yaml.parse(text, Loader=yaml.CSafeLoader))
        finally:
            if was:
                gc.enable()

    return cpu_best(parse)


def bench_large_manifests() -> None:
    setters = {"flux-system:nginx": ImageRef("library/nginx", "1.25.3")}
    for name, content in (
        ("multi-document", large_manifest()),
        ("flat mapping", flat_mapping(MANIFEST_BYTES // 24)),
        # Blank lines and comment lines in the documents without markers stay on the line grammar's path.
        ("multi-document, blank lines", large_manifest().replace(b"\nspec:", b"\n\nspec:")),
        ("multi-document, comment lines", large_manifest().replace(b"\nspec:", b"\n# the spec\nspec:")),
        ("multi-document, every one marked", large_manifest(marked_every=1)),
        # Flags written plain (`--port`), in a flow sequence and in a block one, stay on that path too.
        (
            "multi-document, every one marked, plain flags",
            large_manifest(marked_every=1).replace(
                b'args: ["--port", "8080"]', b'args: [--port, "8080"]\n          command:\n            - -v'
            ),
        ),
    ):
        result = rewrite(content, setters, "flux-system")
        assert result.content is not None
        t_rewrite = cpu_best(lambda c=content: rewrite(c, setters, "flux-system"), runs=2)
        t_floor = libyaml_floor(content)
        print(
            f"{name} {len(content) / 1e6:.1f} MB ({len(result.changes)} changes): rewrite {t_rewrite:.2f} s CPU,"
            f" libyaml parse {t_floor:.2f} s, ratio {t_rewrite / t_floor:.1f}x,"
            f" diff {cpu_best(lambda c=content, r=result.content: file_diff('m.yaml', c, r), runs=2):.2f} s"
        )
    # Linear in the size: a quarter of the bytes, about a quarter of the time.
    quarter, full = large_manifest(MANIFEST_BYTES // 4), large_manifest()
    t_quarter = cpu_best(lambda: rewrite(quarter, setters, "flux-system"), runs=2)
    t_full = cpu_best(lambda: rewrite(full, setters, "flux-system"), runs=2)
    print(f"multi-document 0.5 MB: rewrite {t_quarter:.2f} s CPU; 2 MB / 0.5 MB: {t_full / t_quarter:.1f}x")


def _best(fn: object, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    setters = {"flux-system:nginx": ImageRef("library/nginx", "1.25.3")}
    with tempfile.TemporaryDirectory(prefix="bench-setters-") as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        generate_repo(root)

        def grep() -> None:
            subprocess.run(
                ["git", "-C", str(root), "grep", "-l", '"$imagepolicy"'],
                check=True,
                capture_output=True,
            )

        result = apply_to_tree(root, None, setters, "flux-system", dry_run=True)
        assert len(result.files) == N_MARKED, len(result.files)
        t_grep = _best(grep)
        t_apply = _best(lambda: apply_to_tree(root, None, setters, "flux-system", dry_run=True))
        print(f"files: {N_FILES}, marked: {N_MARKED}, changes: {len(result.changes)}")
        print(f"git grep -l: {t_grep * 1000:.1f} ms")
        print(f"apply_to_tree (dry run): {t_apply * 1000:.1f} ms")
        print(f"ratio apply/grep: {t_apply / t_grep:.1f}x")
    bench_large_manifests()


if __name__ == "__main__":
    main()
