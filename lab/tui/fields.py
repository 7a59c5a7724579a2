"""Keys in the order they were typed, however fast.

Textual inserts a printable key in the focused Input or TextArea as soon as the widget reads it, but
runs the widget's own bound keys (backspace, end, arrows, delete...) only once the key has bubbled up
through every container to the app, which then looks the binding up. A burst (a fast typist, a paste
of keys, `tmux send-keys`) therefore reaches the widget as "all the characters, then the edits":
End + Backspaces + a new value typed at once erased the new value instead of the old one.
`run_own_binding` runs such a key's binding where the widget reads it, in its place among the others.
Tab is the screen's key, not the field's: by the time it had bubbled up, the app had handed the keys
typed behind it to the field it leaves. A form's screen binds it with `FORM_FOCUS_KEYS`.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input

#: Tab and shift+Tab of a screen of fields (no TextArea, whose Tab indents): as priority bindings the app
#: moves the focus as it reads the key, so the keys typed behind it go to the next field, as typed slowly.
FORM_FOCUS_KEYS = [
    Binding("tab", "app.focus_next", "Focus Next", show=False, priority=True),
    Binding("shift+tab", "app.focus_previous", "Focus Previous", show=False, priority=True),
]


async def run_own_binding(widget: Widget, event: events.Key) -> bool:
    """Run the widget's own (non-priority) binding of `event` now; True if one handled it.

    The app would look the same binding up first after the bubbling (the focused widget's bindings come
    before its ancestors'), so only the moment changes. Priority bindings ran before the key got here;
    keys the widget does not bind (tab, escape, the screen's keys) bubble as before.
    """
    if event.is_printable:
        return False
    for binding in widget._bindings.key_to_bindings.get(event.key, ()):
        if not binding.priority and await widget.app.run_action(binding.action, widget):
            event.stop()
            event.prevent_default()
            return True
    return False


class FieldInput(Input):
    """An Input whose editing keys keep their place among the characters typed around them."""

    async def _on_key(self, event: events.Key) -> None:
        if await run_own_binding(self, event):
            return
        await super()._on_key(event)
