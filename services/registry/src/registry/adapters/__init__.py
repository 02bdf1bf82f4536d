"""Registry persistence."""
