"""`lab reconcile KIND NAME`: ask an image controller to reconcile now, like `flux reconcile image`.

Patches `reconcile.fluxcd.io/requestedAt` (field manager flux-client-side-apply) and waits for the
object to handle it; the same code as `lab flux reconcile image`.
"""

from __future__ import annotations

import argparse

from lab.commands.flux import add_reconcile_args


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_reconcile_args(
        sub.add_parser(
            "reconcile",
            help="reconcile an image object now (repository|policy|update NAME), like flux reconcile",
        )
    )
