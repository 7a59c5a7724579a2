"""lab.core.diff: valid unified diffs, difflib's format, and a cost that stays near-linear on manifests
whose documents repeat the same lines (difflib's own matcher took minutes on 2 MB of them)."""

from __future__ import annotations

import difflib
import random
import time

import pytest

from lab.core.diff import _lines, _Matcher, file_diff


def _documents(count: int, tag: str) -> str:
    return "".join(
        f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}\nspec:\n  template:\n"
        f"    spec:\n      containers:\n        - name: c\n          image: nginx:{tag} # marker\n"
        f'          env:\n            - name: X\n              value: "y{i}"\n'
        for i in range(count)
    )


def test_opcodes_rebuild_the_new_text_from_random_edits() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        alphabet = rng.choice(["ab", "abcde", "abcdefghijklmnop"])
        old = [rng.choice(alphabet) + "\n" for _ in range(rng.randint(0, 40))]
        new = list(old)
        for _ in range(rng.randint(0, 6)):
            roll = rng.random()
            if roll < 0.4 and new:
                new[rng.randrange(len(new))] = rng.choice(alphabet) + "\n"
            elif roll < 0.7:
                new.insert(rng.randint(0, len(new)), rng.choice(alphabet) + "\n")
            elif new:
                del new[rng.randrange(len(new))]
        rebuilt: list[str] = []
        for tag, i1, i2, j1, j2 in _Matcher(old, new).get_opcodes():
            if tag == "equal":
                assert old[i1:i2] == new[j1:j2]
                rebuilt += old[i1:i2]
            else:
                rebuilt += new[j1:j2]
        assert rebuilt == new


def test_a_diff_out_of_search_budget_is_still_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    from lab.core import diff

    old = _lines(_documents(50, "1.25.0"))
    new = _lines(_documents(50, "1.25.3"))
    full = diff._matching_blocks(old, new)
    monkeypatch.setattr(diff, "_PASSES", 0)
    cut = diff._matching_blocks(old, new)
    assert sum(n for _, _, n in cut) < sum(n for _, _, n in full)  # the search stopped early
    rebuilt: list[str] = []
    for tag, i1, i2, j1, j2 in _Matcher(old, new).get_opcodes():
        rebuilt += old[i1:i2] if tag == "equal" else new[j1:j2]
    assert rebuilt == new


def test_a_manifest_edit_reads_as_difflib_writes_it() -> None:
    old = _documents(3, "1.25.0")
    new = old.replace('value: "y1"', 'value: "z1"\n              extra: "1"').replace(
        "nginx:1.25.0", "nginx:1.25.3", 1
    )
    new = new.replace("kind: Deployment\n", "", 1)
    want = "".join(difflib.unified_diff(_lines(old), _lines(new), fromfile="a/m.yaml", tofile="b/m.yaml"))
    assert file_diff("m.yaml", old, new) == want
    assert file_diff("m.yaml", old, old) == ""
    assert file_diff("m.yaml", "", "a\n") == "--- a/m.yaml\n+++ b/m.yaml\n@@ -0,0 +1 @@\n+a\n"
    assert (
        file_diff("m.yaml", "a\r\nb", "a\r\nc") == "--- a/m.yaml\n+++ b/m.yaml\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
    )


def _seconds(count: int) -> float:
    old, new = _documents(count, "1.25.0"), _documents(count, "1.25.3")
    best = float("inf")
    for _ in range(3):
        start = time.process_time()  # CPU of this process: other test workers distort it least
        diff = file_diff("m.yaml", old, new)
        best = min(best, time.process_time() - start)
    assert diff.count("\n+          image: nginx:1.25.3") == count
    return best


def test_diffing_every_document_changed_grows_about_linearly() -> None:
    # difflib's matcher: 500 -> 2000 documents cost 16x (0.5 s -> 8 s); this one ~4.3x in CPU time on an
    # idle machine, and up to 8.3x in wall time beside two other test workers: 10x in CPU time.
    small, large = _seconds(500), _seconds(2000)
    assert large < 10 * small, (small, large)
