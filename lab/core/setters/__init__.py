"""Flux's Setters strategy, byte for byte: markers, value setting and yaml.v3 re-serialisation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.core.lazy import exports

if TYPE_CHECKING:
    from lab.core.setters.apply import FileRewrite, rewrite, setter_values
    from lab.core.setters.find import Marker, find_markers, unread_lines

__all__ = ["FileRewrite", "Marker", "find_markers", "rewrite", "setter_values", "unread_lines"]

# Imported on first use (PEP 562): `lab check` reads markers (find) but never rewrites, and the
# yaml.v3 emitter behind `rewrite` is a large import it would pay on every run.
__getattr__ = exports(
    __name__,
    {
        "FileRewrite": "lab.core.setters.apply",
        "rewrite": "lab.core.setters.apply",
        "setter_values": "lab.core.setters.apply",
        "Marker": "lab.core.setters.find",
        "find_markers": "lab.core.setters.find",
        "unread_lines": "lab.core.setters.find",
    },
)
