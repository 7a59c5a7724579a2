"""The AGE column: k8s.io/apimachinery `duration.HumanDuration`, boundary by boundary."""

from __future__ import annotations

import pytest

from lab.sandbox.kubeapi.tables import human_duration


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (-2, "<invalid>"),
        (-1, "0s"),
        (119, "119s"),
        (120, "2m"),
        (130, "2m10s"),
        (601, "10m"),
        (10799, "179m"),
        (10860, "3h1m"),
        (28800, "8h"),
        (172799, "47h"),
        (176400, "2d1h"),
        (691200, "8d"),
        (63071999, "729d"),
        (63158400, "2y1d"),
        (252288000, "8y"),
    ],
)
def test_human_duration(seconds: int, shown: str) -> None:
    assert human_duration(seconds) == shown
