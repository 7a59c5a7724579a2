from __future__ import annotations

import pytest

from lab.cli import build_parser, main
from tests.support.labrun import run_lab


def test_help_lists_start_here(capsys: object) -> None:
    parser = build_parser()
    assert "Start here" in parser.format_help()


@pytest.mark.slow
def test_unknown_command_is_usage_error(lab_env: dict[str, str]) -> None:
    proc = run_lab("no-such-command", env=lab_env)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_version() -> None:
    try:
        main(["--version"])
    except SystemExit as exit_:
        assert exit_.code == 0
