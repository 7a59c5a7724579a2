"""Commit messages rendered as image-automation-controller renders them, per IUA API version."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lab.core.commit_message import (
    DEFAULT_MESSAGE,
    REMOVED_IMAGE_RESULT,
    REMOVED_UPDATED,
    CommitTemplateError,
    check_template,
    render_commit_message,
)
from lab.core.refs import Change, ImageRef, ObjectId
from lab.errors import LabError
from tests.support.paths import FLUX_CASES

V1 = "image.toolkit.fluxcd.io/v1"
V1BETA2 = "image.toolkit.fluxcd.io/v1beta2"
V1BETA1 = "image.toolkit.fluxcd.io/v1beta1"
CASES = json.loads((FLUX_CASES / "setters" / "cases.json").read_text())
SEED = CASES["seed_message_template"]


def to_changes(raw: list[dict[str, Any]]) -> list[Change]:
    return [
        Change(
            file=c["file"],
            object=ObjectId(
                c["object"]["apiVersion"], c["object"]["kind"], c["object"]["name"], c["object"]["namespace"]
            ),
            setter=c["setter"],
            old=c["old"],
            new=c["new"],
        )
        for c in raw
    ]


def render(template: str | None, changes: list[Change], api_version: str = V1, **kw: Any) -> str:
    return render_commit_message(
        template,
        changes,
        api_version=api_version,
        automation_namespace="flux-system",
        automation_name="flux-system",
        **kw,
    )


SEED_CHANGE = to_changes(CASES["cases"][0]["changes"])


def test_seed_template_renders_the_documented_bytes() -> None:
    assert (
        render(SEED, SEED_CHANGE) == "Automated image update\n\n\n- nginx:1.25.0 -> library/nginx:1.25.3\n\n"
    )


# A null message marks a case whose line order is random in Flux (several files/objects).
WITH_MESSAGE = [c for c in CASES["cases"] if c.get("commit_message_seed_template") is not None]


@pytest.mark.parametrize("api_version", [V1, V1BETA2, V1BETA1])
@pytest.mark.parametrize("case", WITH_MESSAGE, ids=[c["id"] for c in WITH_MESSAGE])
def test_fixture_cases_render_like_flux(case: dict[str, Any], api_version: str) -> None:
    assert render(SEED, to_changes(case["changes"]), api_version) == case["commit_message_seed_template"]


def test_fixture_case_03_is_deterministic_file_then_object_then_document_order() -> None:
    case = next(c for c in CASES["cases"] if c["id"] == "03-kustomize-images")
    changes = to_changes(case["changes"])
    want = "Automated image update\n\n\n- nginx -> library/nginx\n\n- 1.25.0 -> 1.25.3\n\n- 2.0 -> 1.2.0\n\n"
    assert render(SEED, changes) == want
    assert render(SEED, list(reversed(changes))) == (
        "Automated image update\n\n\n- 1.25.0 -> 1.25.3\n\n- nginx -> library/nginx\n\n- 2.0 -> 1.2.0\n\n"
    )


@pytest.mark.parametrize("template", [None, ""])
def test_empty_template_gives_the_default_message(template: str | None) -> None:
    assert render(template, SEED_CHANGE) == DEFAULT_MESSAGE == "Update from image update automation"


def test_whitespace_template_is_used_verbatim() -> None:
    assert render("  \n", SEED_CHANGE) == "  \n"


def test_flux_docs_example_template() -> None:
    template = (
        "Automated image update\n\nAutomation name: {{ .AutomationObject }}\n\nFiles:\n"
        "{{ range $filename, $_ := .Changed.FileChanges -}}\n- {{ $filename }}\n{{ end -}}\n\n"
        "Objects:\n{{ range $resource, $changes := .Changed.Objects -}}\n"
        "- {{ $resource.Kind }} {{ $resource.Name }}\n  Changes:\n"
        "{{- range $_, $change := $changes }}\n    - {{ $change.OldValue }} -> {{ $change.NewValue }}\n"
        "{{ end -}}\n{{ end -}}\n"
    )
    assert render(template, SEED_CHANGE) == (
        "Automated image update\n\nAutomation name: flux-system/flux-system\n\nFiles:\n"
        "- apps/base/nginx/deployment.yaml\nObjects:\n- Deployment nginx\n  Changes:\n"
        "    - nginx:1.25.0 -> library/nginx:1.25.3\n"
    )


def test_go_printing_of_flux_types() -> None:
    t = (
        "{{ .AutomationObject }}|{{ .AutomationObject.Namespace }}|"
        "{{ range $o, $_ := .Changed.Objects }}{{ $o }}{{ end }}|{{ range .Changed.Changes }}{{ . }}{{ end }}"
    )
    assert render(t, SEED_CHANGE) == (
        "flux-system/flux-system|flux-system|{{{apps/v1 Deployment} {nginx default}}}|"
        "{nginx:1.25.0 library/nginx:1.25.3 flux-system:nginx}"
    )


def test_values_and_missing_values() -> None:
    t = "{{ .Values.env }}/{{ .Values.nope }}/{{ index .Values `nope` }}/{{ default `dev` .Values.nope }}"
    assert render(t, SEED_CHANGE, values={"env": "prod"}) == "prod/<no value>//dev"
    assert render("{{ .Values.env }}", SEED_CHANGE) == "<no value>"


def test_changes_deduplicate_on_old_new_setter() -> None:
    case = next(c for c in CASES["cases"] if c["id"] == "07-multi-document")
    changes = to_changes(case["changes"])
    assert render("{{ len .Changed.Changes }} {{ len .Changed.Objects }}", changes) == "1 2"


def test_objects_merge_across_files_in_v1_but_not_in_v1beta2() -> None:
    case = next(c for c in CASES["cases"] if c["id"] == "03-kustomize-images")
    changes = to_changes(case["changes"])
    t = "{{ range $o, $c := .Changed.Objects }}{{ len $c }}{{ end }}"
    assert render(t, changes, V1) == "5"
    assert render(t, changes, V1BETA2) == "3"


def test_v1beta2_updated_model() -> None:
    images = {"flux-system:nginx": ImageRef("library/nginx", "1.25.3")}
    assert render("{{range .Updated.Images}}{{println .}}{{end}}", SEED_CHANGE, V1BETA2, images=images) == (
        "library/nginx:1.25.3\n"
    )
    t = "{{range .Changed.ImageResult.Images}}{{.Repository}}|{{.Registry}}|{{.Name}}|{{.Identifier}}|{{.Policy}}{{end}}"
    assert render(t, SEED_CHANGE, V1BETA2, images=images) == (
        "library/nginx|index.docker.io|index.docker.io/library/nginx:1.25.3|1.25.3|flux-system/nginx"
    )
    # A plain list of policy results is matched by what each setter wrote.
    assert render(
        "{{ .Updated.Images }}", SEED_CHANGE, V1BETA2, images=[ImageRef("library/nginx", "1.25.3")]
    ) == ("[library/nginx:1.25.3]")


def test_v1_stalls_on_updated() -> None:
    with pytest.raises(CommitTemplateError) as err:
        render("{{range .Updated.Images}}{{println .}}{{end}}", SEED_CHANGE)
    assert err.value.reason == "RemovedTemplateField"
    assert err.value.stalled
    assert (
        err.value.flux_message
        == REMOVED_UPDATED
        == (
            "template uses removed '.Updated' field. Please use '.Changed' instead. "
            "See: https://fluxcd.io/flux/components/image/imageupdateautomations/#message-template"
        )
    )
    assert isinstance(err.value, LabError)
    assert "\n" not in str(err.value)
    assert err.value.hint and ".Changed" in err.value.hint


def test_v1_stalls_on_image_result() -> None:
    with pytest.raises(CommitTemplateError) as err:
        render("{{ .Changed.ImageResult }}", SEED_CHANGE)
    assert err.value.reason == "RemovedTemplateField"
    assert err.value.flux_message == REMOVED_IMAGE_RESULT


def test_removed_field_below_top_level_is_an_ordinary_failure() -> None:
    # Flux matches the Go error text, which names the type the field was looked up in.
    with pytest.raises(CommitTemplateError) as err:
        render("{{ with .Changed }}{{ .Updated }}{{ end }}", SEED_CHANGE)
    assert err.value.reason == "GitOperationFailed"
    assert err.value.flux_message == (
        "failed to update source: failed to run template from spec: template: commit message:1:22: "
        'executing "commit message" at <.Updated>: can\'t evaluate field Updated in type update.Result'
    )


def test_unknown_top_level_field() -> None:
    with pytest.raises(CommitTemplateError) as err:
        render("{{range .Changes}}{{.OldValue}}{{end}}", SEED_CHANGE)
    assert err.value.reason == "GitOperationFailed"
    assert not err.value.stalled
    assert err.value.flux_message == (
        "failed to update source: failed to run template from spec: template: commit message:1:8: "
        'executing "commit message" at <.Changes>: can\'t evaluate field Changes in type source.TemplateData'
    )
    assert err.value.hint and ".Changed.Changes" in err.value.hint


def test_parse_error() -> None:
    with pytest.raises(CommitTemplateError) as err:
        render("{{range .Changed.Changes}}x", SEED_CHANGE)
    assert err.value.reason == "GitOperationFailed"
    assert err.value.flux_message == (
        "failed to update source: unable to create commit message template from spec: "
        "template: commit message:1: unexpected EOF"
    )


def test_nonhermetic_function_is_a_parse_error() -> None:
    with pytest.raises(CommitTemplateError) as err:
        render("{{ now }}", SEED_CHANGE)
    assert err.value.flux_message.endswith('template: commit message:1: function "now" not defined')
    assert err.value.hint and "now" in err.value.hint


def test_unknown_api_version_is_a_lab_error() -> None:
    with pytest.raises(LabError):
        render(SEED, SEED_CHANGE, "image.toolkit.fluxcd.io/v2")


def test_check_template() -> None:
    assert check_template(None, V1) == []
    assert check_template(SEED, V1) == []
    assert check_template("{{range .Updated.Images}}{{println .}}{{end}}", V1) == [REMOVED_UPDATED]
    assert check_template("{{range .Updated.Images}}{{println .}}{{end}}", V1BETA2) == []
    # Found even where the sample render would not go.
    assert check_template("{{ if false }}{{ .Changed.ImageResult }}{{ end }}", V1) == [REMOVED_IMAGE_RESULT]
    assert check_template("{{ $.Updated }}", V1) == [REMOVED_UPDATED]
    assert check_template("{{ if false }}{{ .Changes }}{{ end }}", V1) == [
        "failed to update source: failed to run template from spec: template: commit message:1:17: "
        'executing "commit message" at <.Changes>: can\'t evaluate field Changes in type source.TemplateData'
    ]
    assert check_template("{{ .Foo", V1) == [
        "failed to update source: unable to create commit message template from spec: "
        "template: commit message:1: unclosed action"
    ]
    # Inside range the dot is a change, so .OldValue is fine there.
    assert check_template("{{ range .Changed.Changes }}{{ .OldValue }}{{ .Nope }}{{ end }}", V1) == [
        "failed to update source: failed to run template from spec: template: commit message:1:46: "
        'executing "commit message" at <.Nope>: can\'t evaluate field Nope in type update.Change'
    ]


def test_digest_only_reference_has_no_colon() -> None:
    digest = "sha256:" + "b" * 64
    images = {"flux-system:nginx": ImageRef("ghcr.io/org/app", "", digest)}
    t = "{{range .Updated.Images}}{{println .}}{{.Name}}|{{.Identifier}}{{end}}"
    assert render(t, SEED_CHANGE, V1BETA2, images=images) == (
        f"ghcr.io/org/app@{digest}\nghcr.io/org/app@{digest}|{digest}"
    )
    # ggcr v0.19.1: `localhost/app` is Docker Hub's repository `localhost/app`.
    local = {"flux-system:nginx": ImageRef("localhost/app", "v1")}
    t = "{{range .Changed.ImageResult.Images}}{{.Registry}}|{{.Repository}}{{end}}"
    assert render(t, SEED_CHANGE, V1BETA2, images=local) == "index.docker.io|localhost/app"
    assert ImageRef("ghcr.io/org/app", "", digest).full() == f"ghcr.io/org/app@{digest}"
    assert ImageRef("ghcr.io/org/app", "v1", digest).full() == f"ghcr.io/org/app:v1@{digest}"
