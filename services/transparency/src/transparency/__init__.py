"""Better Work Transparency service."""
