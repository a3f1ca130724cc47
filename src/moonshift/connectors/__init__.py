"""Connectors to the databases moonshift reads and writes (the copy engine adds more here)."""
