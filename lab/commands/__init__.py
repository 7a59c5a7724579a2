"""CLI subcommands: one module each, exposing `register(subparsers)`.

Modules here import only the standard library at import time; services are imported inside the
handlers so that `lab --help` stays fast.
"""
