"""The command-line face: parses, calls the service, renders. No rules live here."""
