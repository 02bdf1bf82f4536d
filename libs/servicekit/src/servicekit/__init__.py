"""Shared runtime of the Better Work services (no business rules live here)."""
