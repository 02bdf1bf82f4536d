"""Assessments use cases."""
