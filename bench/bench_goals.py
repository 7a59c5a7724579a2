"""The two speed goals, side by side in one run (best of 3, interleaved so machine noise hits both):

- `lab policy` over 100k tags <= 1.5x a bare python-semver parse loop over the same file;
- `lab check --offline` on a solved repository <= 2x `python -c "import ruamel.yaml, yaml"`.

Every number is the wall clock of a whole fresh process, interpreter start-up included on both sides.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_policy import generate_tags

ROUNDS = 3
POLICY_GOAL = 1.5
CHECK_GOAL = 2.0

PYSEMVER_LOOP = """
import sys
import semver
for tag in open(sys.argv[1], encoding="utf-8").read().split():
    try:
        semver.Version.parse(tag)
    except ValueError:
        pass
"""


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


Timing = tuple[float, float]


def _wall(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> Timing:
    """(wall seconds, CPU seconds of the process and its children)."""
    cpu = _cpu_children()
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        raise RuntimeError(f"{cmd[:3]} failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")
    return elapsed, _cpu_children() - cpu


def _side_by_side(
    a: list[str], b: list[str], env: dict[str, str], ok: tuple[int, ...]
) -> tuple[Timing, Timing]:
    _wall(a, env, ok)  # warm caches and .pyc files for both
    _wall(b, env)
    best_a = best_b = (float("inf"), float("inf"))
    for _ in range(ROUNDS):
        got_a, got_b = _wall(a, env, ok), _wall(b, env)
        best_a = (min(best_a[0], got_a[0]), min(best_a[1], got_a[1]))
        best_b = (min(best_b[0], got_b[0]), min(best_b[1], got_b[1]))
    return best_a, best_b


def _report(name: str, lab: Timing, base: Timing, base_name: str, goal: float) -> None:
    ratio = lab[0] / base[0]
    verdict = "ok" if ratio <= goal else "OVER GOAL"
    print(f"{name:<28}{lab[0] * 1000:8.0f} ms   {base_name:<34}{base[0] * 1000:8.0f} ms")
    print(f"{'':<28}ratio {ratio:.2f}x (goal <= {goal}x) {verdict}")
    # CPU time is what a loaded machine distorts least (wall clock also counts waits for a core).
    cpu_ratio = lab[1] / base[1] if base[1] else float("nan")
    print(f"{'':<28}cpu {lab[1] * 1000:.0f} ms vs {base[1] * 1000:.0f} ms: {cpu_ratio:.2f}x")


def main() -> None:
    lab = [sys.executable, "-m", "lab"]
    with tempfile.TemporaryDirectory(prefix="fluxlab-bench-") as tmp:
        env = {**os.environ, "HOME": tmp, "XDG_DATA_HOME": str(Path(tmp) / "data")}
        env.pop("KUBECONFIG", None)
        # As installed for a user: bytecode is cached (pip compiles site-packages; the warm-up run
        # writes lab's own), so neither side pays for compiling source on every start.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        tags = Path(tmp) / "tags.txt"
        tags.write_text("\n".join(generate_tags(100_000)) + "\n", encoding="utf-8")
        loop = Path(tmp) / "pysemver_loop.py"
        loop.write_text(PYSEMVER_LOOP)
        policy = [*lab, "policy", "--semver", ">=1.2.0 <3.0.0 || ~0.9", "--tags-file", str(tags)]
        got = _side_by_side(policy, [sys.executable, str(loop), str(tags)], env, (0,))
        _report("lab policy (100k tags)", *got, "python-semver parse loop", POLICY_GOAL)

        repo = Path(tmp) / "solved"
        subprocess.run([*lab, "init", str(repo)], env=env, check=True, capture_output=True)
        subprocess.run([*lab, "solve", str(repo)], env=env, check=True, capture_output=True)
        check = [*lab, "check", "--offline", "-w", str(repo)]
        imports = [sys.executable, "-c", "import ruamel.yaml, yaml"]
        got = _side_by_side(check, imports, env, (0, 1))
        _report("lab check --offline", *got, 'python -c "import ruamel.yaml, yaml"', CHECK_GOAL)


if __name__ == "__main__":
    main()
