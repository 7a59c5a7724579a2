"""Every line the app draws reaches the terminal without a character that could steer it.

`lab.tui.terminal` replaces Textual's `Strip.render`; here it must write what Textual writes for clean
text (so a Textual upgrade that changes the original shows), drop controls, bidi and separators from
a segment's text (never Textual's own style sequences), and be what the app draws with.
"""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from lab.core.text import drop_controls
from lab.tui import terminal
from tests.support.tui_helpers import lab_app, make_session

CONSOLE = Console(file=io.StringIO(), color_system="truecolor", force_terminal=True)


def _strip(*segments: Segment) -> Strip:
    return Strip(list(segments))


def test_clean_text_is_written_as_textual_writes_it() -> None:
    terminal.install()
    segments = [
        Segment("image: nginx:1.25.0", Style(color="red", bold=True)),
        Segment('  # {"$imagepolicy": "flux-system:nginx"}', None),
        Segment("ünïcode ✔ 界", Style(link="https://example.com", underline=True)),
    ]
    assert _strip(*segments).render(CONSOLE) == terminal.TEXTUAL_RENDER(_strip(*segments), CONSOLE)


def test_controls_in_a_segment_are_dropped_and_the_styles_kept() -> None:
    terminal.install()
    hostile = "evil\x1b]2;PWNED\x07\u202exyz\x9b2J\r\n\t\u2028\ufeff.yaml"
    out = _strip(Segment(hostile, Style(bold=True)), Segment("\x1b[2J", None)).render(CONSOLE)
    clean = drop_controls(hostile)
    assert clean == "evil]2;PWNEDxyz2J.yaml"
    assert out == terminal.TEXTUAL_RENDER(
        _strip(Segment(clean, Style(bold=True)), Segment("[2J", None)), CONSOLE
    )
    assert "\x07" not in out and "\u202e" not in out and "\x9b" not in out and "\x1b]" not in out
    assert out.count("\x1b[") == 2  # bold on, and off: Textual's own


def test_building_the_app_installs_it(tmp_path: Path) -> None:
    Strip.render = terminal.TEXTUAL_RENDER  # type: ignore[method-assign]
    try:
        lab_app(make_session(tmp_path))
        assert Strip.render is not terminal.TEXTUAL_RENDER
        assert _strip(Segment("a\x1b[2Jb", None)).render(CONSOLE) == "a[2Jb"
    finally:
        terminal.install()
