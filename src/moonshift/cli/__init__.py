"""The command-line face: parses, calls the application layer, renders its views. No rules
live here."""
