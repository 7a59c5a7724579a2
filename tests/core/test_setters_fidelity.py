"""Files the setters once wrote differently from image-automation-controller.

Each expected text is what go.yaml.in/yaml/v3 v3.0.4 wrote running kyaml v0.21.1's setter steps on
the input (the harness that reproduces the controller fixtures), byte for byte; `None` when Flux
changes nothing.
"""

from __future__ import annotations

import pytest

from lab.core.refs import ImageRef
from lab.core.setters import rewrite

SETTERS = {"flux-system:nginx": ImageRef("library/nginx", "1.25.3")}
M = '# {"$imagepolicy": "flux-system:nginx"}'

CASES: dict[str, tuple[str, str | None]] = {
    # A comment line right under a block scalar's last line is the scalar's foot (yaml.v3 counts
    # the breaks after the last character the scalar reads), not a comment after a blank line.
    "comment-under-literal-ends-document": (
        f"image: nginx:1.25.0 {M}\nb: |\n  lit\n# c\n",
        f"image: library/nginx:1.25.3 {M}\nb: |\n  lit\n# c\n",
    ),
    "comment-under-folded-ends-document": (
        f"b: '1.4' {M}\nname: >\n  fold2\n# trailing\n",
        f"b: 'library/nginx:1.25.3' {M}\nname: >\n  fold2\n\n# trailing\n",
    ),
    "comment-under-literal-before-blank-line": (
        f"a: 1\nb: |\n  lit\n# c\n\nimage: nginx:1.25.0 {M}\n",
        f"a: 1\nb: |\n  lit\n# c\n\nimage: library/nginx:1.25.3 {M}\n",
    ),
    "comment-under-folded-before-blank-line": (
        f"a: >\n  f\n# c\n\nimage: nginx:1.25.0 {M}\n",
        f"a: >\n  f\n\n# c\n\nimage: library/nginx:1.25.3 {M}\n",
    ),
    # On a document's first line yaml.v3 finds no foot line (its scan starts on line 0): after a
    # line comment or a quoted scalar there, the comment under it heads the next key, and the
    # blank line between them is not written.
    "comment-under-first-line-comment": (
        f"a: 1 # x\n# foot\n\nimage: nginx:1.25.0 {M}\n",
        f"a: 1 # x\n# foot\nimage: library/nginx:1.25.3 {M}\n",
    ),
    "comment-under-first-line-quoted": (
        f'a: "q"\n# foot\n\nimage: nginx:1.25.0 {M}\n',
        f'a: "q"\n# foot\nimage: library/nginx:1.25.3 {M}\n',
    ),
    "comment-under-first-line-flow": (
        f"a: [1]\n# foot\n\nimage: nginx:1.25.0 {M}\n",
        f"a: [1]\n# foot\nimage: library/nginx:1.25.3 {M}\n",
    ),
    # A plain scalar reads on past its line break: the comment is its foot, the blank line stays.
    "comment-under-first-line-plain": (
        f"a: 1\n# foot\n\nimage: nginx:1.25.0 {M}\n",
        f"a: 1\n# foot\n\nimage: library/nginx:1.25.3 {M}\n",
    ),
    # A single-key document: its line comment is on line 0, so the comment under it is the
    # document's foot, written after a blank line.
    "single-key-then-comment": (
        f"image: nginx:1.25.0 {M}\n# trailing\n",
        f"image: library/nginx:1.25.3 {M}\n\n# trailing\n",
    ),
    "single-key-then-comment-then-document": (
        f"image: nginx:1.25.0 {M}\n# trailing\n---\na: 1\n",
        f"image: library/nginx:1.25.3 {M}\n\n# trailing\n---\na: 1\n",
    ),
    # `...` right under a comment is a token at column 0: the comment heads it (the document's foot)
    # instead of being the last key's foot.
    "comment-above-document-end": (
        f"image: nginx:1.25.0 {M}\nb: 2\n# trailing\n...\n",
        f"image: library/nginx:1.25.3 {M}\nb: 2\n\n# trailing\n",
    ),
    "indented-comment-above-document-end": (
        f"image: nginx:1.25.0 {M}\na:\n  b: 2\n  # c\n# d\n...\n",
        f"image: library/nginx:1.25.3 {M}\na:\n  b: 2\n  # c\n\n# d\n",
    ),
    # At the end of a document a comment at the column of a sequence whose dashes sit at its key's
    # column is the last item's foot (not the key's): re-indented as the wide style indents the items.
    "comment-under-last-item-of-reindented-sequence": (
        f"images:\n  - nginx:1.25.0 {M}\nargs:\n- --debug\n# end\n",
        f"images:\n  - library/nginx:1.25.3 {M}\nargs:\n  - --debug\n  # end\n",
    ),
    # An empty item (a `-` alone) is an event without comments in yaml.v3: a marker above it is
    # not read for it (Flux changes nothing) ...
    "marker-above-empty-item": (
        """b:\n  # {"$imagepolicy":"flux-system:nginx:tag"}\n  -  # plain\n""",
        None,
    ),
    # ... but heads the next item, which Flux then sets.
    "marker-above-empty-item-heads-the-next": (
        f"b:\n  - x\n  {M}\n  -\n  - nginx:1.0\n",
        f"b:\n  - x\n  -\n  {M}\n  - library/nginx:1.25.3\n",
    ),
    "comment-above-empty-item-keeps-its-blank-line": (
        f"a: x {M}\nb:\n  # h\n\n  -\n  - y\n",
        f"a: library/nginx:1.25.3 {M}\nb:\n-\n# h\n- y\n",
    ),
    # After a `---` first line every comment run above the first key heads it: the blank line
    # before the key is dropped (the one between runs stays), and a comment after the `---` is the
    # first line of that header.
    "document-start-then-header-and-blank-line": (
        f"---\n# c\n\nimage: nginx:1.25.0 {M}\n",
        f"# c\nimage: library/nginx:1.25.3 {M}\n",
    ),
    "document-start-then-header-runs": (
        f"---\n# c\n\n\n# d\n\nimage: nginx:1.25.0 {M}\n",
        f"# c\n\n# d\nimage: library/nginx:1.25.3 {M}\n",
    ),
    "document-start-with-comment-then-header": (
        f"--- # x\n# c\n\nimage: nginx:1.25.0 {M}\n",
        f"# x\n# c\nimage: library/nginx:1.25.3 {M}\n",
    ),
    # Without a line break at the end of the text yaml.v3 closes the blocks the last line reaches
    # past only after the comments on it: a comment left of them is the innermost one's foot (of
    # its last key; a sequence hands it to its key), not the foot of the block at its column.
    "comment-left-of-mapping-without-final-break": (
        f"spec:\n  image: nginx:1.25.0 {M}\n# end",
        f"spec:\n  image: library/nginx:1.25.3 {M}\n  # end\n",
    ),
    "comment-left-of-sequence-without-final-break": (
        f"spec:\n  images:\n    - nginx:1.25.0 {M}\n# end",
        f"spec:\n  images:\n    - library/nginx:1.25.3 {M}\n  # end\n",
    ),
    "comment-left-of-mapping-with-final-break": (
        f"spec:\n  image: nginx:1.25.0 {M}\n# end\n",
        f"spec:\n  image: library/nginx:1.25.3 {M}\n# end\n",
    ),
    # A comment after a lone `-` that ends its sequence is not the item's: yaml.v3 scans it as a
    # line of its own, a foot that the mapping's end hands to the sequence's key (written under
    # the sequence, a blank line after it) ...
    "comment-after-empty-last-item-is-the-key-foot": (
        f"args:\n  - --debug\n  -  # plain\nimage: nginx:1.25.0 {M}\n",
        f"args:\n  - --debug\n  -\n# plain\n\nimage: library/nginx:1.25.3 {M}\n",
    ),
    "comment-lines-after-empty-last-item-are-the-key-foot": (
        f"spec:\n  args:\n    -  # plain\n    # more\n  image: nginx:1.25.0 {M}\n",
        f"spec:\n  args:\n    -\n  # plain\n  # more\n\n  image: library/nginx:1.25.3 {M}\n",
    ),
    # ... or the document's foot at its end (the reader lost it).
    "comment-after-empty-item-ends-document": (
        f"image: nginx:1.25.0 {M}\nargs:\n  -  # plain\n",
        f"image: library/nginx:1.25.3 {M}\nargs:\n  -\n\n# plain\n",
    ),
    # The comments under a `-` alone on its line: yaml.v3 scans them with the `-` as the token
    # before them. Followed by the item's content, they head it (Flux sets it) ...
    "marker-under-a-dash-heads-the-item": (
        f"images:\n-\n  {M}\n  nginx:1.25.0\n",
        f"images:\n{M}\n- library/nginx:1.25.3\n",
    ),
    # ... and a mapping item's first key, the comment above the `-` heading the mapping.
    "comment-under-a-dash-heads-the-first-key": (
        f"image: nginx:1.25.0 {M}\nitems:\n# above\n-\n  # note\n  a: 1\n",
        f"image: library/nginx:1.25.3 {M}\nitems:\n# above\n- # note\n  a: 1\n",
    ),
    # Before a blank line they are the `-`'s foot, which an empty item's event does not take: the
    # next item's takes it ...
    "comment-under-empty-item-before-blank-line-is-next-item-foot": (
        f"image: nginx:1.25.0 {M}\nargs:\n-\n  # note\n\n- --debug\n",
        f"image: library/nginx:1.25.3 {M}\nargs:\n-\n- --debug\n# note\n",
    ),
    # ... or, when the blocks close first, the end of the innermost mapping (its last key's foot).
    "comment-under-empty-last-item-is-the-mapping-foot": (
        f"image: nginx:1.25.0 {M}\nspec:\n  args:\n    -\n      # note\n\nkind: x\n",
        f"image: library/nginx:1.25.3 {M}\nspec:\n  args:\n  -\n  # note\nkind: x\n",
    ),
    # The foot after a `-` closing its mapping goes to the mapping's end (its last key) and the
    # head under it waits for the next key: each is written once, where yaml.v3 puts it.
    "comment-after-empty-item-then-head-of-next-key": (
        f"image: nginx:1.25.0 {M}\nspec:\n  args:\n    -  # note\n# about kind\nkind: x\n",
        f"image: library/nginx:1.25.3 {M}\nspec:\n  args:\n    -\n  # note\n# about kind\nkind: x\n",
    ),
    # A marker above an empty item is held for the next event that takes comments; when a block
    # mapping ends first, its end event takes it and decode keeps no head of it: it is lost.
    "marker-above-empty-item-lost-at-mapping-end": (
        f"image: nginx:1.25.0 {M}\nspec:\n  args:\n  # above\n  -\nkind: x\n",
        f"image: library/nginx:1.25.3 {M}\nspec:\n  args:\n  -\nkind: x\n",
    ),
    # kyaml decodes one document per piece: a document indented at its first line ends at a
    # dedented line, which yaml.v3 never reads (and Flux drops when it writes the file).
    "indented-document-ends-at-a-dedented-line": (
        f"  image: nginx:1.25.0 {M}\nkind: x\n",
        f"image: library/nginx:1.25.3 {M}\n",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_setters_write_what_flux_writes(name: str) -> None:
    source, expected = CASES[name]
    result = rewrite(source.encode(), SETTERS, "flux-system", f"{name}.yaml")
    assert result.skipped is None
    written = None if result.content is None else result.content.decode()
    assert written == expected
