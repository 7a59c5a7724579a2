"""Widgets the lab's screens share, where Textual's own do more work than the lab needs."""
