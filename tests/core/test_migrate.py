"""`lab migrate`: v1beta1/v1beta2 image manifests to v1 in place, every other byte kept (flux migrate -f)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.core.migrate import detect_upgrades, migrate_text
from tests.support.labrun import run_lab

SEED_UPDATE = """\
---
apiVersion: image.toolkit.fluxcd.io/v1beta2   # from the course text
kind: ImageUpdateAutomation
metadata:
  name: flux-system
spec:
  git:
    commit:
      messageTemplate: '{{range .Updated.Images}}{{println .}}{{end}}'
---
kind: ImagePolicy
apiVersion: "image.toolkit.fluxcd.io/v1beta1"
metadata: {name: nginx}
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: GitRepository
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
"""


def test_only_the_version_of_old_image_kinds_changes() -> None:
    result = migrate_text(SEED_UPDATE, "x.yaml")
    assert [(u.line, u.kind, u.old_version) for u in result.upgrades] == [
        (2, "ImageUpdateAutomation", "v1beta2"),
        (12, "ImagePolicy", "v1beta1"),
    ]
    expected = SEED_UPDATE.replace(
        "image.toolkit.fluxcd.io/v1beta2   #", "image.toolkit.fluxcd.io/v1   #"
    ).replace('"image.toolkit.fluxcd.io/v1beta1"', '"image.toolkit.fluxcd.io/v1"')
    assert result.new_text == expected
    (warning,) = result.template_warnings
    assert warning.line == 9 and warning.field == ".Updated"
    assert warning.message.startswith(
        "template uses removed '.Updated' field. Please use '.Changed' instead."
    )


def test_crlf_and_missing_final_newline_are_kept() -> None:
    text = "apiVersion: image.toolkit.fluxcd.io/v1beta2\r\nkind: ImageRepository\r\nspec: {}"
    assert migrate_text(text).new_text == text.replace("v1beta2", "v1")


def test_nested_api_versions_are_not_documents() -> None:
    text = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: image.toolkit.fluxcd.io/v1beta2\n    kind: ImagePolicy\n"
    assert detect_upgrades(text) == []


@pytest.mark.slow
def test_lab_migrate_rewrites_in_place_and_reports(tmp_path: Path, lab_env: dict[str, str]) -> None:
    ws = tmp_path / "repo"
    (ws / "clusters").mkdir(parents=True)
    (ws / "clusters" / "update.yaml").write_text(SEED_UPDATE, encoding="utf-8")
    (ws / "clusters" / "notes.txt").write_text(
        "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\n"
    )
    dry = run_lab("migrate", "-f", ".", "--dry-run", env=lab_env, cwd=ws)
    assert dry.returncode == 0, dry.stderr
    assert "✚ clusters/update.yaml:2: ImageUpdateAutomation v1beta2 -> v1" in dry.stderr
    assert "✚ clusters/update.yaml:12: ImagePolicy v1beta1 -> v1" in dry.stderr
    assert "clusters/update.yaml:9: spec.git.commit.messageTemplate uses .Updated" in dry.stderr
    assert "RemovedTemplateField" in dry.stderr
    assert "✔ dry-run mode enabled, no changes will be made" in dry.stderr
    assert (ws / "clusters" / "update.yaml").read_text(encoding="utf-8") == SEED_UPDATE

    run = run_lab("migrate", "-f", ".", env=lab_env, cwd=ws)
    assert run.returncode == 0, run.stderr
    assert "✔ file clusters/update.yaml migrated successfully" in run.stderr
    after = (ws / "clusters" / "update.yaml").read_text(encoding="utf-8")
    assert "v1beta" not in after.replace("source.toolkit.fluxcd.io/v1beta2", "")
    assert len(after.splitlines()) == len(SEED_UPDATE.splitlines())
    assert (ws / "clusters" / "notes.txt").read_text().count("v1beta2") == 1, "only --extensions files"

    again = run_lab("migrate", ".", env=lab_env, cwd=ws)
    assert "✔ no custom resources found that require migration" in again.stderr


@pytest.mark.slow
def test_lab_migrate_missing_path_is_one_line(tmp_path: Path, lab_env: dict[str, str]) -> None:
    proc = run_lab("migrate", "-f", "nope", env=lab_env, cwd=tmp_path)
    assert proc.returncode != 0
    assert "failed to stat path nope" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_file_that_opens_with_a_bom_is_migrated_and_keeps_it() -> None:
    text = "\ufeffapiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata:\n  name: x\n"
    result = migrate_text(text)
    assert [(u.line, u.kind) for u in result.upgrades] == [(1, "ImagePolicy")]
    assert result.new_text == text.replace("v1beta2", "v1")
