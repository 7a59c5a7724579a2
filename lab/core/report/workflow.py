"""The GitHub Classroom workflow a practice repository carries (`.github/workflows/classroom.yml`).

One template for every task: the task id and its checks come in as data. Its shape is the one
Classroom generates (workflow `Autograding Tests`, one job `run-autograding-tests`, `on:` push and
repository_dispatch), because Classroom only picks scores up from that shape. It installs exactly the
lab the instructor pinned (`FLUXLAB_LAB_SPEC`: written into the file by `lab classroom init
--lab-spec`, or an organisation/repository variable of that name), never an unpinned package name, and
fails with an `::error::` naming the variable when there is none. `lab check --format github` then
writes one Classroom runner per check (docs/formats.md), and the reporter step lists them all, so the
reporter's per-runner totals and its `Points X/Y` are the same number.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from lab.core.record import dataclass
from lab.core.report.github import runner_names
from lab.core.text import redact_url

WORKFLOW_PATH = ".github/workflows/classroom.yml"
SPEC_VARIABLE = "FLUXLAB_LAB_SPEC"
CHECKOUT = "actions/checkout@v6"
SETUP_PYTHON = "actions/setup-python@v6"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
PYTHON_VERSION = "3.11"
# Graded without a registry or a cluster: CI has neither, and Docker Hub rate limits make scores flaky.
OFFLINE_EXCLUDED = frozenset({"cluster", "registry"})

_SAFE_SPEC = re.compile(r"^[A-Za-z0-9 @+:/._=#~!,<>\[\]-]+$")
# What "pins one lab" means, written once in the syntax both Python's `re` and bash's `[[ =~ ]]` (POSIX
# ERE) read alike, so `check_lab_spec` and the workflow's shell guard cannot disagree: a git URL at a
# commit or a tag holding a digit (a branch like @main moves), an exact version, or an https archive.
ARCHIVES = ("whl", "tar.gz", "zip")
_NAME_AT = "([A-Za-z0-9_.-]+ *@ *)?"  # PEP 508's `name @ `
PIN_PATTERNS = (
    f"^{_NAME_AT}git[+][a-z+]+://[^ ]+@([0-9a-f]{{7,40}}|[A-Za-z0-9._/-]*[0-9][A-Za-z0-9._/-]*)(#[^ ]*)?$",
    "^[A-Za-z0-9_.-]+ *== *[0-9][0-9A-Za-z.+!-]*$",
    f"^{_NAME_AT}https://[^ ]+[.]({'|'.join(a.replace('.', '[.]') for a in ARCHIVES)})(#sha256=[0-9a-f]{{64}})?$",
)
PIN_RE = "|".join(f"({p})" for p in PIN_PATTERNS)
# A git URL of any ref, to say why one that is not a pin is not (a branch).
_GIT_REF = re.compile(r"^(?:[A-Za-z0-9_.-]+ *@ *)?git\+[a-z+]+://\S+@[A-Za-z0-9._/-]+(?:#\S*)?$")
# user[:password]@ in a URL's authority: `git@` of ssh is a user name; a password, or any user of
# http(s) (a token is often given as the user name), is a secret.
_CREDENTIAL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*?)s?://([^/@\s]+)@")


def pins_one_lab(spec: str) -> bool:
    """Whether `spec` pins one lab: the workflow's shell guard asks `[[ $spec =~ PIN_RE ]]`, the same."""
    return re.search(PIN_RE, spec) is not None


class SpecError(ValueError):
    """A lab spec that would not install one exact lab."""


def check_lab_spec(spec: str) -> str:
    """The spec, stripped, when it names one exact lab; SpecError saying why not otherwise.

    Accepted: a git URL pinned to a commit or tag (`fluxlab @ git+https://host/org/fluxlab@<sha>`),
    an exact version (`fluxlab==0.1.0`, for an index the instructor controls), or an https URL of a
    wheel or sdist. A bare name or a range would install whatever someone publishes under that name.
    """
    text = spec.strip()
    if not text:
        raise SpecError("the lab spec is empty")
    credential = _CREDENTIAL.search(text)
    if credential and (":" in credential.group(2) or credential.group(1).lower().endswith("http")):
        # The workflow file is committed into the template, so into every student's repository.
        raise SpecError(
            f"the lab spec {redact_url(text)!r} carries a credential in its URL: the workflow would "
            "commit it into every student's repository; pin a URL anyone can read (a public fork or "
            "a release wheel)"
        )
    if not _SAFE_SPEC.match(text) or "${{" in text:
        raise SpecError(f"the lab spec {text!r} contains characters a pip requirement does not need")
    if pins_one_lab(text):
        return text
    if _GIT_REF.match(text):
        ref = text.rsplit("@", 1)[1].split("#", 1)[0]
        raise SpecError(
            f"the lab spec {text!r} ends @{ref}, which looks like a branch and moves with every push: "
            "pin a commit sha or a version tag"
        )
    raise SpecError(
        f"the lab spec {text!r} does not pin one lab: use a git URL with @commit "
        "(fluxlab @ git+https://github.com/ORG/fluxlab@<sha>), fluxlab==X.Y.Z or a wheel URL"
    )


@dataclass(frozen=True)
class Runner:
    name: str
    check_id: str
    points: int


def counted_runners(
    checks: Sequence[tuple[str, str, int]], runs_offline: Collection[str] = ()
) -> list[Runner]:
    """Runners for (id, kind, points) checks, named as `lab check` names them: the checks `lab check
    --offline` runs, which are those not of an offline-excluded kind and those `runs_offline` names
    (graded on the task's bundled tags)."""
    names = runner_names([cid for cid, _, _ in checks])
    return [
        Runner(name, cid, points)
        for name, (cid, kind, points) in zip(names, checks, strict=True)
        if kind not in OFFLINE_EXCLUDED or cid in runs_offline
    ]


def _yaml_str(text: str) -> str:
    """A YAML single-quoted scalar (the only escape is '' for ')."""
    return "'" + text.replace("'", "''") + "'"


def render_workflow(task: str, runners: Sequence[Runner], *, lab_spec: str = "", version: str = "") -> str:
    """The workflow text. `lab_spec` "" leaves the pin to the FLUXLAB_LAB_SPEC variable."""
    if lab_spec:
        lab_spec = check_lab_spec(lab_spec)
    # Inside ${{ }} a string literal is single-quoted with '' for '; the spec has no quotes.
    spec_expr = (
        f"${{{{ vars.{SPEC_VARIABLE} || '{lab_spec}' }}}}" if lab_spec else f"${{{{ vars.{SPEC_VARIABLE} }}}}"
    )
    missing = (
        f"::error title=fluxlab is not pinned::{SPEC_VARIABLE} is not set, so no lab can be installed to "
        f"grade this repository. Instructor: run lab classroom init --lab-spec SPEC (or set the "
        f"organisation or repository variable {SPEC_VARIABLE} to a pinned git URL such as "
        "fluxlab @ git+https://github.com/ORG/fluxlab@COMMIT)."
    )
    unpinned = (
        f"::error title=fluxlab is not pinned::{SPEC_VARIABLE}=$spec pins no version or commit; "
        "a bare package name would install whatever is published under it."
    )
    env_lines = "\n".join(
        f'          {r.name.upper()}_RESULTS: "${{{{ steps.lab.outputs.{r.name} }}}}"' for r in runners
    )
    runner_list = ",".join(r.name for r in runners)
    points = ", ".join(f"{r.check_id} {r.points}" for r in runners)
    made_by = f" by fluxlab {version}" if version else ""
    return f"""# GitHub Classroom autograding for task {task}, written{made_by} (`lab init`, `lab classroom init`).
# Classroom only reads scores from this shape: workflow "Autograding Tests", one job
# "run-autograding-tests". The lab is installed exactly as pinned in {SPEC_VARIABLE}, never by a bare
# package name. `lab check --format github` writes the annotations, the step summary and one Classroom
# runner per check; the reporter adds them up, so every number the learner sees is the same.
# Graded offline: CI has no cluster, and registry rate limits would make scores flaky.
# Points per check: {points}.
name: Autograding Tests
on:
  push:
  repository_dispatch:
  workflow_dispatch:
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
      - name: Checkout
        uses: {CHECKOUT}
        with:
          fetch-depth: 0  # git.pushed and git.flux-commit read origin's history
      - name: Set up Python
        uses: {SETUP_PYTHON}
        with:
          python-version: {_yaml_str(PYTHON_VERSION)}
      - name: Install the lab the instructor pinned
        env:
          {SPEC_VARIABLE}: "{spec_expr}"
        run: |
          spec="${SPEC_VARIABLE}"
          if [ -z "$spec" ]; then
            echo {_yaml_str_shell(missing)}
            exit 1
          fi
          pinned='{PIN_RE}'
          if ! [[ "$spec" =~ $pinned ]]; then
            echo {_yaml_str_shell(unpinned)}
            exit 1
          fi
          python -m pip install --quiet --disable-pip-version-check "$spec"
      - name: Check task {task}
        id: lab
        env:
          LAB_POINTS_NOTICE: '0'  # the reporter prints the points line
          NO_COLOR: '1'
        run: lab check --task {task} --format github --offline --workspace .
      - name: Autograding Reporter
        if: always()
        uses: {REPORTER}
        env:
{env_lines}
        with:
          runners: {runner_list}
"""


def written_pin(text: str) -> str:
    """The lab spec a workflow `render_workflow` wrote pins (its `|| 'SPEC'`), "" when it has none or
    the one it has no longer pins one lab."""
    found = re.search(
        rf"^ +{SPEC_VARIABLE}: \"\$\{{\{{ vars\.{SPEC_VARIABLE} \|\| '([^']*)' \}}\}}\"$", text, re.MULTILINE
    )
    if found is None:
        return ""
    try:
        return check_lab_spec(found.group(1))
    except SpecError:
        return ""


def _yaml_str_shell(text: str) -> str:
    # A double-quoted shell word inside a YAML block scalar: "$spec" expands, nothing else does.
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`") + '"'
