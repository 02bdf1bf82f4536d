"""Better Work Advisory service."""
