"""Pure domain: no I/O, no Textual, no kubernetes. Everything here is a function of its arguments."""
