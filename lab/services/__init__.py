"""The one API both front ends (CLI and TUI) call. Each module is one use case."""
