"""Flux's spec.image rules: canonical names (ggcr) and ImageURLInvalid messages (reference 2.2)."""

from __future__ import annotations

import pytest

from lab.core.imagename import ImageNameError, canonical_name, image_warnings, parse_image, spelling_hint


@pytest.mark.parametrize(
    ("image", "canonical"),
    [
        ("nginx", "index.docker.io/library/nginx"),
        ("library/nginx", "index.docker.io/library/nginx"),
        ("docker.io/library/nginx", "index.docker.io/library/nginx"),
        ("docker.io/nginx", "index.docker.io/library/nginx"),
        ("index.docker.io/nginx", "index.docker.io/library/nginx"),
        ("registry-1.docker.io/nginx", "registry-1.docker.io/nginx"),
        ("bitnami/nginx", "index.docker.io/bitnami/nginx"),
        ("localhost:5000/app", "localhost:5000/app"),
        # ggcr v0.19.1 (pinned by image-reflector-controller) splits a registry off only at `.` or `:`.
        ("localhost/app", "index.docker.io/localhost/app"),
        ("localhost:5000/app", "localhost:5000/app"),
        ("gcr.io/google.com/project-id/hello-world", "gcr.io/google.com/project-id/hello-world"),
        ("example.com/a/b", "example.com/a/b"),
        ("[::1]:5000/app", "[::1]:5000/app"),
        ("reg.io:/app", "reg.io:/app"),
        ("127.0.0.1:5000/team/app", "127.0.0.1:5000/team/app"),
        ("ghcr.io/org/app", "ghcr.io/org/app"),
    ],
)
def test_canonical_names(image: str, canonical: str) -> None:
    assert canonical_name(image) == canonical
    assert parse_image(image).original == image


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (
            "https://ghcr.io/org/app",
            "image 'https://ghcr.io/org/app' should not include URL scheme; remove 'https://'",
        ),
        ("nginx:1.25", "image 'nginx:1.25' should not include a tag; remove ':1.25'"),
        ("library/nginx:latest", "image 'library/nginx:latest' should not include a tag; remove ':latest'"),
        ("localhost:5000/app:v1", "image 'localhost:5000/app:v1' should not include a tag; remove ':v1'"),
        (
            "nginx@sha256:" + "a" * 64,
            f"image 'nginx@sha256:{'a' * 64}' should not include a tag; remove ':{'a' * 64}'",
        ),
        ("Nginx", "could not parse reference: Nginx"),
        ("ghcr.io/Org/App", "could not parse reference: ghcr.io/Org/App"),
        ("", "could not parse reference: "),
        ("n", "could not parse reference: n"),
        ("nginx:", "could not parse reference: nginx:"),
        ("ngi nx", "could not parse reference: ngi nx"),
        # ggcr repository_test.go badRepositoryNames, and registries Go's url.Parse refuses.
        ("white space", "could not parse reference: white space"),
        ("b@char/image", "could not parse reference: b@char/image"),
        ("a b.io/foo", "could not parse reference: a b.io/foo"),
        ("reg.io:abc/app", "could not parse reference: reg.io:abc/app"),
        ("re%41.io/app", "could not parse reference: re%41.io/app"),
        ("re|g.io/app", "could not parse reference: re|g.io/app"),
        ("[::1/app", "could not parse reference: [::1/app"),
        ("re\tg.io/app", "could not parse reference: re\tg.io/app"),
    ],
)
def test_rejected_images_carry_fluxs_message(image: str, message: str) -> None:
    with pytest.raises(ImageNameError) as info:
        parse_image(image)
    assert str(info.value) == message
    assert info.value.reason == "ImageURLInvalid"
    assert info.value.hint


def test_a_url_with_a_password_is_refused_without_showing_it() -> None:
    with pytest.raises(ImageNameError) as info:
        parse_image("http://bob:PW3@127.0.0.1:5500/nginx")
    assert (
        str(info.value)
        == "image 'http://***@127.0.0.1:5500/nginx' should not include URL scheme; remove 'http://'"
    )
    assert "PW3" not in (info.value.hint or "")
    assert "e.g. 127.0.0.1:5500/nginx " in (info.value.hint or "")
    parse_image("127.0.0.1:5500/nginx")  # what the hint suggests is an image name


def test_upper_case_hint_suggests_lower_case() -> None:
    with pytest.raises(ImageNameError) as info:
        parse_image("Library/Nginx")
    assert "library/nginx" in info.value.hint


def test_warnings_for_accepted_but_surprising_names() -> None:
    assert image_warnings("library/nginx") == []
    (warning,) = image_warnings("registry-1.docker.io/nginx")
    assert "library/nginx" in warning
    assert image_warnings("my--app") == []  # OCI allows repeated dashes
    assert image_warnings("a__b_") != []


@pytest.mark.parametrize(
    ("image", "hint"),
    [
        ("nginx", "Docker Hub was asked for library/nginx (a bare nginx is the same)"),
        ("docker.io/library/ngnix", "Docker Hub was asked for library/ngnix (a bare ngnix is the same)"),
        ("ghcr.io/acme/shpo", "the registry was asked for ghcr.io/acme/shpo"),
        ("registry-1.docker.io/foo", "the registry was asked for registry-1.docker.io/foo"),
    ],
)
def test_spelling_hint_names_what_the_registry_was_asked_for(image: str, hint: str) -> None:
    assert spelling_hint(image) == f"check spec.image for a typo: {hint}"


def test_spelling_hint_without_a_parsable_image() -> None:
    assert spelling_hint("") == "check spec.image for a typo"
    assert spelling_hint("https://ghcr.io/acme/shop") == parse_hint("https://ghcr.io/acme/shop")


def parse_hint(image: str) -> str | None:
    with pytest.raises(ImageNameError) as info:
        parse_image(image)
    return info.value.hint
