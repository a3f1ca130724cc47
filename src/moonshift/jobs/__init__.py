"""Job kinds: what a run executes. The seam is ``Job`` in ``jobs.base``."""
