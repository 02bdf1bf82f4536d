"""Better Work Registry service."""
