"""A seeded fuzz run of `lab` over mutated repositories, tags and arguments.

Each case mutates a copy of the starter or of the solved repository (so checks get as far as the
tags): garbled YAML, control and bidi characters, huge numbers, deep nesting, odd line breaks,
FIFOs, a link to /dev/zero, symlinks out of the workspace, binary files. Then it runs one subcommand
in-process through `lab.cli.main` (check, also with --output and --tags-file; mark; setters; policy;
generate; progress; grade; migrate; why; simulate --dry-run against an origin the copies share). Every case has `apps/elsewhere` linked to a folder outside holding a
marked file and an unmarked Deployment. Whatever the input: an exit code the README documents
(0, 1, 2, 3); no traceback; no internal error (exit 70, or a check or grade row that caught an
exception: "check crashed", "internal error"); no hang (20 s a case); nothing written outside the
workspace; no character that could steer a terminal (`lab.core.text`: C0/C1 controls but tab and
newline, lone CR, bidi, line separators) on stdout, stderr or in an --output file; and JSON reports
that parse. 320 cases take ~15 s on an idle 2-core box.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from lab.cli import main
from lab.core.text import is_safe
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

STARTER = ROOT / "tasks" / "09b" / "starter"
SOLUTION = ROOT / "tasks" / "09b" / "solution"
SEED = 20261204
CASES = 320
DEPLOYMENT = "apps/base/nginx/deployment.yaml"
MARKER = ' # {"$imagepolicy": "flux-system:nginx"}'

NASTY = [
    "\x1b]0;pwned\x07",
    "\x1b[2J",
    "\u202e",
    "\x00",
    "\x85",
    "\u2028",
    "\r",
    "\t",
    "\ufeff",
    "9" * 5000,
    "&a [*a, *a]",
    "[" * 300,
    "{" * 300,
    "!!python/object:os.system",
    ": :",
    "- - -",
    "'",
    '"',
    "#",
    "{{ .Values }}",
    '{"$imagepolicy": "flux-system:nginx:tag"}',
    '{"$imagepolicy": "\u202eevil"}',
    "\udcff",
]


def mutate_text(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True) or [""]
    for _ in range(rng.randint(1, 4)):
        lines = lines or [""]
        i = rng.randrange(len(lines))
        op = rng.randrange(6)
        nasty = rng.choice(NASTY)
        if op == 0:
            cut = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:cut] + nasty + lines[i][cut:]
        elif op == 1:
            lines[i] = lines[i].rstrip("\n") + MARKER + nasty + "\n"
        elif op == 2:
            del lines[i : i + rng.randint(1, 3)]
            lines = lines or [""]
        elif op == 3:
            lines.insert(i, " " * rng.randrange(8) + nasty + ": " + nasty + "\n")
        elif op == 4:
            lines[i] = lines[i].replace("\n", rng.choice(["\r\n", "\r", "\x85", "\u2028", "\n"]))
        else:
            lines = lines[: rng.randrange(len(lines) + 1)]
    return "".join(lines)


def mutate_repo(rng: random.Random, ws: Path, outside: Path) -> None:
    yamls = sorted(p for p in ws.rglob("*.yaml") if p.is_file() and not p.is_symlink())
    for path in rng.sample(yamls, k=min(len(yamls), rng.randint(1, 3))):
        data = mutate_text(rng, path.read_text(encoding="utf-8"))
        path.write_bytes(data.encode("utf-8", "surrogateescape"))
    (ws / "apps" / "elsewhere").symlink_to(outside)  # every case: no command may write through it
    extra = rng.randrange(8)
    if extra == 0:
        os.mkfifo(ws / "apps" / "pipe.yaml")
    elif extra == 1:
        (ws / "apps" / "out.yaml").symlink_to(outside / "victim.yaml")
    elif extra == 2:
        (ws / "apps" / "zero.yaml").symlink_to("/dev/zero")
    elif extra == 3:
        name = rng.choice([*NASTY[:3], "c1\x9bcsi"])
        (ws / "apps" / f"n{name}.yaml").write_text("image: nginx:1.0" + MARKER + "\n")
    elif extra == 4:
        (ws / "apps" / "bin.yaml").write_bytes(bytes(rng.randrange(256) for _ in range(512)))
    elif extra == 5:
        deep = ws / "apps" / "/".join(["d"] * 60)
        deep.mkdir(parents=True)
        (deep / "x.yaml").write_text("image: nginx:1.0" + MARKER + "\n")


def command(rng: random.Random, ws: Path, tags: Path) -> list[str]:
    tags.write_text(
        "\n".join(
            rng.choice(["1.25.3", "1.25.0-rc.1", "v1.2", "latest", *NASTY[:10], "1." * 50]) for _ in range(20)
        )
    )
    ranges = ["1.25.x", ">=1.0.0", "^1", "1.x || 2.x", "*", "1.2.3 - 2", "bogus", "", *NASTY[:4]]
    pick = rng.randrange(11)
    if pick == 0:
        report = ["--output", str(ws.parent / "report.out")] if rng.random() < 0.3 else []
        tags_file = ["--tags-file", str(tags)] if rng.random() < 0.5 else []
        return [
            "check",
            "--offline",
            "-w",
            str(ws),
            "--format",
            rng.choice(["text", "json", "tap", "junit", "github"]),
            *report,
            *tags_file,
        ]
    if pick == 7:
        return ["grade", "--offline", "--format", rng.choice(["table", "csv", "json", "junit"]), str(ws)]
    if pick == 1:
        target = rng.choice(
            [
                DEPLOYMENT,
                "apps/pipe.yaml",
                "apps/out.yaml",
                "apps/bin.yaml",
                "nope.yaml",
                "apps/elsewhere/deploy.yaml",
            ]
        )
        return [
            "mark",
            str(ws / target),
            "--policy",
            rng.choice(["flux-system:nginx"] * 3 + ["x", "a:b:c", NASTY[0]]),
        ]
    if pick == 2:
        path = rng.choice(["apps", "apps/elsewhere", ".", "apps/base", "clusters"])
        setter = rng.choice(["flux-system:nginx=nginx:1.25.4", "flux-system:nginx=" + NASTY[0], "x"])
        return ["setters", str(ws / path), "--set", setter, *(["--dry-run"] if rng.random() < 0.5 else [])]
    if pick == 3:
        return ["policy", "--semver", rng.choice(ranges), "--tags-file", str(tags), "--explain"]
    if pick == 4:
        pattern = rng.choice(["^1\\.(\\d+)$", "(", "\\pL", "(?P<ts>\\d+)", "a{1001}", NASTY[0]])
        return [
            "policy",
            "--numerical",
            "asc",
            "--filter-pattern",
            pattern,
            "--filter-extract",
            "$1",
            "--tags-file",
            str(tags),
        ]
    if pick == 5:
        return ["generate", "-w", str(ws), "--stdout", "--semver", rng.choice(ranges)]
    if pick == 8:
        path = rng.choice(["apps", "apps/elsewhere", ".", "clusters"])
        return ["migrate", str(ws / path), *rng.choice([["-y"], ["--dry-run"], ["-y", "-e", ".yaml"], []])]
    if pick == 9:
        return ["why", "-w", str(ws), "--offline", "--tags-file", str(tags), *(["--json"] * rng.randrange(2))]
    if pick == 10:
        return [
            "simulate",
            "-w",
            str(ws),
            "--tags-file",
            str(tags),
            "--dry-run",
            *(["--json"] * rng.randrange(2)),
        ]
    return ["progress", "-w", str(ws)]


def run_in_process(
    argv: list[str], timeout: float = 20.0
) -> tuple[int | None, str, str, BaseException | None]:
    out, err = io.StringIO(), io.StringIO()
    box: dict[str, object] = {}

    def target() -> None:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                box["code"] = main(argv)
            except SystemExit as exc:  # argparse usage errors
                box["code"] = exc.code if isinstance(exc.code, int) else 2
            except BaseException as exc:
                box["exc"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return None, out.getvalue(), err.getvalue(), None
    code = box.get("code")
    exc = box.get("exc")
    return (
        (code if isinstance(code, int) else None),
        out.getvalue(),
        err.getvalue(),
        exc if isinstance(exc, BaseException) else None,
    )


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _pristine(where: Path, *overlays: Path) -> Path:
    """A committed copy of the starter with `overlays` (the solution: checks get as far as tags) on top."""
    shutil.copytree(STARTER, where)
    for overlay in overlays:
        shutil.copytree(overlay, where, dirs_exist_ok=True)
    # No template (13 sample hooks, a description, info/exclude) and the objects packed: each of the 320
    # cases copies this repository, and on this file system a file created costs ~0.7 ms of system time,
    # most of a case's cost. The work tree and what git reads from the repository are the same.
    subprocess.run(["git", "init", "-q", "--template=", "-b", "main"], cwd=where, check=True)
    ident = ["-c", "user.name=fuzz", "-c", "user.email=fuzz@example.com"]
    subprocess.run(["git", "add", "-A"], cwd=where, check=True)
    subprocess.run(["git", *ident, "commit", "-qm", "starter"], cwd=where, check=True)
    # An origin every copy shares: `lab simulate --dry-run` clones it and pushes nothing.
    origin = where.with_name(where.name + "-origin.git")
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    subprocess.run(["git", "remote", "add", "origin", str(origin)], cwd=where, check=True)
    subprocess.run(["git", "push", "-q", "-u", "origin", "main"], cwd=where, check=True)
    subprocess.run(["git", "repack", "-a", "-d", "-n", "-q"], cwd=where, check=True)
    return where


# In parts of their own seed, so that the test workers share the run instead of one of them taking it
# all at the end of the suite.
PARTS = 4


@pytest.mark.parametrize("part", range(PARTS))
def test_seeded_fuzz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, part: int) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("LAB_DEBUG", raising=False)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    rng = random.Random(SEED + part)
    pristines = [_pristine(tmp_path / "starter"), _pristine(tmp_path / "solved", SOLUTION)]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.yaml").write_text("image: nginx:1.0" + MARKER + "\n")
    shutil.copy(STARTER / DEPLOYMENT, outside / "deploy.yaml")  # unmarked: what `lab mark` would change
    guard = snapshot(outside)
    problems: list[str] = []
    record: Callable[[str], None] = problems.append
    for case in range(part * CASES // PARTS, (part + 1) * CASES // PARTS):
        ws = tmp_path / f"ws{case}"
        shutil.copytree(rng.choice(pristines), ws, symlinks=True)
        mutate_repo(rng, ws, outside)
        argv = command(rng, ws, tmp_path / "tags.txt")
        code, out, err, exc = run_in_process(argv)
        where = f"case {case}: lab {' '.join(repr(a) if not a.isprintable() else a for a in argv)[:300]}"
        if exc is not None:
            record(f"{where}: raised {type(exc).__name__}: {exc}")
        elif code is None:
            record(f"{where}: did not finish in 20 s")
        elif code not in (0, 1, 2, 3):
            record(f"{where}: exit {code}: {err[-300:]}")
        written = ws.parent / "report.out"
        report = written.read_text(encoding="utf-8", errors="replace") if written.exists() else ""
        written.unlink(missing_ok=True)
        shown = out + err + report
        for crash in ("Traceback", "internal error", "check crashed"):
            # A check or grade row that caught an exception is a crash too, whatever the exit code.
            if crash in shown:
                at = shown.index(crash)
                record(f"{where}: {shown[max(0, at - 100) : at + 200]!r}")
        if not is_safe(shown):  # any C0/C1 control but tab and newline, lone CR, bidi, LS/PS, BOM
            raw = sorted({ch for ch in shown if not is_safe(ch) and ch != "\r"})
            record(f"{where}: raw {raw!r} in output")
        if argv[0] == "check" and argv[argv.index("--format") + 1] == "json" and code in (0, 1):
            try:
                json.loads(report if "--output" in argv else out)
            except ValueError as exc:
                record(f"{where}: the JSON report does not parse: {exc}")
        if snapshot(outside) != guard:
            record(f"{where}: wrote outside the workspace")
            guard = snapshot(outside)
        shutil.rmtree(ws)
    assert not problems, "\n".join(problems[:20])
