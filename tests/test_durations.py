from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moonshift.domain.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("15m", 900),
        ("1h30m", 5400),
        ("1d", 86400),
        ("2w", 1_209_600),
        ("1d2h3m4s", 93784),
        ("PT1H30M", 5400),
        ("P1D", 86400),
        ("PT0.5S", 0.5),
        ("90", 90),
        (45, 45),
        ("1H", 3600),
    ],
)
def test_parses(text: object, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["soon", "", "1x", "PT", "P", "-5m", "m", True, None, [1], -3])
def test_rejects_with_the_expected_wording(text: object) -> None:
    with pytest.raises(DurationError, match="must be a duration like 30m, got"):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10**8))
def test_format_round_trips(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value
