"""What the engine and the workers share about a run in flight: its context and lease, how it
ends (and queues its retry), and the pre-flight check of its databases."""
