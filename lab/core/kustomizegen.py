"""Which files kustomize-controller decodes when it generates the kustomization of a path that has none.

Flux's generator (fluxcd/pkg kustomize `scanManifests`) walks the path in lexical order, skips a
sub-directory holding its own kustomization file (added as one resource, built by kustomize), and
decodes every other file ending .yaml or .yml. One that does not decode fails the whole build: the
Kustomization goes Ready=False with reason BuildFailed and nothing under the path is applied.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping

from lab.core.manifests.models import KUSTOMIZATION_NAMES
from lab.core.text import abbreviate
from lab.errors import LabError

BUILD_FAILED = "BuildFailed"


def decode_error(file: str, error: str) -> str:
    """The generator's error for a file it cannot decode (the controller's Ready message)."""
    return f"failed to decode Kubernetes YAML from {file}: {error}"


def generated_files(files: Iterable[str], root: str) -> list[str]:
    """The files of `files` (repository-relative) the generator decodes for the path `root`, in its walk
    order; none when `root` holds a kustomization file, which kustomize reads instead."""
    present = set(files)

    def has_kustomization(directory: str) -> bool:
        return any((posixpath.join(directory, n) if directory else n) in present for n in KUSTOMIZATION_NAMES)

    if has_kustomization(root):
        return []
    prefix = f"{root}/" if root else ""
    out: list[str] = []
    for file in sorted((f for f in present if f.startswith(prefix)), key=lambda f: f.split("/")):
        if not file.endswith((".yaml", ".yml")):
            continue
        parts = file[len(prefix) :].split("/")
        if any(has_kustomization(prefix + "/".join(parts[:i])) for i in range(1, len(parts))):
            continue
        out.append(file)
    return out


def first_undecodable(
    files: Iterable[str],
    texts: Mapping[str, str],
    root: str,
    load: Callable[[str, str], object],
    skip: Callable[[str], bool] = lambda _file: False,
) -> tuple[str, LabError] | None:
    """The first file the generator fails on for `root` and the parse error (`load(text, file)` raises
    LabError), or None; `texts` holds the files the lab could read, `skip` those Flux never receives."""
    for file in generated_files(files, root):
        if file not in texts or skip(file):
            continue
        try:
            load(texts[file], file)
        except LabError as err:
            return file, err
    return None


def failure_message(file: str, err: LabError, shown: str) -> str:
    """What the failing build means, for the check and `lab why` alike."""
    error = err.message.removeprefix("invalid YAML: ")
    file = abbreviate(file)  # a path of hundreds of characters must not crowd out Flux's reason
    return (
        f"{file} does not decode, so the flux-system Kustomization applies nothing under {shown}, the image "
        f"automation included: Ready=False, {BUILD_FAILED}, '{decode_error(file, error)}' (kustomize-controller "
        "decodes every .yaml/.yml file there to generate the path's kustomization)"
    )


def failure_fix(file: str, err: LabError) -> str:
    start = f"{err.hint}, or " if err.hint else "fix the YAML, or "
    return f"{start}delete {abbreviate(file)} (or rename it to end other than .yaml/.yml); commit and push"
