"""What an ImageRepository scan stores."""

from __future__ import annotations

import zlib

import pytest

from lab.core.scan import DEFAULT_EXCLUSION, ScanError, go_json_tags, latest_tags, scan_revision, store_tags
from lab.errors import LabError


def test_stored_order_and_latest_tags_match_flux_test_data() -> None:
    tags = ["-62", "-88", "73", "72", "15", "16", "15", "29", "-33", "-91", "100", "101"]
    stored = store_tags(tags)
    assert latest_tags(stored) == ["73", "72", "29", "16", "15", "15", "101", "100", "-91", "-88"]
    assert len(stored) == 12


def test_descending_byte_order_is_not_newest_first() -> None:
    stored = store_tags(["1.27.0", "latest", "1.9", "alpine", "Z", "é"])
    assert stored == ["é", "latest", "alpine", "Z", "1.9", "1.27.0"]


def test_revision_is_adler32_of_go_json() -> None:
    stored = store_tags(["a", "b", "c", "d"])
    assert stored == ["d", "c", "b", "a"]
    assert scan_revision(stored) == "580584407"
    assert scan_revision([]) == str(zlib.adler32(b"[]"))


def test_go_json_escapes_html_and_controls() -> None:
    assert go_json_tags(["a<b>&", 't\tq"\\', "\x01", "\u2028"]) == (
        b'["a\\u003cb\\u003e\\u0026","t\\tq\\"\\\\","\\u0001","\\u2028"]'
    )


def test_default_exclusion_drops_signatures() -> None:
    assert DEFAULT_EXCLUSION == ("^.*\\.sig$",)
    tags = ["sha256-abc.sig", "1.0.0", "1.0.0.sig.bak", "x.SIG"]
    assert store_tags(tags) == ["x.SIG", "1.0.0.sig.bak", "1.0.0"]


def test_any_exclusion_matching_drops_the_tag_and_empty_list_keeps_all() -> None:
    tags = ["1.0.0", "1.0.0-rc.1", "latest", "a.sig"]
    assert store_tags(tags, ["-rc", "^latest$"]) == ["a.sig", "1.0.0"]
    assert store_tags(tags, []) == sorted(tags, reverse=True)


def test_exclusions_are_go_regexps() -> None:
    # Go's `$` does not match before a trailing newline; `\z` is Go's end of text.
    assert store_tags(["v1\n", "v1"], ["^v1$"]) == ["v1\n"]
    assert store_tags(["ab", "cd"], [r"b\z"]) == ["cd"]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("[=", "failed to compile regex [=: error parsing regexp: missing closing ]: `[=`"),
        (
            "(?=x)",
            "failed to compile regex (?=x): error parsing regexp: invalid or unsupported Perl syntax: `(?=`",
        ),
    ],
)
def test_bad_exclusion_is_a_scan_error(pattern: str, message: str) -> None:
    with pytest.raises(ScanError) as err:
        store_tags(["a"], [pattern])
    assert isinstance(err.value, LabError)
    assert err.value.message == message
    assert "\n" not in str(err.value)


def test_a_tags_file_stands_for_the_scanned_image_alone() -> None:
    from lab.core.scan import tags_origin

    assert tags_origin("nginx", scanned="docker.io/library/nginx", tags_file=True) == "tags file"
    assert tags_origin("ghcr.io/acme/shop", scanned="library/nginx", tags_file=True) == "bundled"
    assert tags_origin("ghcr.io/acme/shop", scanned=None, tags_file=True) == "bundled"
    assert tags_origin("ghcr.io/acme/shop", scanned="ghcr.io/acme/shop", tags_file=False) == "registry"
