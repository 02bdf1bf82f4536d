"""Assessments rules, free of I/O."""
