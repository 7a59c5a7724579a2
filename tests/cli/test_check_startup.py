"""What `lab check --offline` costs at start-up, counted rather than timed (a loaded machine makes
timings flaky; modules loaded and git processes started are exact): on a solved practice repository it
loads none of Textual, httpx, kubernetes or the cluster/registry clients, starts a handful of git
processes and no fetch when origin has nothing new. `make bench` times the same command."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.gitutil import git, practice

pytestmark = pytest.mark.slow

# Counts each git process lab starts (subprocess.Popen: one per command, one for the object reader).
PROBE = """
import json, subprocess, sys
started = []
real_init = subprocess.Popen.__init__
def counting(self, args, *a, **kw):
    if isinstance(args, (list, tuple)) and args and str(args[0]).endswith("git"):
        plain = [x for i, x in enumerate(args[1:], 1) if x != "-c" and args[i - 1] != "-c"]
        started.append(plain[1] if len(plain) > 1 else "?")
    real_init(self, args, *a, **kw)
subprocess.Popen.__init__ = counting
import builtins
compiled = []
real_compile = builtins.compile
def counting_compile(source, *a, **kw):
    frame = sys._getframe(1)
    if isinstance(source, str) and frame.f_code.co_filename.endswith("typing.py"):
        while frame is not None and frame.f_code.co_filename.endswith("typing.py"):
            frame = frame.f_back
        compiled.append(frame.f_globals.get("__name__", "?") if frame is not None else "?")
    return real_compile(source, *a, **kw)
builtins.compile = counting_compile
from lab.cli import main
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["check", "--offline", "-w", sys.argv[1]])
compiled_by = compiled
import re
deferred = [p for p in re._cache.values() if type(p).__name__ == "DeferredPattern"]
compiled = {"waiting": len(deferred), "compiled": [p.pattern[:30] for p in deferred if p._compiled is not None]}
print(json.dumps({"code": code, "git": started, "modules": sorted(sys.modules), "deferred": compiled, "compiled": compiled_by}))
"""

NEVER_OFFLINE = (
    "textual",
    "httpx",
    "kubernetes",
    "lab.tui",
    "lab.adapters.cluster",
    "lab.adapters.registry",
    # Imported on first use since they cost start-up and the offline check never uses them.
    "hashlib",
    "lab.core.quiz",
    "lab.core.tasktexts",  # a check run reads task.toml (lab.core.tasks), not the lesson, hints or quiz
    "lab.core.setters.apply",
    "lab.core.setters.emitter",  # markers are read into nodes (setters.node), never written
    "lab.core.gotemplate.funcs",  # the solution's commit template names no function
    # The runner's thread pool is its own (concurrent.futures loads logging); files are only read.
    "concurrent.futures",
    "logging",
    "tempfile",
    "random",  # the template functions that use it import it
)
# On a solved repository in step with origin: the config (hardening; it also shows git accepts the
# repository), one object reader, one status for every path the git checks ask about, and the search
# for Flux's commit, and one history of the marked file (policy.resolves, which grades offline on the
# task's bundled tags, looks for a downgrade). No `rev-parse --git-dir`, no history walk for
# ahead/behind (local == origin).
OFFLINE_GIT = ["config", "cat-file", "status", "log", "log"]


def _probe(repo: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(repo)], capture_output=True, text=True, check=True, timeout=120
    )
    result: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    return result


@pytest.fixture
def solved(tmp_path: Path) -> Path:
    from lab.services.solve import solve

    repo = practice(tmp_path)
    solve(repo)
    return repo


def test_offline_check_loads_no_client_and_few_git_processes(solved: Path) -> None:
    got = _probe(solved)
    assert got["code"] == 1  # the solved repository still lacks Flux's commit, the quiz and PROGRESS.md
    modules = got["modules"]
    assert isinstance(modules, list)
    loaded = [m for m in modules if m.split(".")[0] in NEVER_OFFLINE or m.startswith(NEVER_OFFLINE)]
    assert loaded == []
    # PyYAML's patterns for its pure-Python reader, its constructor and its resolver
    # (lab.core.pyyaml): libyaml reads, lab.core.yamlsafe types scalars, nothing compiles them.
    from lab.core.pyyaml import DEFERRED

    assert got["deferred"] == {"waiting": len(DEFERRED), "compiled": []}
    # A TypedDict class compiles each of its annotations at import (typing's ForwardRef), ~1M
    # instructions apiece; lab's are for type checkers only. (tomllib's NamedTuple: not lab's.)
    compiled = got["compiled"]
    assert isinstance(compiled, list)
    assert [m for m in compiled if m.startswith("lab")] == [], compiled
    started = got["git"]
    assert isinstance(started, list)
    assert "fetch" not in started, started  # origin is a local repository with nothing new
    assert sorted(started) == sorted(OFFLINE_GIT), started


def test_offline_check_of_flux_s_commit_loads_no_client_nor_the_sandbox(solved: Path) -> None:
    """git.flux-commit asks which tags the workspace's sandbox published (a tag pushed there is one Flux
    could write): reading that from the sandbox's directory loaded the sandbox's supervisor (TLS, HTTP
    servers, the embedded registry) and the registry client, ~0.25 of the 0.6 CPU-s of the check."""
    # Flux's commit of a tag the task's bundled list lacks: was it pushed into the sandbox's registry?
    deployment = solved / "apps/base/nginx/deployment.yaml"
    deployment.write_text(deployment.read_text().replace("nginx:1.25.0", "library/nginx:1.25.99"))
    flux = {"GIT_AUTHOR_NAME": "Flux", "GIT_AUTHOR_EMAIL": "flux@gitops-lab.local"}
    git(solved, "commit", "-qam", "Automated image update", env=flux)
    git(solved, "push", "-q", "origin", "main")
    modules = _probe(solved)["modules"]
    assert isinstance(modules, list)
    # Judging Flux's commit writes the markers again (lab.core.setters.apply): NEVER_OFFLINE's clients only.
    clients = NEVER_OFFLINE[: NEVER_OFFLINE.index("lab.adapters.registry") + 1]
    never = (*clients, "lab.sandbox.runtime", "lab.sandbox.registry", "ssl")
    assert [m for m in modules if m.split(".")[0] in never or m.startswith(never)] == []
    assert "lab.sandbox.layout" in modules  # the sandbox's tags were asked for


def test_a_second_offline_check_finds_the_task_files_parsed(solved: Path) -> None:
    # task.toml and checks.toml are parsed once and kept while unchanged (lab.adapters.tomlcache); a
    # file changed in the last SETTLED_NS (a fresh checkout) is not stored yet, so wait that out.
    from lab.adapters import tomlcache
    from lab.adapters.tasks import task_folder

    folder = task_folder("09b")
    changed = max(max(p.stat().st_mtime_ns, p.stat().st_ctime_ns) for p in folder.glob("*.toml"))
    time.sleep(max(0.0, (changed + tomlcache.SETTLED_NS - time.time_ns()) / 1e9))
    # The fixture's solve (its sync reads the task's sync file param) may have stored them already.
    tomlcache.cache_file().unlink(missing_ok=True)
    assert "tomllib" in _probe(solved)["modules"]  # the first run parses (and stores)
    modules = _probe(solved)["modules"]
    assert isinstance(modules, list)
    assert "tomllib" not in modules


def test_offline_check_fetches_when_origin_moved(solved: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(git(solved, "remote", "get-url", "origin")), str(other))
    git(other, "commit", "-q", "--allow-empty", "-m", "someone else")
    git(other, "push", "-q", "origin", "main")
    started = _probe(solved)["git"]
    assert isinstance(started, list)
    assert started.count("fetch") == 1
    # Behind origin now: the fetch, and one history walk each way for what is ahead and behind.
    assert sorted(started) == sorted([*OFFLINE_GIT, "fetch", "log", "log"]), started


def test_offline_check_parses_each_yaml_file_once(solved: Path) -> None:
    probe = PROBE.replace(
        "from lab.cli import main",
        "import collections, lab.core.yamlsafe as y\n"
        "parsed = collections.Counter()\n"
        "real_load = y.load_all\n"
        "def counting_load(text, file, **kw):\n"
        "    parsed[file] += 1\n"
        "    return real_load(text, file, **kw)\n"
        "y.load_all = counting_load\n"
        "import lab.core.manifests.parse as p\n"
        "p.load_all = counting_load\n"
        "from lab.cli import main",
    ).replace('"git": started', '"parsed": parsed')
    out = subprocess.run(
        [sys.executable, "-c", probe, str(solved)], capture_output=True, text=True, check=True, timeout=120
    )
    parsed = json.loads(out.stdout.splitlines()[-1])["parsed"]
    assert "clusters/dev/image-automation/image-policy.yaml" in parsed
    assert {f: n for f, n in parsed.items() if n > 1} == {}


def test_offline_check_does_not_fetch_for_git_checks_that_are_skipped(solved: Path, tmp_path: Path) -> None:
    # The git reads started in the background before the checks run change nothing: with the files
    # missing (repo.files fails, the git checks are skipped) origin's new commit is not fetched.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(git(solved, "remote", "get-url", "origin")), str(other))
    git(other, "commit", "-q", "--allow-empty", "-m", "someone else")
    git(other, "push", "-q", "origin", "main")
    (solved / "clusters/dev/image-automation/image-policy.yaml").unlink()
    started = _probe(solved)["git"]
    assert isinstance(started, list)
    assert "fetch" not in started, started


def test_the_executables_offline_check_imports_no_inspect(solved: Path) -> None:
    # inspect imports ast, dis, tokenize and linecache (~30M instructions): dataclasses imports it for
    # what lab.core.record never asks (lab.entry's stand-in), pkgutil's module listing for
    # inspect.getmodulename (lab.adapters.packages). -X importtime lists every module imported for real.
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lab", "check", "--offline", "-w", str(solved)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "dataclasses" in imported and "lab.core.record" in imported  # the probe sees the imports
    assert imported & {"inspect", "ast", "dis", "tokenize", "linecache", "pkgutil"} == set()


def test_the_inspect_stand_in_answers_with_the_real_modules_names() -> None:
    probe = (
        "import sys, lab.entry as entry\n"
        "stand_in = entry._InspectOnDemand('inspect')\n"
        "sys.modules['inspect'] = stand_in\n"
        "import inspect\n"
        "assert inspect is stand_in\n"
        "from inspect import signature\n"
        "real = sys.modules['inspect']\n"
        "assert real is not stand_in and signature is real.signature\n"
        "assert inspect.getdoc is real.getdoc and str(inspect.signature(len)) == '(obj, /)'\n"
        "import dataclasses\n"
        "@dataclasses.dataclass\n"
        "class A:\n"
        "    x: int\n"
        "print(A.__doc__)\n"
    )
    assert _python(probe) == "A(x: int)\n"


def test_the_setters_read_yaml_without_compiling_pyyamls_patterns() -> None:
    # `lab setters`/`lab simulate` may import PyYAML first (no check ran before): the setters' reader
    # prepares the import as lab.core.yamlsafe does (~90M instructions less for one small file).
    probe = (
        "import json, re\n"
        "from lab.core.refs import ImageRef\n"
        "from lab.core.setters import rewrite\n"
        'text = b\'kind: K\\nimage: nginx:1.0 # {"$imagepolicy": "ns:p"}\\n\'\n'
        "assert rewrite(text, {'ns:p': ImageRef('nginx', '1.1')}, 'ns').changes\n"
        "waiting = [p for p in re._cache.values() if type(p).__name__ == 'DeferredPattern']\n"
        "print(json.dumps([len(waiting), [p.pattern[:30] for p in waiting if p._compiled is not None]]))\n"
    )
    from lab.core.pyyaml import DEFERRED

    assert json.loads(_python(probe)) == [len(DEFERRED), []]


def _python(code: str) -> str:
    """What `code` prints in a fresh interpreter (nothing imported or compiled before it)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return out.stdout
