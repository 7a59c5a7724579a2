"""Helpers shared by the test groups (imported as `tests.support.<module>`; fixtures live in tests/conftest.py)."""
