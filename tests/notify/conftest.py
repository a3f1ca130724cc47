from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notify.receiver import Receiver, receiver


@pytest.fixture
def hook() -> Iterator[Receiver]:
    """A real HTTP server standing in for Slack and webhook receivers."""
    with receiver() as found:
        yield found
