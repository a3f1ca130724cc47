"""moonshift schedules and runs data migrations between databases, safely."""

__version__ = "0.1.0"
