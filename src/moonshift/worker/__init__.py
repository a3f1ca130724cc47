"""Workers: execute a run's job and walk it through the lifecycle."""
