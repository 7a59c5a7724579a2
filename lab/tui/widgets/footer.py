"""The key footer, rebuilt only when the keys it shows change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.app import ComposeResult


class KeyFooter(Footer):
    """Textual's Footer rebuilds all its keys whenever the screen's bindings may have changed: every
    focus move, every screen pushed or popped, every `refresh_bindings`. Most of those leave the keys
    it shows as they were (tabbing through a form, a toast, a dialog closing), and building a dozen key
    widgets and styling them each time made every key press slower. This one rebuilds only when what it
    would show differs from what it shows."""

    _shown: tuple[object, ...] | None = None

    def _keys(self) -> tuple[object, ...]:
        """Everything Footer.compose reads: the shown bindings in order, their key display, whether
        they are enabled and their tooltip, and the footer's own switches."""
        app = self.app
        active = self.screen.active_bindings
        shown = tuple(
            (binding, app.get_key_display(binding), enabled, tooltip)
            for _, binding, enabled, tooltip in active.values()
            if binding.show
        )
        palette = active.get(app.COMMAND_PALETTE_BINDING)
        return (
            self.compact,
            self.show_command_palette and app.ENABLE_COMMAND_PALETTE,
            self.combine_groups,
            shown,
            palette[1:] if palette is not None else None,
        )

    def compose(self) -> ComposeResult:
        self._shown = self._keys() if self._bindings_ready else None
        yield from super().compose()

    async def recompose(self) -> None:
        if self.is_attached and self._bindings_ready and self._keys() == self._shown:
            return
        await super().recompose()
