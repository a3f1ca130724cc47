"""Lists a page at a time: items in their order, and the cursor of the next page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from moonshift.app import views

T = TypeVar("T")


def page(
    items: Sequence[T], *, limit: int, after: str | None, key: Callable[[T], str]
) -> views.Page[T]:
    """The ``limit`` items after the one whose key is ``after`` (items sorted by key)."""
    rest = [i for i in items if after is None or key(i) > after]
    chosen = rest[:limit]
    more = len(rest) > limit
    return views.Page[T](items=chosen, next=key(chosen[-1]) if more and chosen else None)
