"""Flux's Setters strategy, byte for byte: markers, value setting and yaml.v3 re-serialisation."""

from __future__ import annotations

from lab.core.setters.apply import FileRewrite, rewrite, setter_values
from lab.core.setters.find import Marker, find_markers

__all__ = ["FileRewrite", "Marker", "find_markers", "rewrite", "setter_values"]
