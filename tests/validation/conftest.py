"""Validation tests use the copy tests' databases and application (``copy_app``, in the
root conftest)."""
