"""The copy engine: plan, copy in batches, checkpoints (issue 5 builds it out)."""
