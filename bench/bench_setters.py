"""One Setters run (dry run) over a generated 10k-file repository, against `git grep` for the marker.

`git grep -l '"$imagepolicy"'` is the floor for finding the marked files; the ratio shows what the
Flux-compatible walk, screening, parsing and yaml.v3-style re-serialisation of the few hundred
marked files add on top. Goal: one simulated automation run stays around a second.
"""

from __future__ import annotations

import random
import subprocess
import tempfile
import time
from pathlib import Path

from lab.adapters.setters import apply_to_tree
from lab.core.refs import ImageRef

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


if __name__ == "__main__":
    main()
