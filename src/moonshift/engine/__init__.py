"""The scheduling engine: turns fires into runs, starts them in order and inside windows,
supervises them, and takes over work whose daemon died. ``moonshift daemon`` runs it."""
