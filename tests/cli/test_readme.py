"""README.md's shell blocks, run as written, in a fresh temporary HOME, with no network.

Every ```bash / ```sh / ```shell block of README.md is run by `bash -e -o pipefail` in order, all in one
temporary HOME (so `~/gitops-lab` of one block is there for a later one), with the installed `lab` on
PATH and a dead HTTP(S) proxy so that anything reaching past 127.0.0.1 fails as it would offline.
Interactive commands get what a learner would type on standard input (the quiz's right answers).
A block that starts a sandbox is followed by `lab sandbox down`, whatever happens.

A block can be left out only by an HTML comment right above it, `<!-- readme-test: skip REASON -->`;
the reason is shown in the test id, and every other block runs. So the README cannot drift again.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.paths import ROOT

README = ROOT / "README.md"
FENCE = re.compile(r"^```(?P<lang>[A-Za-z]*)[^\n]*\n(?P<body>.*?)^```\s*$", re.M | re.S)
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\s+(?P<reason>.*?)\s*-->\s*$")
SHELLS = {"bash", "sh", "shell"}
BLOCK_TIMEOUT = 600


@dataclass(frozen=True)
class Block:
    line: int
    body: str
    skip: str | None


def shell_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    for match in FENCE.finditer(text):
        if match.group("lang").lower() not in SHELLS:
            continue
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = SKIP.search(before)
        line = text.count("\n", 0, match.start()) + 1
        blocks.append(Block(line, match.group("body"), skip.group("reason") if skip else None))
    return blocks


def _dead_proxy() -> str:
    """A 127.0.0.1 port nobody listens on: every request through it fails like a machine offline."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


NETNS = 'ip link set lo up && exec "$@"'


def _offline_prefix() -> list[str]:
    """Run in a new network namespace with only loopback (a machine with no network), when the kernel
    lets us (`unshare -rn`); otherwise the dead proxy and the machine's own isolation have to do."""
    probe = ["unshare", "-rn", "sh", "-c", NETNS, "sh", "true"]
    try:
        ok = subprocess.run(probe, capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return ["unshare", "-rn", "sh", "-c", NETNS, "sh"] if ok else []


def _quiz_answers() -> str:
    from lab.services.tasks import load_task

    return "".join(f"{q.answer + 1}\n" for q in load_task("09b").quiz.questions)


def _offline_env(home: Path) -> dict[str, str]:
    proxy = _dead_proxy()
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "TERM")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        HOME=str(home),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        HTTP_PROXY=proxy,
        HTTPS_PROXY=proxy,
        http_proxy=proxy,
        https_proxy=proxy,
        ALL_PROXY=proxy,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        GIT_CONFIG_NOSYSTEM="1",
        NO_COLOR="1",
        NO_TUI="1",  # `lab` with no subcommand prints the overview instead of opening the app
    )
    return env


def test_readme_has_the_blocks_this_test_runs() -> None:
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    run = [b for b in blocks if b.skip is None]
    assert len(run) >= 2, [b.line for b in blocks]
    assert any("lab simulate" in b.body for b in run)


@pytest.mark.slow
def test_readme_shell_blocks_run_as_written_offline(tmp_path: Path) -> None:
    blocks = [b for b in shell_blocks(README.read_text(encoding="utf-8")) if b.skip is None]
    home = tmp_path / "home"
    home.mkdir()
    env = _offline_env(home)
    answers = _quiz_answers()
    prefix = _offline_prefix()
    transcript: list[str] = [f"(network namespace with loopback only: {bool(prefix)})"]
    try:
        for block in blocks:
            proc = subprocess.run(
                [*prefix, "bash", "-e", "-o", "pipefail", "-c", block.body],
                cwd=home,
                env=env,
                input=answers,
                capture_output=True,
                text=True,
                timeout=BLOCK_TIMEOUT,
                check=False,
            )
            transcript.append(
                f"--- README.md:{block.line} (exit {proc.returncode})\n{proc.stdout}{proc.stderr}"
            )
            assert proc.returncode == 0, "\n".join(transcript)
            assert "Traceback" not in proc.stderr, "\n".join(transcript)
    finally:
        subprocess.run(
            ["lab", "sandbox", "down"], cwd=home, env=env, capture_output=True, timeout=120, check=False
        )
    out = "\n".join(transcript)
    # Never silent about where the tags came from.
    if any("lab simulate" in b.body for b in blocks):
        assert re.search(r"^tags for \S+: ", out, re.M), out


@pytest.mark.parametrize("text, expected", [("```bash\necho hi\n```\n", 1), ("```\nnot shell\n```\n", 0)])
def test_block_finder(text: str, expected: int) -> None:
    assert len(shell_blocks(text)) == expected


def test_skip_marker_needs_a_reason_right_above() -> None:
    text = "<!-- readme-test: skip opens the app -->\n```bash\nmake lab\n```\n\n```bash\nlab init x\n```\n"
    blocks = shell_blocks(text)
    assert [b.skip for b in blocks] == ["opens the app", None]
