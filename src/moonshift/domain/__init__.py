"""The pure domain: no I/O, no clock reads. Functions that need "now" take it."""
