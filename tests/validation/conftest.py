"""Validation tests use the copy tests' databases and application."""

from tests.copy.conftest import copy_app

__all__ = ["copy_app"]
