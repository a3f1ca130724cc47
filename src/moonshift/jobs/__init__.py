"""Job kinds: what a run executes. ``jobs.registry`` names each kind and what it can do;
the seam is ``Job`` in ``moonshift.seams``."""
